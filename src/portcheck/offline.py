"""`portcheck parse`: saved or pasted output -> decoded lines -> detected format -> rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, islice
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


def parse_stream(stream: BinaryIO, ctx: ParseContext, forced: tuple[str, ...] | None = None) -> ParsedInput:
    """Decode, detect and start parsing. Rows are produced lazily, so a filtered parse of a huge file
    holds only the rows that match."""
    encoding, lines = text_lines(stream)
    sample = list(islice(lines, SAMPLE_LINES))
    if not any(line.strip() for line in sample):
        return ParsedInput(encoding, None, iter(()))
    name = forced[0] if forced and len(forced) == 1 else detect(sample, forced)
    if name is None:
        wanted = ", ".join(forced) if forced else supported_formats()
        raise ParseError(f"not output of a supported tool (supported: {wanted})")
    return ParsedInput(encoding, name, parsers.load(name).parse(chain(sample, lines), ctx))
