"""Hypothesis over the bytes end: any bytes at all, through decode, detect and parse as `portcheck parse`
runs them, raise nothing but the project's own ParseError (netstat's elevation message, the one input
reported as "could not inspect", is only noted by the parser: `portcheck parse` exits 3). Also: no text is
ever refused as binary, how a stream is cut into chunks never changes its lines, and detection names
a registered format or none.

The example budget comes from the profiles registered in test_parsers_fuzz (HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import codecs
import io

from hypothesis import example, given, strategies as st

from portcheck import parsers
from portcheck.core.decode import LONG_LINE, binary_kind, split_lines
from portcheck.core.errors import ParseError
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import detect
from portcheck.parsers.offline import parse_stream
from tests.conftest import FIXTURES
from tests.parsers.test_parsers_fuzz import check_row

WINDOWS_SAMPLES = [p.read_bytes() for p in sorted((FIXTURES / "windows").glob("*.txt"))] or [b""]
ALL_SAMPLES = [p.read_bytes() for p in sorted(FIXTURES.glob("*/*.txt"))] or [b""]


def run(data: bytes) -> None:
    try:
        parsed = parse_stream(io.BytesIO(data), ParseContext())
        for row in parsed.rows:
            check_row(row)
    except ParseError:
        pass


@given(st.binary(max_size=2000))
def test_random_bytes(data: bytes) -> None:
    run(data)


@given(
    st.sampled_from([b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]),
    st.binary(max_size=600),
)
def test_random_bytes_after_a_bom(bom: bytes, data: bytes) -> None:
    run(bom + data)


@given(st.sampled_from(WINDOWS_SAMPLES), st.integers(0, 4000), st.binary(max_size=40), st.integers(0, 4000))
def test_real_files_with_bytes_cut_and_spliced(sample: bytes, cut: int, junk: bytes, at: int) -> None:
    """Odd-length UTF-16, a multi-byte character split, a code page broken mid-file."""
    data = sample[: cut or None]
    run(data[:at] + junk + data[at:])


@st.composite
def mutated_bytes(draw: st.DrawFn, samples: list[bytes] = ALL_SAMPLES) -> bytes:
    """A fixture of any format damaged at the byte level before decoding: bytes flipped, ranges
    deleted or repeated, junk inserted, the end cut (a transfer that stopped)."""
    data = bytearray(draw(st.sampled_from(samples)))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "delete", "repeat", "insert", "cut"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif action == "repeat":
            data[at:at] = data[at : at + draw(st.integers(1, 200))]
        elif action == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        else:
            del data[at:]
    return bytes(data)


@given(mutated_bytes())
def test_fixtures_mutated_at_the_byte_level(data: bytes) -> None:
    run(data)


console_text = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x20, max_codepoint=0x7E),
        st.sampled_from("\t\n\r\n\n"),
        st.characters(categories=["L", "N", "P", "Zs"], max_codepoint=0xFFFF),
    ),
    max_size=3000,
)


@given(console_text, st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp850", "cp1252", "cp866", "gbk"]))
def test_text_is_never_refused_as_binary(text: str, encoding: str) -> None:
    """Console text in any encoding a tool writes (mostly ASCII, any letters) is read, never refused."""
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode(encoding, "replace")
    assert binary_kind(data[: 64 * 1024]) is None, (encoding, text[:80])


@st.composite
def mostly_ascii(draw: st.DrawFn) -> str:
    """What every tool prints: ASCII addresses and numbers, with some localised letters among them."""
    ascii_text = draw(
        st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.just("\n"), min_size=8)
    )
    letters = draw(
        st.lists(st.characters(categories=["L"], max_codepoint=0xFFFF), max_size=len(ascii_text) // 3)
    )
    chars = list(ascii_text)
    for letter in letters:
        chars.insert(draw(st.integers(0, len(chars))), letter)
    return "".join(chars)


@example("ĀĀ00000000")  # found by the thorough profile: 2 of 10 characters with a low byte of 0
@given(mostly_ascii())
def test_utf16_without_a_bom_is_text(text: str) -> None:
    for encoding in ("utf-16-le", "utf-16-be"):
        assert binary_kind(text.encode(encoding)) is None


@given(
    st.text(alphabet=st.sampled_from("ab\n\x00é"), max_size=400), st.lists(st.integers(1, 50), max_size=30)
)
def test_chunk_boundaries_never_change_the_lines(text: str, cuts: list[int]) -> None:
    chunks, rest = [], text
    for size in cuts:
        chunks.append(rest[:size])
        rest = rest[size:]
    chunks.append(rest)
    assert list(split_lines(iter(chunks), limit=64)) == list(split_lines(iter([text]), limit=64))
    for line in split_lines(iter(chunks), limit=64):
        assert line == LONG_LINE or (len(line) <= 64 and "\n" not in line)


@given(st.lists(st.text(max_size=80), max_size=20))
def test_detection_names_a_format_or_none(sample: list[str]) -> None:
    assert detect(sample) in (None, *parsers.FORMATS)
