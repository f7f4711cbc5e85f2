"""A filtered parse gives the same rows and notes whether or not `Lines` screens out the rows the port
filter rejects (ParseContext.screen): the screen's patterns must accept no line that the parser would
read as anything but a rejected row of the usual shape."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from portcheck import parsers
from portcheck.core.model import Socket
from portcheck.core.parsing import ParseContext, port_needles
from portcheck.parsers import netstat_bsd
from tests.conftest import FIXTURES
from tests.helpers import benchmark_generator

SCREENED = {
    "ss": ("ss",),
    "netstat-linux": ("netstat-linux",),
    "netstat-windows": ("netstat-windows",),
    "lsof": ("lsof",),
    "netstat-bsd": ("netstat-macos", "netstat-macos-v"),
}
"""Parsers that screen, and the generated formats of each."""


generate = benchmark_generator.load()
SAMPLES = {
    name: [line for fmt in formats for line in generate.lines(fmt, 60)] for name, formats in SCREENED.items()
}
FIXTURE_LINES = [
    line
    for path in sorted(FIXTURES.glob("*/*.txt"))
    if path.stem.startswith(("ss", "netstat", "lsof", "busybox", "sockstat"))
    for line in path.read_bytes().decode("utf-8", "replace").splitlines()
]
EDITS = [
    lambda s, t: s + "~",
    lambda s, t: s + " [201~",
    lambda s, t: "> " + s,
    lambda s, t: "[200~" + s,
    lambda s, t: s.replace(" ", "\0", 1),
    lambda s, t: s + "->",
    lambda s, t: (s.rsplit(None, 1) or [""])[0],
    lambda s, t: s[: len(s) // 2],
    lambda s, t: s[len(s) // 2 :],
    lambda s, t: s.replace(":", ":ssh ", 1) if ":" in s else s,
    lambda s, t: s.replace("5432", "postgresql"),
    lambda s, t: s.replace("6", "²", 1),
    lambda s, t: s.replace(".", ":", 1),
    lambda s, t: s.replace("[", "", 1),
    lambda s, t: s.replace(" ", "  \t", 2),
    lambda s, t: s.replace("tcp", "TCP").replace("TCP", "tcp6", 1),
    lambda s, t: s.replace("(", "").replace(")", ""),
    lambda s, t: t,
    lambda s, t: s + " " + t,
    lambda s, t: 'users:(("x",pid=1,fd=2))',
    lambda s, t: "p123",
    lambda s, t: "",
    lambda s, t: s.upper(),
]


@st.composite
def texts(draw: st.DrawFn, name: str) -> list[str]:
    pool = SAMPLES[name]
    lines = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(1, 14)))]
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        other = draw(st.sampled_from(FIXTURE_LINES + pool))
        lines[i] = draw(st.sampled_from(EDITS))(lines[i], other)
    return lines


def _parse(name: str, lines: list[str], ctx: ParseContext) -> tuple[list[Socket], object]:
    rows = list(parsers.load(name).parse(lines, ctx))
    notes = ctx.notes
    return rows, (
        notes.skipped,
        notes.first_skipped,
        notes.unknown_states,
        list(notes.messages),
        notes.pid_names.names,
    )


@pytest.mark.parametrize("name", sorted(SCREENED))
@given(data=st.data())
def test_screening_changes_nothing(name: str, data: st.DataObject) -> None:
    lines = data.draw(texts(name))
    everything = list(parsers.load(name).parse(lines, ParseContext()))
    seen = sorted({p for r in everything for p in (r.local_port, r.remote_port) if p is not None})
    port = data.draw(st.sampled_from([*seen, generate.NEEDLE_PORT, 22, 5432]))
    ports = frozenset({port, *data.draw(st.lists(st.sampled_from([*seen, 80, 443]), max_size=2))})
    remote = data.draw(st.booleans())
    screened = _parse(name, lines, ParseContext(ports, match_remote=remote))
    read = _parse(name, lines, ParseContext(ports, match_remote=remote, screening=False))
    assert screened == read


def test_needles_are_the_shortest_port_strings() -> None:
    assert port_needles(frozenset({80, 8080, 443})) == ("80", "443")
    assert port_needles(frozenset({60653})) == ("60653",)
    assert port_needles(None) is None
    assert port_needles(frozenset(range(8000, 8101))) is None  # too many to look for


def _pattern(name: str) -> re.Pattern[str]:
    module = parsers.load(name)
    if name == "netstat-bsd":
        pattern = netstat_bsd._usual_row(netstat_bsd.WIDTH)
        assert pattern is not None
        return pattern
    return module._USUAL_ROW  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize("name", sorted(SCREENED))
def test_the_usual_rows_are_screened(name: str) -> None:
    """The screen does apply to the rows the tools usually print (else it would be a no-op)."""
    screen = ParseContext(frozenset({generate.NEEDLE_PORT})).screen(_pattern(name))
    assert screen is not None
    needle = str(generate.NEEDLE_PORT)
    heading = ("Proto", "Netid", "COMMAND", "Active")
    rows = [line for line in SAMPLES[name] if line.strip() and not line.lstrip().startswith(heading)]
    assert (
        sum(map(screen, rows)) == sum(needle not in line for line in rows) == len(rows) - len(SCREENED[name])
    )
    assert not any(screen(line) for line in rows if needle in line)
    assert ParseContext().screen(_pattern(name)) is None
