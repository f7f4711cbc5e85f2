"""Hypothesis: any bytes at all, through decode, detect and parse as `portcheck parse` runs them, raise
nothing but the project's own ParseError, or InspectError for netstat's elevation message (the one
input the brief wants reported as "could not inspect", exit 3)."""

from __future__ import annotations

import codecs
import io

from hypothesis import given
from hypothesis import strategies as st

from portcheck.errors import InspectError, ParseError
from portcheck.offline import parse_stream
from portcheck.parsers.common import ParseContext
from tests.conftest import FIXTURES
from tests.test_parsers_fuzz import check_row

WINDOWS_SAMPLES = [p.read_bytes() for p in sorted((FIXTURES / "windows").glob("*.txt"))] or [b""]


def run(data: bytes) -> None:
    try:
        parsed = parse_stream(io.BytesIO(data), ParseContext())
        for row in parsed.rows:
            check_row(row)
    except (ParseError, InspectError):
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
