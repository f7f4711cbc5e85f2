"""BSD `netstat` as macOS and FreeBSD print it: the port after the last dot (`127.0.0.1.8080`, `*.*`).

Layouts: `-an`, `-a` (host and service names), `-A` (a socket address column first; macOS adds
Flowhash), FreeBSD `-T` (Rexmit/OOORcv/0-win instead of the queues), `-x` (many buffer and timer
columns, no state), `-P` (a log ID after the state), `-L` (listen queues, one address per row; macOS
prints no Proto column there), `-W` (addresses never cut), and macOS `-v` in each release's column order
(Mojave `rhiwat shiwat pid epid state options`, Sonoma adds `gencnt flags flags1 usscnt rtncnt fltrs`,
Sequoia puts `rxbytes txbytes` first, Tahoe prints `process:pid` where the process name may hold spaces).
The pid is found through the header line, never at a fixed column.

OpenBSD and NetBSD print the same tables, one per socket type (OpenBSD: `TCP-State`, `IP-Proto` or no
state column) or per family (NetBSD: `Active Internet6 connections`, `State`), with `tcp`/`udp` for
IPv4 and `tcp6`/`udp6` for IPv6; OpenBSD's raw `ip`/`ip6` and divert rows are other socket kinds.

Without -W, netstat cuts an address to its column (18 characters with -A, else 22): `192.168.1.221.5486`
may be port 54861 cut short. Such a port is reported as null rather than a wrong number, with a hint.
UNIX-domain, kernel-control and kernel-event sections are skipped quietly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from typing import NamedTuple

from portcheck.core.addresses import (
    WILDCARD_HOSTS,
    Endpoint,
    family_from_proto,
    family_of,
    is_wildcard_peer,
    local_address,
    port_number,
    split_dot,
)
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import STATE_BY_WORD
from portcheck.parsers.common import FILTERED_OUT, HEADER_ONLY_SCORE, Lines, clean, pid_number, sniff_score

NAME = "netstat-bsd"

_PROTOS: dict[str, Proto] = {
    **dict.fromkeys(("tcp", "tcp4", "tcp6", "tcp46", "toe4", "toe6"), Proto.TCP),  # toe: TCP offload
    **dict.fromkeys(("udp", "udp4", "udp6", "udp46"), Proto.UDP),
}
# Rows of other socket kinds the same tables hold: valid, just not TCP or UDP.
_OTHER_KINDS = frozenset(
    {
        "icm4",
        "icm6",
        "icm46",
        "raw",
        "raw4",
        "raw6",
        "rip4",
        "rip6",
        "div4",
        "div6",
        "sct4",
        "sct6",
        "sct46",
        "sctp4",
        "sctp6",
        "sctp46",
        "kctl",
        "kevt",
        "unix",
        "stream",
        "dgram",
        "seqpac",
        "seqpacket",
        "ip",  # OpenBSD: raw IP, divert
        "ip6",
        "divert",
        "divert6",
    }
)
_PLAIN = frozenset({"tcp", "udp"})
"""Protocol words with no family: IPv4 under OpenBSD's and NetBSD's headers; unknown on a grep'd row
(AIX prints `tcp` for a socket of both families)."""
_QUEUE = re.compile(r"\d+/\d+/\d+")  # -L: qlen/incqlen/maxqlen
_HEX = re.compile(r"[0-9a-f]+")

WIDTH = 22
"""Address column width without -A; netstat cuts `host.port ` to it unless -W is given."""
WIDTH_WITH_SOCKET = 18
"""Address column width when -A puts the socket address (and on macOS the Flowhash) first."""
_MAX_NAME_WORDS = 17
"""Words a Tahoe `process:pid` column may span: the name is the process's p_name, at most 32 characters
(2 * MAXCOMLEN; `Code Helper (Plugin)` is 20), so at most 16 words and the one that ends in `:pid`."""
_WIDEST_CUT_PORT = 6553
"""A port shown at the full column width is complete only if one more digit would exceed 65535."""

CUT_HINT = (
    "netstat cut some addresses to fit its columns; ports it cut short are shown as unknown. Re-run "
    "with `netstat -anvW` (macOS) or `netstat -anW` (FreeBSD) for full addresses"
)
NO_STATE_HINT = (
    "this netstat layout (FreeBSD -x or -T) prints no TCP state: TCP rows with no peer are shown as "
    "LISTEN, the others as UNKNOWN"
)


class Layout:
    """What the last header line says: address column width, and where the pid sits (macOS -v)."""

    __slots__ = ("headed", "pid_after", "pid_before", "plain_ipv4", "wide", "width")

    def __init__(self) -> None:
        self.width: int | None = None  # None: take it from the row (18 with -A, else 22)
        self.wide = False  # -W: addresses are never cut
        self.pid_before: int | None = None  # columns after (state) that precede the pid column
        self.pid_after: tuple[int, int] | None = None  # columns after the pid column: plain, `name:pid`
        self.headed = False  # False for grep'd rows: no header to place columns by
        self.plain_ipv4 = False  # OpenBSD's or NetBSD's header: `tcp`/`udp` rows are IPv4

    @classmethod
    def from_header(cls, line: str, tokens: list[str]) -> Layout:
        layout = cls()
        layout.headed = True
        layout.plain_ipv4 = "(state)" not in tokens and tokens[0] == "Proto"  # macOS/FreeBSD: tcp4, tcp46
        local = line.find("Local Address")
        foreign = line.find("Foreign Address")
        socket_first = tokens[0] in ("Socket", "Tcpcb", "Address")
        expected = WIDTH_WITH_SOCKET if socket_first else WIDTH
        if local >= 0 and foreign > local:
            layout.width = foreign - local - 1
            layout.wide = layout.width > expected  # macOS -AW widens the header to 22, FreeBSD -AW to 45
        if "(state)" in tokens:
            tail = tokens[tokens.index("(state)") + 1 :]
            for index, name in enumerate(tail):
                if name == "pid" or name.endswith(":pid"):  # `process:pid` on Tahoe
                    layout.pid_before = index
                    named = sum(1 for later in tail[index + 1 :] if ":" in later)
                    layout.pid_after = (len(tail) - index - 1 - named, named)
                    break
        return layout


def _is_header(tokens: list[str], line: str) -> bool:
    return tokens[0] in ("Proto", "Socket", "Tcpcb", "Listen", "Address") and "Local Address" in line


def _is_banner(line: str) -> bool:
    return line.startswith(("Active ", "Registered kernel", "Current listen queue"))


def _is_inet_banner(line: str) -> bool:
    """`Active Internet connections`, `Current listen queue sizes`; not UNIX, kernel or Multipath."""
    return line.startswith(("Active Internet", "Current listen queue"))


def split_bsd(text: str) -> tuple[str, str] | None:
    """`127.0.0.1.80` -> (`127.0.0.1`, `80`); None when the text is not in BSD notation (no dot before
    the port, or a colon after the last dot as in Linux's `1.2.3.4:80`, or a UNIX socket's path)."""
    host, port = split_dot(text)
    if not host or not port or ":" in port or "/" in host:
        return None
    return host, port


def _is_queue(token: str) -> bool:
    return "/" in token and _QUEUE.fullmatch(token) is not None


def _find_proto(tokens: list[str]) -> int | None:
    """Index of the Proto column (or of the queue column on macOS -L, which has no Proto): after at
    most two hexadecimal columns (-A's socket address, macOS's Flowhash)."""
    if not tokens:
        return None
    if tokens[0] in _PROTOS:  # the common case, first
        return 0
    for index, word in enumerate(tokens[:3]):
        if word in _PROTOS or word in _OTHER_KINDS or _is_queue(word):
            return index
        if not _HEX.fullmatch(word):
            return None
    return None


class Row(NamedTuple):
    """The columns of one Internet row, before they become a Socket."""

    proto_at: int  # > 0 when -A put a socket address first
    word: str | None  # `tcp4`...; None on macOS -L
    local: tuple[str, str, str]  # (as printed, host, port text)
    foreign: tuple[str, str, str] | None
    listen: bool
    rest: list[str]  # after the foreign address: state and -v/-x/-P columns


_new = tuple.__new__
"""Row(...) without NamedTuple's Python-level __new__ (read_row runs once per line)."""


def read_row(tokens: list[str]) -> Row | None:
    """The row's columns, or None when the tokens are not a BSD netstat row (including Linux rows,
    whose `1.2.3.4:80` addresses are not in dot notation)."""
    at = _find_proto(tokens)
    if at is None:
        return None
    word: str | None = tokens[at]
    listen = False
    if word not in _PROTOS and _is_queue(tokens[at]):
        word, listen = None, True
    index = at + 1
    count = len(tokens)
    while index < count:  # Recv-Q Send-Q, -T counters, -L queue
        token = tokens[index]
        if "." in token:
            break
        if not token.isdecimal():
            if not _is_queue(token):
                return None
            listen = True
        index += 1
    if index >= count or index - at > 4:
        return None
    printed = tokens[index]
    local = split_bsd(printed)
    if local is None:
        return None
    foreign = split_bsd(tokens[index + 1]) if index + 1 < count else None
    if foreign is None:
        if not listen:
            return None
        return _new(Row, (at, word, (printed, *local), None, listen, tokens[index + 1 :]))
    return _new(
        Row, (at, word, (printed, *local), (tokens[index + 1], *foreign), listen, tokens[index + 2 :])
    )


def _cut(printed: str, port: str, width: int) -> bool:
    """True when netstat may have cut the port: the address fills its column exactly (what netstat
    printed was `host.port ` cut to the width) and a longer port would still be a valid one."""
    if len(printed) != width or port == "*":
        return False
    return not port.isdecimal() or int(port) <= _WIDEST_CUT_PORT


def _host_cut(host: str) -> bool:
    """An IPv6 host cut mid-group (`fe80::aede:48ff:`): netstat keeps only 16 characters of it."""
    return host.endswith(":") and not host.endswith("::")


def _name_pid(tail: list[str], start: int, end: int) -> tuple[int | None, str | None]:
    """Tahoe's `process:pid` column spanning tail[start..end], the pid after the last colon of its last
    word; (None, None) when that word is not `name:digits`."""
    name, sep, pid = tail[end].rpartition(":")
    if not sep or not pid.isdecimal():
        return None, None
    return pid_number(pid), " ".join([*tail[start:end], name]).strip() or None


def _owner_from_header(
    tail: list[str], before: int, after: tuple[int, int] | None = None
) -> tuple[int | None, str | None]:
    """pid (and on Tahoe the process name) from the columns after (state), starting where the header
    put the pid column. Tahoe's `process:pid` may span several words (`Autodesk Fusion:22712`), and a
    name may itself hold `word:digits` (`x:928 y`, printed `x:928 y:4127`). Where the header puts only
    single-word columns after it (`after`: their count, and how many more `name:pid` columns follow),
    the column ends that many words before the row's end: exact, whatever the name holds. Otherwise it
    ends at the first word that ends in `:digits`."""
    if before >= len(tail):
        return None, None
    if tail[before].isdecimal():
        return pid_number(tail[before]), None
    if after is not None and after[1] == 0:
        end = len(tail) - after[0] - 1
        found = _name_pid(tail, before, end) if end >= before else (None, None)
        if found[0] is not None:
            return found  # else a row with columns missing: read it as a header-less one would be
    for index in range(before, min(len(tail), before + _MAX_NAME_WORDS)):
        _, sep, pid = tail[index].rpartition(":")
        if sep and pid.isdecimal():
            return _name_pid(tail, before, index)
    return None, None


def _owner_without_header(tail: list[str]) -> tuple[int | None, str | None]:
    """A grep'd `netstat -anv` row has no header to place the pid; only layouts whose columns identify
    themselves are read: Tahoe's `name:pid` (the last word with a colon: the columns after it have none),
    Mojave's hexadecimal `0x` state and options (optionally after -b's byte counters), and
    Sonoma/Sequoia's 16-digit gencnt. Anything else gives no pid."""
    for index in range(len(tail) - 1, -1, -1):
        name, sep, pid = tail[index].rpartition(":")
        if sep and pid.isdecimal() and name:
            start = index  # the name's first word follows the last numeric column
            while start > 0 and not tail[start - 1].isdecimal():
                start -= 1
            return _name_pid(tail, start, index)
    count = len(tail)
    if count in (6, 8) and tail[-2].startswith("0x") and tail[-4].isdecimal():
        return pid_number(tail[-4]), None
    if count in (12, 14):
        gencnt = tail[count - 6]
        if len(gencnt) == 16 and _HEX.fullmatch(gencnt) and tail[count - 10].isdecimal():
            return pid_number(tail[count - 10]), None
    return None, None


class _Reader:
    """Parsing state across lines: the current header's layout, and cut detection."""

    __slots__ = ("ctx", "layout", "v6_section")

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.layout = Layout()
        self.v6_section = False  # NetBSD's `Active Internet6 connections`: macOS and FreeBSD have none

    def port(self, address: tuple[str, str, str], proto: Proto, width: int) -> int | None:
        """The port of `(printed, host, port)`, or None when netstat cut it; either cut is noted."""
        printed, host, port = address
        layout = self.layout
        if host[-1:] == ":" and _host_cut(host):
            self.ctx.notes.warn(CUT_HINT)
        if not layout.wide:
            if len(printed) > width:  # only -W prints an address wider than its column
                layout.wide = True
            elif _cut(printed, port, width):
                self.ctx.notes.warn(CUT_HINT)
                return None
        return port_number(port, proto)

    def remote(self, foreign: tuple[str, str, str] | None, proto: Proto, width: int) -> Endpoint:
        if foreign is None or is_wildcard_peer(foreign[1], foreign[2]):
            return None, None
        return foreign[1], self.port(foreign, proto, width)

    def socket(self, row: Row) -> Socket | None:
        """The record for a row, or None when it is another socket kind or filtered out by port."""
        ctx = self.ctx
        word = row.word
        proto = Proto.TCP if word is None else _PROTOS.get(word)  # macOS -L: only TCP has queues
        if proto is None:
            return None
        layout = self.layout
        width = layout.width or (WIDTH_WITH_SOCKET if row.proto_at else WIDTH)
        printed, host, port_text = row.local
        ports = ctx.ports
        if (
            ports is not None
            and not ctx.match_remote
            and len(printed) < width  # cannot be cut: the port as printed decides
            and port_text.isdecimal()
            and int(port_text) not in ports
        ):
            return None
        local_port = self.port(row.local, proto, width)
        remote_address, remote_port = self.remote(row.foreign, proto, width)
        if not ctx.wants(local_port, remote_port):
            return None
        peer_host, peer_port = (row.foreign[1], row.foreign[2]) if row.foreign else ("*", "*")
        family = family_from_proto(word) if word else None
        if family is None:
            family = family_of(host) or family_of(peer_host)
            if family is None and layout.plain_ipv4 and word in _PLAIN:
                family = Family.IPV4
        state, tail = self.state(row, proto, peer_host, peer_port)
        pid, process = None, None
        if tail:
            if layout.pid_before is not None:
                pid, process = _owner_from_header(tail, layout.pid_before, layout.pid_after)
            elif not layout.headed:
                pid, process = _owner_without_header(tail)
        local = host if host not in WILDCARD_HOSTS else local_address(host, family)
        return make_socket(
            (proto, family, local, local_port, remote_address, remote_port, state, pid, process, None, NAME,
             self.dual_stack(word) if local == "::" else None, None, None, None, None)
        )  # fmt: skip

    def dual_stack(self, word: str | None) -> bool | None:
        """macOS and FreeBSD print `tcp46`/`udp46` for an IPv6 socket that takes IPv4 too and `tcp6` for
        one with IPV6_V6ONLY; OpenBSD and NetBSD print `tcp6` for every IPv6 socket, so a `tcp6` row
        tells only under a macOS/FreeBSD header (`(state)`, in no `Active Internet6` section)."""
        if word is None or not word.endswith("6"):
            return None
        if word.endswith("46"):
            return True
        layout = self.layout
        return False if layout.headed and not layout.plain_ipv4 and not self.v6_section else None

    def state(self, row: Row, proto: Proto, peer_host: str, peer_port: str) -> tuple[State, list[str]]:
        """The state and the columns after it. UDP has no state (NONE); -L rows are listeners; TCP rows
        of -x/-T carry no state, so they are guessed as DESIGN.md guesses an unknown word."""
        rest = row.rest
        if row.listen:
            return (State.LISTEN if proto is Proto.TCP else State.NONE), rest
        if rest and rest[0][:1].isalpha():
            word = rest[0].rstrip("*")  # FreeBSD marks T/TCP's hidden state with a star
            state = STATE_BY_WORD.get(word)
            if state is None:
                state = self.ctx.state(word, proto, peer_host, peer_port)
            return state, rest[1:]
        if proto is Proto.UDP:
            return State.NONE, rest
        self.ctx.notes.warn(NO_STATE_HINT)
        return (State.LISTEN if is_wildcard_peer(peer_host, peer_port) else State.UNKNOWN), rest


def _is_other_kind(tokens: list[str]) -> bool:
    """A UNIX, kernel-control or ICMP row (`fffff80003ab6100 stream ...`, `icm4 ...`, a -L row that ends
    in a socket path): skipped quietly."""
    at = _find_proto(tokens)
    return at is not None and (tokens[at] in _OTHER_KINDS or tokens[-1].startswith("/"))


_OTHER_SECTION_WORDS = frozenset({"Address", "pcb", "kctlref", "Proto", "Proto/ID", "Socket", "Tcpcb", "id"})
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _in_other_section(line: str) -> bool:
    """A row or header of a UNIX-domain or kernel section, which starts with a socket's address in hex
    (`fffff80003abf000`, `0xffff800000b0fa00`, `e000e`), a number (kernel control modules) or one of
    their header words."""
    first = line.split(None, 1)[0]
    return first in _OTHER_SECTION_WORDS or _HEX_DIGITS.issuperset(first.removeprefix("0x"))


def _rejected(tokens: list[str], ports: frozenset[int], width: int) -> bool:
    """The port filter's shortcut for the common row shape (`tcp4 0 0 1.2.3.4.80 ...`): a local
    address too short to have been cut, whose port is not wanted. Most rows of a filtered parse end
    here."""
    if len(tokens) < 5 or tokens[0] not in _PROTOS:
        return False
    local = tokens[3]
    dot = local.rfind(".")
    port = local[dot + 1 :]
    return (
        dot > 0
        and len(local) < width
        and port.isdecimal()
        and tokens[1].isdecimal()
        and tokens[2].isdecimal()
        and int(port) not in ports
    )


_PROTO_WORD = r"(?:tcp(?:4|6|46)?|toe[46]|udp(?:4|6|46)?)"


@cache
def _usual_row(width: int) -> re.Pattern[str] | None:
    """The rows `_rejected` decides about, as a pattern for ParseContext.screen, for an address
    column this wide: a local address shorter than the column, its port in ASCII digits, a fifth
    column, and nothing `clean` would cut off (no `~` at the end)."""
    if width < 4:
        return None
    return re.compile(
        rf"\s*{_PROTO_WORD}\s+[0-9]+\s+[0-9]+\s+(?=\S{{3,{width - 1}}}\s)\S+\.[0-9]+\s+[^\s~](?:.*[^\s~])?\s*"
    )


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    reader = _Reader(ctx)
    shortcut = None if ctx.match_remote else ctx.ports
    screens: dict[int, Callable[[str], bool] | None] = {}

    def screen(width: int) -> Callable[[str], bool] | None:
        """What `_rejected` turns down, for Lines to skip unread (a layout's width at a time)."""
        if width not in screens:
            pattern = _usual_row(width) if shortcut is not None else None
            screens[width] = ctx.screen(pattern) if pattern is not None else None
        return screens[width]

    source = Lines(lines, screen(WIDTH))
    internet = True  # header-less (grep'd) rows are Internet rows
    for lineno, raw, line in source:
        if line is FILTERED_OUT:  # rows `_rejected` would turn down
            continue
        if _is_banner(line):
            internet = _is_inet_banner(line)
            reader.layout = Layout()
            reader.v6_section = line.startswith("Active Internet6")
            source.screen = screen(WIDTH) if internet else None  # there, any row is another tool's
            continue
        if not internet:  # UNIX, kernel control and event sockets, kernel control modules
            if not _in_other_section(line):
                notes.skip(lineno, raw)  # not these sections' own: another tool's line pasted after
            continue
        tokens = line.split()
        if shortcut is not None and _rejected(tokens, shortcut, reader.layout.width or WIDTH):
            continue
        row = read_row(tokens)
        if row is not None:
            record = reader.socket(row)
            if record is not None:
                yield record
        elif _is_header(tokens, line):
            reader.layout = Layout.from_header(line, tokens)
            source.screen = screen(reader.layout.width or WIDTH)
        elif not _is_other_kind(tokens):
            notes.skip(lineno, raw)


def _looks_like_row(line: str) -> bool:
    row = read_row(line.split())
    return row is not None and (row.word is None or row.word in _PROTOS)


def _is_bsd_header(line: str) -> bool:
    return (
        "Local Address" in line
        and ("(state)" in line or "Rexmit" in line or "R-MBUF" in line or "TCP-State" in line)
    ) or line.startswith("Current listen queue sizes")


_INET_TITLE = re.compile(r"Active Internet6? connections(?: \(including servers\))?")
"""The BSDs' title of an Internet section (inet.c prints nothing else; net-tools words it
`Active Internet connections (servers and established)`, `(only servers)`, `(w/o servers)`)."""
_OTHER_TITLES = (
    *("Active UNIX", "Active LOCAL", "Active Multipath", "Active kernel"),
    "Registered kernel",
)
"""The BSDs' other section titles."""


def is_header(line: str) -> bool:
    """A title or column header of BSD netstat (not Windows' `Proto  Local Address ...`, whose second
    word is `Local`): where its output starts in a paste of several tools."""
    tokens = line.split()
    if len(tokens) < 2:
        return False
    return (
        _INET_TITLE.fullmatch(line) is not None
        or _is_other_title(line)
        or line.startswith("Current listen queue")  # -L's title, with a `(qlen/...)` at its end
        or (_is_header(tokens, line) and tokens[1] != "Local")
    )


def _is_other_title(line: str) -> bool:
    """The title of a BSD section of UNIX, kernel or Multipath sockets, which Linux's netstat words
    differently (`Active UNIX domain sockets (servers and established)`)."""
    return line.startswith(_OTHER_TITLES) and not line.endswith(")")


def sniff(sample: list[str]) -> float:
    cleaned = [clean(line) for line in sample]
    header = any(_is_bsd_header(line) for line in cleaned)
    score = sniff_score(sample, _looks_like_row, 0.5 if header else 0.0)
    if score == 0 and any(_is_other_title(line) or _INET_TITLE.fullmatch(line) for line in cleaned):
        return HEADER_ONLY_SCORE  # only titles and sections without Internet sockets: nothing to read
    return score
