"""The benchmarks' generated inputs are sound: each reads as its format, every line is a row portcheck
understands, and the one needle row is where the generator put it. (The benchmarks themselves are run
by hand and never timed here.)"""

from __future__ import annotations

import pytest

from portcheck import parsers
from portcheck.core.model import Family, Proto, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import detect
from tests.helpers import benchmark_generator

ROWS = 2000
PARSER = {
    "ss": "ss",
    "netstat-linux": "netstat-linux",
    "netstat-windows": "netstat-windows",
    "lsof": "lsof",
    "netstat-macos": "netstat-bsd",
    "netstat-macos-v": "netstat-bsd",
    "netstat-solaris": "netstat-solaris",
    "fstat": "fstat",
}
NOTES = {"fstat": {"fstat prints no TCP state"}}
"""The notes a format always gets (their first words), whatever the rows."""


generate = benchmark_generator.load()


def test_every_generated_format_is_benchmarked_against_its_parser() -> None:
    assert set(generate.FORMATS) == set(PARSER)


@pytest.mark.parametrize("fmt", generate.FORMATS)
def test_generated_input_reads_cleanly(fmt: str) -> None:
    lines = list(generate.lines(fmt, ROWS))
    name = detect(lines[:400])
    assert name == PARSER[fmt]
    ctx = ParseContext()
    rows = list(parsers.load(name).parse(lines, ctx))
    assert len(rows) == ROWS
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert {message.split(":")[0] for message in ctx.notes.messages} == NOTES.get(fmt, set())
    assert not ctx.notes.unknown_states
    assert {r.proto for r in rows} == {Proto.TCP, Proto.UDP}
    assert {r.family for r in rows} == {Family.IPV4, Family.IPV6}
    assert sum(r.state is State.LISTEN for r in rows) > 1


@pytest.mark.parametrize("fmt", generate.FORMATS)
def test_exactly_one_needle(fmt: str) -> None:
    lines = list(generate.lines(fmt, ROWS))
    needle = generate.NEEDLE_PORT
    (row,) = parsers.load(PARSER[fmt]).parse(lines, ParseContext(frozenset({needle})))
    assert (row.proto, row.family, row.local_address, row.local_port, row.state) == (
        Proto.TCP,
        Family.IPV4,
        "0.0.0.0",
        needle,
        State.LISTEN,
    )
    assert (row.remote_address, row.remote_port) == (None, None)
    if fmt not in ("netstat-macos", "netstat-solaris"):  # plain `netstat -an` shows no pid
        assert row.pid == needle
