"""`netstat` from net-tools (and BusyBox, which copies its layout), as Linux machines print it.

Layouts: `-tulpn`, `-tunap`, `-W`, without `-n` (`localhost:ssh`, `[::]:https`), without `-p`, `-e`/`-ee`
(User and Inode columns; the user is a uid with `-n`), `-o` (a Timer column), the `-` PID of a process
that belongs to somebody else plus the parenthesised notice net-tools prints about it, program names cut
at 19 characters or holding spaces (`600/sshd: /usr/sbin`, `2322/sshd: kbrazil`), UNIX/raw sections
(skipped quietly), net-tools' own translations (Portuguese `Conexões Internet Ativas`, `OUÇA`, Czech
`POSLEDNÍ ACK`, ...), BusyBox (`tcp` for IPv6 too, `1/init`) and toybox, Android's netstat (`PID/Program
Name`, names never cut; before mid-2016, as in Android 6 and 7, `tcp` for IPv6 too and addresses cut to
23 characters port included, so such a port is kept only when no digit of it can be missing).

Columns are found by shape, not by character offsets: net-tools pads with byte counts, so a translated
state word (`OUÇA`) shifts every column after it, and long addresses or user names overflow their width.
After Foreign Address come, in order and each optional: State, User + Inode, PID/Program, Timer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from portcheck.core.addresses import family_of, port_number, split_colon
from portcheck.core.model import Family, Proto, Socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import STATE_BY_WORD, lookup_state
from portcheck.parsers.common import (
    FILTERED_OUT,
    HEADER_ONLY_SCORE,
    Lines,
    clean,
    owner,
    owner_hint,
    pid_number,
    redacted,
    row_state,
    sniff_score,
    socket_row,
)

NAME = "netstat-linux"

_INET: dict[str, tuple[Proto, Family | None]] = {
    "tcp": (Proto.TCP, None),
    "tcp6": (Proto.TCP, Family.IPV6),
    "udp": (Proto.UDP, None),
    "udp6": (Proto.UDP, Family.IPV6),
}
# Rows of other socket kinds netstat prints with -a/-w/-x or by default: valid rows, not TCP/UDP.
_OTHER = frozenset(
    {"unix", "raw", "raw6", "udpl", "udpl6", "sctp", "sctp6", "ax25", "ipx", "netrom", "rose", "x25", "ddp"}
)
PROGNAME_WIDTH = 19
"""net-tools prints `PID/Program name` cut to this many characters, whatever -W says."""

# "Active Internet connections (servers and established)" in any language: no digits or colons, and a
# parenthesised qualifier at the end.
_BANNER = re.compile(r"^[^\d:(]+\([^()]*\)$")
_HEADER_TAIL_WORDS = ("PID/Program", "Inode", "Timer")

HIDDEN_PIDS = str(owner_hint(NAME))
"""Said when the paste holds netstat's own notice that it did not run as root (its stderr pasted too),
in the words `portcheck parse` uses for any paste without owners, so it is said once. The live query
never reads netstat's stderr, and names --sudo itself."""
ADDRESS_WIDTH = 23
"""Without -W, net-tools shortens the host part of a longer `host:port` to fit this width (the port stays)."""
TRUNCATED_ADDRESSES = (
    "netstat shortens addresses that do not fit its 23-character columns (the ports are right, some "
    "host parts are cut); run netstat -W (wide) for full addresses"
)
"""Only for a paste: the live query runs `netstat -W`, whose addresses are never shortened (one
exactly 23 characters wide is just that long)."""
TOYBOX_CUT_WHY = (
    "this netstat prints `tcp` for IPv6 sockets, as BusyBox and the toybox of Android 6 and 7 do, and that "
    "toybox cuts addresses at 23 characters, port included: ports that may have lost digits are shown "
    "as unknown"
)
TOYBOX_CUT = TOYBOX_CUT_WHY + "; run netstat -W (wide) for full addresses"
TOYBOX_CUT_WIDE = (
    TOYBOX_CUT_WHY + " (even with -W, which portcheck asked for); ss or lsof show full addresses"
)
_WIDEST_CUT_PORT = 6553
"""A port shown at the end of a cut address is whole only if one more digit would pass 65535."""
TRUNCATED_NAMES = (
    "netstat cuts the PID/Program name column at 19 characters, so some program names are incomplete; "
    "`ss -p` or `lsof +c 0` show them in full"
)


class _Row(NamedTuple):
    socket: Socket
    complete: bool
    """False when columns a wrapped e-mail line may have carried to the next line are missing."""


def _is_timer(token: str) -> bool:
    return token.startswith("(") and token.endswith(")") and "/" in token


def _pid_index(rest: list[str]) -> int | None:
    """Where the PID/Program column starts among the columns after Foreign Address."""
    for i, token in enumerate(rest):
        if token == "-":
            return i
        pid, slash, _ = token.partition("/")
        if slash and (pid.isdecimal() or redacted(pid)):
            return i
    return None


def _state_and_user(middle: list[str]) -> tuple[str, str | None] | None:
    """The State word (empty for an unconnected UDP socket) and the -e User, from the columns between
    Foreign Address and PID/Program. Czech net-tools writes LAST_ACK as two words."""
    count = len(middle)
    if count == 0:
        return "", None
    if count == 1:
        return middle[0], None
    if count == 2:
        if middle[1].isdecimal():  # User, Inode; no state
            return "", middle[0]
        return f"{middle[0]} {middle[1]}", None
    if count == 3:
        return middle[0], middle[1]
    if count == 4 and middle[3].isdecimal():
        return f"{middle[0]} {middle[1]}", middle[2]
    return None


def _program(field: str) -> tuple[int | None, str | None]:
    """`1127/sshd` -> (1127, "sshd"); `2322/sshd: kbrazil` keeps its space; `-` -> (None, None)."""
    pid_text, _, name = field.partition("/")
    pid = pid_number(pid_text)
    if pid is None:
        return None, (name or None) if redacted(pid_text) else None  # `****/java`: the name stands
    return pid, name or None


_GAP = re.compile(r"\s{2,}")


def _without_remark(field: str) -> str:
    """The PID/Program column without what a person wrote after it (`8821/node   <- my app`, `(debug)`):
    net-tools pads the column to PROGNAME_WIDTH and prints nothing after it but -o's timer, so text
    past that width, after a run of blanks no name holds, is no part of it."""
    if len(field) <= PROGNAME_WIDTH:
        return field
    gap = _GAP.search(field)
    return field[: gap.start()] if gap is not None and gap.start() <= PROGNAME_WIDTH else field


def _family(declared: Family | None, local_host: str, peer_host: str) -> Family:
    """tcp6/udp6 say IPv6; plain tcp/udp are IPv4 in net-tools, but BusyBox prints `tcp` for both,
    so an address that is plainly IPv6 wins."""
    if declared is not None:
        return declared
    return family_of(local_host) or family_of(peer_host) or Family.IPV4


def _port_cut(text: str, host: str, port: str) -> bool:
    """True when an address of a `tcp`/`udp` row may have lost digits of its port: an IPv6 address
    (which only BusyBox and the toybox of 2016 print on such rows) exactly as wide as the column."""
    return (
        len(text) == ADDRESS_WIDTH and ":" in host and not (port.isdecimal() and int(port) > _WIDEST_CUT_PORT)
    )


def _row(
    line: str, tokens: list[str], ctx: ParseContext, expect_pid: bool, whole_names: bool = False
) -> _Row | Literal[False] | None:
    """A TCP/UDP row; None when the tokens do not have the shape of one; False when the port filter
    rejects it. The usual state word is read inline (this runs once per line)."""
    proto, declared = _INET[tokens[0]]
    local_text = tokens[3]
    local_host, local_port_text = split_colon(local_text)
    if ":" not in local_text or ("." in local_port_text and len(local_text) < ADDRESS_WIDTH):
        return None  # BSD's `*.22`, `::1.25` (OpenBSD's rows start with `tcp` too); a cut one may be
    peer_host, peer_port_text = split_colon(tokens[4])
    cut = False
    if declared is None and (len(local_text) == ADDRESS_WIDTH or len(tokens[4]) == ADDRESS_WIDTH):
        if _port_cut(local_text, local_host, local_port_text):
            cut, local_port_text = True, ""
        if _port_cut(tokens[4], peer_host, peer_port_text):
            cut, peer_port_text = True, ""
    local_port = port_number(local_port_text, proto)
    ports = ctx.ports
    if (
        ports is not None
        and local_port not in ports
        and (not ctx.match_remote or port_number(peer_port_text, proto) not in ports)
    ):
        return False
    rest = tokens[5:]
    timer = len(rest) >= 2 and _is_timer(rest[-1])
    if timer:
        rest = rest[:-2]
    k = _pid_index(rest)
    middle = rest if k is None else rest[:k]
    split = _state_and_user(middle)
    if split is None:
        return None
    word, user = split
    pid = process = None
    if k is not None:
        # The raw remainder keeps spaces inside the program name; usually the name is the last token.
        field = tokens[-1] if len(tokens) == 6 + k else line.split(None, 5 + k)[-1]
        if timer:
            field = field.rsplit(None, 2)[0]
        field = _without_remark(field.rstrip())
        pid, process = _program(field)
        if len(field) >= PROGNAME_WIDTH and not whole_names:
            ctx.notes.warn(TRUNCATED_NAMES)
    if cut:
        ctx.notes.warn(TOYBOX_CUT_WIDE if ctx.wide else TOYBOX_CUT)
    elif not ctx.wide and (len(local_text) == ADDRESS_WIDTH or len(tokens[4]) == ADDRESS_WIDTH):
        ctx.notes.warn(TRUNCATED_ADDRESSES)
    family = _family(declared, local_host, peer_host)
    state = STATE_BY_WORD.get(word) if word else None
    socket = socket_row(
        NAME,
        proto,
        family,
        (local_host, local_port),
        (peer_host, peer_port_text),
        state if state is not None else row_state(ctx, word, proto, peer_host, peer_port_text),
        pid,
        process,
        owner(user) if user else None,
    )
    complete = (k is not None or not expect_pid) and (proto is Proto.UDP or bool(word))
    return _new(_Row, (socket, complete))


_new = tuple.__new__


_ADDRESS = r"(?:\[[0-9A-Za-z:.%_*-]*\]:|[0-9A-Fa-f.:*]*:)"
_USUAL_ROW = re.compile(
    rf"\s*(?:tcp|udp)6?\s+[0-9]+\s+[0-9]+\s+{_ADDRESS}[0-9]+\s+{_ADDRESS}(?:[0-9]+|\*)"
    r"(?:\s+[^\s~](?:.*[^\s~])?)?\s*"
)
"""The usual row (numeric ports) for ParseContext.screen: what _row_shape accepts, with addresses whose
port is what follows the last colon, and nothing `clean` would cut off (no `~` at the end)."""


def _row_shape(tokens: list[str]) -> bool:
    return len(tokens) >= 5 and tokens[1].isdecimal() and tokens[2].isdecimal()


_BSD_HEADER_WORDS = ("(state)", "TCP-State", "IP-Proto")
"""Words of the BSDs' netstat headers (FreeBSD and macOS, OpenBSD), which net-tools never prints."""


def _is_header(line: str) -> bool:
    return line.startswith("Proto ") and not any(word in line for word in _BSD_HEADER_WORDS)


class _Pending(NamedTuple):
    line: str
    row: _Row


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    expect_pid = False  # the header (or an earlier row) shows a PID/Program column
    whole_names = False  # toybox's header (`PID/Program Name`): it never cuts the names
    after_header = False
    notice_lines = 0  # inside net-tools' parenthesised notice about processes it could not identify
    pending: _Pending | None = None  # an incomplete row whose rest e-mail wrapping may have moved on
    for lineno, raw, line in Lines(lines, ctx.screen(_USUAL_ROW)):
        if line is FILTERED_OUT:  # rows the port filter rejects: as below, for a row it rejects
            if pending is not None:
                yield pending.row.socket
                pending = None
            after_header = False
            notice_lines = 0
            continue
        tokens = line.split()
        first = tokens[0]
        if first in _INET:
            if pending is not None:
                yield pending.row.socket
                pending = None
            after_header = False
            notice_lines = 0
            if not _row_shape(tokens):
                notes.skip(lineno, raw)
                continue
            row = _row(line, tokens, ctx, expect_pid, whole_names)
            if not row:
                if row is None:
                    notes.skip(lineno, raw)
                continue
            if row.socket.pid is not None:
                expect_pid = True
            if row.complete:
                yield row.socket
            else:
                pending = _Pending(line, row)
            continue
        if pending is not None:
            merged = _merge(pending, line, ctx, expect_pid, whole_names)
            yield merged if merged is not None else pending.row.socket
            pending = None
            if merged is not None:
                continue
        if first in _OTHER:
            continue
        if notice_lines:
            notice_lines = 0 if line.endswith(")") or notice_lines >= 3 else notice_lines + 1
            continue
        if _is_header(line):
            expect_pid = "PID/" in line
            whole_names = "PID/Program Name" in line
            after_header = True
            continue
        if after_header and any(word in line for word in _HEADER_TAIL_WORDS):
            expect_pid = expect_pid or "PID/" in line  # the header's end, wrapped onto its own line
            whole_names = whole_names or "PID/Program Name" in line
            continue
        after_header = False
        if _BANNER.match(line):
            continue
        if first.startswith("(") and len(line) > 30:
            notes.warn(HIDDEN_PIDS)
            notice_lines = 0 if line.endswith(")") else 1
            continue
        notes.skip(lineno, raw)
    if pending is not None:
        yield pending.row.socket


def _merge(
    pending: _Pending, line: str, ctx: ParseContext, expect_pid: bool, whole_names: bool
) -> Socket | None:
    """The row joined with a line that e-mail wrapping split off it (`LISTEN 1127/sshd`), if together
    they make a complete row."""
    first = line.split(None, 1)[0]
    if lookup_state(first) is None and _pid_index([first]) != 0:
        return None
    text = f"{pending.line} {line}"
    row = _row(text, text.split(), ctx, expect_pid, whole_names)
    return row.socket if row and row.complete else None


def _endpoint_like(token: str) -> bool:
    """`0.0.0.0:22`, `[::]:*`, `localhost:ssh`: colon notation. BSD's `127.0.0.1.80`, `*.*` and
    `::1.8080` are not (their "port" after the last colon has a dot or there is no colon at all)."""
    if ":" not in token:
        return False
    _, port = split_colon(token)
    return port == "*" or port.isdecimal() or (port.replace("-", "").isalnum() and "." not in port)


def _looks_like_row(line: str) -> bool:
    tokens = line.split()
    if not tokens:
        return False
    first = tokens[0]
    if first in _INET or first in ("raw", "raw6"):
        return _row_shape(tokens) and _endpoint_like(tokens[3]) and _endpoint_like(tokens[4])
    return first == "unix" and len(tokens) >= 5 and tokens[1].isdecimal() and tokens[2].startswith("[")


def is_header(line: str) -> bool:
    """A line net-tools' netstat starts with, in a paste of several tools: its title, its header, or
    its notice that it did not run as root (`(Not all processes could be identified, ...`)."""
    header = _is_header(line) and "Recv-Q" in line  # not Windows' `Proto  Local Address ...`
    banner = (
        _BANNER.match(line) is not None
        and not line.startswith("Proto ")  # BSD's header `... (state)`
        and not line.endswith("(including servers)")  # BSD's title; net-tools says `(servers and ...)`
    )
    return header or banner or _is_notice_start(line)


def _is_notice_start(line: str) -> bool:
    """The first line of net-tools' notice in any language: printed on two lines (`\\n` in its message,
    kept by the translations), so an opening parenthesis that this line does not close."""
    return line.startswith("(") and line[1:2].isalpha() and len(line) > 30 and ")" not in line


def sniff(sample: list[str]) -> float:
    score = sniff_score(sample, _looks_like_row)
    header = any(_is_header(line) and "Recv-Q" in line for line in map(clean, sample))
    if score == 0:
        return HEADER_ONLY_SCORE if header else 0.0
    return score + (0.5 if header else 0.0)
