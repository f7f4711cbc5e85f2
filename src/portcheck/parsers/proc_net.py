"""The kernel's own socket tables, /proc/net/tcp, tcp6, udp and udp6, as `cat` prints them.

This is what a container with no tools at all still has, so it is both a paste format (`--from proc`)
and the last step of the Linux live plan (portcheck.live.procfs adds the processes through /proc/*/fd).

Addresses are hex dumps of the kernel's in-memory words: an IPv4 address is one 32-bit word printed in
the host's byte order (`0100007F` is 127.0.0.1 on x86), an IPv6 address is four such words, each
reversed on its own (not the whole 16 bytes). Ports are printed in host order already (`0050` = 80).
Pasted text does not say which byte order it came from; little-endian (x86, arm64) is assumed.

The file does not say either whether it is TCP or UDP: the header does (UDP's ends with
`ref pointer drops`), and without a header the row's shape does (a UDP row has exactly 13 fields).
State `07` is TCP_CLOSE: for UDP that is an unconnected socket (NONE), for TCP a bound socket (CLOSE).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.parsers.common import clean, cleaned, sniff_score

NAME = "proc"

ByteOrder = Literal["little", "big"]

# sl, local, remote, state, tx:rx, tr:when, retrnsmt, uid, timeout, inode, then per-protocol extras.
_ROW = re.compile(
    r"^\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+"
    r"([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+"
    r"[^\s:]+:[^\s:]+\s+[^\s:]+:[^\s:]+\s+\S+\s+(\d{1,10})\s+-?\d+\s+(\d{1,20})(.*)$"
)
"""The fields after the state are hex or decimal words. Each run's class excludes what follows it
(`[^\\s:]+` then `:`, `\\S+` then `\\s+`), so a failed match cannot be retried by splitting a run
differently and the match stays linear. `\\S+:\\S+\\s+\\S+:\\S+` took minutes on one line of colons
(catastrophic backtracking)."""
_HEX = re.compile(r"^[0-9A-Fa-f]+$")

# include/net/tcp_states.h; 0C is TCP_NEW_SYN_RECV (a request socket: SYN_RECV to everyone else).
TCP_STATES: dict[str, State] = {
    "01": State.ESTABLISHED,
    "02": State.SYN_SENT,
    "03": State.SYN_RECV,
    "04": State.FIN_WAIT1,
    "05": State.FIN_WAIT2,
    "06": State.TIME_WAIT,
    "07": State.CLOSE,
    "08": State.CLOSE_WAIT,
    "09": State.LAST_ACK,
    "0A": State.LISTEN,
    "0B": State.CLOSING,
    "0C": State.SYN_RECV,
}
UDP_STATES: dict[str, State] = {"01": State.ESTABLISHED, "07": State.NONE}


class ProcEntry(NamedTuple):
    """A row plus what only this format has: the socket's inode (to find its processes through
    /proc/*/fd) and the owner's numeric uid (to look the name up on the machine it came from)."""

    socket: Socket
    inode: int
    uid: int


def _address(hex_text: str, byteorder: ByteOrder) -> str:
    raw = bytes.fromhex(hex_text)
    if len(raw) == 4:
        a, b, c, d = raw[::-1] if byteorder == "little" else raw
        return f"{a}.{b}.{c}.{d}"  # what inet_ntop writes; the socket module is imported for IPv6 only
    from socket import AF_INET6, inet_ntop

    if byteorder == "little":
        raw = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
    return inet_ntop(AF_INET6, raw)


def _is_header(line: str) -> bool:
    return line.startswith("sl") and "local_address" in line


def _proto_of_row(extras: str) -> Proto:
    """Without a header: a UDP row ends with `ref pointer drops` (13 fields), TCP rows never do."""
    tail = extras.split()
    if len(tail) == 3 and _HEX.match(tail[1]) and tail[2].isdecimal() and len(tail[1]) in (8, 16):
        return Proto.UDP
    return Proto.TCP


def user_label(uid: int) -> str:
    """What a paste can say about the owner: `root` for uid 0, otherwise the number itself (the names
    belong to the machine the text came from)."""
    return "root" if uid == 0 else str(uid)


def entries(
    lines: Iterable[str],
    ctx: ParseContext | None = None,
    *,
    proto: Proto | None = None,
    byteorder: ByteOrder = "little",
) -> Iterator[ProcEntry]:
    """Rows with their inode and uid. `proto` is given when the caller knows which file it read;
    otherwise each header (or, with none, each row's shape) decides."""
    ctx = ctx or ParseContext()
    notes = ctx.notes
    current = proto
    for lineno, raw, line in cleaned(lines):
        match = _ROW.match(line)
        if match is None:
            if _is_header(line):
                if proto is None:
                    current = Proto.UDP if line.endswith("drops") else Proto.TCP
                continue
            notes.skip(lineno, raw)
            continue
        local_hex, local_port_hex, peer_hex, peer_port_hex, code, uid_text, inode_text, extras = (
            match.groups()
        )
        local_port = int(local_port_hex, 16)
        peer_port = int(peer_port_hex, 16)
        if ctx.ports is not None:
            wildcard_peer = not (peer_port or peer_hex.strip("0"))  # 00000000:0000 is no peer, not port 0
            if not ctx.wants(local_port, None if wildcard_peer else peer_port):
                continue
        if len(local_hex) != len(peer_hex):
            notes.skip(lineno, raw)
            continue
        row_proto = current or _proto_of_row(extras)
        family = Family.IPV4 if len(local_hex) == 8 else Family.IPV6
        remote_address: str | None = None
        remote_port: int | None = None
        if peer_port or peer_hex.strip("0"):
            remote_address, remote_port = _address(peer_hex, byteorder), peer_port
        code = code.upper()
        state = (UDP_STATES if row_proto is Proto.UDP else TCP_STATES).get(code)
        if state is None:
            state = ctx.state(code, row_proto, remote_address or "*", str(remote_port or "*"))
        uid = int(uid_text)
        # A TIME_WAIT entry belongs to nobody: the kernel prints a literal 0 in its uid column.
        user = None if state is State.TIME_WAIT else user_label(uid)
        row = make_socket(
            (
                row_proto,
                family,
                _address(local_hex, byteorder),
                local_port,
                remote_address,
                remote_port,
                state,
                None,
                None,
                user,
                NAME,
                None,
                None,
                None,
                None,
                None,
            )
        )
        yield ProcEntry(row, int(inode_text), uid)


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    for entry in entries(lines, ctx):
        yield entry.socket


def _looks_like_row(line: str) -> bool:
    return _ROW.match(line) is not None


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line)


def sniff(sample: list[str]) -> float:
    header = any(_is_header(clean(line)) and "rem" in line for line in sample)
    return sniff_score(sample, _looks_like_row, 0.5 if header else 0.0)
