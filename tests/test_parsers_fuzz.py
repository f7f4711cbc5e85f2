"""Property tests for every registered parser: arbitrary text never raises anything but ParseError
(or InspectError, which netstat-windows raises for "The requested operation requires elevation."),
and every row that comes out is well-typed.

CI runs the default example budget; `HYPOTHESIS_PROFILE=thorough pytest tests/test_parsers_fuzz.py`
runs a much larger one (see README).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portcheck import parsers
from portcheck.errors import InspectError, ParseError
from portcheck.model import Family, Proto, Socket, State
from portcheck.parsers.common import ParseContext
from tests.conftest import FIXTURES

settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FORMAT_NAMES = list(parsers.FORMATS)


def check_row(row: Socket) -> None:
    assert isinstance(row, Socket)
    assert isinstance(row.proto, Proto)
    assert row.family is None or isinstance(row.family, Family)
    assert isinstance(row.state, State)
    assert isinstance(row.local_address, str)
    for port in (row.local_port, row.remote_port):
        assert port is None or (isinstance(port, int) and 0 <= port <= 65535)
    assert row.pid is None or (isinstance(row.pid, int) and row.pid >= 0)
    assert row.process is None or isinstance(row.process, str)
    assert row.user is None or isinstance(row.user, str)
    assert row.source


def run_parser(name: str, lines: list[str]) -> None:
    parser = parsers.load(name)
    try:
        for row in parser.parse(lines, ParseContext()):
            check_row(row)
    except ParseError as error:
        assert error.line is None or error.line >= 1
    except InspectError as error:
        assert name in ("netstat-windows", "tasklist"), error  # the elevation message


def fixture_lines() -> list[list[str]]:
    texts = []
    for path in sorted(FIXTURES.glob("*/*.txt")):
        raw = path.read_bytes()
        for encoding in ("utf-8", "utf-16", "cp850"):
            try:
                texts.append(raw.decode(encoding).splitlines())
                break
            except UnicodeDecodeError:
                continue
    return texts or [["tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:*"]]


FIXTURE_TEXTS = fixture_lines()
line_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=120)


@st.composite
def mutated_fixture(draw: st.DrawFn) -> list[str]:
    """A real fixture with lines cut, columns dropped, fields swapped and junk inserted."""
    lines = list(draw(st.sampled_from(FIXTURE_TEXTS)))
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        tokens = lines[i].split()
        action = draw(st.sampled_from(["cut", "drop", "swap", "junk", "delete", "dup"]))
        if action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif action == "drop" and tokens:
            del tokens[draw(st.integers(0, len(tokens) - 1))]
            lines[i] = " ".join(tokens)
        elif action == "swap" and len(tokens) > 1:
            a, b = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
            tokens[a], tokens[b] = tokens[b], tokens[a]
            lines[i] = "  ".join(tokens)
        elif action == "junk":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(line_text) + lines[i][pos:]
        elif action == "delete":
            del lines[i]
        else:
            lines.insert(i, lines[i])
    return lines


@pytest.mark.parametrize("name", FORMAT_NAMES)
@given(lines=st.lists(line_text, max_size=30))
def test_random_text(name: str, lines: list[str]) -> None:
    run_parser(name, lines)


@pytest.mark.parametrize("name", FORMAT_NAMES)
@given(lines=mutated_fixture())
def test_mutated_fixtures(name: str, lines: list[str]) -> None:
    run_parser(name, lines)


def test_fixture_catalogue_is_not_empty() -> None:
    assert any(Path(FIXTURES).glob("*/*.txt"))
