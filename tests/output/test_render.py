"""Rendering: escaping of hostile text, formula neutralising, terminal fitting, colour discipline."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from portcheck.core.model import FIELDS, Family, Proto, Socket, State
from portcheck.output.render import neutralise_formula, render, render_table, sort_rows
from tests.conftest import run_cli

HOSTILE = "evil\x1b[2J\x07name"
ROWS = [
    Socket(Proto.TCP, Family.IPV4, "0.0.0.0", 22, None, None, State.LISTEN, 1, "sshd", "root", "ss"),
    Socket(
        Proto.TCP,
        Family.IPV6,
        "fe80::aede:48ff:fe00:1122%en0",
        8080,
        "2600:1700:bab0:d000::1234",
        443,
        State.ESTABLISHED,
        1234,
        "com.apple.WebKit.Networking",
        "_www",
        "lsof",
    ),
    Socket(Proto.UDP, Family.IPV4, "127.0.0.1", 53, None, None, State.NONE, 7, HOSTILE, None, "ss"),
    Socket(
        Proto.TCP,
        Family.IPV4,
        "10.0.0.1",
        5000,
        "10.0.0.2",
        22,
        State.ESTABLISHED,
        9,
        "=HYPERLINK(1)",
        None,
        "ss",
    ),
]


def test_table_escapes_control_characters() -> None:
    out = io.StringIO()
    render_table(ROWS, out)
    text = out.getvalue()
    assert "\x1b" not in text and "\x07" not in text
    assert "evil\\x1b[2J\\x07name" in text


def test_json_keeps_the_exact_value() -> None:
    out = io.StringIO()
    render(ROWS, "json", out)
    records = json.loads(out.getvalue())
    assert records[2]["process"] == HOSTILE
    assert [list(r) for r in records] == [list(FIELDS)] * len(ROWS)


def test_csv_neutralises_formulas() -> None:
    out = io.StringIO()
    render(ROWS, "csv", out)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[4][FIELDS.index("process")] == "'=HYPERLINK(1)"
    for value in ("=1+1", "+cmd", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_formula(value).startswith("'")
    assert neutralise_formula("nginx") == "nginx"


@pytest.mark.parametrize("blank", [" ", "  ", "\u00a0", "\u200b", "\ufeff", " \u00a0\u200b"])
@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_blanks_before_a_formula_do_not_hide_it(blank: str, start: str) -> None:
    """A spreadsheet skips leading blanks (space, NBSP, zero-width space, BOM) before it reads `=`."""
    cell = f"{blank}{start}HYPERLINK(1)"
    row = ROWS[0]._replace(process=cell, user=cell)
    for terminal in (False, True):
        out = io.StringIO()
        render([row], "csv", out, terminal=terminal)
        line = list(csv.reader(io.StringIO(out.getvalue())))[1]
        assert line[FIELDS.index("process")].startswith("'"), (terminal, line)
        assert line[FIELDS.index("user")].startswith("'"), (terminal, line)
    assert neutralise_formula(f"{blank}x=1") == f"{blank}x=1"


C1_NAME = "a\u009b2Jb\u009d0;t\u0007\u007fc\u061cd"
"""CSI and OSC as C1 characters, BEL, DEL and the Arabic letter mark (a bidi control)."""


def test_every_format_escapes_c1_del_and_bidi() -> None:
    row = ROWS[0]._replace(process=C1_NAME, user="\u202eroot")
    for fmt in ("json", "ndjson"):
        out = io.StringIO()
        render([row], fmt, out)
        assert out.getvalue().isascii() or not any(0x7F <= ord(c) <= 0x9F for c in out.getvalue())
        assert "\\u009b" in out.getvalue() and "\\u009d" in out.getvalue() and "\\u007f" in out.getvalue()
        assert "\\u061c" in out.getvalue() and "\\u202e" in out.getvalue()
        decoded = json.loads(out.getvalue().splitlines()[0] if fmt == "ndjson" else out.getvalue())
        record = decoded if fmt == "ndjson" else decoded[0]
        assert record["process"] == C1_NAME and record["user"] == "\u202eroot"  # exact once decoded
    out = io.StringIO()
    render([row], "csv", out, terminal=True)
    assert "a\\x9b2Jb\\x9d0;t\\x07\\x7fc\\u061cd" in out.getvalue()
    assert "\\u202eroot" in out.getvalue()
    out = io.StringIO()
    render([row], "csv", out)  # a file: the exact characters
    assert list(csv.reader(io.StringIO(out.getvalue())))[1][FIELDS.index("process")] == C1_NAME
    for style in ("simple", "github", "grid", "plain"):
        out = io.StringIO()
        render_table([row], out, table_format=style)
        assert "a\\x9b2Jb\\x9d0;t\\x07\\x7fc\\u061cd" in out.getvalue()
        assert not any(0x7F <= ord(c) <= 0x9F or c in "\u061c\u202e" for c in out.getvalue())


def test_csv_to_a_file_writes_nul_and_line_breaks_visibly() -> None:
    """The same bytes on every Python: 3.9-3.10's csv module cannot write a NUL, and 3.12.1's writes
    a lone CR unquoted (a new row for every reader)."""
    row = ROWS[0]._replace(process="a\x00b", user="c\rd\ne")
    out = io.StringIO()
    render([row], "csv", out)
    assert out.getvalue().splitlines()[1].endswith(",a\\x00b,c\\x0dd\\x0ae,ss,,,,,")


@pytest.mark.parametrize(
    "style", ["github", "pipe", "psql", "grid", "jira", "orgtbl", "presto", "pretty", "textile", "fancy_grid"]
)
def test_a_cell_cannot_add_columns_to_a_drawn_table(style: str) -> None:
    """`|` (or the style's box-drawing line) inside a cell is escaped with a backslash, Markdown's
    own escape: every row keeps as many separators as the header."""

    def data_line(process: str, user: str) -> str:
        out = io.StringIO()
        render_table([ROWS[0]._replace(process=process, user=user)], out, table_format=style)
        return next(line for line in out.getvalue().splitlines() if "0.0.0.0:22" in line)

    benign = data_line("x", "y")
    hostile = data_line("x | fake | cells", "y \u2502 z \u2503")
    separators = {c for c in benign if c == "|" or "\u2500" <= c <= "\u257f"}

    def unescaped(line: str) -> int:
        return sum(1 for i, c in enumerate(line) if c in separators and (i == 0 or line[i - 1] != "\\"))

    assert separators
    assert unescaped(hostile) == unescaped(benign), hostile


def test_ipv6_addresses_are_bracketed_and_never_cut() -> None:
    out = io.StringIO()
    render_table(ROWS, out, width=60)
    text = out.getvalue()
    assert "[fe80::aede:48ff:fe00:1122%en0]:8080" in text
    assert "[2600:1700:bab0:d000::1234]:443" in text
    assert "com.apple.WebKit.Networking" not in text  # the process column gave way instead
    assert "…" in text


def test_table_fits_a_terminal_when_it_can() -> None:
    narrow = [r for r in ROWS if r.family is Family.IPV4]
    natural = io.StringIO()
    render_table(narrow, natural)
    width = max(len(line) for line in natural.getvalue().splitlines()) - 8
    out = io.StringIO()
    render_table(narrow, out, width=width)
    assert max(len(line) for line in out.getvalue().splitlines()) <= width


def test_empty_columns_are_dropped() -> None:
    out = io.StringIO()
    render_table([ROWS[0]._replace(user=None)], out)
    assert "USER" not in out.getvalue()


def test_fields_and_no_header() -> None:
    out = io.StringIO()
    render(ROWS[:1], "table", out, fields=["local_port", "pid"], header=False)
    assert out.getvalue().split() == ["22", "1"]
    out = io.StringIO()
    render(ROWS[:1], "csv", out, fields=["process", "local_port"], header=False)
    assert out.getvalue() == "sshd,22\n"


def test_listeners_sort_first_then_by_port() -> None:
    ordered = sort_rows(reversed(ROWS))
    assert [r.local_port for r in ordered] == [22, 53, 5000, 8080]


def test_no_colour_in_pipes() -> None:
    text = 'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("sshd",pid=1,fd=3))\n'
    assert "\x1b" not in run_cli("parse", stdin=text).stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pty")
@pytest.mark.parametrize("no_color", [False, True])
def test_colour_only_on_a_terminal_without_no_color(no_color: bool, tmp_path: object) -> None:
    import os

    import pexpect

    from tests.conftest import ROOT

    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["TERM"] = "xterm"
    if no_color:
        env["NO_COLOR"] = "1"
    fixture = ROOT / "tests" / "fixtures" / "linux" / "ss-old-no-pid-labels.txt"
    child = pexpect.spawn(sys.executable, ["-m", "portcheck", "parse", str(fixture)], env=env, timeout=30)
    child.expect(pexpect.EOF)
    output = child.before.decode()
    assert ("\x1b[32mLISTEN" in output) is not no_color
