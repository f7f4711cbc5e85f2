"""Two tools' outputs in one paste, for every pair of formats: each fixture that reads completely on its
own is pasted after every other format's, with and without a prompt line before each, and the whole
must read completely too (no line left not understood) and give the rows of both."""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path

import pytest

from portcheck import parsers
from portcheck.api.sockets import ParseResult, parse
from portcheck.core.decode import text_lines
from tests.conftest import FIXTURES

PROMPTS = {
    "ss": "$ ss -tunap",
    "proc": "$ cat /proc/net/tcp",
    "netstat-linux": "user@web:~$ sudo netstat -tunap",
    "lsof": "[root@web ~]# lsof -nP -i",
    "netstat-bsd": "% netstat -an",
    "sockstat": "root@bsd:~ # sockstat -46",
    "netstat-windows": "C:\\Users\\alice>netstat -ano",
    "tasklist": "C:\\Users\\alice>tasklist",
    "powershell": "PS C:\\Users\\alice> Get-NetTCPConnection",
    "fuser": "$ sudo fuser -v",
    "netstat-solaris": "root@omnios:~# netstat -an",
    "fstat": "openbsd$ fstat -n",
}
"""How each tool's output is announced in a paste with prompts (a fuser fixture brings its own)."""


MAILED = "mail-wrapped"
"""Fixtures of a paste a mail client wrapped: it wraps the whole text, so pasting one after another
tool's unwrapped (wider) lines makes a paste no mail client sends (tests/parsers/test_field_pastes.py
wraps mixed pastes whole)."""


def _prompt(fmt: str, path: Path) -> str:
    """The prompt line before a fixture: the cmdlet that prints it, for PowerShell's UDP endpoints."""
    if fmt == "powershell" and "udp" in path.name:
        return "PS C:\\Users\\alice> Get-NetUDPEndpoint"
    return PROMPTS[fmt]


@cache
def _text(path: Path) -> str:
    with path.open("rb") as stream:
        return "\n".join(text_lines(stream)[1])


def _rows(path: Path) -> list[dict[str, object]] | None:
    """The expected rows of a fixture that needs no option."""
    data = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    if isinstance(data, dict):
        if data.get("args"):
            return None
        data = data["rows"]
    return list(data)


@cache
def representatives() -> dict[str, list[Path]]:
    """The fixtures of each format that read completely on their own, with rows (tasklist: names)."""
    found: dict[str, list[Path]] = {}
    for path in sorted(FIXTURES.glob("*/*.txt")):
        if not path.with_suffix(".json").exists() or _rows(path) is None or MAILED in path.name:
            continue
        result = parse(_text(path))
        if result.skipped or result.format is None or len(result.formats) != 1:
            continue
        if not result.rows and not result.notes.pid_names:
            continue
        found.setdefault(result.format, []).append(path)
    return found


def _pick(fmt: str, index: int) -> Path:
    paths = representatives()[fmt]
    return paths[index % len(paths)]


def _key(row: dict[str, object]) -> str:
    """A row without its process name: a name may come from the other tool's output (a tasklist)."""
    return json.dumps({k: v for k, v in row.items() if k != "process"}, sort_keys=True)


PAIRS = [(a, b) for a in parsers.FORMATS for b in parsers.FORMATS if a != b]
ROUNDS = int(os.environ.get("PORTCHECK_MIXED_ROUNDS", "0"))
"""Fixture pairs per pair of formats (the i-th of one with the i+1-th of the other, cycling); 0 (the
default): as many as the pair's larger format has representatives, so every fixture is pasted after
and before one of every other format."""


def _pairs(a: str, b: str) -> list[tuple[Path, Path]]:
    rounds = ROUNDS or max(len(representatives()[a]), len(representatives()[b]))
    return [(_pick(a, index), _pick(b, index + 1)) for index in range(rounds)]


def _told_apart_without_prompt(first: Path, second: Path) -> bool:
    """Whether the second tool's output can be told apart from the first's with no prompt between
    them. Not: fuser's PIDs printed before the `PORT/PROTO:` they belong to (its stdout pasted before
    its stderr: bare numbers after another tool's rows)."""
    return not _text(second).lstrip()[:1].isdecimal()


def _check(result: ParseResult, first: Path, second: Path) -> None:
    assert result.skipped == 0, result.first_skipped
    expected = (_rows(first) or []) + (_rows(second) or [])
    got = [row._asdict() for row in result.rows]
    for row in got:
        row["proto"], row["state"] = str(row["proto"]), str(row["state"])
        row["family"] = None if row["family"] is None else str(row["family"])
    assert sorted(map(_key, got)) == sorted(map(_key, expected))
    named = {_key(row): row["process"] for row in expected if row["process"] is not None}
    own = _pid_names(first)  # a PID both outputs name (two machines' fixtures): either name is right
    clash = {pid for pid, name in _pid_names(second).items() if own.get(pid, name) != name}
    assert all(
        named.get(_key(row), row["process"]) == row["process"] for row in got if row["pid"] not in clash
    )


@cache
def _pid_names(path: Path) -> dict[object, object]:
    result = parse(_text(path))
    names = {row.pid: row.process for row in result.rows if row.process is not None}
    return {**names, **result.notes.pid_names.names}


def test_every_format_has_a_representative() -> None:
    assert sorted(representatives()) == sorted(parsers.FORMATS)


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_two_tools_pasted_one_after_the_other(a: str, b: str) -> None:
    for first, second in _pairs(a, b):
        if _told_apart_without_prompt(first, second):
            text = _text(first) + "\n" + _text(second) + "\n"
            _check(parse(text), first, second)


@pytest.mark.parametrize(("a", "b"), PAIRS, ids=[f"{a}+{b}" for a, b in PAIRS])
def test_two_tools_pasted_with_their_prompts(a: str, b: str) -> None:
    for first, second in _pairs(a, b):
        parts = []
        for fmt, path in ((a, first), (b, second)):
            text = _text(path)
            if not text.lstrip().startswith(("$", "/ #")):
                parts.append(_prompt(fmt, path))
            parts.append(text)
        _check(parse("\n".join(parts) + "\n"), first, second)
