"""A real process named with C1 controls (prctl PR_SET_NAME takes bytes: `\\xc2\\x9b` is U+009B, CSI;
`\\xc2\\x9d` is U+009D, OSC), asked about in every output format, on a pipe and on a terminal, on this
machine and through --host: no raw C1 character reaches a terminal, JSON carries `\\u009b`, CSV to a
pipe keeps the exact name, and the stderr lines that name the process escape it."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import Result, run_cli
from tests.helpers.live import Holder, socket_holder
from tests.helpers.sshd import Lab, fleet

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl and ss")

NAME = "pc\u009b2J\u009d0;x"
"""11 bytes of UTF-8: the kernel keeps up to 15."""
SHOWN = "pc\\x9b2J\\x9d0;x"
"""The name as tables, terminal CSV and messages show it."""
C1 = [chr(c) for c in range(0x80, 0xA0)]


@pytest.fixture(scope="module")
def holder() -> Iterator[Holder]:
    with socket_holder(NAME) as held:
        yield held


def no_raw_c1(text: str) -> None:
    assert not [c for c in C1 if c in text], repr(text)


def port(holder: Holder) -> str:
    return str(holder.ports["tcp4"])


def test_json_and_ndjson_escape_c1_and_keep_the_name(holder: Holder) -> None:
    for args in (["--json"], ["--format", "ndjson"]):
        result = run_cli(port(holder), *args)
        assert result.code == 0, result.stderr
        no_raw_c1(result.stdout)
        assert '"process": "pc\\u009b2J\\u009d0;x"' in result.stdout
        if args == ["--json"]:
            records = json.loads(result.stdout)
        else:
            records = [json.loads(line) for line in result.stdout.splitlines()]
        assert {r["process"] for r in records} == {NAME}


def test_tables_and_csv_on_a_pipe(holder: Holder) -> None:
    for args in ([], ["--table-format", "github"], ["--table-format", "psql"]):
        result = run_cli(port(holder), *args)
        assert result.code == 0, result.stderr
        no_raw_c1(result.stdout)
        assert SHOWN in result.stdout
    result = run_cli(port(holder), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["process"] for r in rows} == {NAME}  # a file or pipe gets the exact name


def test_on_a_terminal_csv_escapes_like_the_table(holder: Holder) -> None:
    import pexpect

    for args in (["--format", "csv"], []):
        child = pexpect.spawn(
            sys.executable,
            ["-m", "portcheck", port(holder), *args],
            env={**os.environ, "NO_COLOR": "1"},
            dimensions=(50, 200),
            encoding="utf-8",
            timeout=60,
        )
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0, child.before
        no_raw_c1(child.before)
        assert SHOWN in child.before


def test_stderr_lines_that_name_the_process_escape_it(holder: Holder) -> None:
    result = run_cli("wait", port(holder), "--free", "--timeout", "0.2", "--interval", "0.1")
    assert result.code == 1
    no_raw_c1(result.stderr)
    assert f"PID {holder.pid} ({SHOWN})" in result.stderr


def fleet_rows(result: Result) -> list[dict[str, object]]:
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    return rows


def test_through_ssh_every_format_escapes_too(lab: Lab, holder: Holder) -> None:
    """The same process seen by the lab's sshd host (this machine): the host's answer is escaped
    exactly as the local one."""
    result = fleet(lab, port(holder), "--host", "srv0", "--json")
    no_raw_c1(result.stdout)
    assert {(r["host"], r["process"]) for r in fleet_rows(result)} == {("srv0", NAME)}
    for args in ([], ["--table-format", "github"]):
        table = fleet(lab, port(holder), "--host", "srv0", *args)
        assert table.code == 0, table.stderr
        no_raw_c1(table.stdout)
        assert SHOWN in table.stdout
    ndjson = fleet(lab, port(holder), "--host", "srv0", "--format", "ndjson")
    no_raw_c1(ndjson.stdout)
    assert "pc\\u009b2J\\u009d0;x" in ndjson.stdout
