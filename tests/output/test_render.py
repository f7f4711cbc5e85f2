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
