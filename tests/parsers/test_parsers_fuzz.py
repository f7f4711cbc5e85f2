"""Property tests for every registered parser: arbitrary text never raises anything but ParseError
(a parser never decides an exit code of its own: netstat-windows notes "The requested operation
requires elevation." in ParseNotes.refused, and its caller decides), every row that comes out is
well-typed, and the port pre-filter never loses a row: parsing with `--port P` gives exactly the rows
of the unfiltered parse whose port is P.

Inputs: random text; the parser's own fixtures mutated (lines cut, columns dropped, fields swapped or
replaced by another fixture's word, junk inserted, lines deleted or repeated), so most examples still
have rows and the filter keeps some; every other format's fixtures mutated the same way.

CI runs the "ci" profile (150 examples per test, a few seconds); `HYPOTHESIS_PROFILE=thorough pytest
tests/parsers/test_parsers_fuzz.py tests/parsers/test_decode_fuzz.py tests/cli/test_cli_fuzz.py` runs a
much larger one (see README). The profiles are registered here and apply to every fuzz module that
imports this one.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings, strategies as st

from portcheck import parsers
from portcheck.core.errors import ParseError
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
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
    for text in (row.local_address, row.remote_address, row.process, row.user):
        assert text is None or "\n" not in text
    assert row.source in parsers.FORMATS


def run_parser(name: str, lines: list[str], ctx: ParseContext | None = None) -> list[Socket] | None:
    """The rows, each checked; None when the parser raised one of the errors it may raise."""
    parser = parsers.load(name)
    rows: list[Socket] = []
    try:
        for row in parser.parse(lines, ctx or ParseContext()):
            check_row(row)
            rows.append(row)
    except ParseError as error:
        assert error.line is None or error.line >= 1
        return None
    return rows


def check_port_filter(name: str, lines: list[str], draw_port: Callable[[list[Socket]], int]) -> None:
    """The pre-filter is an optimisation only: it must give what filtering afterwards gives."""
    everything = run_parser(name, lines)
    if everything is None:
        return
    port = draw_port(everything)
    for remote in (False, True):
        filtered = run_parser(name, lines, ParseContext(frozenset({port}), match_remote=remote))
        wanted = [r for r in everything if r.local_port == port or (remote and r.remote_port == port)]
        assert filtered is not None
        assert sorted(map(repr, filtered)) == sorted(map(repr, wanted)), (port, remote)
    if currently_in_test_context():
        event("rows" if everything else "no rows")
        event("the filter keeps rows" if any(r.local_port == port for r in everything) else "it keeps none")


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
VOCABULARY = sorted({token for text in FIXTURE_TEXTS for line in text for token in line.split()})
"""Every word of every fixture: addresses, ports, state words in all languages, PIDs, names."""
line_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=120
)
"""Any character but the line ends decode.py splits on (a parser never sees them inside a line)."""


@cache
def fixtures_for(name: str) -> list[list[str]]:
    """The fixtures this parser reads rows from: mutating them reaches its row code, not just its
    "not understood" path."""
    own = []
    for text in FIXTURE_TEXTS:
        try:
            if next(iter(parsers.load(name).parse(text, ParseContext())), None) is not None:
                own.append(text)
        except ParseError:
            continue
    return own or FIXTURE_TEXTS


@st.composite
def mutated_fixture(draw: st.DrawFn, texts: list[list[str]]) -> list[str]:
    """A real fixture with lines cut, columns dropped, fields swapped or replaced by another fixture's
    word, junk inserted, lines deleted or repeated."""
    lines = list(draw(st.sampled_from(texts)))
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        i = draw(st.integers(0, len(lines) - 1))
        tokens = lines[i].split()
        action = draw(st.sampled_from(["cut", "drop", "swap", "word", "junk", "delete", "dup"]))
        if action == "cut":
            lines[i] = lines[i][: draw(st.integers(0, len(lines[i])))]
        elif action == "drop" and tokens:
            del tokens[draw(st.integers(0, len(tokens) - 1))]
            lines[i] = " ".join(tokens)
        elif action == "swap" and len(tokens) > 1:
            a, b = draw(st.integers(0, len(tokens) - 1)), draw(st.integers(0, len(tokens) - 1))
            tokens[a], tokens[b] = tokens[b], tokens[a]
            lines[i] = "  ".join(tokens)
        elif action == "word" and tokens:
            tokens[draw(st.integers(0, len(tokens) - 1))] = draw(st.sampled_from(VOCABULARY))
            lines[i] = "   ".join(tokens)
        elif action == "junk":
            pos = draw(st.integers(0, len(lines[i])))
            lines[i] = lines[i][:pos] + draw(line_text) + lines[i][pos:]
        elif action == "delete":
            del lines[i]
        else:
            lines.insert(i, lines[i])
    return lines


def port_drawer(data: st.DataObject) -> Callable[[list[Socket]], int]:
    """Draws a port the rows use (local or remote), so the filter has something to keep, or any port."""

    def draw(rows: list[Socket]) -> int:
        used = sorted({p for r in rows for p in (r.local_port, r.remote_port) if p is not None})
        return data.draw(st.sampled_from(used) if used else st.integers(0, 65535))

    return draw


@pytest.mark.parametrize("name", FORMAT_NAMES)
@given(lines=st.lists(line_text, max_size=30))
def test_random_text(name: str, lines: list[str]) -> None:
    run_parser(name, lines)


@pytest.mark.parametrize("name", FORMAT_NAMES)
@given(data=st.data())
def test_mutated_own_fixtures(name: str, data: st.DataObject) -> None:
    lines = data.draw(mutated_fixture(fixtures_for(name)))
    check_port_filter(name, lines, port_drawer(data))


@pytest.mark.parametrize("name", FORMAT_NAMES)
@given(data=st.data())
def test_mutated_fixtures_of_every_format(name: str, data: st.DataObject) -> None:
    """Other tools' output, damaged: what a wrong `--from` or a mixed paste gives a parser."""
    lines = data.draw(mutated_fixture(FIXTURE_TEXTS))
    check_port_filter(name, lines, port_drawer(data))


def test_fixture_catalogue_is_not_empty() -> None:
    assert any(Path(FIXTURES).glob("*/*.txt"))


def test_a_wildcard_peer_is_not_remote_port_0() -> None:
    """Found by the thorough profile: /proc's `00000000:0000` peer of a listener matched `--port 0
    --remote` before the row said it has no peer at all."""
    lines = [
        "   0: 00000000:88FC 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 22602"
    ]
    check_port_filter("proc", lines, lambda rows: 0)


def test_the_port_filter_does_not_change_a_row() -> None:
    """Found by test_mutated_own_fixtures: modern ss (0.0.0.0 for IPv4) prints `*` for a dual-stack
    socket; which ss wrote the text was decided only from rows the filter let through, so
    `--port 47319` called the socket family-less `*` while the unfiltered parse said IPv6 `::`."""
    lines = [
        "State  Recv-Q Send-Q Local Address:Port Peer Address:Port",
        "LISTEN 0      128          0.0.0.0:22         0.0.0.0:*",
        "LISTEN 0      128                *:47319            *:*",
    ]
    check_port_filter("ss", lines, lambda rows: 47319)
    (row,) = run_parser("ss", lines, ParseContext(frozenset({47319}))) or []
    assert (row.family, row.local_address) == (Family.IPV6, "::")
