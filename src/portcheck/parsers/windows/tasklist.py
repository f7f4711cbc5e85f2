"""`tasklist`: the PID -> image name table that Windows `netstat -ano` needs beside it.

netstat shows only a PID unless run elevated with `-b`, so helpdesk instructions ask for
`netstat -ano` and `tasklist` together. Layouts: `/fo csv` with or without `/nh` (also `/v`, `/svc`:
the PID is always the second field), and the default table, whose columns are read from its `=====`
underline (so `/v` and `/svc` tables with spaces in later columns work too) or, for lines without it,
from the shape `name  pid  session  session#  memory unit`. Headers are recognised in any language by
their `PID` column, which Windows does not translate.

As a format of its own it yields no sockets: it fills `ctx.notes.pid_names`, from which the live
query (Windows' NameLookup step) and `portcheck parse` name the processes of netstat's rows. Because a
customer pastes both outputs into one mail in either order, and detection sees only the start of the
text, a paste detected as tasklist is read whole by the Windows netstat parser, which reads tasklist
lines as well (portcheck.parsers.READ_WITH); that parser imports this module, never the reverse.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from portcheck.core.model import Socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.parsers.common import clean, cleaned, pid_number

NAME = "tasklist"

_NUMBER_CHARS = frozenset("0123456789.,'")
_SEPARATOR = re.compile(r"=+")
_BANNERS = ("INFO:", "INFORMATION:")
TRUNCATED_HINT = (
    "tasklist's table cuts image names at {width} characters; `tasklist /fo csv /nh` gives them whole"
)


def _is_number(token: str) -> bool:
    return token[0].isdecimal() and _NUMBER_CHARS.issuperset(token)


def table_row(line: str) -> tuple[int, str] | None:
    """(PID, image name) of a table row by its shape, `System Idle Process   0 Services   0   8 K`:
    read from the right (memory parts and a unit such as K, Ko or КБ; the session number; the session
    name; the PID), so a name with spaces is whatever is left. No regex: one pass over the words."""
    tokens = line.split()
    if len(tokens) < 6 or len(tokens[-1]) > 3 or any(char.isdecimal() for char in tokens[-1]):
        return None
    session = len(tokens) - 2
    while session > 0 and _is_number(tokens[session]):
        session -= 1
    numbers_after = len(tokens) - 2 - session  # the session number and the memory parts
    if session < 2 or numbers_after < 2 or not tokens[session + 1].isdecimal():
        return None
    pid = pid_number(tokens[session - 1])
    if pid is None:
        return None
    return pid, " ".join(tokens[: session - 1])


class TasklistReader:
    """Reads tasklist lines one at a time, remembering the table's column layout between them."""

    __slots__ = ("columns", "names", "notes")

    def __init__(self, notes: ParseNotes) -> None:
        self.notes = notes
        self.names = notes.pid_names
        self.columns: tuple[tuple[int, int], tuple[int, int]] | None = None
        """(start, end) of the image name and PID columns, from the `=====` underline."""

    def read(self, raw: str, line: str) -> bool:
        """True when `line` (cleaned `raw`) is tasklist output; a row's PID and name are recorded."""
        if line.startswith('"'):
            return self._csv(line)
        if line.startswith("="):
            return self._separator(raw, line)
        if self.columns is not None:
            found = self._by_columns(raw)
            if found is not None:
                return found
        row = table_row(line)
        if row is not None:
            self.names.add(*row)
            return True
        return self._header(line) or line.startswith(_BANNERS)

    def _csv(self, line: str) -> bool:
        try:
            fields = next(csv.reader([line]), [])
        except csv.Error:  # a stray carriage return inside the line
            return False
        if len(fields) < 2:
            return False
        name, pid_text = fields[0], fields[1]
        pid = pid_number(pid_text)
        if pid is not None and name:
            self.names.add(pid, name)
            return True
        return pid_text == "PID"

    def _separator(self, raw: str, line: str) -> bool:
        """The `=====` underline: the columns' spans in the raw line, as the rows below are laid out
        (an e-mail's `> ` quoting shifts both alike)."""
        spans = [m.span() for m in _SEPARATOR.finditer(raw)]
        if len(spans) < 2 or line.strip(" ="):
            return False
        self.columns = (spans[0], spans[1])
        return True

    def _by_columns(self, raw: str) -> bool | None:
        """True for a row or a continuation line (`/svc` wraps its service list), None to try the
        shape instead (the line was re-indented by the paste, or is not a table line)."""
        (name_start, name_end), (pid_start, pid_end) = self.columns or ((0, 0), (0, 0))
        name = raw[name_start:name_end].strip()
        pid = raw[pid_start:pid_end].strip()
        number = pid_number(pid)
        if name and number is not None and raw[name_end : name_end + 1] in (" ", ""):
            if len(name) >= name_end - name_start:
                self.notes.warn(TRUNCATED_HINT.format(width=name_end - name_start))
            self.names.add(number, name)
            return True
        if not clean(raw[:name_end]) and clean(raw):  # (clean: an e-mail's `> ` too)
            return True
        return None

    @staticmethod
    def _header(line: str) -> bool:
        """A column header in any language: it has a `PID` column and no numbers."""
        if line.startswith('"'):
            return False
        tokens = line.split()
        return "PID" in tokens and not any(t.isdecimal() for t in tokens)


_OTHER_HEADS = frozenset({"COMMAND", "USER", "UID", "CMD"})


def is_table_header(line: str) -> bool:
    """tasklist's header, table or CSV, in any language: a `PID` column second to fourth and no number;
    lsof's, fuser's, fstat's and sockstat's headers have a PID column too, but start with one of
    _OTHER_HEADS."""
    if line.startswith('"'):
        return '"PID"' in line
    tokens = line.split()
    return "PID" in tokens[1:5] and tokens[0] not in _OTHER_HEADS and not any(t.isdecimal() for t in tokens)


def parse(lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]:
    """Records every PID's image name in `ctx.notes.pid_names` (any layout); yields no sockets."""
    notes = (ctx or ParseContext()).notes
    reader = TasklistReader(notes)
    for lineno, raw, line in cleaned(lines):
        if not reader.read(raw, line):
            notes.skip(lineno, raw)
    yield from ()


def is_tasklist_line(reader: TasklistReader, raw: str) -> bool:
    line = clean(raw)
    return bool(line) and reader.read(raw, line)


def is_header(line: str) -> bool:
    """A title or column header of this format: where its output starts in a paste of several tools."""
    return is_table_header(line)


def sniff(sample: list[str]) -> float:
    reader = TasklistReader(ParseNotes())
    nonblank = sum(1 for raw in sample if raw.strip())
    if not nonblank:
        return 0.0
    matched = sum(1 for raw in sample if is_tasklist_line(reader, raw))
    if not reader.names:  # a header alone is not enough: other tables have a PID column too
        return 0.0
    return matched / nonblank
