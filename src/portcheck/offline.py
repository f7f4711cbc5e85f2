"""`portcheck parse`: saved or pasted output -> decoded lines -> detected format -> rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO

from portcheck import parsers
from portcheck.decode import text_lines
from portcheck.detect import SAMPLE_LINES, detect
from portcheck.errors import ParseError
from portcheck.model import Socket
from portcheck.parsers.common import ParseContext


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
    return ParsedInput(encoding, name, parsers.load(name).parse(chain(sample, lines), ctx))
