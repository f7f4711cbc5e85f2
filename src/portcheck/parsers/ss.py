"""`ss` from iproute2, in every layout still found on machines and in pastes.

Layouts: current (`Process` glued to the header, `users:(("nginx",pid=1,fd=6))`), old (no Process
column, `users:(("rpcbind",1123,6))` without `pid=`), `-H` (no header), no Netid column (`ss -t`, `ss -u`),
`-e` extras (`uid:`, `ino:`, `sk:`, `cgroup:`), `-i` continuation lines, `-a` rows for netlink, unix and
raw sockets (skipped quietly: valid rows, just not TCP or UDP). A socket shared by several processes
gives one row per process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Optional

from portcheck.core.addresses import (
    family_of,
    local_address,
    port_number,
    remote_endpoint,
    split_colon,
)
from portcheck.core.cgroups import container_id, service_unit
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import STATE_BY_WORD, lookup_state
from portcheck.parsers.common import (
    FILTERED_OUT,
    MAX_PID_DIGITS,
    Lines,
    clean,
    pid_number,
    row_state,
    sniff_score,
)

NAME = "ss"

_PROTOS = {"tcp": Proto.TCP, "udp": Proto.UDP}
_OTHER_NETIDS = frozenset(
    {
        "raw",
        "u_str",
        "u_dgr",
        "u_seq",
        "nl",
        "p_raw",
        "p_dgr",
        "mptcp",
        "sctp",
        "icmp6",
        "icmp",
        "tipc",
        "v_str",
        "v_dgr",
        "xdp",
        "dccp",
        "u_seqpacket",
        "???",
    }
)
# ss's own state words; UNCONN on a TCP socket is the kernel's TCP_CLOSE (bound, not listening).
_SS_STATES = frozenset(
    {
        "ESTAB",
        "LISTEN",
        "UNCONN",
        "SYN-SENT",
        "SYN-RECV",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "TIME-WAIT",
        "CLOSE-WAIT",
        "LAST-ACK",
        "CLOSING",
        "CLOSED",
        "UNKNOWN",
        "NEW-SYN-RECV",
        "BOUND",
    }
)
# One process of `users:(...)`: name in quotes (it may hold spaces, commas, parentheses and even
# quotes), then pid and fd, with or without the `pid=`/`fd=` labels of newer ss.
# The name is bounded (the kernel's comm is at most 15 bytes; 64 leaves room): an unbounded `.*?`
# scanned to the end of the line from every `("`, so a 64 KiB line of `("` took 13 s.
_USER = re.compile(r'\("(.{0,64}?)",(?:pid=)?(\d+|[*xX#.]{1,16}|<\w{1,16}>),(?:fd=)?(\d+|[*xX#.]{1,16})\)')
"""(A redacted PID or fd, `pid=****`, keeps the process name: see parsers.common.redacted.)"""
_UID = re.compile(r"(?:^|\s)uid:(\d+)")
# `ino:0`: a TIME-WAIT or request socket, owned by no one (the kernel prints no uid for it either).
_NO_INODE = re.compile(r"(?:^|\s)ino:0(?:\s|$)")
_EXTRA_WORDS = frozenset(
    {
        "cubic",
        "reno",
        "bbr",
        "bbr2",
        "vegas",
        "westwood",
        "htcp",
        "dctcp",
        "ts",
        "sack",
        "ecn",
        "ecnseen",
        "fastopen",
        "app_limited",
        "<->",
        "->",
        "<-",
        "v6only:0",
        "v6only:1",
    }
)


_ADDRESS_LIKE = re.compile(r"^(?:\[.*\]|[\d.]+|\*|[0-9a-f:]+):(?:\d+|\*)$")


def _is_extras(tokens: list[str]) -> bool:
    """An `-i`/`-e` continuation line: mostly `key:value` pairs, rates and TCP option words, no address."""
    if any(_ADDRESS_LIKE.match(t) for t in tokens):
        return False
    extra = sum(
        1 for t in tokens if ":" in t or t in _EXTRA_WORDS or t.endswith("bps") or t.startswith("timer:(")
    )
    return extra * 2 >= len(tokens)


def _row_start(tokens: list[str]) -> int | None:
    """Index of the State column if the tokens are a socket row (with or without Netid), else None."""
    if (
        len(tokens) >= 6
        and (tokens[0] in _PROTOS or tokens[0] in _OTHER_NETIDS)
        and tokens[2].isdecimal()
        and not tokens[1].isdecimal()  # net-tools' `tcp 0 0 0.0.0.0:22 ...` has Recv-Q where ss has State
    ):
        return 1
    if (
        len(tokens) >= 5
        and tokens[1].isdecimal()
        and tokens[2].isdecimal()
        and (tokens[0] in _SS_STATES or lookup_state(tokens[0]) is not None)
    ):
        return 0
    return None


def _is_header(line: str) -> bool:
    return (line.startswith(("Netid", "State")) and "Recv-Q" in line) or _is_stateless_header(line)


def _is_stateless_header(line: str) -> bool:
    """`ss -tn state established` (one state asked for) prints no State column, and no Netid with
    one protocol: the header starts with Recv-Q."""
    return line.startswith("Recv-Q") and "Address:Port" in line


_STATE_FILTER = re.compile(r"\bss\b[^|]{0,256}?\bstate\s{1,8}([a-z12-]{1,16})")
"""The first `state FILTER` of an ss command line (`ss -tn state established '( sport = :443 )'`)."""
_FILTER_WORDS = {
    "established": "ESTAB",
    "listening": "LISTEN",
    "closed": "UNCONN",
    **{word: word.upper() for word in ("syn-sent", "syn-recv", "fin-wait-1", "fin-wait-2", "time-wait")},
    **{word: word.upper() for word in ("close-wait", "last-ack", "closing")},
}
"""ss's filter names of one state -> the word its State column prints."""


_SS_OPTIONS = re.compile(r"\bss((?:\s{1,8}-{1,2}[A-Za-z-]{1,32})+)")
"""The options of an ss command line (`$ sudo ss -ulnp`, `ss --udp -n`)."""


def _command_proto(line: str) -> Proto | None:
    """The one protocol an ss command line pasted before the output asked for (`ss -ulnp`: UDP), which
    the rows do not say without a Netid column; None for both, neither or no ss command."""
    found = _SS_OPTIONS.search(line)
    if found is None:
        return None
    words = found.group(1).split()
    short = "".join(word[1:] for word in words if not word.startswith("--"))
    tcp = "t" in short or "--tcp" in words
    udp = "u" in short or "--udp" in words
    if tcp == udp:
        return None
    return Proto.TCP if tcp else Proto.UDP


def _asked_state(asked: re.Match[str] | None) -> str:
    """The State word for the rows of a table without that column: the one state the pasted command
    asked for; UNKNOWN when the paste does not show the command (or it names a group of states:
    `connected`, `synchronized`)."""
    return _FILTER_WORDS.get(asked.group(1), "UNKNOWN") if asked is not None else "UNKNOWN"


def _is_stateless_row(tokens: list[str]) -> bool:
    """Recv-Q, Send-Q, local and peer address: a row of a table without State and Netid columns."""
    return (
        len(tokens) >= 4
        and tokens[0].isdecimal()
        and tokens[1].isdecimal()
        and ":" in tokens[2]
        and ":" in tokens[3]
    )


def _told_by_state(word: str) -> Proto | None:
    """What a row without Netid (`ss -t`, `ss -u`) says of its protocol by its state: a UDP socket is
    UNCONN or ESTAB, a TCP socket never UNCONN (the kernel's socket dump has no unbound TCP sockets), so
    UNCONN is UDP, ESTAB either, and every other state TCP."""
    if word == "UNCONN":
        return Proto.UDP
    return None if word == "ESTAB" else Proto.TCP


MAX_HELD = 1000
"""Rows of a table without Netid held back, at most, until a later row tells their protocol."""
NETID_GUESS = (
    "ss printed no Netid column and no row tells TCP from UDP (ESTAB rows only): they are shown as TCP; "
    "`ss -tunap` prints the column"
)


def _release(held: list[Socket], proto: Proto) -> list[Socket]:
    """Rows held back while their table's protocol was unknown (built as TCP), now that it is known.
    Only the protocol changes: an ESTAB row's other fields read the same for TCP and UDP."""
    if proto is Proto.TCP:
        return held
    return [row._replace(proto=proto) for row in held]


def _state(word: str, proto: Proto, peer: tuple[str, str], ctx: ParseContext) -> State:
    if word == "UNCONN":
        return State.CLOSE if proto is Proto.TCP else State.NONE
    state = STATE_BY_WORD.get(word)
    return state if state is not None else ctx.state(word, proto, *peer)


def _user(extras: str) -> str | None:
    """`uid:N` from `-e`; ss leaves it out for root, which `ino:` (also from `-e`) lets us tell apart."""
    match = _UID.search(extras)
    if match:
        uid = match.group(1)
        return "root" if uid == "0" else uid
    if "ino:" in extras and not _NO_INODE.search(extras):
        return "root"
    return None


def _unbalanced(extras: str) -> bool:
    """True when the `users:((...` group is cut off, as e-mail line wrapping leaves it."""
    return extras.startswith("users:(") and _USERS_END not in extras


_USERS_END = "))"
"""How the `users:(...)` group ends: ss prints `users:(` then `("name",pid=N,fd=N),` per process and
`)`, and a name never holds `)` (ss reads it from /proc/PID/stat with `%[^)]`)."""


def split_users(extras: str) -> tuple[str, str]:
    """(the `users:(...)` group, the text after it). ss prints the group first, right after the peer
    address, and every later field after it: `-o`'s timer, `-e`'s `uid:`, `ino:`, `sk:` and
    `cgroup:<path>`, `v6only:`... A cgroup path is chosen by whoever created the cgroup and may hold
    `users:(("nginx",pid=928,fd=3))`: text after the group never names an owner."""
    if not extras.startswith("users:("):
        return "", extras
    end = extras.find(_USERS_END)
    if end < 0:
        return extras, ""
    end += len(_USERS_END)
    return extras[:end], extras[end:]


_CGROUP_TAIL = re.compile(
    r"(?:\s+(?:v6only:[01]|[<-]-[->]|tos:\S*|tclass:\S*|class_id:\S*|cgroup:\S*|bpf\S*))+$"
)
"""What ss may print after `cgroup:<path>` (v6only, the shutdown mask, -Q's tos, --cgroup's own copy),
cut from the end to leave the path."""
_V6ONLY = re.compile(r"\sv6only:([01])(?=\s|$)")


def _cgroup(details: str) -> str | None:
    """The path after `cgroup:` (it may hold spaces), without the fields ss prints after it."""
    at = details.find(" cgroup:")
    if at < 0:
        return None
    path = details[at + len(" cgroup:") :]
    return _CGROUP_TAIL.sub("", path) if " " in path else path


def _v6only(details: str) -> bool | None:
    """`-e`'s `v6only:N`, printed after the cgroup path: the last one is ss's own."""
    found = _V6ONLY.findall(details)
    return found[-1] == "1" if found else None


Fields = tuple[Proto, Optional[Family], str, Optional[int], Optional[str], Optional[int], State]
"""A row's socket fields, before the owning processes (from the extras) are known."""


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    """The loop inlines the common row (`tcp ESTAB 0 0 host:port host:port users:(...)`, numeric ports);
    every other shape goes through the helpers above, which it is equivalent to."""
    ctx = ctx or ParseContext()
    notes = ctx.notes
    ports = ctx.ports
    match_remote = ctx.match_remote
    pending: tuple[Fields, bool | None, str] | None = None  # a row whose continuation may still follow
    # `*` means different things by ss version: iproute2 >= 4.17 prints IPv4 wildcards as 0.0.0.0 and
    # IPv6 as [::], keeping `*` for a dual-stack IPv6 socket; older ss printed `*` for IPv4 and `:::`
    # for IPv6. The input tells which ss wrote it (brackets and `pid=` are new, `:::` is old): the first
    # row that tells decides, wanted by the port filter or not, so a filtered parse reads `*` as the
    # whole parse does. Until a row has told, no row is screened out unread.
    modern: bool | None = None
    screen = ctx.screen(_USUAL_ROW)
    source = Lines(lines)
    # Without Netid (`ss -t`, `ss -u`) the rows' protocol is what the live query asked for, or else
    # what the first row that tells says (see _told_by_state). Rows before it (ESTAB, either protocol)
    # are held back (built as TCP) until one tells, MAX_HELD at most.
    netidless = ctx.proto
    held: list[Socket] | None = None
    ipv6 = Family.IPV6
    containers: dict[str, None] = {}  # ids of the containers whose cgroups hold rows (the first few)
    asked: re.Match[str] | None = None  # a `state FILTER` in the command line pasted before the output
    stateless: str | None = None  # the State word of a table without that column (see _asked_state)
    commanded: Proto | None = None  # the one protocol a pasted ss command line asked for
    for lineno, raw, line in source:
        if line is FILTERED_OUT:  # rows the port filter rejects: each ends the row before it
            if pending is not None:
                if held is None:
                    yield from _rows(*pending, containers)
                else:
                    held.extend(_rows(*pending, containers))
                pending = None
            continue
        tokens = line.split()
        first = tokens[0]
        proto: Proto | None
        if first in _PROTOS and len(tokens) >= 6 and tokens[2].isdigit() and not tokens[1].isdigit():
            start = 1
            proto = _PROTOS[first]
        else:
            found = _row_start(tokens)
            if found is None and stateless is not None and _is_stateless_row(tokens):
                tokens.insert(0, stateless)  # read as if ss had printed the one state it was asked for
                line = f"{stateless} {line}"
                found = 0
            elif found is None and stateless is None and _is_stateless_header(line):
                stateless = _asked_state(asked)
                continue
            if found is None:
                asked = asked or _STATE_FILTER.search(line)
                commanded = commanded or _command_proto(line)
                netidless = netidless or commanded
                if pending is not None and (
                    (first.startswith("users:(") and not pending[2]) or _unbalanced(pending[2])
                ):
                    pending = (pending[0], pending[1], (pending[2] + " " + line).lstrip())
                    continue
                if _is_header(line):
                    if held is not None:  # the table ended without telling
                        notes.warn(NETID_GUESS)
                        yield from held
                        held = None
                    netidless = ctx.proto or commanded  # another table: its own rows tell again
                    continue
                if _is_extras(tokens):
                    continue
                notes.skip(lineno, raw)
                continue
            start = found
            if start == 1:
                proto = _PROTOS.get(first)
            else:
                if netidless is None:
                    netidless = _told_by_state(first)
                    if netidless is None:
                        held = [] if held is None else held
                    elif held is not None:
                        if pending is not None:
                            held.extend(_rows(*pending, containers))
                            pending = None
                        yield from _release(held, netidless)
                        held = None
                proto = netidless or Proto.TCP
        if pending is not None:
            if held is None:
                yield from _rows(*pending, containers)
            else:
                held.extend(_rows(*pending, containers))
                if len(held) >= MAX_HELD:
                    notes.warn(NETID_GUESS)
                    netidless = Proto.TCP
                    yield from held
                    held = None
            pending = None
        if proto is None:  # netlink, unix, raw...: a valid row, not a TCP/UDP socket
            continue
        local_text, peer_text = tokens[start + 3], tokens[start + 4]
        if modern is None:
            modern = _ss_generation(line, local_text, peer_text)
            if modern is not None:
                source.screen = screen
        local_host, local_port_text = split_colon(local_text)
        local_port = port_number(local_port_text, proto)
        if (
            ports is not None
            and local_port not in ports
            and (not match_remote or port_number(split_colon(peer_text)[1], proto) not in ports)
        ):
            continue
        peer_host, peer_port_text = split_colon(peer_text)
        family = family_of(local_host) or family_of(peer_host)
        # iproute2 >= 4.17 prints an IPv6 wildcard without IPV6_V6ONLY as `*`, with it as `[::]`
        dual_stack: bool | None = None
        if family is None:
            if local_host.startswith("*"):
                family = Family.IPV6 if modern or peer_host.startswith(("[", ":")) else None
                dual_stack = True if modern and family is Family.IPV6 else None
        elif modern and family is ipv6 and local_text.startswith("[::]"):
            dual_stack = False
        remote_address, remote_port = remote_endpoint(peer_host, peer_port_text, proto)
        word = tokens[start]
        if word == "UNCONN":
            state = State.CLOSE if proto is Proto.TCP else State.NONE
        else:
            state = row_state(ctx, word, proto, peer_host, peer_port_text)
        fields = (
            proto,
            family,
            local_address(local_host, family) if "%" not in local_host else _scoped(local_host, family),
            local_port,
            remote_address,
            remote_port,
            state,
        )
        # The extras are cut from the line itself, not re-joined from tokens, so a process name keeps
        # its exact spacing.
        extras = ""
        if len(tokens) > start + 5:
            at = line.find(peer_text, line.find(local_text) + len(local_text)) + len(peer_text)
            extras = line[at:].strip()
        pending = (fields, dual_stack, extras)
    if pending is not None:
        if held is None:
            yield from _rows(*pending, containers)
        else:
            held.extend(_rows(*pending, containers))
    if held is not None:
        notes.warn(NETID_GUESS)
        yield from held
    if containers:
        notes.warn(IN_CONTAINERS.format(ids=", ".join(id[:12] for id in containers)))


_ADDRESS = r"(?:\[[0-9A-Za-z:.%_*-]*\]|[0-9.*]+(?:%[A-Za-z0-9_.-]+)?)"
_USUAL_ROW = re.compile(
    rf"\s*(?:tcp|udp)\s+[A-Za-z][A-Za-z0-9-]*\s+[0-9]+\s+\S+\s+{_ADDRESS}:[0-9]+\s+{_ADDRESS}:(?:[0-9]+|\*)"
    r"(?:\s+[^\s~](?:.*[^\s~])?)?\s*"
)
"""The usual row (Netid, a state word, numeric ports) for ParseContext.screen: what the loop reads on
its inline path, with nothing `clean` would cut off (no `~` at the end)."""


def _ss_generation(line: str, local_text: str, peer_text: str) -> bool | None:
    """True for iproute2 >= 4.17 output, False for older, None when this row does not tell. Older ss
    wrote an IPv4 wildcard as `*`, local or peer (`*:*`): `0.0.0.0` in either is new, which tells even
    when a mail client moved the row's `users:((...pid=` to the next line."""
    if "[" in line or "pid=" in line or local_text.startswith("0.0.0.0") or peer_text.startswith("0.0.0.0"):
        return True
    if local_text.startswith(":::") or "users:((" in line:
        return False
    return None


def _scoped(host: str, family: Family | None) -> str:
    """A host bound to a device or with a zone (`*%eth0`, `0.0.0.0%eth0`, `fe80::1%eth0`): the address
    named as any other, the `%zone` kept."""
    bare, _, zone = host.partition("%")
    return f"{local_address(bare, family)}%{zone}"


def _pid(text: str) -> int | None:
    """pid_number for the digits _USER matched, without a call for the usual short ones."""
    return int(text) if len(text) <= MAX_PID_DIGITS else pid_number(text)


MAX_CONTAINER_IDS = 3
"""Container ids a note names, at most (the first ones seen)."""
IN_CONTAINERS = (
    "some rows are in containers, which ss names by cgroup id only ({ids}): `docker ps --filter id=ID` "
    "(or podman ps) on that machine gives their names"
)


def _rows(
    fields: Fields, dual_stack: bool | None, extras: str, containers: dict[str, None]
) -> tuple[Socket, ...] | list[Socket]:
    """One row per owning process (a pre-forked server shares one socket among many). Each field comes
    from its own place in the extras (see split_users): owners only from the `users:(...)` group."""
    if not extras:
        return (make_socket((*fields, None, None, None, NAME, dual_stack, None, None, None, None)),)
    if extras.startswith("users:("):  # split_users, inline: this runs once per row
        end = extras.find(_USERS_END) + 2
        if end == 1 or end == len(extras):  # no end (cut short), or nothing after the group
            users, details = extras, ""
        else:
            users, details = extras[:end], extras[end:]
    else:
        users, details = "", extras
    user = service = None
    if details:
        head = details.partition(" cgroup:")[0]  # uid and ino come before the cgroup path
        if "uid:" in head or "ino:" in head:
            user = _user(head)
        if " cgroup:" in details:
            path = _cgroup(details)
            if path:
                service = service_unit(path)
                if service is None and len(containers) < MAX_CONTAINER_IDS:
                    found = container_id(path)
                    if found is not None:
                        containers[found] = None
        if "v6only:" in details and fields[2] == "::":  # only a wildcard may take IPv4 as well
            v6only = _v6only(details)
            dual_stack = dual_stack if v6only is None else not v6only
    owners = _USER.findall(users) if users else []
    if len(owners) <= 1:
        name, pid_text = owners[0][:2] if owners else (None, "")
        # pid_number, inline for the usual short PID (a redacted one is no number)
        pid = (
            int(pid_text)
            if 0 < len(pid_text) <= MAX_PID_DIGITS and pid_text.isdecimal()
            else pid_number(pid_text)
        )
        return (make_socket((*fields, pid, name, user, NAME, dual_stack, None, None, service, None)),)
    seen: set[tuple[str, str]] = set()
    rows = []
    for name, pid, _fd in owners:
        if (name, pid) not in seen:  # the same process holding the socket on two descriptors is one row
            seen.add((name, pid))
            rows.append(
                make_socket((*fields, _pid(pid), name, user, NAME, dual_stack, None, None, service, None))
            )
    return rows


def _looks_like_row(line: str) -> bool:
    tokens = line.split()
    start = _row_start(tokens)
    return start is not None and ":" in tokens[start + 3] and (start == 1 or tokens[0] in _SS_STATES)


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line)


def sniff(sample: list[str]) -> float:
    header = any(_is_header(clean(line)) and "Address:Port" in line for line in sample)
    return sniff_score(sample, _looks_like_row, 0.5 if header else 0.0)
