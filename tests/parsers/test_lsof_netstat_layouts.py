"""Layouts of lsof and net-tools netstat that are easier to state as a few lines than as a fixture file:
lsof -F subsets and -F0, escapes, duplicates; netstat's optional columns, translations and notices."""

from __future__ import annotations

import json

import pytest

from portcheck import parsers
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import lsof, netstat_linux
from tests.conftest import FIXTURES


def run(
    parser: object, lines: list[str], ports: frozenset[int] | None = None
) -> tuple[list[Socket], ParseContext]:
    ctx = ParseContext(ports)
    return list(parser.parse(lines, ctx)), ctx  # type: ignore[attr-defined]


# ---- lsof -----------------------------------------------------------------------------------------


def test_unescape_undoes_lsof_escapes() -> None:
    assert lsof.unescape("Google\\x20Chrome\\x20He") == "Google Chrome He"
    assert lsof.unescape("a\\tb\\nc") == "a\tb\nc"
    assert lsof.unescape("evil\\x1b[31m") == "evil\x1b[31m"  # the renderer escapes it again
    assert lsof.unescape("cut\\x2") == "cut\\x2"  # half an escape stays as printed
    assert lsof.unescape("plain") == "plain"


def test_field_output_in_nul_separated_form_gives_the_same_rows() -> None:
    path = FIXTURES / "linux" / "lsof-F-pcLnPtT-i.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    # -F0: each process set and each file set on one line, fields ended by NUL
    joined: list[str] = []
    for line in lines:
        if line[0] in "ptf" or not joined:
            joined.append("")
        joined[-1] += line + "\0"
    rows, ctx = run(lsof, joined)
    assert sorted(json.dumps(r._asdict(), sort_keys=True) for r in rows) == sorted(
        json.dumps(r, sort_keys=True) for r in expected
    )
    assert ctx.notes.skipped == 0


def test_field_output_with_fd_and_device_dedupes_by_device() -> None:
    lines = ["p42", "cnginx", "u33", "f6", "d123", "tIPv4", "PTCP", "n*:80", "TST=LISTEN", "TQR=0"]
    lines += ["f7", "d123", "tIPv4", "PTCP", "n*:80", "TST=LISTEN"]  # the same socket on a second fd
    lines += ["f8", "d124", "tIPv6", "PUDP", "n[::1]:53"]
    lines += ["fcwd", "tDIR", "n/"]
    rows, ctx = run(lsof, lines)
    assert [
        (r.proto, r.family, r.local_address, r.local_port, r.state, r.pid, r.process, r.user) for r in rows
    ] == [
        (Proto.TCP, Family.IPV4, "0.0.0.0", 80, State.LISTEN, 42, "nginx", "33"),
        (Proto.UDP, Family.IPV6, "::1", 53, State.NONE, 42, "nginx", "33"),
    ]
    assert ctx.notes.skipped == 0 and not ctx.notes.messages


def test_field_output_without_protocol_or_state_says_what_to_add() -> None:
    rows, ctx = run(lsof, ["p1", "n*:22", "n127.0.0.1:25"])
    assert rows == []
    assert [m for m in ctx.notes.messages if "P (protocol)" in m]
    rows, ctx = run(lsof, ["p1", "csshd", "PTCP", "n*:22"])
    assert [(r.local_port, r.state, r.family) for r in rows] == [(22, State.UNKNOWN, None)]
    assert [m for m in ctx.notes.messages if "T field" in m]


def test_table_rows_differing_only_by_thread_or_fd_are_one_row_but_processes_are_not() -> None:
    lines = [
        "COMMAND     PID   TID TASKCMD   USER   FD   TYPE DEVICE SIZE/OFF NODE NAME",
        "nginx      2001              root    6u  IPv4  40001      0t0  TCP *:80 (LISTEN)",
        "nginx      2001              root    7u  IPv4  40001      0t0  TCP *:80 (LISTEN)",
        "nginx      2001  2005 nginx\\x20w root    6u  IPv4  40001      0t0  TCP *:80 (LISTEN)",
        "nginx      2002          www-data    6u  IPv4  40001      0t0  TCP *:80 (LISTEN)",
        "nginx      2003          www-data    6u  IPv4  40001      0t0  TCP *:80 (LISTEN)",
    ]
    rows, _ = run(lsof, lines)
    assert [(r.pid, r.user) for r in rows] == [(2001, "root"), (2002, "www-data"), (2003, "www-data")]


def test_lsof_udp_idle_and_numeric_user_and_port_filter() -> None:
    lines = [
        "ntpd        812      0   16u  IPv4  15320      0t0  UDP 127.0.0.1:123 (IDLE)",
        "sshd       1127      0    3u  IPv4  30163      0t0  TCP *:22 (LISTEN)",
    ]
    rows, _ = run(lsof, lines, frozenset({123}))
    assert [(r.local_port, r.state, r.user) for r in rows] == [(123, State.NONE, "root")]


# ---- netstat (net-tools, BusyBox) -----------------------------------------------------------------


def test_czech_two_word_state_and_user_inode_columns() -> None:
    lines = [
        "Proto Přích-F Odch-F Místní Adresa    Vzdálená Adresa   Stav      Uživatel I-uzel PID/Program name",
        "tcp        0      0 10.0.0.5:22       10.0.0.9:51234    POSLEDNÍ ACK 0        28570  600/sshd",
        "tcp        0      0 10.0.0.5:80       10.0.0.9:51240    ZAVÍRÁ    33       28571  1391/nginx",
    ]  # fmt: skip
    rows, ctx = run(netstat_linux, lines)
    assert [(r.local_port, r.state, r.user, r.pid) for r in rows] == [
        (22, State.LAST_ACK, "root", 600),
        (80, State.CLOSING, "33", 1391),
    ]
    assert ctx.notes.skipped == 0 and not ctx.notes.unknown_states


def test_unknown_state_word_is_noted_and_a_wildcard_peer_means_listen() -> None:
    rows, ctx = run(netstat_linux, ["tcp 0 0 0.0.0.0:8080 0.0.0.0:* AUSCULTANDO 77/java"])
    assert [(r.state, r.pid) for r in rows] == [(State.LISTEN, 77)]
    assert ctx.notes.unknown_states == {"AUSCULTANDO": 1}


OTHER_SOCKETS_AND_ONE_JUNK_LINE = {
    "lsof": [
        "ping       4242   alice    3u  IPv4  51234      0t0  ICMP *:*",
        "dockerd    2840    root   12u  sock    0,9      0t0  31842 protocol: TCP",
        "systemd       1    root   17u  unix 0xffff98e47234b800      0t0  20655 /run/systemd/private",
        "this is not lsof",
    ],
    "netstat-linux": [
        "Active UNIX domain sockets (servers and established)",
        "Proto RefCnt Flags       Type       State         I-Node   PID/Program name     Path",
        "unix  2      [ ACC ]     STREAM     LISTENING     20699    1/init               /run/udev/control",
        "raw6       0      0 :::58                   :::*                    7           867/systemd-network",
        "(END)",  # a pager prompt, not net-tools' notice about other users' processes
    ],
}


@pytest.mark.parametrize("name", sorted(OTHER_SOCKETS_AND_ONE_JUNK_LINE))
def test_other_sockets_are_skipped_quietly_and_junk_is_counted(name: str) -> None:
    rows, ctx = run(parsers.load(name), OTHER_SOCKETS_AND_ONE_JUNK_LINE[name])
    assert rows == []
    assert ctx.notes.skipped == 1
    assert not ctx.notes.messages


def test_netstat_port_filter_applies_before_rows_are_built() -> None:
    lines = (FIXTURES / "linux" / "netstat-tunaep.txt").read_text(encoding="utf-8").splitlines()
    rows, ctx = run(netstat_linux, lines, frozenset({47319}))
    assert [(r.proto, r.family, r.local_address, r.local_port, r.user) for r in rows] == [
        (Proto.TCP, Family.IPV6, "::", 47319, "65534")
    ]
    assert ctx.notes.skipped == 0


def test_busybox_tcp_rows_take_the_family_from_the_address() -> None:
    rows, _ = run(netstat_linux, ["tcp 0 0 :::22 :::* LISTEN 1/init", "udp 0 0 ::1:323 :::*"])
    assert [(r.proto, r.family, r.local_address, r.state) for r in rows] == [
        (Proto.TCP, Family.IPV6, "::", State.LISTEN),
        (Proto.UDP, Family.IPV6, "::1", State.NONE),
    ]


def test_netstat_addresses_filling_the_column_are_flagged_as_possibly_cut() -> None:
    # net-tools without -W: `2001:db8:85a3:8d3:1319:8a2e:370:7348:443` shortened to 23 characters
    rows, ctx = run(netstat_linux, ["tcp6 0 0 2001:db8:85a3:8d3:1:443 2001:db8::9:50012 ESTABLISHED 9/curl"])
    assert [(r.local_port, r.remote_port, r.pid) for r in rows] == [(443, 50012, 9)]
    assert [m for m in ctx.notes.messages if "netstat -W" in m]
