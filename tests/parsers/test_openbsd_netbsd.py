"""OpenBSD and NetBSD: their netstat tables are read by the netstat-bsd parser (two small rules: `tcp`
under their headers is IPv4, OpenBSD's raw `ip`/`ip6` rows are other sockets), and fstat, which is how
they answer "which process", has a parser of its own. Fixtures: tests/fixtures/openbsd and netbsd
(written from documentation, see their READMEs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import fstat, netstat_bsd
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES, run_cli

BSD = sorted([*FIXTURES.glob("openbsd/*.txt"), *FIXTURES.glob("netbsd/*.txt")])
OPENBSD_TCP = [
    "Active Internet connections (including servers)",
    "Proto   Recv-Q Send-Q  Local Address          Foreign Address        TCP-State",
]


@pytest.mark.parametrize("path", BSD, ids=[f"{p.parent.name}/{p.name}" for p in BSD])
def test_fixtures_are_detected_and_read_whole(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = detect(lines)
    assert name == ("fstat" if path.name.startswith("fstat") else "netstat-bsd")
    parser = fstat if name == "fstat" else netstat_bsd
    ctx = ParseContext()
    assert list(parser.parse(lines, ctx))
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert not ctx.notes.unknown_states


# --- netstat ---------------------------------------------------------------------------------------


def bsd(*lines: str) -> list[Socket]:
    return list(netstat_bsd.parse(list(lines), ParseContext()))


@pytest.mark.parametrize(
    "header",
    [
        OPENBSD_TCP[1],
        "Proto   Recv-Q Send-Q  Local Address          Foreign Address       ",  # OpenBSD's UDP table
        "Proto Recv-Q Send-Q  Local Address          Foreign Address        State",  # NetBSD
    ],
)
def test_plain_tcp_under_their_headers_is_ipv4(header: str) -> None:
    (row,) = bsd(header, "tcp          0      0  *.22                   *.*                    LISTEN")
    assert (row.family, row.local_address) == (Family.IPV4, "0.0.0.0")


def test_plain_tcp_under_a_macos_header_stays_unknown() -> None:
    header = "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    "
    (row,) = bsd(header, "tcp        0      0  *.22                   *.*                    LISTEN")
    assert (row.family, row.local_address) == (None, "*")


def test_openbsd_raw_ip_rows_are_other_sockets() -> None:
    ctx = ParseContext()
    lines = [
        "Active Internet connections (including servers)",
        "Proto   Recv-Q Send-Q  Local Address          Foreign Address        IP-Proto",
        "ip6          0      0  *.*                    *.*                    58",
        "divert       0      0  *.*                    *.*                    6",
    ]
    assert list(netstat_bsd.parse(lines, ctx)) == []
    assert ctx.notes.skipped == 0


def test_an_openbsd_header_alone_is_nothing_matched() -> None:
    result = run_cli("parse", "-", stdin="\n".join(OPENBSD_TCP) + "\n")
    assert result.code == 1, result.stderr


def test_a_port_star_is_no_port() -> None:
    (row,) = bsd(OPENBSD_TCP[1], "udp          0      0  *.*                    *.*")
    assert (row.local_address, row.local_port, row.state) == ("0.0.0.0", None, State.NONE)


# --- fstat -----------------------------------------------------------------------------------------


def rows(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(fstat.parse(list(lines), ctx or ParseContext()))


def fsock(proto: Proto, family: Family, local: tuple[str, int], state: State, **values: object) -> Socket:
    return Socket(proto, family, *local, None, None, state, source="fstat")._replace(**values)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "root     sshd       26530    3* internet stream tcp 0xfffffd80124e5790 *:22",
            fsock(Proto.TCP, Family.IPV4, ("0.0.0.0", 22), State.LISTEN, pid=26530, process="sshd",
                  user="root"),
        ),
        (
            "_unbound unbound    88412    4* internet6 dgram udp 0x0 [::1]:53",
            fsock(Proto.UDP, Family.IPV6, ("::1", 53), State.NONE, pid=88412, process="unbound",
                  user="_unbound"),
        ),
        (
            "root     sshd        1833    3* internet stream tcp c2a1b8d8 10.0.2.15:22 <-> 10.0.2.2:53124",
            fsock(Proto.TCP, Family.IPV4, ("10.0.2.15", 22), State.ESTABLISHED, pid=1833, process="sshd",
                  user="root", remote_address="10.0.2.2", remote_port=53124),
        ),
        (
            "alice    Web Content  4242   12* internet6 stream tcp 0x0 ::1:8080 --> ::1:5432",
            fsock(Proto.TCP, Family.IPV6, ("::1", 8080), State.ESTABLISHED, pid=4242, process="Web Content",
                  user="alice", remote_address="::1", remote_port=5432),
        ),
        (
            "root     inetd        300    5* internet stream tcp c2a1b8d8 *:ssh",
            fsock(Proto.TCP, Family.IPV4, ("0.0.0.0", 22), State.LISTEN, pid=300, process="inetd",
                  user="root"),
        ),
    ],
)  # fmt: skip
def test_one_grepped_socket_line(line: str, expected: Socket) -> None:
    assert detect([line]) == "fstat"
    assert rows(line) == [expected]


def test_a_peer_makes_tcp_established_and_says_the_state_is_a_guess() -> None:
    ctx = ParseContext()
    rows("root sshd 1 3* internet stream tcp 0x0 10.0.0.1:22 <-- 10.0.0.2:5000", ctx=ctx)
    assert fstat.STATE_HINT in ctx.notes.messages


def test_sockets_without_ports_give_no_row() -> None:
    ctx = ParseContext()
    lines = [
        "USER     CMD          PID   FD MOUNT        INUM  MODE         R/W    SZ|DV",
        "root     sshd         805    3* internet6 stream tcp fffff80003a5c000",  # FreeBSD's fstat
        "_slaacd  slaacd      1866    4* internet6 raw ipv6-icmp 0xfffffd80124d18c8",
        "root     sshd         805    4* unix stream 0xfffffd8011b4c3a0 <-> 0xfffffd8011b4c8e0",
        "root     sshd         805   wd /            2 drwxr-xr-x     r     512",
    ]
    assert rows(*lines, ctx=ctx) == []
    assert ctx.notes.skipped == 0
    assert fstat.NO_ADDRESS_HINT in ctx.notes.messages


def test_file_rows_without_the_header_are_not_understood() -> None:
    ctx = ParseContext()
    rows("root     sshd       26530   wd 4,0         2  drwxr-xr-x  r      512", ctx=ctx)
    assert ctx.notes.skipped == 1


def test_the_port_filter() -> None:
    lines = (FIXTURES / "openbsd" / "fstat-n.txt").read_text().splitlines()
    everything = rows(*lines)
    for port in {22, 53, 123, 443}:
        assert rows(*lines, ctx=ParseContext(frozenset({port}))) == [
            r for r in everything if r.local_port == port
        ]
        remote = [r for r in everything if port in (r.local_port, r.remote_port)]
        assert rows(*lines, ctx=ParseContext(frozenset({port}), match_remote=True)) == remote


def test_fstat_is_not_sockstat() -> None:
    """FreeBSD sockstat has the same first columns; its fifth is the protocol, not `internet`."""
    line = "root     sshd       805   3  tcp4   *:22                  *:*"
    assert detect([line]) == "sockstat"
    assert fstat.sniff([line]) == 0.0
