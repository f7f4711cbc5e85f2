"""Bytes in, lines of text out, never a crash.

Input arrives as a pipe, a file saved by PowerShell (UTF-16LE with BOM), a mail attachment from a
localised Windows console (an OEM code page), or plain UTF-8. The encoding is chosen from the first
chunk, then the rest is decoded incrementally so a large file is never held in memory.
"""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 64 * 1024

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def guess_encoding(head: bytes) -> str:
    """The encoding of a text from its first bytes: BOM, then UTF-16 without BOM (every other byte NUL
    in ASCII text), then UTF-8 if it decodes, else cp1252 as the most common Windows ANSI page."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    sample = head[:4096]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) // 2
        if odd_nuls > half * 0.6 and even_nuls < half * 0.1:
            return "utf-16-le"
        if even_nuls > half * 0.6 and odd_nuls < half * 0.1:
            return "utf-16-be"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not merely a character cut at the chunk's end
            return "cp1252"
    return "utf-8"


class _Prefixed(io.RawIOBase):
    """A stream that replays the bytes already read for guessing, then continues with the rest."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self._head = head
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._head:
            n = min(len(buffer), len(self._head))
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n


def text_lines(stream: BinaryIO) -> tuple[str, Iterator[str]]:
    """(encoding, lines without terminators). CRLF, lone CR and trailing NULs are handled."""
    head = stream.read(CHUNK)
    encoding = guess_encoding(head)
    raw = io.BufferedReader(_Prefixed(head, stream), buffer_size=CHUNK)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline=None)

    def lines() -> Iterator[str]:
        for line in text:
            yield line.rstrip("\n\x00")

    return encoding, lines()
