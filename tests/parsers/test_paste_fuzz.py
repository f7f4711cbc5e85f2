"""Property tests for the reading rules of a paste (portcheck.parsers.paste, sections, quoted, cut, and
the redaction and overflow rules of the parsers): whatever a paste's way there adds, the rows of the
tools' own lines are read as without it; junk never raises anything but ParseError; a paste cut at a
terminal width, once seen as cut, reads no port its whole lines do not hold; a redacted PID keeps the
rest of the row. Profiles ("ci", "thorough") as in test_parsers_fuzz."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from hypothesis import given, strategies as st

from portcheck.api.sockets import ParseResult, parse
from portcheck.core.decode import text_lines
from portcheck.core.errors import ParseError
from portcheck.parsers import cut, paste
from tests.conftest import FIXTURES
from tests.parsers.test_parsers_fuzz import check_row  # also registers the profiles

CLEAN = ["linux/ss-tunap.txt", "linux/netstat-tunap.txt", "linux/lsof-nP-i.txt", "freebsd/sockstat-46l.txt"]
"""Fixtures in UTF-8 that read completely on their own, with rows."""

WRAPS = [
    lambda line: f"<p>{line}</p>",
    lambda line: f"{line}<br>",
    lambda line: f"[10:42] alice: {line}",
    lambda line: f"12 | {line}",
    lambda line: f"\x1b[1;32m{line}\x1b[0m",
    lambda line: f"**{line}**" if line.strip() else line,
    lambda line: line.replace("  ", "&nbsp; "),
    lambda line: f"> {line}",
    lambda line: line,
]
"""What chat clients, web pages, Markdown and terminals do to a line."""


@cache
def _lines(relative: str) -> tuple[str, ...]:
    with (FIXTURES / relative).open("rb") as stream:
        return tuple(text_lines(stream)[1])


def _read(text: str) -> ParseResult | None:
    try:
        result = parse(text)
    except ParseError:
        return None
    for row in result.rows:
        check_row(row)
    return result


def _sockets(result: ParseResult) -> set[tuple[object, ...]]:
    return {
        (r.proto, r.local_address, r.local_port, r.remote_address, r.remote_port, r.pid) for r in result.rows
    }


@given(data=st.data())
def test_what_pasting_adds_changes_no_row(data: st.DataObject) -> None:
    relative = data.draw(st.sampled_from(CLEAN))
    lines = _lines(relative)
    wrap = data.draw(st.sampled_from(WRAPS))
    wrapped = [wrap(line) for line in lines]
    whole = _read("\n".join(lines) + "\n")
    result = _read("\n".join(wrapped) + "\n")
    assert whole is not None and result is not None
    assert _sockets(result) == _sockets(whole)


@given(line=st.text(max_size=300))
def test_unwrap_never_raises_and_leaves_plain_lines_alone(line: str) -> None:
    pieces = paste.unwrap(line)
    assert all(isinstance(piece, str) for piece in pieces)
    if not paste.needs_unwrap(line) and not paste.glued(line):
        assert len(pieces) == 1 and pieces[0].split() == line.split()  # tabs become blanks, no more


@given(
    first=st.sampled_from(CLEAN),
    second=st.sampled_from(CLEAN),
    junk=st.lists(
        st.text(st.characters(blacklist_characters="\x00"), max_size=80),
        max_size=4,
    ),
    prompt=st.sampled_from(["", "$ ", "user@host:~$ ", "PS C:\\> ", "C:\\Users\\x>"]),
)
def test_two_tools_with_junk_between_never_lose_rows(
    first: str, second: str, junk: list[str], prompt: str
) -> None:
    """Junk lines may be misread, or read as rows of their own, but every row of both tools is there.
    (A NUL byte makes the whole input binary: decode.py refuses it, which test_decode_fuzz covers.)"""
    text = (
        "\n".join([*_lines(first), *(line.replace("\n", " ") for line in junk), prompt, *_lines(second)])
        + "\n"
    )
    result = _read(text)
    assert result is not None
    expected = _sockets(_read("\n".join(_lines(first)) + "\n")) | _sockets(
        _read("\n".join(_lines(second)) + "\n")
    )  # type: ignore[arg-type]
    assert expected <= _sockets(result)


@given(relative=st.sampled_from(CLEAN), width=st.integers(cut.MIN_WIDTH, 200))
def test_a_paste_seen_as_cut_reads_no_port_the_whole_one_lacks(relative: str, width: int) -> None:
    lines = [line.rstrip()[:width] for line in _lines(relative)]
    if cut.cut_width(lines) is None:
        return
    result = _read("\n".join(lines) + "\n")
    whole = _read("\n".join(_lines(relative)) + "\n")
    assert whole is not None
    if result is None:
        return
    ports = {(r.proto, r.local_port, r.remote_port) for r in whole.rows}
    assert {(r.proto, r.local_port, r.remote_port) for r in result.rows} <= ports


@given(mark=st.sampled_from(["**", "****", "xxxx", "XXX", "##", "...", "<redacted>", "[hidden]"]))
def test_a_redacted_pid_keeps_the_row(mark: str) -> None:
    lines = _lines("linux/netstat-tunap.txt")
    whole = _read("\n".join(lines) + "\n")
    redacted = [line.replace("24830/", f"{mark}/") for line in lines]
    result = _read("\n".join(redacted) + "\n")
    assert whole is not None and result is not None
    assert [(r.local_port, r.state, r.process) for r in result.rows] == [
        (r.local_port, r.state, r.process) for r in whole.rows
    ]
    assert all(r.pid is None for r in result.rows if r.process == "pcfix: server")


def test_the_fixtures_exist() -> None:
    assert all(Path(FIXTURES / relative).exists() for relative in CLEAN)
