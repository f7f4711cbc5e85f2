"""The /proc/net parser on hand-written rows: byte order of each address word, state 07 by protocol,
the protocol from the header or from the row's shape, and lines it must not read as rows."""

from __future__ import annotations

from portcheck.core.model import Family, Proto, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import proc_net

TCP_HEADER = (
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
)
UDP_HEADER = TCP_HEADER + " ref pointer drops"
# 192.168.1.10:8080 listening, uid 1000; on a big-endian host the same socket reads C0A8010A.
TCP_ROW = (
    "   0: 0A01A8C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 555 1 "
    "0000000000000000 100 0 0 10 0"
)
BIG_ENDIAN_ROW = TCP_ROW.replace("0A01A8C0", "C0A8010A")
# fe80::1 (words 000080FE 00000000 00000000 01000000 on x86), port 53, state 07, uid 0.
UDP6_ROW = (
    "  12: 000080FE000000000000000001000000:0035 00000000000000000000000000000000:0000 07 "
    "00000000:00000000 00:00000000 00000000     0        0 777 2 0000000000000000 0"
)


def test_little_endian_words_and_uid() -> None:
    (entry,) = proc_net.entries([TCP_HEADER, TCP_ROW])
    row = entry.socket
    assert (row.proto, row.family, row.local_address, row.local_port) == (
        Proto.TCP,
        Family.IPV4,
        "192.168.1.10",
        8080,
    )
    assert (row.remote_address, row.remote_port, row.state, row.user) == (None, None, State.LISTEN, "1000")
    assert (entry.inode, entry.uid) == (555, 1000)


def test_big_endian_host() -> None:
    (entry,) = proc_net.entries([BIG_ENDIAN_ROW], byteorder="big")
    assert entry.socket.local_address == "192.168.1.10"


def test_ipv6_words_reversed_one_by_one_and_state_07_is_none_for_udp() -> None:
    (row,) = proc_net.parse([UDP_HEADER, UDP6_ROW])
    assert (row.proto, row.family, row.local_address, row.local_port) == (
        Proto.UDP,
        Family.IPV6,
        "fe80::1",
        53,
    )
    assert (row.state, row.user) == (State.NONE, "root")


def test_state_07_is_close_for_tcp_and_the_header_wins_over_the_shape() -> None:
    tcp_row = UDP6_ROW
    (row,) = proc_net.parse([TCP_HEADER, tcp_row])
    assert (row.proto, row.state) == (Proto.TCP, State.CLOSE)
    (row,) = proc_net.parse([UDP6_ROW])
    assert row.proto is Proto.UDP  # no header: 13 fields ending in `ref pointer drops` is UDP


def test_port_filter_before_decoding_and_unknown_lines_counted() -> None:
    ctx = ParseContext(frozenset({53}))
    rows = list(proc_net.parse([TCP_HEADER, TCP_ROW, "garbage here", UDP6_ROW], ctx))
    assert [r.local_port for r in rows] == [53]
    assert ctx.notes.skipped == 1 and ctx.notes.first_skipped is not None
    assert ctx.notes.first_skipped[0] == 3


def test_unknown_state_code_is_noted() -> None:
    ctx = ParseContext()
    (row,) = proc_net.parse([TCP_ROW.replace(" 0A ", " 0F ")], ctx)
    assert row.state is State.LISTEN  # a wildcard peer: guessed as LISTEN, and the word reported
    assert ctx.notes.unknown_states == {"0F": 1}


def test_sniff_prefers_proc_text() -> None:
    assert proc_net.sniff([TCP_HEADER, TCP_ROW]) >= 1
    assert proc_net.sniff(["tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*"]) == 0
