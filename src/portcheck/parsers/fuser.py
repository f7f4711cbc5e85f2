"""`fuser` (psmisc on Linux, BusyBox): which processes hold a TCP or UDP port.

psmisc prints, per name asked for, `NAME:` padded to 20 columns and then the PIDs (`80/tcp:  1283
1284`); with -u each PID carries `(user)`; with -v a table `USER PID ACCESS COMMAND`, one process per
row, the name only on the first (alone on its own line when it is 20 characters or more). The PIDs
go to stdout and everything else to stderr, so a paste may hold the names without PIDs (`2>&1` left
out), the PIDs without names (`2>/dev/null`, `$(fuser ...)`), or each stream apart, one after the other.
BusyBox prints only the PIDs of every name together. A PID line therefore takes its port from the name
printed alone just before or after it, or from the `fuser ...` command line of the paste when that
names a single port. Names follow `[port][,[remote host][,[remote port]]]/tcp|udp` (BusyBox also takes
`tcp6`/`udp6`); -n tcp turns `80` into `80/tcp`. Lines fuser prints about its own troubles (`Cannot stat
file /proc/N/fd/M: ...`, `Kill process N ? (y/N)`) are read quietly.

fuser says which processes use a port, not which sockets: no local address (the rows say `?`, the mark
the table uses for anything unknown; `*` or `0.0.0.0` would claim a wildcard), no family unless -4/-6 or
tcp6/udp6 was asked for, no peer unless the name gave one, and no state (UNKNOWN for TCP, NONE for UDP).
The command name in -v is the kernel's comm, with psmisc's `\\ooo` escapes kept as printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portcheck.core.addresses import family_of, port_number
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.parsers.common import HEADER_ONLY_SCORE, clean, cleaned, pid_number

NAME = "fuser"

UNKNOWN_ADDRESS = "?"
"""local_address of every fuser row: the record needs a string and fuser prints no address."""

_PROTOS: dict[str, tuple[Proto, Family | None]] = {
    "tcp": (Proto.TCP, None),
    "udp": (Proto.UDP, None),
    "tcp6": (Proto.TCP, Family.IPV6),  # BusyBox: /proc/net/tcp6 only
    "udp6": (Proto.UDP, Family.IPV6),
}
_ACCESS = re.compile(r"[fF.][r.][c.][e.][mM.]")
"""psmisc -v's ACCESS: file (F: open for writing), root, cwd, exe, mmap."""
_PID_ITEM = re.compile(r"([0-9]{1,10})[rcefFm]*(?:\(([^()\s]*)\))?")
"""A PID as terse psmisc prints it: access letters (files only) and -u's `(user)` after it, `(unknown)`
for a uid with no name."""
_NOISE = (
    "Cannot stat ",
    "Cannot open ",
    "Cannot readlink",
    "Specified filename ",
    "No process specification given",
    "Kill process ",
    "fuser: ",
)
_FAMILY_OPTIONS = {"-4": Family.IPV4, "--ipv4": Family.IPV4, "-6": Family.IPV6, "--ipv6": Family.IPV6}
_MAX_PIDS = 4096
"""PIDs one line may hold: more is not fuser output (a line of 64 KiB digits would be 30,000 rows)."""

NOTE = (
    "fuser shows which processes hold a port, not their sockets: no address (shown as ?), no peer and "
    "no TCP state (UNKNOWN); `ss -tunap` or `lsof -nP -i :PORT` show them"
)
PERMISSION_HINT = (
    "fuser could not read the open files of some processes (Permission denied): run it as root "
    "(sudo fuser ...) to see every process"
)
NO_NAME_HINT = (
    "fuser printed PIDs without the port they hold (it writes the names to stderr, the PIDs to "
    "stdout): run `fuser -v PORT/tcp 2>&1` and paste all of it"
)


class Target(NamedTuple):
    """One name fuser was asked about."""

    proto: Proto
    family: Family | None
    port: int | None
    peer: str | None
    peer_port: int | None


def read_name(text: str, family: Family | None = None) -> Target | None:
    """`80/tcp`, `ssh/tcp`, `,10.0.0.1,443/tcp`, `53/udp6` -> the target; None for a file name or
    anything else that is not a port name."""
    spec, slash, proto_word = text.rpartition("/")
    if not slash or proto_word not in _PROTOS:
        return None
    proto, declared = _PROTOS[proto_word]
    parts = spec.split(",")
    if len(parts) > 3:
        return None
    local = parts[0]
    peer = parts[1] if len(parts) > 1 else ""
    peer_port_text = parts[2] if len(parts) > 2 else ""
    port = port_number(local, proto) if local else None
    peer_port = port_number(peer_port_text, proto) if peer_port_text else None
    if (local and port is None) or (peer_port_text and peer_port is None) or not (local or peer):
        return None  # a word that is no port (nor a service name), or neither port nor peer given
    if peer and not peer.replace(".", "").replace(":", "").replace("-", "").isalnum():
        return None
    family = declared or family or (family_of(peer) if peer else None)
    return Target(proto, family, port, peer or None, peer_port)


class Command(NamedTuple):
    """What a `fuser ...` line in the paste asked for."""

    targets: list[Target]
    family: Family | None


def read_command(tokens: list[str]) -> Command | None:
    """The names and -4/-6 of a command line (`$ sudo fuser -v -n tcp 80 443 2>/dev/null`); None when
    the line does not run fuser."""
    at = next((i for i, t in enumerate(tokens) if t == "fuser" or t.endswith("/fuser")), None)
    if at is None:
        return None
    family: Family | None = None
    namespace = ""
    names: list[str] = []
    args = iter(tokens[at + 1 :])
    for arg in args:
        if arg.startswith(("|", ";", "&&")):
            break
        if ">" in arg or "<" in arg:
            continue
        if arg in _FAMILY_OPTIONS:
            family = _FAMILY_OPTIONS[arg]
        elif arg == "--namespace" or (arg.startswith("-") and not arg.startswith("--") and "n" in arg):
            namespace = next(args, "")  # psmisc reads the next word, whatever follows n in `-nv`
        elif not arg.startswith("-"):
            names.append(arg if "/" in arg or not namespace else f"{arg}/{namespace}")
    targets = [t for t in (read_name(name, family) for name in names) if t is not None]
    return Command(targets, family)


class Owner(NamedTuple):
    pid: int | None
    process: str | None
    user: str | None


def read_pids(tokens: list[str]) -> list[Owner] | None:
    """A terse PID list (`1283 1284`, `1283(root)`); None when the tokens are not one."""
    if not tokens or len(tokens) > _MAX_PIDS:
        return None
    owners = []
    for token in tokens:
        match = _PID_ITEM.fullmatch(token)
        if match is None:
            return None
        user = match.group(2)
        owners.append(Owner(int(match.group(1)), None, user if user and user != "unknown" else None))
    return owners


def read_verbose(text: str) -> Owner | None:
    """A -v row after the name column: `root 1283 F.... nginx`; the PID is missing when stdout was not
    pasted. None for anything else, psmisc's `kernel` pseudo-processes (mounts, swap) included."""
    parts = text.split(None, 3)
    if len(parts) < 3:
        return None
    user = parts[0]
    if _ACCESS.fullmatch(parts[1]):
        pid = None
        command = text.split(None, 2)[2] if len(parts) > 2 else ""
    elif pid_number(parts[1]) is not None and _ACCESS.fullmatch(parts[2]):
        pid = pid_number(parts[1])
        command = parts[3] if len(parts) > 3 else ""
    else:
        return None
    return Owner(pid, command.strip() or None, None if user == "(unknown)" else user)


class _Reader:
    """Which name the lines that follow belong to, across the two streams fuser writes."""

    __slots__ = ("alone", "command", "ctx", "current", "named", "waiting")

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.command = Command([], None)
        self.current: Target | None = None  # the last name printed: -v rows below it are its own
        self.alone: list[Target] = []  # names printed with nothing after them, since the last row
        self.named = False  # a name was printed since the command line
        self.waiting: tuple[int, str, list[Owner]] | None = None  # PIDs no name has claimed yet

    def rows(self, target: Target, owners: list[Owner]) -> Iterator[Socket]:
        ctx = self.ctx
        if not ctx.wants(target.port, target.peer_port):
            return
        ctx.notes.warn(NOTE)
        state = State.UNKNOWN if target.proto is Proto.TCP else State.NONE
        family = target.family or self.command.family
        for owner in owners:
            yield make_socket(
                (target.proto, family, UNKNOWN_ADDRESS, target.port, target.peer, target.peer_port, state,
                 owner.pid, owner.process, owner.user, NAME, None, None, None, None, None)
            )  # fmt: skip

    def start(self, command: Command) -> None:
        self.finish()
        self.command = command
        self.current, self.alone, self.named = None, [], False

    def name_alone(self, target: Target) -> Iterator[Socket]:
        """A name with no PID after it: stderr pasted apart, or -a's unused name, or a long -v name."""
        self.current, self.named = target, True
        if self.waiting is not None:  # stdout was pasted first: its PIDs are this name's
            yield from self.rows(target, self.waiting[2])
            self.waiting = None
            return
        self.alone.append(target)

    def pids_alone(self, lineno: int, raw: str, owners: list[Owner]) -> Iterator[Socket]:
        """PIDs with no name on their line: the name printed alone just before, the command's only
        name, or the name printed alone just after."""
        if len(self.alone) == 1:
            target: Target | None = self.alone[0]
        elif not self.alone and not self.named and len(self.command.targets) == 1:
            target = self.command.targets[0]
        else:
            target = None
        self.alone = []
        if target is not None:
            yield from self.rows(target, owners)
        elif self.named or self.command.targets:
            self.ctx.notes.warn(NO_NAME_HINT)
            self.ctx.notes.skip(lineno, raw)
        else:
            self.finish()
            self.waiting = (lineno, raw, owners)

    def finish(self) -> None:
        """PIDs that no name claimed: the port they hold is not in the paste."""
        if self.waiting is not None:
            lineno, raw, _ = self.waiting
            self.ctx.notes.warn(NO_NAME_HINT)
            self.ctx.notes.skip(lineno, raw)
            self.waiting = None


def _is_header(tokens: list[str]) -> bool:
    return tokens[-4:] == ["USER", "PID", "ACCESS", "COMMAND"] and len(tokens) <= 5


def _is_noise(line: str) -> bool:
    return line.startswith(_NOISE)


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    reader = _Reader(ctx)
    for lineno, raw, line in cleaned(lines):
        if _is_noise(line):
            if line.endswith("Permission denied"):
                notes.warn(PERMISSION_HINT)
            continue
        tokens = line.split()
        first = tokens[0]
        if first.endswith(":") and "/" in first:
            target = read_name(first[:-1])
            rest = line[len(first) :].strip()
            if target is None:  # a file's name: its processes are not a socket's
                reader.current, reader.alone, reader.named = None, [], True
                if not first.startswith(("/", ".", "~")):
                    notes.skip(lineno, raw)
                continue
            if not rest:
                yield from reader.name_alone(target)
                continue
            reader.current, reader.alone, reader.named = target, [], True
            owners = read_pids(tokens[1:])
            if owners is None:
                owner = read_verbose(rest)
                owners = [owner] if owner is not None else None
            if owners is None:
                notes.skip(lineno, raw)
            else:
                yield from reader.rows(target, owners)
            continue
        owners = read_pids(tokens)
        if owners is not None:
            yield from reader.pids_alone(lineno, raw, owners)
            continue
        owner = read_verbose(line)
        if owner is None and tokens[1:2] == ["kernel"]:  # `root kernel mount /home`: not a socket
            continue
        if owner is not None:
            reader.alone = []
            if reader.current is not None:
                yield from reader.rows(reader.current, [owner])
            elif not reader.named:
                notes.skip(lineno, raw)
            continue
        if _is_header(tokens):
            continue
        command = read_command(tokens)
        if command is not None and command.targets:
            reader.start(command)
            continue
        notes.skip(lineno, raw)
    reader.finish()


# --- detection --------------------------------------------------------------------------------------


def _is_name(token: str) -> bool:
    return token.endswith(":") and read_name(token[:-1]) is not None


def _kind(line: str) -> str:
    """What a cleaned line is to fuser: "row" (a name with PIDs or a -v row), "pids", "quiet" (the
    header, a name alone, fuser's own complaints, a command line naming ports) or "" (not fuser's)."""
    if _is_noise(line):
        return "quiet"
    tokens = line.split()
    first = tokens[0]
    if _is_name(first):
        if len(tokens) == 1:
            return "quiet"
        rest = line[len(first) :]
        return "row" if read_pids(tokens[1:]) is not None or read_verbose(rest) is not None else ""
    if read_pids(tokens) is not None:
        return "pids"
    if _is_header(tokens):
        return "quiet"
    if read_verbose(line) is not None:
        return "row"
    command = read_command(tokens)
    return "quiet" if command is not None and command.targets else ""


def is_header(line: str) -> bool:
    """A line fuser's output starts with, in a paste of several tools: -v's header or its complaints
    about files it cannot read (`Cannot stat file /proc/1/fd/0: ...`)."""
    tokens = line.split()
    return bool(tokens) and (_is_header(tokens) or _is_noise(line))


def sniff(sample: list[str]) -> float:
    """Rows and fuser's own lines over the non-blank lines; a PID list counts only beside a name or a
    command line, since digits alone could be anything. A `PORT/PROTO:` name is as telling as another
    tool's header (a PowerShell UDP row is also `address port pid`). Names or a header with no row at
    all are recognised as "nothing matched"."""
    counts = {"row": 0, "pids": 0, "quiet": 0, "": 0}
    named = False
    for text in sample:
        line = clean(text)
        if line:
            counts[_kind(line)] += 1
            named = named or _is_name(line.split(None, 1)[0])
    nonblank = sum(counts.values())
    if not counts["row"] and not counts["quiet"]:
        return 0.0
    if not counts["row"] and not (counts["pids"] and counts["quiet"]):
        return HEADER_ONLY_SCORE
    return (counts["row"] + counts["pids"] + counts["quiet"]) / nonblank + (0.5 if named else 0.0)
