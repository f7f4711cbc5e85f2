"""FreeBSD `sockstat`: one row per process and descriptor, `USER COMMAND PID FD PROTO LOCAL FOREIGN`.

Covers `-l` (listening), `-c` (connected), `-4`/`-6`, `-s` (a PATH STATE and CONN STATE column on
newer releases) and `-w` (wider address columns). Addresses use a colon before the port: `*:22`,
`127.0.0.1:25`, `::1:25` (FreeBSD 12) or `[::1]:25` (later releases). A socket no visible process owns
shows `?` for user, command, pid and fd. UNIX-domain rows (`stream`, `dgram`, `seqpac`) and SCTP's
extra address lines are skipped quietly.

Columns that overflow. sockstat.c (FreeBSD 12 and 13, as remembered: no source is at hand here) prints
each row with a running position `pos` and pads with `while (pos < N)`, never with a field width:
`"%s "` user, pad to 9, `"%.10s"` command (cut to 10, NO space after it), pad to 20, `"%lu "` PID,
pad to 26, `"%d "` FD, pad to 29, the protocol, pad to 36, the local address (no space after it),
pad to 58, the foreign address. So a user name of 9 or more characters pushes a long command into the
PID (`postgres` + `12345` -> `postgres12345`), and a local address of 22 or more characters runs into
the foreign one (`[2001:db8::1]:8443[2001:db8::2]:51234`). Such rows are taken apart where exactly one
split fits those widths; where several fit (a command ending in digits, a port followed by an
address starting with digits) the row keeps what is certain: the PID is unknown, or the row is not
read.

Without -s, sockstat prints no TCP state: a TCP socket with no peer is listening, one with a peer is
taken as ESTABLISHED (what `sockstat -c` shows), and stderr says how to get the real state.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from portcheck.core.addresses import (
    family_from_proto,
    family_of,
    is_wildcard_peer,
    local_address,
    port_number,
    remote_endpoint,
    split_colon,
)
from portcheck.core.model import Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import lookup_state
from portcheck.parsers.common import clean, cleaned, pid_number, redacted, sniff_score

NAME = "sockstat"

_PROTOS: dict[str, Proto] = {
    **dict.fromkeys(("tcp", "tcp4", "tcp6", "tcp46"), Proto.TCP),
    **dict.fromkeys(("udp", "udp4", "udp6", "udp46"), Proto.UDP),
}
_OTHER_KINDS = frozenset(
    {
        "stream",
        "dgram",
        "seqpac",
        "seqpacket",
        "sctp",
        "sctp4",
        "sctp6",
        "sctp46",
        "div4",
        "div6",
        "udplite4",
        "udplite6",
        "raw4",
        "raw6",
        "icmp4",
        "icmp6",
    }
)
_MAX_COMMAND_WORDS = 8
"""A command name may hold spaces; more words than this before PID FD PROTO is not a sockstat row."""

STATE_HINT = (
    "sockstat without -s prints no TCP state: connected TCP sockets are shown as ESTABLISHED; "
    "`sockstat -s` shows the real state"
)


def _is_id(token: str) -> bool:
    """A PID or FD column: digits, `?` for a socket no visible process holds, or blanked by the author."""
    return token.isdecimal() or token == "?" or redacted(token)


def find_proto(tokens: list[str]) -> int | None:
    """Index of the PROTO column: the known protocol word after USER, COMMAND (possibly several words),
    PID and FD. A row with two such places is refused (None): the command name (before PROTO) or a
    UNIX socket's path (after it) may hold spaces, so either can imitate these columns
    (`a 1 2 tcp4 *:1 *:*`), and which of the two is sockstat's own cannot be told from the words."""
    last = min(len(tokens), 4 + _MAX_COMMAND_WORDS)
    found = None
    for index in range(4, last):
        word = tokens[index]
        if (
            (word in _PROTOS or word in _OTHER_KINDS)
            and _is_id(tokens[index - 1])
            and _is_id(tokens[index - 2])
        ):
            if found is not None:
                return None
            found = index
    return found


def _is_port(text: str) -> bool:
    return text.isdecimal() or text == "*"


def _is_address(text: str) -> bool:
    """`*:22`, `127.0.0.1:25`, `::1:25`, `[::1]:25`, `*:*`: colon notation with a port or `*`."""
    return _is_port(split_colon(text)[1])


COMMAND_AT, PID_AT, LOCAL_AT, FOREIGN_AT = 9, 20, 36, 58
"""Where sockstat pads the command, PID, local and foreign address columns to (see above)."""
COMMAND_WIDTH = 10
MAX_GLUED = 2 * 64
"""Longer than two addresses (or a command and a PID): no overflow of sockstat's."""


def _unglued_pid(tokens: list[str]) -> list[str] | None:
    """The row's words with the PID taken off the command it overflowed into: [user, command...,
    pid, fd, proto, ...], the command and PID `?` (unknown) when the split is not certain; None when
    the row did not overflow so. Glued only when the command ended past column 20: it began at the
    user's end (at 9 at least) and is at most 10 characters long."""
    for at in range(3, min(len(tokens), 3 + _MAX_COMMAND_WORDS)):
        if tokens[at] not in _PROTOS or not _is_id(tokens[at - 1]):
            continue
        glued = tokens[at - 2]
        if _is_id(glued) or not glued[-1:].isdecimal() or len(glued) > MAX_GLUED:
            return None
        start = max(COMMAND_AT, len(tokens[0]) + 1)
        before = " ".join(tokens[1 : at - 2])  # command words before the glued one
        fits = []
        for cut in range(1, len(glued)):
            command = f"{before} {glued[:cut]}" if before else glued[:cut]
            if glued[cut:].isdecimal() and len(command) <= COMMAND_WIDTH and start + len(command) >= PID_AT:
                fits.append(cut)
        if len(fits) != 1:
            return [tokens[0], "?", "?", *tokens[at - 1 :]]
        cut = fits[0]
        return [*tokens[: at - 2], glued[:cut], glued[cut:], *tokens[at - 1 :]]
    return None


def _unglued_addresses(line: str, token: str) -> tuple[str, str] | None:
    """The local and foreign address of a token where the first ran into the second: the one split
    into two addresses where the local one reaches column 58 (else there would be padding)."""
    if len(token) > MAX_GLUED:
        return None
    start = line.find(token)
    fits = [
        (token[:cut], token[cut:])
        for cut in range(3, len(token) - 2)
        if start + cut >= FOREIGN_AT and _is_full_address(token[:cut]) and _is_full_address(token[cut:])
    ]
    return fits[0] if len(fits) == 1 else None


def _is_full_address(text: str) -> bool:
    """An address sockstat prints: `*` or an IPv4/IPv6 address, then `:` and a port or `*`."""
    host, port = split_colon(text)
    if port != "*" and not (port.isdecimal() and len(port) <= 5 and int(port) <= 65535):
        return False
    return host == "*" or family_of(host.strip("[]")) is not None


def _is_header(tokens: list[str]) -> bool:
    return tokens[:5] == ["USER", "COMMAND", "PID", "FD", "PROTO"]


def _unknown(token: str) -> str | None:
    return None if token == "?" or redacted(token) else token


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    state_column = False  # the header announced -s's CONN STATE
    in_sctp = False  # SCTP prints each further address of an association on a line of its own
    seen: set[Socket] = set()  # one process holding a socket on two descriptors gives one row
    for lineno, raw, line in cleaned(lines):
        tokens = line.split()
        at = find_proto(tokens)
        if at is None:
            unglued = _unglued_pid(tokens)
            if unglued is not None:
                tokens = unglued
                at = find_proto(tokens)
        if at is None:
            if _is_header(tokens):
                state_column = "STATE" in tokens
            elif not (in_sctp and all(_is_address(t) for t in tokens)):
                notes.skip(lineno, raw)
            continue
        word = tokens[at]
        proto = _PROTOS.get(word)
        in_sctp = tokens[at].startswith("sctp")
        if proto is None:  # UNIX-domain or SCTP: a valid row, not a TCP/UDP socket
            continue
        if at + 2 >= len(tokens):
            both = _unglued_addresses(line, tokens[at + 1]) if at + 1 < len(tokens) else None
            if both is None:
                notes.skip(lineno, raw)
                continue
            tokens = [*tokens[: at + 1], *both]
        host, port_text = split_colon(tokens[at + 1])
        peer_host, peer_port = split_colon(tokens[at + 2])
        if not (_is_port(port_text) and _is_port(peer_port)):
            notes.skip(lineno, raw)
            continue
        local_port = port_number(port_text, proto)
        if ctx.ports is not None:
            remote = port_number(peer_port, proto) if ctx.match_remote else None
            if not ctx.wants(local_port, remote):
                continue
        family = family_from_proto(tokens[at]) or family_of(host) or family_of(peer_host)
        # tcp46/udp46: an IPv6 socket that takes IPv4 too; tcp6/udp6: IPV6_V6ONLY set.
        # (only the wildcard `::` may take IPv4 as well: for any other address it says nothing)
        dual_stack = (
            (True if word.endswith("46") else False if word.endswith("6") else None)
            if host in ("*", "::", "[::]")
            else None
        )
        remote_address, remote_port = remote_endpoint(peer_host, peer_port, proto)
        row = make_socket(
            (
                proto,
                family,
                local_address(host, family),
                local_port,
                remote_address,
                remote_port,
                _state(tokens[at + 3 :], proto, (peer_host, peer_port), state_column, ctx),
                pid_number(tokens[at - 2]),
                _unknown(" ".join(tokens[1 : at - 2])),
                _unknown(tokens[0]),
                NAME,
                dual_stack,
                None,
                None,
                None,
                None,
            )
        )
        if row not in seen:
            seen.add(row)
            yield row


def _state(
    rest: list[str], proto: Proto, peer: tuple[str, str], state_column: bool, ctx: ParseContext
) -> State:
    """-s's CONN STATE when printed; otherwise LISTEN for a TCP socket with no peer, ESTABLISHED for one
    with a peer (with a hint). UDP has no state."""
    if proto is Proto.UDP:
        return State.NONE
    if rest:
        state = lookup_state(rest[0])
        if state is not None:
            return state
        if state_column:
            return ctx.state(rest[0], proto, *peer)
    if is_wildcard_peer(*peer):
        return State.LISTEN
    ctx.notes.warn(STATE_HINT)
    return State.ESTABLISHED


def _looks_like_row(line: str) -> bool:
    tokens = line.split()
    at = find_proto(tokens)
    if at is None:
        return False
    if tokens[at] in _PROTOS:
        return at + 2 < len(tokens) and _is_address(tokens[at + 1]) and _is_address(tokens[at + 2])
    return tokens[at] in ("stream", "dgram", "seqpac")


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line.split())


def sniff(sample: list[str]) -> float:
    header = any(_is_header(clean(line).split()) for line in sample)
    return sniff_score(sample, _looks_like_row, 0.5 if header else 0.0)
