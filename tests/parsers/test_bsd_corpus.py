"""BSD netstat (macOS, FreeBSD) and FreeBSD sockstat: the shared corpus, cut address columns, the moving
pid column of macOS -v, and telling BSD notation (`1.2.3.4.80`) from Linux notation (`1.2.3.4:80`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import load, netstat_bsd, sockstat
from portcheck.parsers.detect import detect
from tests.conftest import CORPUS, FIXTURES, corpus_params, run_cli

FREEBSD_CORPUS = CORPUS / "freebsd" / "freebsd12-netstat-an.txt"
MACOS_CORPUS = CORPUS / "macos" / "osx-10.14-netstat-An.txt"
BSD_FIXTURES = sorted(
    p
    for p in [*FIXTURES.glob("macos/*.txt"), *FIXTURES.glob("freebsd/*.txt")]
    if p.name.startswith(("netstat", "sockstat"))  # macOS lsof fixtures belong to the lsof tests
)


def bsd(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(netstat_bsd.parse(list(lines), ctx))


def sock(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(sockstat.parse(list(lines), ctx))


def mac(proto: str, local: str, foreign: str, state: str = "", tail: str = "") -> str:
    """A macOS netstat row: two spaces before the addresses, 22-wide address columns."""
    return f"{proto:<5} {0:>6} {0:>6}  {local:<22} {foreign:<22} {state:<11} {tail}".rstrip()


def fbsd(proto: str, local: str, foreign: str, rest: str = "") -> str:
    """A FreeBSD netstat row: one space before the addresses."""
    return f"{proto:<5} {0:>6} {0:>6} {local:<22} {foreign:<22} {rest}".rstrip()


def sockrow(
    user: str, command: str, pid: str, fd: str, proto: str, local: str, foreign: str, st: str = ""
) -> str:
    return f"{user:<8} {command:<10} {pid:<5} {fd:<2} {proto:<6} {local:<21} {foreign:<21} {st}".rstrip()


# --- the shared corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [*corpus_params("macos"), *corpus_params("freebsd")])
def test_corpus_file_parses_cleanly(path: Path) -> None:
    result = run_cli("parse", str(path), "--json")
    assert result.code == 0, result.stderr
    assert "not understood" not in result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    assert {row["source"] for row in rows} == {"netstat-bsd"}


def _corpus_rows(path: Path) -> tuple[list[Socket], ParseContext]:
    if not path.exists():
        pytest.skip(f"{path} not present")
    ctx = ParseContext()
    return list(netstat_bsd.parse(path.read_text().splitlines(), ctx)), ctx


def test_freebsd12_corpus_rows() -> None:
    rows, ctx = _corpus_rows(FREEBSD_CORPUS)
    assert ctx.notes.skipped == 0
    assert len(rows) == 6  # the UNIX-domain section is skipped
    assert Socket(Proto.TCP, Family.IPV4, "0.0.0.0", 22, None, None, State.LISTEN, source=NAME) in rows
    v6only = {"dual_stack": False}  # FreeBSD's `tcp6` (not `tcp46`): IPV6_V6ONLY is set
    assert Socket(Proto.TCP, Family.IPV6, "::", 22, None, None, State.LISTEN, source=NAME, **v6only) in rows
    assert Socket(Proto.TCP, Family.IPV4, "127.0.0.1", 25, None, None, State.LISTEN, source=NAME) in rows
    assert Socket(Proto.UDP, Family.IPV4, "0.0.0.0", 514, None, None, State.NONE, source=NAME) in rows
    assert Socket(Proto.UDP, Family.IPV6, "::", 514, None, None, State.NONE, source=NAME, **v6only) in rows
    established = Socket(
        Proto.TCP, Family.IPV4, "192.168.71.163", 22, "192.168.71.1", 56321, State.ESTABLISHED, source=NAME
    )
    assert established in rows


NAME = netstat_bsd.NAME


def test_macos_10_14_corpus_cut_columns() -> None:
    rows, ctx = _corpus_rows(MACOS_CORPUS)
    assert ctx.notes.skipped == 0
    assert len(rows) == 137  # 49 TCP and 88 UDP rows; UNIX, kctl, kevt and icm4 rows are skipped
    assert sum(r.proto is Proto.TCP for r in rows) == 49
    # `192.168.1.221.5486` fills the 18-wide column: the real port (5486x) was cut, so it is unknown
    cut = [r for r in rows if r.local_address == "192.168.1.221" and r.remote_address == "140.82.113.26"]
    assert cut and all(r.local_port is None and r.remote_port == 443 for r in cut)
    assert all(r.local_port != 5486 for r in rows)
    # `127.0.0.1.53755` does not fill its column: genuine
    assert any(r.local_port == 53755 and r.remote_port == 53763 for r in rows)
    # a full-width peer with a 5-digit port is complete
    assert any(r.remote_address == "192.168.1.64" and r.remote_port == 53380 for r in rows)
    assert netstat_bsd.CUT_HINT in ctx.notes.messages
    assert any(r.proto is Proto.UDP and r.family is Family.IPV6 and r.local_port == 61224 for r in rows)


def test_macos_corpus_warning_reaches_stderr_once() -> None:
    if not MACOS_CORPUS.exists():
        pytest.skip(f"{MACOS_CORPUS} not present")
    result = run_cli("parse", str(MACOS_CORPUS))
    assert result.code == 0
    assert result.stderr.count("netstat -anvW") == 1


# --- my own fixtures parse without a single line left over -----------------------------------------


@pytest.mark.parametrize("path", BSD_FIXTURES, ids=[f"{p.parent.name}/{p.name}" for p in BSD_FIXTURES])
def test_fixture_has_no_unexplained_lines(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = detect(lines[:400])
    assert name == ("sockstat" if path.name.startswith("sockstat") else "netstat-bsd")
    ctx = ParseContext()
    assert list(load(name).parse(lines, ctx))
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert not ctx.notes.unknown_states


@pytest.mark.parametrize("path", BSD_FIXTURES, ids=[f"{p.parent.name}/{p.name}" for p in BSD_FIXTURES])
def test_port_filter_keeps_exactly_the_rows_with_that_port(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    parser = load(detect(lines) or "")
    everything = list(parser.parse(lines, ParseContext()))
    for port in {r.local_port for r in everything if r.local_port is not None} | {1}:
        wanted = [r for r in everything if r.local_port == port]
        assert list(parser.parse(lines, ParseContext(frozenset({port})))) == wanted
        remote = [r for r in everything if port in (r.local_port, r.remote_port)]
        assert list(parser.parse(lines, ParseContext(frozenset({port}), match_remote=True))) == remote


# --- cut address columns ----------------------------------------------------------------------------

HEADER_A = "Socket           Flowhash Proto Recv-Q Send-Q  Local Address      Foreign Address    (state)    "
HEADER = "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    "


def _a_row(local: str, foreign: str) -> str:
    return f"7fb03cb94d505aed cedd0cbf tcp4       0      0  {local:<18} {foreign:<18} ESTABLISHED"


@pytest.mark.parametrize(
    ("local", "port"),
    [
        ("192.168.1.221.5486", None),  # 18 wide: 54860-54869 cut to 5486
        ("192.168.100.2.6553", None),  # 65530-65535 would still be ports
        ("192.168.100.2.6554", 6554),  # 6554x would not be: complete
        ("192.168.1.64.53380", 53380),  # five digits cannot have been cut
        ("127.0.0.1.53755", 53755),  # shorter than the column
        ("fe80::aede:48ff:.5", None),  # IPv6 cut mid-group, then the port
        ("*.5353", 5353),
    ],
)
def test_cut_port_is_null(local: str, port: int | None) -> None:
    ctx = ParseContext()
    rows = bsd("Active Internet connections", HEADER_A, _a_row(local, "140.82.113.26.443"), ctx=ctx)
    assert [r.local_port for r in rows] == [port]
    assert rows[0].remote_port == 443
    assert (netstat_bsd.CUT_HINT in ctx.notes.messages) == (port is None or local.startswith("fe80"))


def test_cut_peer_port_is_null() -> None:
    rows = bsd(HEADER_A, _a_row("127.0.0.1.53755", "104.155.21.255.555"))
    assert (rows[0].remote_address, rows[0].remote_port) == ("104.155.21.255", None)


def test_header_less_rows_use_the_width_netstat_uses() -> None:
    # without a header: 18 columns when a socket address comes first, else 22
    assert bsd(_a_row("192.168.1.221.5486", "*.*"))[0].local_port is None
    plain = "tcp4       0      0  192.168.1.221.5486     *.*                    LISTEN"
    assert bsd(plain)[0].local_port == 5486


def test_ipv6_host_cut_in_22_columns_keeps_a_complete_port_but_warns() -> None:
    ctx = ParseContext()
    rows = bsd(
        HEADER, "tcp6       0      0  fe80::aede:48ff:.54321 fe80::1%lo0.443        ESTABLISHED", ctx=ctx
    )
    assert rows[0].local_port == 54321
    assert rows[0].local_address == "fe80::aede:48ff:"
    assert netstat_bsd.CUT_HINT in ctx.notes.messages


def test_wide_output_is_never_taken_as_cut() -> None:
    ctx = ParseContext()
    rows = bsd(
        HEADER,
        "tcp6       0      0  2001:db8:1234:5678::3:9:10.49152  2001:db8::1.443  ESTABLISHED",
        "tcp6       0      0  fe80::1:2:3:4%en0.5486  fe80::1:2:3:9%en0.443  ESTABLISHED",
        ctx=ctx,
    )
    assert [r.local_port for r in rows] == [49152, 5486]
    assert not ctx.notes.messages


def test_port_filter_still_warns_about_cut_ports() -> None:
    ctx = ParseContext(frozenset({54861}))
    assert bsd(HEADER_A, _a_row("192.168.1.221.5486", "140.82.113.26.443"), ctx=ctx) == []
    assert netstat_bsd.CUT_HINT in ctx.notes.messages


# --- protocols, states, sections --------------------------------------------------------------------


def test_tcp46_is_ipv6_with_the_ipv6_wildcard() -> None:
    (row,) = bsd("tcp46      0      0  *.5000                 *.*                    LISTEN")
    assert (row.proto, row.family, row.local_address, row.local_port, row.state) == (
        Proto.TCP,
        Family.IPV6,
        "::",
        5000,
        State.LISTEN,
    )


def test_plain_tcp_takes_the_family_from_the_address() -> None:
    rows = bsd(
        "tcp        0      0 10.0.0.1.22            10.0.0.2.50000         ESTABLISHED",
        "udp        0      0 *.514                  *.*",
    )
    assert [r.family for r in rows] == [Family.IPV4, None]
    assert rows[1].local_address == "*"


def test_udp_without_state_is_none_and_bsd_state_words_map() -> None:
    rows = bsd(
        "tcp4       0      0  10.0.0.1.80            10.0.0.2.50000         SYN_RCVD   ",
        "tcp4       0      0  10.0.0.1.80            10.0.0.2.50001         FIN_WAIT_1 ",
        "tcp4       0      0  10.0.0.1.80            10.0.0.2.50002         CLOSED     ",
        "udp4       0      0  *.514                  *.*                               ",
    )
    assert [r.state for r in rows] == [State.SYN_RECV, State.FIN_WAIT1, State.CLOSE, State.NONE]


def test_unknown_state_word_is_noted() -> None:
    ctx = ParseContext()
    (row,) = bsd("tcp4       0      0  *.80                   *.*                    WEIRD", ctx=ctx)
    assert row.state is State.LISTEN
    assert ctx.notes.unknown_states == {"WEIRD": 1}


def test_unix_and_kernel_sections_are_skipped_quietly() -> None:
    ctx = ParseContext()
    rows = bsd(
        "Active Internet connections",
        HEADER,
        "tcp4       0      0  *.22                   *.*                    LISTEN",
        "Active LOCAL (UNIX) domain sockets",
        "Address          Type   Recv-Q Send-Q            Inode             Conn             Refs          "
        "Nextref Addr",
        "7fb03cb95130f2c5 stream      1      0                0 7fb03cb95130d6a5                0"
        "                0 /var/run/mDNSResponder.1234",
        "Registered kernel control modules",
        "           10001        1       -1        9        0   131072   131072 com.apple.flow-divert.22 ",
        "Active Multipath Internet connections",
        "Proto/ID  Flags      Local Address          Foreign Address        (state)",
        "Active Internet connections (including servers)",
        "udp4       0      0  *.5353                 *.*",
        ctx=ctx,
    )
    assert [r.local_port for r in rows] == [22, 5353]
    assert ctx.notes.skipped == 0


def test_foreign_lines_are_counted_as_not_understood() -> None:
    ctx = ParseContext()
    rows = bsd("$ netstat -an | grep 8080", "tcp4  0  0  *.8080  *.*  LISTEN", ctx=ctx)
    assert len(rows) == 1
    assert ctx.notes.skipped == 1


# --- the pid column of macOS -v ---------------------------------------------------------------------

TAHOE_HEADER = (
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)           rxbytes      "
    "txbytes  rhiwat  shiwat                 process:pid state  options"
)


def test_tahoe_process_name_with_spaces() -> None:
    rows = bsd(
        TAHOE_HEADER,
        mac("tcp4", "127.0.0.1.60653", "*.*", "LISTEN", "0 0 131072 131072  Autodesk Fusion:22712 00100 6"),
        mac("udp4", "*.5353", "*.*", "", "1827361 22310 786896 9216  mDNSResponder:437 00100 6"),
    )
    assert [(r.pid, r.process) for r in rows] == [(22712, "Autodesk Fusion"), (437, "mDNSResponder")]


def test_pid_column_ends_at_the_first_name_pid_even_if_more_such_columns_follow() -> None:
    header = TAHOE_HEADER.replace("process:pid state", "process:pid eprocess:epid state")
    owners = "Code Helper (Plugin):4127  Code Helper (Plugin):4127"
    (row,) = bsd(
        header, mac("tcp4", "127.0.0.1.60653", "*.*", "LISTEN", f"0 0 131072 131072 {owners} 00100 6")
    )
    assert (row.pid, row.process) == (4127, "Code Helper (Plugin)")


def test_pid_is_found_by_header_not_by_column_number() -> None:
    # the same row text under two headers that put pid in different places
    row = mac("tcp4", "127.0.0.1.8080", "*.*", "LISTEN", "11 22 33 44 0x0080 0x1")
    first = HEADER + " a b pid c d e"
    second = HEADER + " pid a b c d e"
    assert bsd(first, row)[0].pid == 33
    assert bsd(second, row)[0].pid == 11


def test_header_without_pid_gives_no_pid() -> None:
    (row,) = bsd(
        HEADER,
        "tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN      1 2 3 4 0x1 0x2",
    )
    assert row.pid is None


# --- FreeBSD -L and -x ------------------------------------------------------------------------------


def test_listen_queue_rows_are_listeners() -> None:
    rows = bsd(
        "Current listen queue sizes (qlen/incqlen/maxqlen)",
        "Proto Listen         Local Address         ",
        "tcp4  0/0/128        *.22                  ",
        "unix  0/0/4          /var/run/devd.pipe",
    )
    assert [(r.local_port, r.state, r.remote_address) for r in rows] == [(22, State.LISTEN, None)]


def test_rows_without_state_column_are_guessed_and_explained() -> None:
    ctx = ParseContext()
    rows = bsd(
        fbsd("tcp4", "192.168.71.163.22", "192.168.71.1.56321", "     0      0      0      0  65700"),
        fbsd("tcp4", "127.0.0.1.25", "*.*", "     0      0      0      0  65700"),
        ctx=ctx,
    )
    assert [r.state for r in rows] == [State.UNKNOWN, State.LISTEN]
    assert netstat_bsd.NO_STATE_HINT in ctx.notes.messages


# --- sockstat -----------------------------------------------------------------------------------------

SOCKSTAT_HEADER = "USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS      "


def test_sockstat_unowned_socket_has_null_owner() -> None:
    (row,) = sock(SOCKSTAT_HEADER, "?        ?          ?     ?  tcp4   *:2049                *:*")
    assert (row.pid, row.process, row.user, row.state) == (None, None, None, State.LISTEN)


def test_sockstat_command_with_spaces() -> None:
    (row,) = sock("alice    my server  4242  5  tcp4   127.0.0.1:8080        *:*")
    assert (row.process, row.pid, row.user, row.local_port) == ("my server", 4242, "alice", 8080)


def test_sockstat_one_process_two_descriptors_is_one_row() -> None:
    rows = sock(
        "root     haproxy    1330  7  tcp4   *:8443                *:*",
        "root     haproxy    1330  9  tcp4   *:8443                *:*",
        "www      haproxy    1331  7  tcp4   *:8443                *:*",
    )
    assert [r.pid for r in rows] == [1330, 1331]


def test_sockstat_address_styles() -> None:
    rows = sock(
        "root     sendmail   712   5  tcp6   ::1:25                *:*",
        "root     sendmail   712   6  tcp6   [::1]:587             *:*",
        "ntpd     ntpd       811   22 udp6   fe80::1%lo0:123       *:*",
        "www      nginx      1202  6  tcp46  *:80                  *:*",
    )
    assert [(r.local_address, r.local_port, r.family) for r in rows] == [
        ("::1", 25, Family.IPV6),
        ("::1", 587, Family.IPV6),
        ("fe80::1%lo0", 123, Family.IPV6),
        ("::", 80, Family.IPV6),
    ]


def test_sockstat_connected_without_state_column_is_established_with_a_hint() -> None:
    ctx = ParseContext()
    (row,) = sock("root     sshd       2207  4  tcp4   10.0.0.1:22           10.0.0.2:50000", ctx=ctx)
    assert row.state is State.ESTABLISHED
    assert sockstat.STATE_HINT in ctx.notes.messages


def test_sockstat_state_column_unknown_word_is_noted() -> None:
    ctx = ParseContext()
    rows = sock(
        SOCKSTAT_HEADER + "  PATH STATE   CONN STATE     ",
        sockrow("root", "sshd", "745", "4", "tcp4", "*:22", "*:*", "              LISTEN"),
        sockrow("root", "sshd", "745", "5", "tcp4", "10.0.0.1:22", "10.0.0.2:1", "              ODD_STATE"),
        ctx=ctx,
    )
    assert [r.state for r in rows] == [State.LISTEN, State.UNKNOWN]
    assert ctx.notes.unknown_states == {"ODD_STATE": 1}
    assert sockstat.STATE_HINT not in ctx.notes.messages


def test_sockstat_port_filter() -> None:
    rows = sock(
        "root     sshd       745   4  tcp4   *:22                  *:*",
        "root     sendmail   712   4  tcp4   127.0.0.1:25          *:*",
        ctx=ParseContext(frozenset({25})),
    )
    assert [r.process for r in rows] == ["sendmail"]


# --- detection: BSD vs Linux notation, sockstat vs everything else ------------------------------------

LINUX_NETSTAT = [
    "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      745/sshd",
    "tcp6       0      0 :::22                   :::*                    LISTEN      745/sshd",
    "tcp        0      0 10.0.2.15:22            10.0.2.2:52114          ESTABLISHED 2207/sshd: vagrant",
    "udp        0      0 127.0.0.53:53           0.0.0.0:*                           611/systemd-resolve",
    "tcp        0      0 localhost:domain        *:*                     LISTEN      -",
    "tcp        0      0 myhost.lan:ssh          10.0.2.2:52114          ESTABLISHED -",
    "udp6       0      0 ::ffff:10.0.0.1:5353    :::*                                -",
]
LINUX_LSOF = [
    "COMMAND    PID  USER   FD   TYPE DEVICE SIZE/OFF NODE NAME",
    "sshd       745  root    3u  IPv4  17001      0t0  TCP *:ssh (LISTEN)",
    "sshd       745  root    4u  IPv6  17003      0t0  TCP *:22 (LISTEN)",
    "chronyd    611 _chrony  5u  IPv4  15001      0t0  UDP 127.0.0.1:323",
]
BSD_LINES = [
    "tcp4       0      0  *.8080                 *.*                    LISTEN",
    "tcp4       0      0  127.0.0.1.8080         127.0.0.1.52311        ESTABLISHED",
    "udp6       0      0  fe80::1%lo0.123        *.*",
]
SOCKSTAT_LINES = [
    SOCKSTAT_HEADER,
    "root     sshd       745   4  tcp4   *:22                  *:*",
    "root     syslogd    624   6  udp6   *:514                 *:*",
]


@pytest.mark.parametrize("line", LINUX_NETSTAT)
def test_linux_colon_notation_is_not_bsd(line: str) -> None:
    assert netstat_bsd.sniff([line]) == 0
    assert sockstat.sniff([line]) == 0


@pytest.mark.parametrize("line", BSD_LINES)
def test_a_lone_header_less_bsd_row_is_recognised(line: str) -> None:
    assert netstat_bsd.sniff([line]) > 0
    assert sockstat.sniff([line]) == 0
    assert detect([line]) == "netstat-bsd"


def test_linux_lsof_is_neither() -> None:
    assert netstat_bsd.sniff(LINUX_LSOF) == 0
    assert sockstat.sniff(LINUX_LSOF) == 0


def test_sockstat_is_detected_and_not_taken_for_netstat() -> None:
    assert netstat_bsd.sniff(SOCKSTAT_LINES) == 0
    assert detect(SOCKSTAT_LINES) == "sockstat"
    assert detect(SOCKSTAT_LINES[1:2]) == "sockstat"


def test_netstat_alias_covers_bsd() -> None:
    result = run_cli("parse", "--from", "netstat", "--json", stdin="\n".join(BSD_LINES) + "\n")
    assert result.code == 0, result.stderr
    assert sorted(row["local_port"] for row in result.json()) == [123, 8080, 8080]


@given(st.lists(st.text(max_size=80), max_size=20))
def test_sniff_never_counts_pasted_wrapping(sample: list[str]) -> None:
    """Any text gives a score (never an exception); lines that are only paste wrapping (a quoted empty
    line, a bracketed-paste marker) are neither rows nor a header, so adding them only dilutes it."""
    for parser in (netstat_bsd, sockstat):
        plain = parser.sniff(sample)
        wrapped = parser.sniff([*sample, ">", "[200~"])
        assert 0.0 <= wrapped <= plain <= 1.5, parser.NAME
