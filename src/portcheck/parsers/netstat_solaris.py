"""`netstat` of Solaris and illumos (OmniOS, SmartOS, OpenIndiana): `-an`, `-f inet|inet6`, `-P tcp|udp`,
and Solaris 11.4's `-u` (User, Pid, Command).

The output is in sections, each under its own title (`UDP: IPv4`, `TCP: IPv6`, `SCTP:`, `Active UNIX
domain sockets`; `TCP`/`UDP` alone before Solaris 8), a header and a line of dashes. Addresses are in
BSD dot notation with no protocol column: the section says TCP or UDP and the family. TCP rows are
`local remote Swind Send-Q Rwind Recv-Q State` (IPv6 adds an `If` column, often blank); UDP rows
`local [remote] State [If]`, the remote printed only for a connected socket, the state Unbound, Idle or
Connected. With -u, `User Pid Command` come right after the addresses. Columns are found by their
words, never by offsets: a window of 128000 overflows its 5-column field, and the wildcard is printed
right-aligned (`      *.22`). SCTP and UNIX-domain sections are passed over quietly.

A grep'd row without its section is read by its shape: four numbers before the state make it TCP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portcheck.core.addresses import family_of, local_address, port_number, remote_endpoint
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import lookup_state
from portcheck.parsers.common import HEADER_ONLY_SCORE, clean, cleaned, owner, pid_number
from portcheck.parsers.netstat_bsd import split_bsd

NAME = "netstat-solaris"

_SECTION = re.compile(r"(TCP|UDP|SCTP|ICMP|RAWIP|IGMP|DCCP)(?::\s*(?:IPv([46]))?)?")
_DASHES = re.compile(r"-+(?:\s+-+)*")
_PROTOS = {"TCP": Proto.TCP, "UDP": Proto.UDP}
_FAMILIES = {"4": Family.IPV4, "6": Family.IPV6}
_UDP_STATES = {"Unbound": State.NONE, "Idle": State.NONE, "Connected": State.ESTABLISHED}
"""miudp_state()'s words; TCP's (IDLE, BOUND, LISTEN, SYN_RCVD, FIN_WAIT_1...) are in states.py."""
_TCP_QUEUES = 4
"""Swind Send-Q Rwind Recv-Q: the numbers between the addresses (or -u's Command) and the state."""
_NO_OWNER = frozenset({"-", "--", "?", ""})


class Section(NamedTuple):
    """Where the rows below a title belong: a protocol and family (None: from each row's own shape,
    as for grep'd rows before any title), or nowhere (SCTP, UNIX domain, routing tables)."""

    proto: Proto | None
    family: Family | None
    sockets: bool = True


_GREPPED = Section(None, None)
_ELSEWHERE = Section(None, None, sockets=False)


def _section(line: str) -> Section | None:
    """The section a title line opens, or None when the line is no title."""
    if line.startswith("Active ") or line.startswith("Routing Table"):
        return _ELSEWHERE
    match = _SECTION.fullmatch(line)
    if match is None:
        return None
    proto = _PROTOS.get(match.group(1))
    if proto is None:
        return _ELSEWHERE
    return Section(proto, _FAMILIES.get(match.group(2) or "4"))


def _is_port(text: str) -> bool:
    return text.isdecimal() or text == "*"


def _endpoint(token: str) -> tuple[str, str] | None:
    """`127.0.0.1.5432`, `*.22`, `::1.25`, `*.*`, `myhost.ssh` -> (host, port text); None otherwise."""
    split = split_bsd(token)
    if split is None or not split[0]:
        return None
    return split


def _state_at(rest: list[str]) -> int | None:
    """Where the state is: the last column, or the one before an IPv6 row's If column."""
    if not rest:
        return None
    last = rest[-1]
    if last in _UDP_STATES or lookup_state(last) is not None:
        return len(rest) - 1
    if len(rest) >= 2 and (rest[-2] in _UDP_STATES or lookup_state(rest[-2]) is not None):
        return len(rest) - 2
    return len(rest) - 1 if last[:1].isalpha() else None


class Row(NamedTuple):
    proto: Proto
    local: tuple[str, str]
    remote: tuple[str, str] | None
    state: str
    owner: list[str]  # -u: user, pid, command words; else empty


def _queues(tokens: list[str]) -> bool:
    return len(tokens) == _TCP_QUEUES and all(t.isdecimal() for t in tokens)


def read_row(tokens: list[str], proto: Proto | None) -> Row | None:
    """The columns of a TCP or UDP row, or None when the tokens are not one. `proto` is the section's,
    None for a grep'd row (then four numbers before the state make it TCP)."""
    if len(tokens) < 2:
        return None
    local = _endpoint(tokens[0])
    if local is None or not (_is_port(local[1]) or local[1].isalnum()):
        return None
    remote = _endpoint(tokens[1])
    if remote is not None and not (_is_port(remote[1]) or port_number(remote[1]) is not None):
        remote = None  # -u's user (`john.doe`), not an address
    rest = tokens[2:] if remote is not None else tokens[1:]
    at = _state_at(rest)
    if at is None:
        return None
    tcp = at >= _TCP_QUEUES and _queues(rest[at - _TCP_QUEUES : at])
    if proto is None:
        proto = Proto.TCP if tcp else Proto.UDP
    if proto is Proto.TCP:
        if not tcp or remote is None:
            return None
        prefix = rest[: at - _TCP_QUEUES]
    else:
        prefix = rest[:at]
    if prefix and (len(prefix) < 3 or not (prefix[1].isdecimal() or prefix[1] in _NO_OWNER)):
        return None
    return Row(proto, local, remote, rest[at], prefix)


def _state(row: Row, ctx: ParseContext) -> State:
    word = row.state
    if row.proto is Proto.UDP:
        state = _UDP_STATES.get(word)
        if state is not None:
            return state
    state = lookup_state(word)
    if state is not None:
        return state
    peer = row.remote or ("*", "*")
    return ctx.state(word, row.proto, *peer)


def _record(row: Row, family: Family | None, ctx: ParseContext) -> Socket | None:
    """The record of a row, or None when the port filter rejects it."""
    proto = row.proto
    host, port_text = row.local
    local_port = port_number(port_text, proto)
    remote_address, remote_port = remote_endpoint(*row.remote, proto) if row.remote else (None, None)
    if not ctx.wants(local_port, remote_port):
        return None
    if family is None:
        family = family_of(host) or (family_of(row.remote[0]) if row.remote else None)
    pid = user = process = None
    if row.owner:
        user_text, pid_text, *command = row.owner
        pid = pid_number(pid_text)
        user = None if user_text in _NO_OWNER else owner(user_text)
        process = " ".join(command)
        process = None if process in _NO_OWNER else process
    local = local_address(host, family)
    return make_socket(
        (proto, family, local, local_port, remote_address, remote_port, _state(row, ctx), pid, process, user,
         NAME, None, None, None, None, None)
    )  # fmt: skip


def _rejected(tokens: list[str], ports: frozenset[int]) -> bool:
    """The port filter's shortcut, as netstat-bsd's: a line that starts like a row, with a local port in
    digits that is not wanted, is passed over without reading the rest (most rows of a filtered dump)."""
    local = tokens[0]
    dot = local.rfind(".")
    port = local[dot + 1 :]
    return dot > 0 and port.isdecimal() and len(port) <= 5 and int(port) not in ports


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    shortcut = None if ctx.match_remote else ctx.ports
    section = _GREPPED
    for lineno, raw, line in cleaned(lines):
        opened = _section(line)
        if opened is not None:
            section = opened
            continue
        if not section.sockets:
            continue
        tokens = line.split()
        if shortcut is not None and _rejected(tokens, shortcut):
            continue
        if _DASHES.fullmatch(line) or _is_header(line):
            continue
        row = read_row(tokens, section.proto)
        if row is None:
            notes.skip(lineno, raw)
            continue
        record = _record(row, section.family, ctx)
        if record is not None:
            yield record


def _is_header(line: str) -> bool:
    return "Local Address" in line and ("Remote Address" in line or "Swind" in line)


def _looks_like_row(line: str) -> bool:
    """A TCP row, or a UDP row whose last word is a UDP state (`addr word` alone is too little)."""
    row = read_row(line.split(), None)
    return row is not None and (row.proto is Proto.TCP or row.state in _UDP_STATES)


def _is_title(line: str) -> bool:
    section = _section(line)
    return section is not None and section.proto is not None


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line) or _is_title(line)


def sniff(sample: list[str]) -> float:
    """Rows, titles, headers and dash lines over the non-blank lines, plus a bonus for a title or a
    header; a title or header with no row is "nothing matched"."""
    nonblank = matched = rows = 0
    titled = False
    for text in sample:
        line = clean(text)
        if not line:
            continue
        nonblank += 1
        if _is_title(line) or _is_header(line):
            titled = True
            matched += 1
        elif _DASHES.fullmatch(line):
            matched += 1
        elif _looks_like_row(line):
            rows += 1
            matched += 1
    if not rows:
        return HEADER_ONLY_SCORE if titled else 0.0
    return matched / nonblank + (0.5 if titled else 0.0)
