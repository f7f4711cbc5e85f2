"""Rows an e-mail client or a forum wrapped at its line width, joined again.

Mail clients and some ticket systems wrap plain text at 72 to 80 characters (`format=flowed`,
Outlook's 76, RFC 5322's 78): a Windows `netstat -ano` row is 75 characters and more, so its PID lands
alone on the next line; lsof's `(LISTEN)`, ss's `users:((...))`, macOS `netstat -anv`'s pid and a
header's last column names move the same way. Such a paste reads as rows without owners and stray
lines, and a header cut in two makes a parser take the wrong column layout.

The wrapping is greedy: a word goes to the next line only when it did not fit. So a line continues the
one before it when all of these hold:

- every line of the paste's start is at most MAX_WIDTH characters long (the wrapping width W is the
  longest), and the one before is long enough that the next line's first word, after the blanks
  that separated them (MAX_GAP at most: a table's padding, or a blank column such as the State of a
  Windows UDP row), would have passed W;
- the next line is nothing by itself: no format's row or header, no prompt;
- together they read better than apart: a header that stays a header of the same tool (with
  no digit in the part moved: that is a row), or a
  row that the format's parser (given the header above it) reads with a field the two lines apart
  left unknown (a PID, a process, a state) or with one line fewer not understood (one word alone:
  a state), and no field it did read changed (its first row, when the line names several processes).

Only the paste's first SAMPLE_LINES lines are looked at (a wrapped paste is short); a joined line
counts as the first of its input lines, so later line numbers in messages shift by the lines joined.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import chain, islice

from portcheck import parsers
from portcheck.core.errors import ParseError
from portcheck.core.model import Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.core.states import lookup_state
from portcheck.parsers import cut, sections
from portcheck.parsers.common import Parser, clean
from portcheck.parsers.detect import SAMPLE_LINES, detect

MIN_WIDTH = 50
MAX_WIDTH = 80
"""The widths text is wrapped at (72 to 80 in practice): wider lines mean nobody wrapped the paste. The
longest line can be well below the width: net-tools' rows break before their State column, after 59
characters, when wrapped at 72."""
MAX_GAP = 40
"""The blanks between two columns at most (a table's padding), which wrapping moved with the word."""
HEADER_GAP = 16
"""The blanks between a header's names at most: the gap before a column of long values. A short line
such as a `Format-List` item (`LocalPort : 80`, a header word of PowerShell's) wrapped nothing."""
_ADDRESS = re.compile(r"[:.](?:\d|\*)")
"""What an address has and a column name has not: a port or wildcard after a colon or dot."""
_FIELDS = ("local_port", "state", "pid", "process", "remote_port", "user")
SELF_UNWRAPPING = frozenset({"powershell"})
"""Formats whose parser reads a wrapped table itself: PowerShell's underline wraps like its header, so
joining the header alone would put its moved names where no underline is (parsers.windows.powershell
reads the moved part as a second table beside the first)."""


def joined(lines: Iterator[str]) -> Iterator[str]:
    """The lines, with the continuation lines of a wrapped paste's start joined to the line before."""
    sample = list(islice(lines, SAMPLE_LINES))
    width = max((len(line) for line in sample), default=0)
    if not MIN_WIDTH <= width <= MAX_WIDTH or cut.cut_width(sample) is not None:
        return chain(sample, lines)  # (a terminal cut the lines: what it cut off is in no line below)
    return chain(_joined(sample, width), lines)


def _joined(sample: list[str], width: int) -> Iterator[str]:
    header = ""  # the last header line: the layout a row is read with
    index = 0
    while index < len(sample):
        line = sample[index]
        piece = line  # the physical line last added: the wrapping decided after it
        index += 1
        while index < len(sample) and _continues(piece, line, sample[index], width, header):
            piece = sample[index]
            line = f"{line.rstrip()} {clean(piece)}"
            index += 1
        if sections.header_formats(clean(line)):
            header = line
        yield line


def _continues(piece: str, line: str, following: str, width: int, header: str) -> bool:
    """True when `following` is the part of `line` that wrapping moved (see the module's rules)."""
    rest = clean(following)
    if not rest or not _wrapped(piece, rest, width, MAX_GAP):
        return False
    if sections.prompt(rest) is not None or sections.header_formats(rest) or detect([rest]) is not None:
        return False
    heads = sections.header_formats(clean(line))
    if SELF_UNWRAPPING & (heads | sections.header_formats(clean(header))):
        return False
    together = f"{clean(line)} {rest}"
    if heads:  # the names of a header's last columns, not `===` (its underline), nor a row's values
        return (
            _wrapped(piece, rest, width, HEADER_GAP)
            and _names(rest)
            and bool(heads & sections.header_formats(together))
        )
    return _reads_better(clean(line), rest, together, header)


def _wrapped(piece: str, rest: str, width: int, gap: int) -> bool:
    """The first word of `rest`, `gap` blanks after `piece`, would pass the width."""
    return len(piece.rstrip()) + gap + len(rest.split(None, 1)[0]) > width


def _names(text: str) -> bool:
    """Words of a header: letters, and no number or address (a row's values) among them."""
    words = text.split()
    return any(char.isalpha() for char in text) and not any(
        word.isdecimal() or _ADDRESS.search(word) for word in words
    )


def _reads_better(line: str, rest: str, together: str, header: str) -> bool:
    """The format's parser reads the joined line better than the two apart: a field the line alone
    left unknown is known, or a line fewer is not understood (one word alone on its line: a state, as
    a parser ignores more words after a row's last column), and no field it did read changed."""
    name = detect([together])
    if name is None:
        return False
    parser = parsers.reader(name)
    context = [clean(header)] if header else []
    after, after_skipped = _read(parser, [*context, together])
    before, before_skipped = _read(parser, [*context, line, rest])
    if not after:
        return False
    if not before:
        return True
    filled = False
    # A format whose state is missing from the line (fstat, sockstat: none without -s; the moved part
    # holds it) infers LISTEN from a row without a peer, ESTABLISHED from one with a peer: a moved peer,
    # or the moved state word itself, changes that inference, not a value read from the line.
    inferred = (before[0].remote_address is None and after[0].remote_address is not None) or (
        len(rest.split()) == 1 and lookup_state(rest) is not None
    )
    for field in _FIELDS:
        old, new = _known(before[0], field), _known(after[0], field)
        if old is not None and old != new and not (inferred and field == "state"):
            return False
        filled = filled or (old is None and new is not None)
    return filled or (after_skipped < before_skipped and len(rest.split()) == 1)


def _read(parser: Parser, lines: list[str]) -> tuple[list[Socket], int]:
    """The first rows the parser reads from the lines, and how many lines it did not understand."""
    context = ParseContext()
    try:
        rows = list(islice(parser.parse(lines, context), 2))
    except ParseError:
        return [], len(lines)
    return rows, context.notes.skipped


def _known(row: Socket, field: str) -> object:
    value = getattr(row, field)
    return None if value is State.UNKNOWN else value
