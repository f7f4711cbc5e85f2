"""`lsof` on Linux, macOS and the BSDs: the default table and the field output (`-F`).

Table layouts: `COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME` (macOS, Linux without threads),
with `TID` (Linux lsof 4.8x lists every thread) or `TID TASKCMD` (newer lsof with -K) after PID, and old
lsof whose SIZE column is blank for sockets. Columns are found from the TYPE column (IPv4/IPv6) rather
than by position, because blank TID cells and blank SIZE cells vanish when a row is split on blanks.
COMMAND is cut at 9 characters unless `+c 0` was given, and lsof writes spaces and other unprintable
bytes as `\\x20`-style escapes (in COMMAND and NAME), which are undone here. Whole-system listings are
mostly files: every non-network row is skipped quietly.

Field output: `-F pcLnPtT` and any subset of p c L u f d t P n T, one field per line, or NUL-separated
with `-F0`. A set of process fields (p...) is followed by sets of file fields; a file set ends where a
field letter repeats.

One row per process and socket: the rows of one socket that differ only by thread (TID) or by
descriptor (FD; same DEVICE) are printed once, while each process sharing a socket gets its own row.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Iterator
from typing import Literal, Union

from portcheck.core.addresses import family_of, port_number, split_colon
from portcheck.core.model import Family, Proto, Socket
from portcheck.core.parsing import ParseContext
from portcheck.core.states import STATE_BY_WORD
from portcheck.parsers.common import (
    FILTERED_OUT,
    HEADER_ONLY_SCORE,
    Lines,
    clean,
    owner,
    pid_number,
    redacted,
    row_state,
    sniff_score,
    socket_row,
)

NAME = "lsof"

_FAMILIES = {"IPv4": Family.IPV4, "IPv6": Family.IPV6}
_PROTOS = {"TCP": Proto.TCP, "UDP": Proto.UDP}
# TYPE values of the files a whole-system listing prints besides sockets, used to recognise its rows.
_FILE_TYPES = frozenset(
    {
        "DIR", "REG", "CHR", "BLK", "FIFO", "PIPE", "LINK", "unix", "sock", "a_inode", "netlink",
        "unknown", "KQUEUE", "NPOLICY", "PSXSHM", "PSXSEM", "systm", "pack", "inet", "IPv4", "IPv6",
        "ax25", "key", "ndrv", "fsevents", "CHAN", "ATALK", "0000",
    }
)  # fmt: skip
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[bfnrt])")
_CONTROL = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
COMMAND_WIDTH = 9
"""lsof's default COMMAND width (`+c 0` lifts it)."""

TRUNCATED_COMMANDS = (
    "lsof shows at most 9 characters of a command name unless run with `+c 0`, so some process "
    "names may be cut short"
)
NO_PROTOCOL = "lsof -F output without the P (protocol) field: run lsof -F pcLnPtT to see TCP/UDP sockets"
NO_STATE = "lsof -F output without the T field: TCP states are unknown; run lsof -F pcLnPtT"

_Outcome = Union[Socket, Literal["quiet", "junk", "filtered", "duplicate", "cut"]]


def unescape(text: str) -> str:
    """`Google\\x20Chrome` -> `Google Chrome`; lsof's `\\n`-style escapes too. The renderer escapes
    control characters again for the terminal, so undoing them here loses nothing."""
    if "\\" not in text:
        return text

    def replace(match: re.Match[str]) -> str:
        code = match.group(1)
        return chr(int(code[1:], 16)) if code[0] == "x" else _CONTROL[code]

    return _ESCAPE.sub(replace, text)


def _address(name: str) -> tuple[str, str, str, str]:
    """NAME `local->remote` as (local host, local port text, remote host, remote port text)."""
    local, _, remote = name.partition("->")
    if "\\" in name:
        local, remote = unescape(local), unescape(remote)
    local_host, local_port = split_colon(local)
    remote_host, remote_port = split_colon(remote) if remote else ("*", "*")
    return local_host, local_port, remote_host, remote_port


class _Builder:
    """Turns the pieces of one lsof socket line (table or field set) into a Socket, applying the port
    filter first and dropping repeats of a socket a process already showed (threads, dup'ed FDs)."""

    __slots__ = ("ctx", "owners", "seen")

    def __init__(self, ctx: ParseContext) -> None:
        self.ctx = ctx
        self.seen: set[tuple[int | None, Proto, str, str]] = set()
        self.owners: dict[str, str | None] = {}  # USER column text -> owner: a dump repeats a few users

    def owner(self, column: str) -> str | None:
        """The owner a USER column names (None when blanked out), read once per distinct text."""
        owners = self.owners
        if column not in owners:
            owners[column] = None if redacted(column) else owner(unescape(column))
        return owners[column]

    def admit(self, proto: Proto, name: str) -> bool:
        """Whether the port filter lets the row with this NAME through: checked before anything else
        is read from the line, since a filtered parse rejects nearly every row."""
        ctx = self.ctx
        ports = ctx.ports
        if ports is None:
            return True
        local, _, remote = name.partition("->")
        local_port = port_number(split_colon(local)[1], proto)
        if local_port in ports:
            return True
        remote_port = port_number(split_colon(remote)[1], proto) if remote and ctx.match_remote else None
        return ctx.wants(local_port, remote_port)

    def build(
        self,
        proto: Proto,
        family: Family | None,
        name: str,
        state_word: str | None,
        pid: int | None,
        device: str,
        process: str | None,
        user: str | None,
    ) -> _Outcome:
        """The row, once `admit` let it through; "duplicate" for a socket this process already showed."""
        key = (pid, proto, device, name)
        if key in self.seen:
            return "duplicate"
        self.seen.add(key)
        local_host, local_port_text, peer_host, peer_port_text = _address(name)
        if family is None:
            family = family_of(local_host) or family_of(peer_host)
        state = STATE_BY_WORD.get(state_word) if state_word else None
        return socket_row(
            NAME,
            proto,
            family,
            (local_host, port_number(local_port_text, proto)),
            (peer_host, peer_port_text),
            state
            if state is not None
            else row_state(self.ctx, state_word or "", proto, peer_host, peer_port_text),
            pid,
            process,
            user,
        )


def _index(tokens: list[str], candidates: tuple[int, ...], words: Container[str]) -> int:
    """The first of the candidate positions holding one of the words; 0 for none."""
    count = len(tokens)
    for i in candidates:
        if i < count and tokens[i] in words:
            return i
    return 0


_FD = re.compile(
    r"(?:\d{1,10}|cwd|rtd|twd|txt|ltx|mem|mmap|DEL|NOFD|err|jld|pd|tr|v86|m86|L\d\d|M[0-9a-f]{2})"
    r"[rwu-]?[NrRwWuUxX]?"
)
"""lsof's FD column (its man page): a descriptor number or a name (`cwd`, `mem`), then its mode and
lock (`3u`, `mem-W`)."""


def _table_row(tokens: list[str], builder: _Builder, whole: bool = True) -> _Outcome:
    """One row of the table: a socket, or why not. TYPE sits at 4 (no TID), 5 (TID) or 6 (TID and
    TASKCMD); NODE (TCP/UDP) three columns later, or two when old lsof left SIZE blank. Unless `whole`,
    a row that looks cut short (no TCP state, NAME ending in `->`) is "cut": its end may follow."""
    count = len(tokens)
    if count < 5 or not (tokens[1].isdecimal() or redacted(tokens[1])):
        return "junk"
    if count > 8 and tokens[4] in _FAMILIES and tokens[7] in _PROTOS:  # the usual layout: no TID
        t, n = 4, 7
    else:
        t = _index(tokens, (4, 5, 6), _FAMILIES)
        if not t:  # another file's row (no Internet family); no FD column: another tool's row
            fd = count >= 6 and any(_FD.fullmatch(token) for token in tokens[3:6])
            return "quiet" if tokens[3] in _FILE_TYPES or fd else "junk"
        n = _index(tokens, (t + 3, t + 2, t + 1), _PROTOS)
        if not n:
            return "quiet"  # an IP socket of another protocol (ICMP, raw) or one lsof could not identify
        if n + 1 >= count:
            return "junk"
    proto = _PROTOS[tokens[n]]
    if not whole and (tokens[-1].endswith("->") or (proto is Proto.TCP and n + 2 >= count)):
        return "cut"
    if not builder.admit(proto, tokens[n + 1]):
        return "filtered"
    command = tokens[0]
    if len(command) == COMMAND_WIDTH or (command.endswith("\\x20") and len(command) <= COMMAND_WIDTH + 3):
        builder.ctx.notes.warn(TRUNCATED_COMMANDS)
    state = tokens[n + 2] if n + 2 < count else ""
    pid = tokens[1]
    return builder.build(
        proto,
        _FAMILIES[tokens[t]],
        tokens[n + 1],
        state.strip("()") if state.startswith("(") else None,
        pid_number(pid),
        tokens[t + 1] if t + 1 < n else "",
        unescape(command) if "\\" in command else command,
        builder.owner(tokens[t - 2]),
    )


_NAME_END = r"(?:\*|[0-9.]+|\[[0-9A-Za-z:.%]*\]):(?:[0-9]+|\*)"
_USUAL_ROW = re.compile(
    r"\s*[^\s>\[\x1b^\0][^\s\0]*\s+[0-9]+\s+[^\s\0]+\s+[^\s\0]+\s+IPv[46]\s+[^\s\0]+\s+[^\s\0]+\s+"
    rf"(?:TCP\s+{_NAME_END}(?:->{_NAME_END})?\s+\([A-Z_0-9]+\)|UDP\s+{_NAME_END}(?:->{_NAME_END})?)\s*"
)
"""The usual table row (no TID column, numeric NAME, TCP with its state) for ParseContext.screen: what
_table_row reads as a whole row that only the port filter decides about; no NUL (that starts -F
output) and no first character that `clean` would take for paste wrapping."""


def _is_header(line: str) -> bool:
    return line.startswith("COMMAND") and " PID" in line


def _is_message(line: str) -> bool:
    """lsof's own warnings on stderr, often pasted along."""
    return line.startswith("lsof: ") or line.startswith("Output information may be incomplete")


class _Fields:
    """State of the field-output (-F) reader: the current process set and file set."""

    __slots__ = ("builder", "file", "process")

    PROCESS_LETTERS = frozenset("pcLugRKM")
    FILE_LETTERS = frozenset("fadDiklnNoPsStT")

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.process: dict[str, str] = {}
        self.file: dict[str, str] = {}

    def feed(self, field: str) -> Iterator[Socket] | None:
        """Take one field; the socket of a file set it completes, or None when it is no field at all."""
        letter, value = field[:1], field[1:]
        if letter in self.PROCESS_LETTERS:
            if letter == "p" and not value.isdecimal():
                return None
            done = self.flush()
            if letter == "p":
                self.process = {}
            self.process[letter] = value
            return done
        if letter not in self.FILE_LETTERS:
            return None
        if letter == "T":
            if value.startswith("ST="):
                self.file["T"] = value[3:]
            else:
                self.file.setdefault("T", "")
            return iter(())
        done = self.flush() if letter == "f" or letter in self.file else iter(())
        self.file[letter] = value
        return done

    def flush(self) -> Iterator[Socket]:
        file, self.file = self.file, {}
        if not file:
            return iter(())
        outcome = self._socket(file)
        return iter((outcome,)) if isinstance(outcome, Socket) else iter(())

    def _socket(self, file: dict[str, str]) -> _Outcome:
        notes = self.builder.ctx.notes
        kind = file.get("t")
        if kind is not None and kind not in _FAMILIES:
            return "quiet"
        name = file.get("n")
        protocol = file.get("P")
        if protocol is None:
            if file.get("T"):
                protocol = "TCP"  # only TCP sockets have a TST= state
            else:
                if kind is not None or (name is not None and ":" in name):
                    notes.warn(NO_PROTOCOL)  # an Internet socket, but TCP or UDP cannot be told
                return "quiet"
        proto = _PROTOS.get(protocol.upper())
        if proto is None or name is None:
            return "quiet"
        if proto is Proto.TCP and "T" not in file:
            notes.warn(NO_STATE)
        if not self.builder.admit(proto, name):
            return "filtered"
        process = self.process
        pid_text = process.get("p", "")
        user = process.get("L") or process.get("u")
        return self.builder.build(
            proto,
            _FAMILIES.get(kind or ""),
            name,
            file.get("T") or None,
            pid_number(pid_text),
            file.get("d", ""),
            process.get("c"),
            owner(user) if user else None,
        )


def _is_field_start(line: str) -> bool:
    return "\0" in line or (line[:1] == "p" and line[1:].isdecimal())


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    builder = _Builder(ctx)
    fields: _Fields | None = None  # set once the input turns out to be -F output
    cut: str | None = None  # a table row that e-mail wrapping may have split, waiting for its end
    screen = ctx.screen(_USUAL_ROW)
    reader = Lines(lines, screen)
    for lineno, raw, line in reader:
        if line is FILTERED_OUT:  # rows of the usual shape without a wanted port: nothing to do
            continue
        if fields is None and _is_field_start(line):
            fields = _Fields(builder)
            reader.screen = None  # field output: a line is a field, whatever it looks like
        if fields is not None:
            understood = False
            for field in line.split("\0") if "\0" in line else (line,):
                if not field:
                    continue
                done = fields.feed(field)
                if done is not None:
                    understood = True
                    yield from done
            if understood or _is_message(line):
                continue
            notes.skip(lineno, raw)
            continue
        tokens = line.split()
        if cut is not None:
            if cut.endswith("->") or (len(tokens) == 1 and tokens[0].startswith("(")):  # the cut row's end
                glue = "" if cut.endswith("->") else " "
                outcome = _table_row(f"{cut}{glue}{line}".split(), builder)
                if outcome != "junk":
                    cut = None
                    reader.screen = screen
                    if isinstance(outcome, Socket):
                        yield outcome
                    continue
            outcome = _table_row(cut.split(), builder)
            cut = None
            reader.screen = screen
            if isinstance(outcome, Socket):
                yield outcome
        outcome = _table_row(tokens, builder, whole=False)
        if isinstance(outcome, Socket):
            yield outcome
        elif outcome == "cut":
            cut = line
            reader.screen = None  # the next line may be this row's end, whatever it looks like
        elif outcome == "junk" and not (_is_header(line) or _is_message(line)):
            notes.skip(lineno, raw)
    if cut is not None:
        outcome = _table_row(cut.split(), builder)
        if isinstance(outcome, Socket):
            yield outcome
    if fields is not None:
        yield from fields.flush()


_STRONG_FIELD = re.compile(r"^(?:p\d+|f(?:\d+|cwd|rtd|txt|mem)|t(?:IPv4|IPv6|REG|DIR|CHR|FIFO|unix|sock)"
                           r"|P(?:TCP|UDP)|n\S*:\S+|T(?:ST|QR|QS)=\S+|d\d\S*|u\d+)$")  # fmt: skip


def _looks_like_row(line: str) -> bool:
    if "\0" in line:
        line = line.split("\0", 1)[0]
    tokens = line.split()
    if len(tokens) == 1:
        return bool(_STRONG_FIELD.match(tokens[0]))
    if len(tokens) < 5 or not (tokens[1].isdecimal() or redacted(tokens[1])):
        return False
    return any(token in _FILE_TYPES for token in tokens[3:7])


def is_header(line: str) -> bool:
    """A line lsof's output starts with, in a paste of several tools: its header, its warnings
    (printed first, on stderr), or -F's first field (`p1234`)."""
    return _is_header(line) or _is_message(line) or _is_field_start(line)


def sniff(sample: list[str]) -> float:
    score = sniff_score(sample, _looks_like_row)
    header = any(_is_header(clean(line)) and "NAME" in line for line in sample)
    if score == 0:
        return HEADER_ONLY_SCORE if header else 0.0
    return score + (0.5 if header else 0.0)
