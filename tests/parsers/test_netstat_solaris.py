"""Solaris and illumos netstat: sections name the protocol and family, rows hold dot-notation addresses,
the -u columns sit between the addresses and the queues, and grep'd rows are read by their shape.
Fixtures: tests/fixtures/solaris (written from documentation, see its README)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import netstat_solaris
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES, run_cli

SOLARIS = sorted((FIXTURES / "solaris").glob("*.txt"))
TCP4 = [
    "TCP: IPv4",
    "   Local Address        Remote Address    Swind Send-Q Rwind Recv-Q    State",
    "-------------------- -------------------- ----- ------ ----- ------ -----------",
]


def parse(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(netstat_solaris.parse(list(lines), ctx or ParseContext()))


def sock(
    proto: Proto, family: Family | None, local: tuple[str, int | None], state: State, **values: object
) -> Socket:
    return Socket(proto, family, *local, None, None, state, source="netstat-solaris")._replace(**values)


@pytest.mark.parametrize("path", SOLARIS, ids=[p.name for p in SOLARIS])
def test_fixtures_are_detected_and_read_whole(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert detect(lines) == "netstat-solaris"
    ctx = ParseContext()
    assert list(netstat_solaris.parse(lines, ctx))
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert not ctx.notes.unknown_states and not ctx.notes.messages


def test_sections_give_protocol_and_family() -> None:
    lines = [
        *TCP4,
        "      *.22                 *.*                0      0 128000      0 LISTEN",
        "UDP: IPv6",
        "      *.546                                                         Idle       ",
        "TCP: IPv6",
        "      *.*                               *.*                          "
        "   0      0 128000      0 IDLE        ",
    ]
    assert parse(*lines) == [
        sock(Proto.TCP, Family.IPV4, ("0.0.0.0", 22), State.LISTEN),
        sock(Proto.UDP, Family.IPV6, ("::", 546), State.NONE),
        sock(Proto.TCP, Family.IPV6, ("::", None), State.NONE),
    ]


def test_udp_remote_only_when_connected_and_the_if_column() -> None:
    lines = [
        "UDP: IPv4",
        "192.168.56.10.40128  192.168.56.1.53      Connected",
        "      *.*                                 Unbound",
        "UDP: IPv6",
        "fe80::a00:27ff:fe4d:1b2c.123                                        Idle       e1000g0",
    ]
    assert parse(*lines) == [
        sock(Proto.UDP, Family.IPV4, ("192.168.56.10", 40128), State.ESTABLISHED)._replace(
            remote_address="192.168.56.1", remote_port=53
        ),
        sock(Proto.UDP, Family.IPV4, ("0.0.0.0", None), State.NONE),
        sock(Proto.UDP, Family.IPV6, ("fe80::a00:27ff:fe4d:1b2c", 123), State.NONE),
    ]


def test_u_columns_name_the_owner() -> None:
    lines = [
        "TCP: IPv4",
        "   Local Address        Remote Address    User     Pid      Command  "
        "   Swind  Send-Q  Rwind  Recv-Q    State",
        "      *.80                 *.*            webservd   2201 httpd      "
        "         0      0  128000      0 LISTEN",
        "      *.8080               *.*            --           --  --        "
        "         0      0  128000      0 LISTEN",
        "UDP: IPv4",
        "      *.*                                 netadm      765 nwamd          Unbound",
    ]
    assert parse(*lines) == [
        sock(
            Proto.TCP, Family.IPV4, ("0.0.0.0", 80), State.LISTEN, pid=2201, process="httpd", user="webservd"
        ),
        sock(Proto.TCP, Family.IPV4, ("0.0.0.0", 8080), State.LISTEN),
        sock(Proto.UDP, Family.IPV4, ("0.0.0.0", None), State.NONE, pid=765, process="nwamd", user="netadm"),
    ]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "127.0.0.1.5432             *.*                0      0 128000      0 LISTEN",
            sock(Proto.TCP, Family.IPV4, ("127.0.0.1", 5432), State.LISTEN),
        ),
        ("      *.111                               Idle", sock(Proto.UDP, None, ("*", 111), State.NONE)),
        (
            "::1.25                                  *.*                          "
            "   0      0 128000      0 LISTEN      ",
            sock(Proto.TCP, Family.IPV6, ("::1", 25), State.LISTEN),
        ),
    ],
)
def test_a_grepped_row_alone_is_detected_and_read_by_its_shape(line: str, expected: Socket) -> None:
    assert detect([line]) == "netstat-solaris"
    assert parse(line) == [expected]


@pytest.mark.parametrize(
    "line",
    [
        "tcp4       0      0  127.0.0.1.5432         *.*                    LISTEN",  # macOS, FreeBSD
        "127.0.0.1.5432  SomeWord",  # two words: a UDP row needs a UDP state
        "10.0.0.1.22 10.0.0.2.5000 1 2 3 LISTEN",  # three numbers, not four
    ],
)
def test_not_solaris_rows(line: str) -> None:
    assert netstat_solaris.sniff([line]) == 0.0


def test_service_names_without_n() -> None:
    rows = parse(*TCP4, "localhost.smtp             *.*                0      0 128000      0 LISTEN")
    assert [(r.local_address, r.local_port) for r in rows] == [("localhost", 25)]


def test_sctp_and_unix_sections_are_passed_over() -> None:
    ctx = ParseContext()
    lines = [
        "SCTP:",
        "0.0.0.0                         0.0.0.0                             "
        " 0      0 102400      0  32/32  CLOSED",
        "Active UNIX domain sockets",
        "ffffff01d3c72008 stream-ord 00000000 00000000",
        *TCP4,
        "      *.22                 *.*                0      0 128000      0 LISTEN",
    ]
    assert [r.local_port for r in parse(*lines, ctx=ctx)] == [22]
    assert ctx.notes.skipped == 0


def test_an_unknown_state_is_noted() -> None:
    ctx = ParseContext()
    (row,) = parse(*TCP4, "10.0.0.1.22          10.0.0.2.5000        0      0 128000      0 Weird", ctx=ctx)
    assert row.state is State.UNKNOWN
    assert ctx.notes.unknown_states == {"Weird": 1}


def test_the_port_filter() -> None:
    path = FIXTURES / "solaris" / "netstat-an.txt"
    lines = path.read_text().splitlines()
    everything = parse(*lines)
    for port in {22, 123, 5432, 53}:
        wanted = [r for r in everything if r.local_port == port]
        assert parse(*lines, ctx=ParseContext(frozenset({port}))) == wanted
        remote = [r for r in everything if port in (r.local_port, r.remote_port)]
        assert parse(*lines, ctx=ParseContext(frozenset({port}), match_remote=True)) == remote


def test_titles_without_rows_are_nothing_matched() -> None:
    result = run_cli("parse", "-", stdin="\n".join(TCP4) + "\n")
    assert result.code == 1, result.stderr
