"""The port filter a parser applies early (before building a record, often before reading the line
closely) must select exactly the rows that filtering the unfiltered parse afterwards selects: for every
fixture of every format, for every port that appears in it, with and without --remote.

This is the guard for the parsers' fast paths: an optimisation that drops or adds a row under a
filter fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck import parsers
from portcheck.core.decode import text_lines
from portcheck.core.model import Family, Socket
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES

FIXTURE_FILES = sorted(p for p in FIXTURES.glob("*/*.txt") if p.parent.name != "bad")  # bad/: no format
SERVICE_PORTS = frozenset({22, 53, 80, 443, 5432})
"""Ports that tools without -n print as names (`*:ssh`): a shortcut that looks for digits must not
miss them."""


def _lines(path: Path) -> list[str]:
    with path.open("rb") as stream:
        return list(text_lines(stream)[1])


def _format(path: Path, lines: list[str]) -> str:
    forced = {"proc-net-grep-no-header.txt": "proc"}.get(path.name)
    name = forced or detect(lines[:400])
    assert name is not None, path
    return name


def _parse(name: str, lines: list[str], ports: frozenset[int] | None, remote: bool) -> list[Socket]:
    return list(parsers.load(name).parse(lines, ParseContext(ports, match_remote=remote)))


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[f"{p.parent.name}/{p.name}" for p in FIXTURE_FILES])
def test_filtered_parse_equals_unfiltered_parse_then_filter(path: Path) -> None:
    lines = _lines(path)
    name = _format(path, lines)
    everything = _parse(name, lines, None, False)
    seen = {p for r in everything for p in (r.local_port, r.remote_port) if p is not None}
    for port in sorted(seen | SERVICE_PORTS | {1}):
        wanted = frozenset({port})
        local = [r for r in everything if r.local_port == port]
        assert _parse(name, lines, wanted, False) == local, port
        either = [r for r in everything if port in (r.local_port, r.remote_port)]
        assert _parse(name, lines, wanted, True) == either, port
    if seen:
        several = frozenset(sorted(seen)[::2])
        assert _parse(name, lines, several, False) == [r for r in everything if r.local_port in several]


def test_ss_generation_is_told_by_the_first_row_wanted_or_not() -> None:
    """`*` is IPv6 in output of iproute2 >= 4.17 (which prints 0.0.0.0 for IPv4): the first row says
    which ss wrote the text even when the port filter does not want that row."""
    lines = ["tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*", "tcp LISTEN 0 128 *:80 *:*"]
    (everything_80,) = [r for r in _parse("ss", lines, None, False) if r.local_port == 80]
    assert _parse("ss", lines, frozenset({80}), False) == [everything_80]
    assert everything_80.family is Family.IPV6
