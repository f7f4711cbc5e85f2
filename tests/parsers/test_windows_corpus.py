"""The real Windows 10 outputs in ../shared/corpus parse completely, with the values they show."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers.offline import parse_stream
from tests.conftest import CORPUS, corpus_params

WINDOWS = CORPUS / "windows"


def parse_file(path: Path) -> tuple[str | None, list[Socket], ParseContext]:
    ctx = ParseContext()
    with path.open("rb") as stream:
        parsed = parse_stream(stream, ctx)
        return parsed.format, list(parsed.rows), ctx


def row_lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.startswith(("  TCP ", "  UDP ")))


@pytest.mark.parametrize("path", corpus_params("windows"))
def test_every_row_is_read_and_no_line_is_left_over(path: Path) -> None:
    fmt, rows, ctx = parse_file(path)
    assert fmt == "netstat-windows"
    assert len(rows) == row_lines(path)
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert not ctx.notes.unknown_states
    assert all(row.pid is not None for row in rows)
    assert {row.proto for row in rows} == {Proto.TCP, Proto.UDP}


def corpus_file(name: str) -> Path:
    path = WINDOWS / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


def test_ano_spot_checks() -> None:
    _, rows, _ = parse_file(corpus_file("windows-10-netstat-aon.txt"))
    epmap = [r for r in rows if r.local_port == 135 and r.local_address == "0.0.0.0"]
    assert epmap == [
        Socket(
            Proto.TCP,
            Family.IPV4,
            "0.0.0.0",
            135,
            None,
            None,
            State.LISTEN,
            1712,
            None,
            None,
            "netstat-windows",
        )
    ]
    loopback = next(r for r in rows if r.local_port == 1031)
    assert (loopback.remote_address, loopback.remote_port, loopback.state, loopback.pid) == (
        "127.0.0.1",
        1032,
        State.ESTABLISHED,
        10644,
    )
    scoped = next(r for r in rows if r.local_address.startswith("fe80::244e"))
    assert (scoped.proto, scoped.local_address, scoped.local_port, scoped.state, scoped.pid) == (
        Proto.UDP,
        "fe80::244e:2f1e:2096:62b2%9",
        1900,
        State.NONE,
        8844,
    )
    assert sum(1 for r in rows if r.local_port == 5353 and r.local_address == "0.0.0.0") > 10


def test_anob_names_processes_and_keeps_unknown_owners_empty() -> None:
    _, rows, _ = parse_file(corpus_file("windows-10-netstat-aonb.txt"))
    by_port = {(r.local_address, r.local_port): r for r in rows if r.proto is Proto.TCP}
    assert by_port[("0.0.0.0", 135)].process == "svchost.exe"
    assert by_port[("0.0.0.0", 135)].pid == 1712
    assert by_port[("::", 135)].process == "svchost.exe"
    assert by_port[("0.0.0.0", 443)].process == "vmware-hostd.exe"
    pid4 = [r for r in rows if r.pid == 4]
    assert pid4 and all(r.process is None for r in pid4)
    time_wait = [r for r in rows if r.state is State.TIME_WAIT]
    assert time_wait and all(r.pid == 0 and r.process is None for r in time_wait)
    assert by_port[("192.168.31.221", 4699)].process == "svchost.exe"  # after CDPUserSvc_46a8de2e
    close_wait = [r for r in rows if r.state is State.CLOSE_WAIT]
    assert {r.process for r in close_wait} == {"SearchApp.exe"}
