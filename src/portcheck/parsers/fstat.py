"""`fstat` of OpenBSD and NetBSD (`fstat -n`, `fstat | grep internet`): the open files of every process,
which is how those systems answer "which process holds this port".

A socket row is `USER CMD PID FD* internet[6] TYPE PROTO [PCB] [LOCAL [ARROW PEER]]`: USER cut to 8
characters, CMD the process name (it may hold spaces), FD followed by `*` for a socket, TYPE stream,
dgram, raw..., PROTO a protocol name (tcp, udp, icmp...) or number, PCB the kernel address of the
protocol block (`0x0` for a user who may not see it; FreeBSD prints that and no address at all), LOCAL
`*:22`, `127.0.0.1:25`, `[::1]:53` or `::1:53`, and when connected an arrow to the peer: OpenBSD's `-->`
(this end connected) or `<--` (the peer did), NetBSD's `<->`. Files, pipes, UNIX sockets and the
header are fstat rows too, passed over quietly.

fstat prints no TCP state: a TCP socket with no peer is taken as listening, one with a peer as
ESTABLISHED, and stderr says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portcheck.core.addresses import family_of, local_address, port_number, remote_endpoint, split_colon
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.parsers.common import HEADER_ONLY_SCORE, clean, cleaned, pid_number

NAME = "fstat"

_DOMAINS = {"internet": Family.IPV4, "internet6": Family.IPV6}
_PROTOS = {"tcp": Proto.TCP, "udp": Proto.UDP, "6": Proto.TCP, "17": Proto.UDP}
_ARROWS = frozenset({"-->", "<--", "<->"})
_SPECIAL_FDS = frozenset({"text", "wd", "root", "tr", "jail", "mmap", "ctty", "trace"})
"""What fstat prints in the FD column for a process's text, working and root directory, trace file."""
_MAX_CMD_WORDS = 8
"""A CMD may hold spaces; more words than this before PID FD is no fstat row."""

STATE_HINT = (
    "fstat prints no TCP state: connected TCP sockets are shown as ESTABLISHED, the others as LISTEN; "
    "`netstat -an` shows the real state"
)
NO_ADDRESS_HINT = (
    "fstat printed Internet sockets without their addresses (FreeBSD's fstat does): `sockstat -46` "
    "shows their ports"
)


class Row(NamedTuple):
    user: str
    command: str
    pid: int
    proto: Proto
    family: Family
    local: tuple[str, str]
    peer: tuple[str, str] | None


def _domain_at(tokens: list[str]) -> int | None:
    """Index of `internet`/`internet6` after USER, CMD (one word or more), PID and FD."""
    found = None
    for index in range(3, min(len(tokens), 4 + _MAX_CMD_WORDS)):
        if tokens[index] in _DOMAINS:
            if found is not None:  # CMD imitates the columns after it: which is fstat's own is unknown
                return None
            found = index
    return found


def _is_fd(token: str) -> bool:
    return token.rstrip("*").isdecimal()


def _address(token: str) -> tuple[str, str] | None:
    """`*:22`, `127.0.0.1:25`, `[::1]:53`, `::1:53`, `host:ssh` -> (host, port text)."""
    host, port = split_colon(token)
    if not host or not port or not (port == "*" or port.replace("-", "").isalnum()):
        return None
    return host, port


NOT_TCP_OR_UDP = "not TCP or UDP"
NO_ADDRESS = "no address"
REJECTED = "rejected"


def read_row(tokens: list[str], ports: frozenset[int] | None = None) -> Row | str | None:
    """An Internet socket row; NOT_TCP_OR_UDP (icmp, raw IP) or NO_ADDRESS (an unbound socket, or
    FreeBSD's fstat) for an Internet socket that gives no row; REJECTED, without reading the peer,
    when `ports` is given and the local port is not in it; None for anything else."""
    at = _domain_at(tokens)
    if at is None:
        return None
    fd_at = at - 1 if tokens[at - 1] != "*" else at - 2
    pid = pid_number(tokens[fd_at - 1]) if fd_at >= 2 and _is_fd(tokens[fd_at]) else None
    if pid is None or at + 2 >= len(tokens):
        return None
    proto = _PROTOS.get(tokens[at + 2])
    if proto is None:
        return NOT_TCP_OR_UDP
    rest = tokens[at + 3 :]
    if rest and (rest[0].startswith("0x") or _is_pcb(rest[0])):
        rest = rest[1:]
    if not rest:
        return NO_ADDRESS
    local = _address(rest[0])
    if local is None:
        return None
    port = local[1]
    if ports is not None and port.isdecimal() and len(port) <= 5 and int(port) not in ports:
        return REJECTED
    peer = None
    if len(rest) >= 3 and rest[1] in _ARROWS:
        peer = _address(rest[2])
        if peer is None:
            return None
    elif len(rest) > 1:
        return None
    command = " ".join(tokens[1 : fd_at - 1])
    return Row(tokens[0], command, pid, proto, _DOMAINS[tokens[at]], local, peer)


def _is_pcb(token: str) -> bool:
    """NetBSD prints the PCB address without `0x`: 8 or 16 hexadecimal digits, never an address."""
    return len(token) in (8, 16) and ":" not in token and all(c in "0123456789abcdef" for c in token)


_COLON_ENDPOINT = re.compile(r"\S{0,256}:(?:\d{1,5}|\*)$")
"""An address and port in colon notation, which fstat prints only on internet rows (read as such)."""


def _is_header(tokens: list[str]) -> bool:
    return tokens[:4] == ["USER", "CMD", "PID", "FD"]


def _is_other_row(tokens: list[str]) -> bool:
    """A file, pipe, kqueue or UNIX-socket row: USER CMD... PID FD (or text, wd, root, tr, jail). The
    USER is no address (`*.22`, `192.168.1.5.22`: another netstat's row pasted after fstat's)."""
    user = tokens[0]
    if user[:1] == "*" or (user[-1:].isdecimal() and "." in user):
        return False
    if any(_COLON_ENDPOINT.match(token) for token in tokens):  # ss's or netstat's `0.0.0.0:22` after it
        return False
    for index in range(2, min(len(tokens) - 1, 3 + _MAX_CMD_WORDS)):
        if tokens[index].isdecimal() and (_is_fd(tokens[index + 1]) or tokens[index + 1] in _SPECIAL_FDS):
            return True
    return False


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    headed = False  # after fstat's header, its file and pipe rows are expected
    shortcut = None if ctx.match_remote else ctx.ports
    for lineno, raw, line in cleaned(lines):
        tokens = line.split()
        row = read_row(tokens, shortcut)
        if not isinstance(row, Row):
            if row == NO_ADDRESS:
                notes.warn(NO_ADDRESS_HINT)
            elif row is None and _is_header(tokens):
                headed = True
            elif row is None and not (headed and _is_other_row(tokens)):
                notes.skip(lineno, raw)
            continue
        record = _record(row, ctx)
        if record is not None:
            yield record


def _record(row: Row, ctx: ParseContext) -> Socket | None:
    proto = row.proto
    host, port_text = row.local
    local_port = port_number(port_text, proto)
    remote_address, remote_port = remote_endpoint(*row.peer, proto) if row.peer else (None, None)
    if not ctx.wants(local_port, remote_port):
        return None
    if proto is Proto.UDP:
        state = State.NONE
    elif remote_address is None:
        state = State.LISTEN
    else:
        state = State.ESTABLISHED
    if proto is Proto.TCP:
        ctx.notes.warn(STATE_HINT)
    family = row.family if host == "*" else family_of(host) or row.family
    return make_socket(
        (proto, family, local_address(host, family), local_port, remote_address, remote_port, state,
         row.pid, row.command, row.user, NAME, None, None, None, None, None)
    )  # fmt: skip


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line.split())


def sniff(sample: list[str]) -> float:
    """Internet socket rows over the lines that are not other fstat rows (a whole `fstat` is mostly
    files), plus a bonus for the header; the header alone is "nothing matched"."""
    rows = sockets = other = nonblank = 0
    header = False
    for text in sample:
        line = clean(text)
        if not line:
            continue
        tokens = line.split()
        nonblank += 1
        row = read_row(tokens)
        if _is_header(tokens):
            header = True
        elif isinstance(row, Row):
            rows += 1
        elif row is not None:
            sockets += 1
        elif _is_other_row(tokens):
            other += 1
    if not rows:
        return HEADER_ONLY_SCORE if header else 0.0
    ignored = other if header else 0
    return (rows + sockets) / max(1, nonblank - ignored) + (0.5 if header else 0.0)
