"""Bytes in, lines of text out, never a crash.

Input arrives as a pipe, a file saved by PowerShell 5.1 (UTF-16LE with BOM), a mail attachment from a
localised Windows console (an OEM code page: cp850 in Germany, cp866 in Russia, cp936 in China), a
file written by `Out-File -Encoding Default` (an ANSI page such as cp1252), or plain UTF-8. The
encoding is chosen from the first chunk, then the rest is decoded incrementally, so a large file is
never held in memory; neither is a single absurdly long line (see LONG_LINE).

Binary input (an image, a zip such as an .xlsx, an executable, random bytes) is refused from the first
chunk, before any parsing, with a ParseError that says what it looks like: read as text it would only
give a screenful of lines nobody can act on.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
from collections.abc import Iterator
from functools import cache
from typing import BinaryIO

from portcheck.core.errors import ParseError
from portcheck.core.localised import DECODING_HINTS

CHUNK = 64 * 1024
SCORE_SAMPLE = 16 * 1024
"""Bytes of the first chunk used to score candidate code pages: plenty for a header and some rows."""

MAX_LINE = 64 * 1024
"""Characters: a longer line is not text any tool here prints. It is dropped while it streams past
and replaced by LONG_LINE, which no parser reads as a row, so it is counted as not understood."""

LONG_LINE = f"<portcheck: line longer than {MAX_LINE} characters skipped>"

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16-le with BOM"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16-be with BOM"),
)

LEGACY_CODE_PAGES = (
    "cp850",
    "cp437",
    "cp1252",
    "cp852",
    "cp1250",
    "cp866",
    "cp1251",
    "gbk",
    "cp932",
    "cp949",
)
"""OEM pages of localised consoles and the ANSI pages of `Out-File -Encoding Default`, in order of
preference when two decode a text equally well (cp850 and cp437 agree on every German letter)."""

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HARMLESS = frozenset("’‘“”«»…–—°·•×\xa0\u202f\u3000。、：（）「」・")


def _plausibility(text: str) -> int:
    """How much a decoded text looks like a console's words rather than mojibake: non-ASCII letters
    count for it; replacement characters, controls, box drawing and symbols (`™` is cp850's `Ö` read
    as cp1252), and letters of another script or case glued to ASCII words (`propriÚtaire`,
    `propriщtaire`) count against it."""
    score = -10 * len(_ASCII_CONTROLS.findall(text))
    for match in _NON_ASCII.finditer(text):
        char = match.group()
        if char in _HARMLESS:
            continue
        if char == "\ufffd":
            score -= 20
            continue
        category = unicodedata.category(char)
        if category[0] == "L":
            score += 1
            start = match.start()
            before = text[start - 1] if start else " "
            if before.isascii() and before.isalpha() and not ("\xc0" <= char <= "\u024f" and char.islower()):
                score -= 3
        elif category[0] == "C":
            score -= 10
        else:
            score -= 2
    return score


def _score(text: str) -> int:
    """Localised words a console prints (right only in the right code page) weigh most."""
    hints = sum(len(word) * text.count(word) for word in DECODING_HINTS if word in text)
    return 5 * hints + _plausibility(text)


def _best_legacy(sample: bytes) -> str:
    best: tuple[int, str] | None = None
    for name in LEGACY_CODE_PAGES:
        decoder = codecs.getincrementaldecoder(name)(errors="replace")
        score = _score(decoder.decode(sample, final=False))
        if best is None or score > best[0]:
            best = (score, name)
    assert best is not None
    return best[1]


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 shows as NULs in every other byte, since console text is mostly ASCII."""
    if len(sample) < 4:
        return None
    half = len(sample) // 2
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    # Relative, not absolute: a letter whose low byte is 0 (U+0100, U+4E00, the ideographic space
    # U+3000) puts a NUL in the other half too, and a short text may have several. Binary data has
    # about as many NULs in both halves.
    if odd_nuls > half * 0.3 and even_nuls * 2 < odd_nuls:
        return "utf-16-le"
    if even_nuls > half * 0.3 and odd_nuls * 2 < even_nuls:
        return "utf-16-be"
    return None


_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive (an .xlsx or .docx file is one)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (.xls, .doc)"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\x7fELF", "an ELF executable"),
    (b"\x1f\x8b", "gzip-compressed data (decompress it first)"),
    (b"\xfd7zXZ\x00", "xz-compressed data (decompress it first)"),
    (b"(\xb5/\xfd", "zstd-compressed data (decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
)
"""Files people attach instead of text. Their names make the refusal actionable; anything else binary
is caught by its bytes."""

_INNER_NUL = re.compile(rb"(?<!\x00)(?=(\x00+))\1(?=[^\r\n])")
"""A NUL inside a line. NULs before a line end or at the end of the text are padding that Windows
tools and editors add, and text all the same. (Only a run's first NUL starts a match, and the run
is taken whole, never given back: `(?=(X+))\\1` is an atomic group that Python before 3.11 can
write, so the search stays linear on a chunk full of NULs.)"""
_BINARY_CONTROLS = bytes([*range(0x01, 0x09), *range(0x0E, 0x1A), *range(0x1C, 0x20), 0x7F])
"""Control bytes no tool prints. Tab, line ends, form feed, vertical tab, ESC (colours, bracketed
paste) and SUB (DOS end of file) appear in real captures and are allowed."""
MAX_CONTROL_SHARE = 0.05
"""Random bytes are about 10% such controls; text from any tool here has next to none. The same share
of NULs before line ends (not at the very end) is more padding than any tool writes."""


def binary_kind(head: bytes) -> str | None:
    """What the first chunk of an input looks like when it is not text, else None. UTF-16 (a NUL in
    every other byte) is text, and so are a few NULs padding the end of a line or of the text."""
    if not head or head.startswith(tuple(bom for bom, _, _ in _BOMS)):
        return None
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    if _utf16_without_bom(head[:4096]):
        return None
    if b"\x00" in head and not head.strip(b"\x00\r\n"):
        return "only NUL bytes"
    inner = _INNER_NUL.search(head)
    if inner is not None:
        return f"a NUL byte at offset {inner.start()}"
    body = head.rstrip(b"\x00\r\n\x1a")
    nuls = body.count(0)
    if nuls > len(body) * MAX_CONTROL_SHARE:
        return f"{nuls} NUL bytes in the first {len(head)}"
    controls = len(body) - len(body.translate(None, _BINARY_CONTROLS))
    if controls > len(body) * MAX_CONTROL_SHARE:
        return f"{controls} control bytes in the first {len(head)}"
    return None


def refuse_binary(head: bytes) -> None:
    """Raise the one-line ParseError for binary input (see binary_kind)."""
    kind = binary_kind(head)
    if kind is not None:
        raise ParseError(f"binary data, not text: {kind}")


def choose_encoding(head: bytes) -> tuple[str, str]:
    """(codec, label) for a text from its first bytes: a BOM, then UTF-16 without BOM, then UTF-8 if
    it decodes, else the legacy code page whose decoding reads best."""
    for bom, codec, label in _BOMS:
        if head.startswith(bom):
            return codec, label
    utf16 = _utf16_without_bom(head[:4096])
    if utf16:
        return utf16, utf16
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not merely a character cut at the chunk's end
            name = _best_legacy(head[:SCORE_SAMPLE])
            return name, name
    return "utf-8", "utf-8"


class _Prefixed(io.RawIOBase):
    """A stream that replays the bytes already read for guessing, then continues with the rest. End of
    input is remembered: on a terminal each further read would wait for another Ctrl-D."""

    def __init__(self, head: bytes, rest: BinaryIO | None) -> None:
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
        if self._rest is None:
            return 0
        data = self._rest.read(len(buffer))
        n = len(data)
        if not n:
            self._rest = None
        buffer[:n] = data
        return n


def split_lines(chunks: Iterator[str], limit: int = MAX_LINE) -> Iterator[str]:
    """Lines of text arriving in chunks (newlines already translated to `\\n`), without their
    terminator or trailing NULs; a line longer than `limit` becomes LONG_LINE without being held.

    The lines wholly inside a chunk (all but its first and last piece) are handed on as one list,
    so the usual line costs no Python-level step here."""
    partial = ""
    overlong = False
    for chunk in chunks:
        pieces = chunk.split("\n")
        last = pieces.pop()
        if pieces:
            first = pieces[0]
            if overlong or len(partial) + len(first) > limit:
                yield LONG_LINE
            else:
                yield (partial + first).rstrip("\x00")
            partial = ""
            overlong = False
            inner = pieces[1:]
            if inner:
                if max(map(len, inner)) > limit:
                    yield from (LONG_LINE if len(p) > limit else p.rstrip("\x00") for p in inner)
                elif "\x00" in chunk:
                    yield from (p.rstrip("\x00") for p in inner)
                else:
                    yield from inner
        if not overlong:
            partial += last
            if len(partial) > limit:
                partial = ""
                overlong = True
    if overlong:
        yield LONG_LINE
    elif partial.rstrip("\x00"):
        yield partial.rstrip("\x00")


@cache
def _unencodable() -> re.Pattern[str]:
    """Lone surrogates that surrogateescape cannot turn back into a byte (it owns U+DC80-U+DCFF).
    Compiled on first use (~0.3 ms on 3.9 to 3.13, one of the dearest at start-up): only a str
    handed to the API needs it."""
    return re.compile("[\ud800-\udc7f\udd00-\udfff]")


def text_bytes(text: str) -> bytes:
    """A caller's str as the bytes the decoding path reads. Text read with surrogateescape (a file's
    undecodable bytes) gets its bytes back, to be decoded as the CLI decodes that file; any other lone
    surrogate (a str built in Python can hold one, UTF-8 cannot) becomes U+FFFD, the rest stays UTF-8."""
    return _unencodable().sub("\ufffd", text).encode("utf-8", "surrogateescape")


def text_lines(stream: BinaryIO) -> tuple[str, Iterator[str]]:
    """(encoding label, lines without terminators). CRLF, lone CR and trailing NULs are handled;
    binary input raises ParseError before any line is produced."""
    head = stream.read(CHUNK)
    refuse_binary(head)
    codec, label = choose_encoding(head)
    # A buffered read returns short only at the end of input; reading on would make a terminal wait
    # for a second Ctrl-D.
    ended = len(head) < CHUNK and isinstance(stream, io.BufferedIOBase)
    rest = None if ended else stream
    raw = io.BufferedReader(_Prefixed(head, rest), buffer_size=CHUNK)
    text = io.TextIOWrapper(raw, encoding=codec, errors="replace", newline=None)
    return label, split_lines(iter(lambda: text.read(CHUNK), ""))
