"""`portcheck parse`: saved or pasted output -> decoded lines -> detected format -> rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from portcheck import parsers
from portcheck.core.decode import text_lines
from portcheck.core.errors import ParseError
from portcheck.core.model import Socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.parsers.detect import SAMPLE_LINES, detect


@dataclass
class ParsedInput:
    encoding: str
    format: str | None
    """None when the input held no text at all (empty or only blank lines)."""
    rows: Iterator[Socket]


def supported_formats() -> str:
    return ", ".join(parsers.FORMATS)


SAMPLE_CHARS = 1 << 20
"""Characters read ahead for detection at most: SAMPLE_LINES lines of nearly MAX_LINE characters each
would hold 100 MB."""


def _sample(lines: Iterator[str]) -> list[str]:
    sample: list[str] = []
    size = 0
    for line in lines:
        sample.append(line)
        size += len(line)
        if len(sample) >= SAMPLE_LINES or size >= SAMPLE_CHARS:
            break
    return sample


class KeepingNotes(ParseNotes):
    """ParseNotes that also keep the first lines not understood (as many as a detection sample), so the
    caller can tell when they are another tool's output pasted into the same input."""

    __slots__ = ("_kept_chars", "kept")

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[str] = []
        self._kept_chars = 0

    def skip(self, lineno: int, line: str) -> None:
        super().skip(lineno, line)
        if len(self.kept) < SAMPLE_LINES and self._kept_chars < SAMPLE_CHARS:
            self.kept.append(line)
            self._kept_chars += len(line)


def other_format(notes: ParseNotes, read_as: str) -> str | None:
    """The format most lines not understood are in, when that is not the one the input was read as:
    `ss` output and `netstat -ano` output pasted one after the other. One input is read as one tool's
    output (a format is detected per input, not per line), so the caller says to split it."""
    kept = notes.kept if isinstance(notes, KeepingNotes) else []
    if not kept:
        return None
    other = detect(kept)
    if other is None or other == read_as or parsers.load(other).sniff(kept) < 0.5:
        return None
    return other


def parse_stream(stream: BinaryIO, ctx: ParseContext, forced: tuple[str, ...] | None = None) -> ParsedInput:
    """Decode, detect and start parsing. Rows are produced lazily, so a filtered parse of a huge file
    holds only the rows that match."""
    encoding, lines = text_lines(stream)
    sample = _sample(lines)
    first = next(((n, line) for n, line in enumerate(sample, 1) if line.strip()), None)
    if first is None:
        return ParsedInput(encoding, None, iter(()))
    name = forced[0] if forced and len(forced) == 1 else detect(sample, forced)
    if name is None:
        wanted = ", ".join(forced) if forced else supported_formats()
        raise ParseError(f"not output of a supported tool (supported: {wanted})", *first)
    return ParsedInput(encoding, name, parsers.reader(name).parse(chain(sample, lines), ctx))
