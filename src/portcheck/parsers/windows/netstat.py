"""Windows `netstat`, in every shape a customer sends it.

Variants: `-ano`, `-an`, `-a` (host and service names, columns overflowing their width), `-anob` /
`-ab` (after a row: a service-name line such as `RpcSs`, then `[process.exe]` or a "Can not obtain
ownership information" line), `-ano -p tcp`, `-t` (an extra offload column), IPv6 rows, UDP rows with
no state, and header-less lines as `findstr :PORT` leaves them, down to a single line.

Localised consoles translate the title, the header and the `-b` messages (see localised.py); German
also translates the state words, some of which (`SCHLIESSEN_WARTEN`) are wider than their column and
run into the PID. A listener's peer is `0.0.0.0:0`, `[::]:0` or, with names, `HOST:0`: port 0 means
"no peer" on Windows.

Lines of `tasklist` (table or CSV) in the same paste are read too and fill `ctx.notes.pid_names`, so a
customer's single mail with both outputs, in either order, gives rows with process names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from portcheck.core.addresses import WILDCARD_HOSTS, family_of, local_address, port_number, split_colon
from portcheck.core.localised import (
    ELEVATION_MARKERS,
    NETSTAT_PROTO_HEADERS,
    NETSTAT_TITLES,
    OWNERSHIP_UNKNOWN,
)
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.core.states import STATE_BY_WORD, lookup_state
from portcheck.parsers.common import FILTERED_OUT, HEADER_ONLY_SCORE, MAX_PID_DIGITS, Lines, clean, pid_number
from portcheck.parsers.windows.common import NO_PEER_PORTS, WILDCARD_PEER
from portcheck.parsers.windows.tasklist import TasklistReader, is_tasklist_line

NAME = "netstat-windows"

_PROTOS = {"TCP": Proto.TCP, "UDP": Proto.UDP, "TCPv6": Proto.TCP, "UDPv6": Proto.UDP}
_TITLES = frozenset(title.casefold() for title in NETSTAT_TITLES)
_PROTO_HEADERS = frozenset(NETSTAT_PROTO_HEADERS)
_OWNERSHIP_UNKNOWN = frozenset(OWNERSHIP_UNKNOWN)
_SERVICE_NAME = re.compile(r"^[\w.$@-]+$")

ELEVATION_MESSAGE = (
    "this is `netstat -b` run without administrator rights ({quote!r}): run it in an elevated prompt "
    "(Run as administrator), or send `netstat -ano` together with `tasklist /fo csv /nh` instead"
)
ELEVATION_WARNING = (
    "part of the input is `netstat -b` run without administrator rights: process names are missing "
    "there; run it elevated, or add `tasklist /fo csv /nh` output"
)

_NOT_A_ROW = object()


def _state(tokens: list[str], proto: Proto, peer: tuple[str, str], ctx: ParseContext) -> tuple[State, str]:
    """(state, PID text) of a TCP row; the PID is "" when the row has none."""
    word = tokens[3]
    pid = tokens[4] if len(tokens) > 4 else ""
    state = STATE_BY_WORD.get(word)
    if state is not None:
        return state, pid
    if not pid:  # `SCHLIESSEN_WARTEN1234`: a state word wider than its column, run into the PID
        stem = word.rstrip("0123456789")
        if stem != word and lookup_state(stem) is not None:
            word, pid = stem, word[len(stem) :]
    return ctx.state(word, proto, *peer), pid


def _row(tokens: list[str], ctx: ParseContext) -> Socket | object | None:
    """A Socket for a row, None for a row the port filter rejects, _NOT_A_ROW for anything else.

    The common row (`TCP 1.2.3.4:80 5.6.7.8:443 ESTABLISHED 42`) is built inline rather than through
    endpoint_row (this runs once per line of a dump)."""
    proto = _PROTOS[tokens[0]]
    count = len(tokens)
    if count < 3 or (proto is Proto.TCP and count < 4):
        return _NOT_A_ROW
    local_text, peer_text = tokens[1], tokens[2]
    local_host, local_port_text = split_colon(local_text)
    peer_host, peer_port_text = split_colon(peer_text)
    if not local_port_text or not peer_port_text:
        return _NOT_A_ROW
    local_port = port_number(local_port_text, proto)
    no_peer = peer_port_text in NO_PEER_PORTS
    ports = ctx.ports
    if (
        ports is not None
        and local_port not in ports
        and (no_peer or not ctx.match_remote or port_number(peer_port_text, proto) not in ports)
    ):
        return None
    if proto is Proto.TCP:
        known = STATE_BY_WORD.get(tokens[3])
        if known is not None:
            state, pid_text = known, tokens[4] if count > 4 else ""
        else:
            peer = WILDCARD_PEER if no_peer else (peer_host, peer_port_text)
            state, pid_text = _state(tokens, proto, peer, ctx)
    else:
        state, pid_text = State.NONE, tokens[3] if count > 3 else ""
    pid = process = None
    if pid_text:
        pid = (
            int(pid_text)
            if len(pid_text) <= MAX_PID_DIGITS and pid_text.isdecimal()
            else pid_number(pid_text)
        )
        if pid is None:
            return _NOT_A_ROW
        process = ctx.notes.pid_names.names.get(pid)
    family = Family.IPV6 if ":" in local_host else family_of(local_host) or family_of(peer_host)
    # A peer port outside NO_PEER_PORTS (= the wildcard ports) is a real peer, whatever its host.
    remote_address, remote_port = (None, None) if no_peer else (peer_host, port_number(peer_port_text, proto))
    local = local_host if local_host not in WILDCARD_HOSTS else local_address(local_host, family)
    fields = (proto, family, local, local_port, remote_address, remote_port, state, pid, process, None, NAME,
              None, None, None, None, None)  # fmt: skip
    return make_socket(fields)


_V4 = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}"
_V6 = r"\[[0-9A-Fa-f.%]*:[0-9A-Za-z:.%]*\]"
_COMMON_ROW = re.compile(
    rf"(TCP|UDP)(?:v6)?\s+({_V4}|{_V6}):([0-9]{{1,5}})\s+({_V4}|{_V6}|\*):([0-9]{{1,5}}|\*)"
    r"(?:\s+([A-Z_]{1,16}))?(?:\s+([0-9]{1,10}))?",
    re.ASCII,
)
"""The common row with numeric addresses (`TCP 1.2.3.4:80 5.6.7.8:443 ESTABLISHED 42`, `[::1]:80`,
`UDP 0.0.0.0:123 *:* 42`): _common_row reads it without splitting and re-parsing each token; whatever
it declines goes to _row, which reads every shape."""


def _common_row(groups: tuple[str, ...], ctx: ParseContext) -> Socket | object | None:
    """What _row gives for a line _COMMON_ROW matched in full, or _NOT_A_ROW to send it to _row (an
    unknown or run-on state word, a port above 65535, a column missing or in the wrong place)."""
    proto_word, local_host, local_port_text, peer_host, peer_port_text, word, pid_text = groups
    local_port = int(local_port_text)
    if local_port > 65535:
        return _NOT_A_ROW
    no_peer = peer_port_text in NO_PEER_PORTS
    if no_peer:
        remote_address = remote_port = None
    else:
        remote_port = int(peer_port_text)
        if remote_port > 65535 or peer_host == "*":
            return _NOT_A_ROW
        remote_address = peer_host[1:-1] if peer_host[0] == "[" else peer_host
    if proto_word == "TCP":
        proto = Proto.TCP
        state = STATE_BY_WORD.get(word) if word else None
        if state is None:
            return _NOT_A_ROW
    elif word:  # a word between the peer and the PID of a UDP row: no state; _row reads it
        return _NOT_A_ROW
    else:
        proto, state = Proto.UDP, State.NONE
    ports = ctx.ports
    if (
        ports is not None
        and local_port not in ports
        and (no_peer or not ctx.match_remote or remote_port not in ports)
    ):
        return None
    if local_host[0] == "[":
        local_host, family = local_host[1:-1], Family.IPV6
    else:
        family = Family.IPV4
    if local_host in WILDCARD_HOSTS:
        local_host = local_address(local_host, family)
    pid = process = None
    if pid_text:
        pid = int(pid_text)
        process = ctx.notes.pid_names.names.get(pid)
    fields = (proto, family, local_host, local_port, remote_address, remote_port, state, pid, process, None,
              NAME, None, None, None, None, None)  # fmt: skip
    return make_socket(fields)


_LOCAL = r"(?:\[[0-9A-Za-z:.%]*\]|[0-9.]+):[0-9]+"
_PEER = r"(?:\[[0-9A-Za-z:.%*]*\]|[0-9.]+|\*):(?:[0-9]+|\*)"
_REST = r"[^\s~](?:.*[^\s~])?"
_USUAL_ROW = re.compile(
    rf"\s*(?:TCP(?:v6)?\s+{_LOCAL}\s+{_PEER}\s+{_REST}|UDP(?:v6)?\s+{_LOCAL}\s+{_PEER}(?:\s+{_REST})?)\s*"
)
"""The usual row (numeric ports; TCP with a state column) for ParseContext.screen: what _row reads as a
row before its port filter, with nothing `clean` would cut off (no `~` at the end)."""


def _is_header(line: str, tokens: list[str]) -> bool:
    return tokens[0] in _PROTO_HEADERS or line.casefold() in _TITLES


def is_elevation_message(line: str) -> bool:
    return len(line) < 200 and any(marker in line for marker in ELEVATION_MARKERS)


def _service_name(line: str, tokens: list[str]) -> str | None:
    """The service a `-b` line names (`RpcSs`, `Dnscache`): one word, printed between the row and its
    `[svchost.exe]` line."""
    if len(tokens) != 1 or not line.isascii() or line in _OWNERSHIP_UNKNOWN:  # zh/ja/ko: one word
        return None
    return line if _SERVICE_NAME.match(line) else None


MAX_SERVICES = 16
"""Service lines kept for one row: a svchost hosts a few; a run of thousands is no netstat output."""


def _is_owner_line(raw: str, line: str, tokens: list[str]) -> bool:
    """A line that `-b` prints after a row other than `[name.exe]`: the service name (`RpcSs`), an
    "ownership unknown" message, or (`-bv`) a component path. A message in a language not listed in
    localised.py is recognised by its shape: indented like netstat indents it, words without digits."""
    if len(tokens) == 1:
        return bool(_SERVICE_NAME.match(line)) or line[1:3] == ":\\"
    if line in _OWNERSHIP_UNKNOWN or line[1:3] == ":\\":
        return True
    return (
        raw.startswith(" ")
        and tokens[0] not in _PROTOS
        and not any(char.isdecimal() or char in ":[]" for char in line)
    )


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    tasks = TasklistReader(notes)
    pending: Socket | None = None  # the last row, until its `-b` lines (if any) have been read
    services: list[str] = []  # the service names `-b` printed under the pending row
    after_row = False  # the previous non-blank line was a row or one of its `-b` lines
    rows = 0
    elevation: str | None = None
    common = _COMMON_ROW.fullmatch
    for lineno, raw, line in Lines(lines, ctx.screen(_USUAL_ROW)):
        if line is FILTERED_OUT:  # rows the port filter rejects: as below, for a row it rejects
            if pending is not None:
                yield _with_services(pending, services) if services else pending
                pending = None
            after_row = True
            rows += 1
            continue
        match = common(line)
        row = _common_row(match.groups(), ctx) if match is not None else _NOT_A_ROW
        tokens = None
        if row is _NOT_A_ROW:
            tokens = line.split()
            if tokens[0] in _PROTOS:
                row = _row(tokens, ctx)
        if row is not _NOT_A_ROW:
            if pending is not None:
                yield _with_services(pending, services) if services else pending
            pending = row if isinstance(row, Socket) else None
            after_row = True
            rows += 1
            continue
        assert tokens is not None  # split above: only a line that is no row gets here
        if after_row and tokens[0] not in _PROTOS and line.startswith("[") and line.endswith("]"):
            if pending is not None and len(line) > 2:  # `-b` names the process: it wins over tasklist
                pending = pending._replace(process=line[1:-1])
            continue
        if tasks.read(raw, line) or _is_header(line, tokens):
            after_row = False
            continue
        if is_elevation_message(line):
            elevation = elevation or line
            after_row = False
            continue
        if after_row and _is_owner_line(raw, line, tokens):
            service = _service_name(line, tokens)
            if service is not None and pending is not None and len(services) < MAX_SERVICES:
                services.append(service)
            continue
        after_row = False
        notes.skip(lineno, raw)
    if pending is not None:
        yield _with_services(pending, services) if services else pending
    if elevation is not None:
        if not rows:
            notes.refused = ELEVATION_MESSAGE.format(quote=elevation)
        else:
            notes.warn(ELEVATION_WARNING)


def _with_services(row: Socket, services: list[str]) -> Socket:
    """The row with the service names `-b` printed under it (joined with ", "), which are then
    forgotten for the next row."""
    if not services:
        return row
    named = row._replace(service=", ".join(services))
    services.clear()
    return named


def _looks_like_row(line: str) -> bool:
    tokens = line.split()
    if not (len(tokens) > 2 and tokens[0] in _PROTOS and ":" in tokens[1] and ":" in tokens[2]):
        return False
    if len(tokens) < 8:
        return tokens[0][0] == "U" or len(tokens) > 3
    return _remarked(tokens)


def _remarked(tokens: list[str]) -> bool:
    """A whole row (state and PID) with words after it: what its author wrote beside it in a post
    (`<-- this one`, `# System?`), which the row is read without."""
    if tokens[0][0] == "U":
        return tokens[3].isdecimal()
    return lookup_state(tokens[3]) is not None and tokens[4].isdecimal()


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    tokens = line.split()
    return bool(tokens) and _is_header(line, tokens) and "Recv-Q" not in line  # not Unix netstat's


def sniff(sample: list[str]) -> float:
    """Rows, headers, `-b` lines and tasklist lines of a combined paste; nothing without a row (or the
    elevation message), so a tasklist alone goes to the tasklist format."""
    cleaned = [clean(raw) for raw in sample]
    nonblank = sum(1 for line in cleaned if line)
    row_count = sum(1 for line in cleaned if _looks_like_row(line))
    if not row_count:
        if any(is_elevation_message(line) for line in cleaned):
            return 1.0
        header = any(_is_header(line, line.split()) for line in cleaned if line)
        return HEADER_ONLY_SCORE if header else 0.0
    reader = TasklistReader(ParseNotes())
    matched = 0
    header = False
    for raw, line in zip(sample, cleaned):
        if not line:
            continue
        tokens = line.split()
        if _looks_like_row(line) or (line.startswith("[") and line.endswith("]")):
            matched += 1
        elif _is_header(line, tokens):
            matched += 1
            header = True
        elif is_tasklist_line(reader, raw) or _is_owner_line(raw, line, tokens):
            matched += 1
    return matched / nonblank + (0.5 if header else 0.0)
