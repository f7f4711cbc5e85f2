"""PowerShell `Get-NetTCPConnection` and `Get-NetUDPEndpoint`, as tables and as `Format-List`, and the
`Get-Process` table that names their OwningProcess PIDs.

The default TCP table is wider than a 120-column console, so PowerShell drops the columns that do not
fit, and `OwningProcess` is the last one: a pasted table often has no PIDs at all. Columns are located
by the `----` underline (values are left-aligned, numbers sometimes right-aligned, `AppliedSetting` is
often blank), so any `Select-Object` choice and order of columns works, including a `ProcessName`
column added by the usual helpdesk one-liner. `Format-List` records (`LocalAddress : ::`) are
separated by blank lines. Property names are never translated; state words are the enum names
(`Listen`, `TimeWait`, `Bound`).

`Get-Process -Id (Get-NetTCPConnection -LocalPort 80).OwningProcess` is how PowerShell users name the
process: its table (`Handles NPM(K) PM(K) WS(K) CPU(s) Id SI ProcessName` in PowerShell 5.1,
`NPM(M) PM(M) WS(M) CPU(s) Id SI ProcessName` in 7, `... VM(M) CPU(s) Id ProcessName` before 5) and its
`Format-List` records (`Id :`, `Name :` or `ProcessName :`) yield no sockets: like a tasklist, they
fill `ctx.notes.pid_names`, which names the PIDs of the connection rows pasted before or after them.

A table mailed at 72 to 80 columns arrives wrapped: its last columns' names on lines of their own
under the header, their underlines under the underline, and each row's last values (the PID) alone on
the next line, every moved part starting at column 0. Such a table is read as its parts side by side:
a row's continuation lines are the moved parts' rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from portcheck.core.addresses import family_of, port_number
from portcheck.core.model import Proto, Socket, State
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.core.states import lookup_state
from portcheck.parsers.common import clean, pid_number
from portcheck.parsers.windows.common import NO_PEER_PORTS, WILDCARD_PEER, endpoint_row

NAME = "powershell"

_LIST_ITEM = re.compile(r"^(\w+)\s*:(?: (.*))?$")
_DASHES = re.compile(r"-+")
_WORD = re.compile(r"\S+")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_COLUMNS_REMOVED = re.compile(r"columns? do(?:es)? not fit into the display", re.IGNORECASE)
_PROCESS_COLUMNS = ("ProcessName", "Process", "Name")
_COLUMN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\([A-Za-z]\))?")
"""A column name a wrapped header may move to a line of its own: a property name (never translated:
`OwningProcess`, a Select-Object's `ProcessName`) or Get-Process's `WS(K)`, `CPU(s)`. Between a header
and its underline PowerShell prints nothing else."""
MAX_HEADER_PARTS = 8
"""A header wrapped into more lines than this is not one (a table is at most ~140 columns wide: three
lines at 60), and holding its parts stays bounded whatever follows a header."""
_PROCESS_MEMORY = ("NPM(", "PM(", "WS(", "VM(")
"""Get-Process's memory columns, `NPM(K)` in PowerShell 5.1 and `NPM(M)` in 7."""
_BLANK_COLUMN = "AppliedSetting"
"""The one column Get-NetTCPConnection usually leaves blank (set only for some connections)."""
CUT_HINT = (
    "the PowerShell table has no OwningProcess column (cut off by the console width), so PIDs are "
    "missing: add `| Format-Table -AutoSize`, or `| Select-Object LocalAddress,LocalPort,RemoteAddress,"
    "RemotePort,State,OwningProcess`"
)
UDP_HINT = (
    "Get-NetUDPEndpoint's table shows no OwningProcess, so PIDs are missing: add "
    "`| Select-Object LocalAddress,LocalPort,OwningProcess`"
)
TRUNCATED_HINT = (
    "some PowerShell values were cut to fit the console (ending in ...): add `| Format-Table -AutoSize` "
    "or `| Format-List`"
)

_NOT_FOUND_CLASSES = ("MSFT_NetTCPConnection", "MSFT_NetUDPEndpoint")
"""Named in the error `Get-NetTCPConnection -LocalPort N` gives for a free port (in any language):
`No MSFT_NetTCPConnection objects found with property 'LocalPort' equal to '60653'`."""
_ERROR_DETAIL = ("At line:", "At char:", "+ ", "In Zeile:", "Zeichen:")

_NOT_A_ROW = object()
MAX_RECORD_FIELDS = 64
"""A Format-List record holds about 25 properties (`Format-List *`); a "record" of thousands of `Key : value`
lines is not one, and ending it there keeps memory flat (it grew by 45 MB per 200,000 lines)."""


def is_not_found_error(line: str) -> bool:
    return any(name in line for name in _NOT_FOUND_CLASSES)


def _is_address(text: str) -> bool:
    return family_of(text) is not None or text in ("::", "0.0.0.0", "*")


def _socket(values: dict[str, str], proto: Proto, ctx: ParseContext) -> Socket | object | None:
    """A Socket from property values, None when the port filter rejects it, _NOT_A_ROW when the
    values are not a connection (no address, a port that is not a number)."""
    host = values.get("LocalAddress", "")
    port_text = values.get("LocalPort", "")
    if not port_text.isdecimal() or not (_is_address(host) or host.endswith(("...", "…"))):
        return _NOT_A_ROW  # no address (a value cut by the console's width stays): another tool's row
    local_port = port_number(port_text, proto)
    peer_host = values.get("RemoteAddress", "")
    peer_port_text = values.get("RemotePort", "")
    no_peer = peer_port_text in NO_PEER_PORTS
    if ctx.ports is not None:
        remote_port = None if no_peer or not ctx.match_remote else port_number(peer_port_text, proto)
        if not ctx.wants(local_port, remote_port):
            return None
    word = values.get("State", "")
    if proto is Proto.UDP:
        state = lookup_state(word) or State.NONE if word else State.NONE
    elif word:
        state = ctx.state(word, proto, *(WILDCARD_PEER if no_peer else (peer_host, peer_port_text)))
    else:
        state = State.UNKNOWN
    pid_text = values.get("OwningProcess", "")
    pid = pid_number(pid_text)
    process = next((values[c] for c in _PROCESS_COLUMNS if values.get(c)), None)
    if process is None and pid is not None:
        process = ctx.notes.pid_names.get(pid)
    return endpoint_row(proto, (host, local_port), (peer_host, peer_port_text), state, pid, process, NAME)


_ADDRESS_COLUMNS = ("LocalAddress", "RemoteAddress")
_NUMBER_COLUMNS = ("LocalPort", "RemotePort", "OwningProcess", "Id")


def _fits(column: str, value: str) -> bool:
    """The value has the shape of the column's values (another tool's row has not)."""
    if column in _ADDRESS_COLUMNS:
        return _is_address(value)
    if column in _NUMBER_COLUMNS:
        return value.isdecimal()
    return column != "State" or lookup_state(value) is not None


def _proto_of(names: Iterable[str], command: Proto | None = None) -> Proto:
    """Get-NetTCPConnection has a peer and a state; Get-NetUDPEndpoint has neither. A Select-Object of
    neither (`LocalAddress,LocalPort,OwningProcess`) is the command's, when the paste shows it."""
    if any(n in ("RemoteAddress", "RemotePort", "State") for n in names):
        return Proto.TCP
    return command or Proto.UDP


def _command_proto(line: str) -> Proto | None:
    """The protocol of the cmdlet a command line (a prompt's, pasted before the output) runs."""
    if "Get-NetTCPConnection" in line:
        return Proto.TCP
    return Proto.UDP if "Get-NetUDPEndpoint" in line else None


class _Table:
    """A Format-Table layout: column names and the spans their underlines cover."""

    __slots__ = ("breaks", "columns", "moved", "processes", "proto")

    def __init__(
        self, header: str, underline: str, command: Proto | None, breaks: tuple[int, ...] = ()
    ) -> None:
        self.breaks = breaks
        """Where each moved part of a wrapped table starts in the joined layout (none: not wrapped)."""
        self.moved = 0
        """How many columns the wrapping moved to later lines."""
        self.columns: list[tuple[str, int, int]] = []
        for match in _DASHES.finditer(underline):
            start, end = match.span()
            self.columns.append((header[start:end].strip(), start, end))
        if breaks:
            self.moved = sum(1 for _, start, _ in self.columns if start >= breaks[0])
        self.proto = _proto_of((name for name, _, _ in self.columns), command)
        self.processes = _is_process_header(self.names()) and "LocalPort" not in self.names()
        """Get-Process's table: PID names, no sockets."""

    def names(self) -> list[str]:
        return [name for name, _, _ in self.columns]

    def continues(self, tokens: list[str], words: int) -> bool:
        """Is this line the next moved part of a wrapped row that has `words` words so far: no more
        words than the columns moved, not a row of its own, and the row not over-full with it (a
        row's values are one word each; AppliedSetting may be blank)?"""
        return (
            0 < len(tokens) <= self.moved
            and words + len(tokens) <= len(self.columns)
            and _shape_values(tokens) is None
            and not _is_header(tokens)
        )

    def joined(self, parts: list[str]) -> str:
        """A wrapped row put back together, each moved part under its columns (a row that broke
        elsewhere than its header, a long address moving with its part, is read by the words' order)."""
        text = parts[0]
        for index, part in enumerate(parts[1:]):
            at = self.breaks[index] if index < len(self.breaks) else 0
            text = _beside(text, at) + clean(part)
        return text

    def values(self, raw: str) -> dict[str, str]:
        """Each word goes to the column it overlaps most (or lies nearest to); but a row with one word
        per column (or per column but a blank AppliedSetting), each of its column's shape, takes them in
        order, as its blanks may no longer line up: a forum or chat squeezes runs of blanks into one,
        an editor makes tabs."""
        words = clean(raw).split()
        names = self.names()
        if len(words) == len(names) - 1 and _BLANK_COLUMN in names:
            names.remove(_BLANK_COLUMN)
        if len(words) == len(names):
            values = dict(zip(names, words))
            if all(_fits(name, value) for name, value in values.items()):
                return values
        cells: dict[str, list[str]] = {}
        for match in _WORD.finditer(raw):
            cells.setdefault(self._column_for(*match.span()), []).append(match.group())
        return {name: " ".join(words) for name, words in cells.items()}

    def _column_for(self, start: int, end: int) -> str:
        best: tuple[str, int, int] | None = None
        best_overlap = 0
        for column in self.columns:
            overlap = min(end, column[2]) - max(start, column[1])
            if overlap > best_overlap:
                best, best_overlap = column, overlap
        if best is None:  # in the gap between underlines: the nearest column
            best = min(self.columns, key=lambda column: max(column[1] - end, start - column[2]))
        return best[0]


def _beside(text: str, at: int) -> str:
    """`text` padded to column `at`, or followed by a blank when it reaches past it."""
    text = text.rstrip()
    return text.ljust(at) if len(text) < at else text + " "


def _wrapped_table(headers: list[str], underlines: list[str], command: Proto | None) -> _Table:
    """The parts of a wrapped header and underline side by side, two blanks apart."""
    header, underline = headers[0], underlines[0]
    breaks: list[int] = []
    for moved_header, moved_underline in zip(headers[1:], underlines[1:]):
        at = max(len(header.rstrip()), len(underline.rstrip())) + 2
        breaks.append(at)
        header, underline = (
            _beside(header, at) + moved_header.strip(),
            _beside(underline, at) + moved_underline.strip(),
        )
    return _Table(header, underline, command, tuple(breaks))


def _shape_values(tokens: list[str]) -> tuple[dict[str, str], Proto] | None:
    """A row without a header, in the default column order: TCP `addr port addr port State
    [AppliedSetting] [OwningProcess]` or UDP `addr port [OwningProcess]`."""
    if len(tokens) < 2 or not tokens[1].isdecimal() or not _is_address(tokens[0]):
        return None
    if len(tokens) >= 5 and tokens[3].isdecimal() and _is_address(tokens[2]) and lookup_state(tokens[4]):
        values = dict(zip(("LocalAddress", "LocalPort", "RemoteAddress", "RemotePort", "State"), tokens))
        if len(tokens) > 5 and tokens[-1].isdecimal():
            values["OwningProcess"] = tokens[-1]
        return values, Proto.TCP
    if len(tokens) <= 3 and (len(tokens) == 2 or tokens[2].isdecimal()):
        values = {"LocalAddress": tokens[0], "LocalPort": tokens[1]}
        if len(tokens) == 3:
            values["OwningProcess"] = tokens[2]
        return values, Proto.UDP
    return None


def _is_header(tokens: list[str]) -> bool:
    return "LocalPort" in tokens or "LocalAddress" in tokens or _is_process_header(tokens)


def _is_process_header(tokens: list[str]) -> bool:
    """Get-Process's header (its memory columns tell it even when wrapping moved ProcessName to the next
    line), or a Select-Object of its Id and name (never translated)."""
    return "Id" in tokens and (
        "ProcessName" in tokens or "Name" in tokens or any(t.startswith(_PROCESS_MEMORY) for t in tokens)
    )


def _process_name(values: dict[str, str], notes: ParseNotes) -> bool:
    """Records the PID and name of a Get-Process row or record; False when it has neither."""
    pid = pid_number(values.get("Id", ""))
    name = values.get("ProcessName") or values.get("Name")
    if pid is None or not name:
        return False
    if name.endswith(("...", "…")):
        notes.warn(TRUNCATED_HINT)
    notes.pid_names.add(pid, name)
    return True


def _is_underline(line: str) -> bool:
    return line.startswith("-") and not line.strip("- \t")


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    ctx = ctx or ParseContext()
    notes = ctx.notes
    table: _Table | None = None
    headers: list[str] = []  # the raw header line until its underline arrives, then its moved names
    underlines: list[str] = []  # a wrapped header's underline parts, until there are as many
    held: list[str] = []  # a wrapped table's row parts, until the row is full or the next line starts anew
    held_at = 0  # the line number of its first part
    held_words = 0
    record: dict[str, str] = {}  # the Format-List record being read
    record_start = 0
    in_error = False  # inside the lines PowerShell prints under an error (`At line:1 char:1`, `+ ...`)
    command: Proto | None = None  # the protocol of the cmdlet a pasted command line ran
    for lineno, raw in enumerate(lines, 1):
        if "\x1b" in raw:  # PowerShell 7 colours table headers and list keys
            raw = _ANSI.sub("", raw)
        line = clean(raw)
        if held and (table is None or not table.continues(line.split(), held_words)):
            yield from _row(table, table.joined(held) if table else held[0], held_at, ctx)
            held, held_words = [], 0
        if not line:
            if record:
                yield from _list_record(record, record_start, ctx, command)
                record = {}
            continue
        if _COLUMNS_REMOVED.search(line):
            notes.warn(CUT_HINT)
            continue
        if is_not_found_error(line) or (in_error and line.startswith(_ERROR_DETAIL)):
            in_error = True  # no such connection: nothing to add, the exit code says it
            continue
        in_error = False
        if "Get-Net" in line and _command_proto(line) is not None:
            command = _command_proto(line)
            notes.skip(lineno, raw)  # a prompt's command line: not output (a section's own is not counted)
            continue
        item = _LIST_ITEM.match(line)
        if item and item.group(1)[0].isupper():
            key, value = item.group(1), (item.group(2) or "").strip()
            if key in record or len(record) >= MAX_RECORD_FIELDS:
                yield from _list_record(record, record_start, ctx, command)
                record = {}
            if not record:
                record_start = lineno
            record[key] = value
            continue
        if record and raw[:1].isspace():  # a long value of `Format-List *` wrapped onto more lines
            continue
        tokens = line.split()
        if _is_header(tokens):
            headers, underlines = [raw.rstrip()], []
            continue
        if (
            headers
            and not underlines
            and len(headers) < MAX_HEADER_PARTS
            and tokens
            and all(_COLUMN_NAME.fullmatch(token) for token in tokens)
        ):
            headers.append(line)  # the header went on: a mail client wrapped it
            continue
        if headers and _is_underline(line):
            underlines.append(line if underlines else raw.rstrip())  # moved parts: as cleaned (no `> `)
            if len(underlines) < len(headers):
                continue  # the moved columns' underlines follow
            table = _wrapped_table(headers, underlines, command)
            headers, underlines = [], []
            if not table.processes:
                _note_missing_columns(table, notes)
            continue
        if underlines:  # fewer underlines than header lines: read with what arrived
            table = _wrapped_table(headers[: len(underlines)], underlines, command)
            headers, underlines = [], []
            if not table.processes:
                _note_missing_columns(table, notes)
        if table is not None and table.breaks:
            if not held:
                held_at = lineno
            held.append(raw)  # (a held row this line does not continue was read above)
            held_words += len(tokens)
            if held_words < len(table.columns):
                continue  # more may follow: read when the row is full or the next line starts anew
            raw, lineno, held, held_words = table.joined(held), held_at, [], 0
        yield from _row(table, raw, lineno, ctx)
    if held:
        yield from _row(table, table.joined(held) if table else held[0], held_at, ctx)
    if record:
        yield from _list_record(record, record_start, ctx, command)


def _row(table: _Table | None, raw: str, lineno: int, ctx: ParseContext) -> Iterator[Socket]:
    """A table row (or, without a header, a row of the default column order), or a line not understood."""
    notes = ctx.notes
    if table is not None and table.processes:
        if not _process_name(table.values(raw.rstrip()), notes):
            notes.skip(lineno, raw)
        return
    if table is not None:
        values, proto = table.values(raw.rstrip()), table.proto
    else:
        shape = _shape_values(clean(raw).split())
        if shape is None:
            notes.skip(lineno, raw)
            return
        values, proto = shape
    row = _socket(values, proto, ctx)
    if row is _NOT_A_ROW:
        notes.skip(lineno, raw)
    elif isinstance(row, Socket):
        if any(v.endswith(("...", "…")) for v in values.values()):
            notes.warn(TRUNCATED_HINT)
        yield row


def _note_missing_columns(table: _Table, notes: ParseNotes) -> None:
    names = table.names()
    if "OwningProcess" not in names:
        notes.warn(CUT_HINT if table.proto is Proto.TCP else UDP_HINT)


def _list_record(
    record: dict[str, str], lineno: int, ctx: ParseContext, command: Proto | None
) -> Iterator[Socket]:
    if "LocalAddress" not in record and _process_name(record, ctx.notes):
        return  # a Get-Process record
    row = _socket(record, _proto_of(record, command), ctx)
    if isinstance(row, Socket):
        yield row
    elif row is _NOT_A_ROW:
        ctx.notes.skip(lineno, " ".join(f"{k}: {v}" for k, v in record.items()))


def _looks_like_line(line: str) -> bool:
    tokens = line.split()
    if _is_header(tokens) or _is_underline(line):
        return True
    item = _LIST_ITEM.match(line)
    if item:
        return item.group(1)[0].isupper()
    return _shape_values(tokens) is not None or _process_row_shape(tokens)


def _process_row_shape(tokens: list[str]) -> bool:
    """A Get-Process row: numbers (handles, memory, CPU seconds, Id, session) and the name last."""
    numbers = tokens[:-1]
    return len(tokens) >= 5 and all(t.replace(".", "", 1).replace(",", "", 1).isdecimal() for t in numbers)


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return _is_header(line.split())


def sniff(sample: list[str]) -> float:
    cleaned = [clean(raw) for raw in sample]
    properties = any(
        _is_header(line.split()) or (_LIST_ITEM.match(line) and line.startswith(("LocalAddress", "Id ")))
        for line in cleaned
    )
    if not properties and not any(_shape_values(line.split()) for line in cleaned if line):
        return 1.0 if any(is_not_found_error(line) for line in cleaned) else 0.0
    nonblank = sum(1 for line in cleaned if line)
    matched = sum(1 for line in cleaned if line and _looks_like_line(line))
    return matched / nonblank + (0.5 if properties else 0.0)
