"""Hypothesis over whole runs, in-process (milliseconds each):

- `portcheck parse` on fixtures damaged at the byte level, with random options (output format,
  --port, --strict, --from): the exit code is 0, 1 or 2; stderr is lines of `portcheck: ...` with no
  raw control character and never an internal error; JSON is the contract's records, CSV reads back
  with no cell a spreadsheet would run, a table carries no control character.
- the live query with every platform's plan, every tool answering with damaged recorded output or
  random bytes and a random exit status: an Answer with well-typed rows, or InspectError; nothing else.

The example budget comes from the profiles registered in test_parsers_fuzz (HYPOTHESIS_PROFILE)."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Collection, Mapping, Sequence

from hypothesis import event, given, strategies as st

from portcheck import parsers
from portcheck.core.errors import InspectError
from portcheck.core.model import FIELDS
from portcheck.core.portspec import parse_port_spec
from portcheck.live.query import inspect
from portcheck.live.runner import ToolRun
from portcheck.platforms.base import OS
from tests.conftest import FIXTURES, run_cli
from tests.parsers.test_decode_fuzz import mutated_bytes
from tests.parsers.test_parsers_fuzz import check_row

CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

options = st.fixed_dictionaries(
    {},
    optional={
        "format": st.sampled_from(["table", "json", "ndjson", "csv"]),
        "port": st.sampled_from(["22", "80", "135", "8080", "60653", "1-1024", "0-65535", "443,5353"]),
        "strict": st.booleans(),
        "from": st.sampled_from([*parsers.FORMATS, "netstat"]),
        "remote": st.booleans(),
        "listening": st.booleans(),
    },
)


def argv_for(path: str, chosen: Mapping[str, object]) -> list[str]:
    args = ["parse", path]
    for key, value in chosen.items():
        if isinstance(value, bool):
            args += [f"--{key}"] if value else []
        else:
            args += [f"--{key}", str(value)]
    return args


def check_output(fmt: str, stdout: str) -> None:
    if fmt == "json":
        records = json.loads(stdout)
        assert isinstance(records, list)
        assert all(list(record) == list(FIELDS) for record in records)
    elif fmt == "ndjson":
        for line in stdout.splitlines():
            assert list(json.loads(line)) == list(FIELDS)
    elif fmt == "csv":
        table = list(csv.reader(io.StringIO(stdout)))
        assert table[0] == list(FIELDS)
        for row in table[1:]:
            assert len(row) == len(FIELDS)
            assert not any(cell.startswith(FORMULA_START) for cell in row), row
    else:
        assert not CONTROL.search(stdout), stdout


@given(data=mutated_bytes(), chosen=options)
def test_parse_command_on_damaged_input(data: bytes, chosen: dict[str, object]) -> None:
    with tempfile.NamedTemporaryFile(suffix=".txt", delete=False) as saved:
        saved.write(data)
    try:
        code, stdout, stderr = run_cli(*argv_for(saved.name, chosen))
    finally:
        os.unlink(saved.name)
    assert code in (0, 1, 2), stderr
    event(f"exit {code}")
    assert "internal error" not in stderr
    assert not CONTROL.search(stderr), stderr
    assert all(line.startswith("portcheck: ") for line in stderr.splitlines()), stderr
    if code == 2:
        assert stdout == ""
        assert len(stderr.splitlines()) >= 1
    else:
        check_output(str(chosen.get("format", "table")), stdout)


# --- the live path: every plan, every tool answering with damaged output --------------------------

RECORDED = [p.read_bytes() for p in sorted((FIXTURES / "live").glob("*.txt"))]


class FakeExecutor:
    """Answers every command from a list drawn by hypothesis: (output, exit status)."""

    local = False
    privileged = False
    user = None

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = answers
        self.calls = 0

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        output, status = self.answers[self.calls % len(self.answers)]
        self.calls += 1
        return ToolRun(tuple(argv), status, output, b"", 0.0)

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        return {}


recorded = st.sampled_from(RECORDED or [b""])
tool_output = st.one_of(
    recorded, recorded, mutated_bytes(RECORDED or [b""]), mutated_bytes(), st.binary(max_size=500)
)
"""Recorded output of the plans' tools, whole or damaged, other tools' output damaged, random bytes."""


@given(
    platform=st.sampled_from(list(OS)),
    answers=st.lists(
        st.tuples(tool_output, st.sampled_from([0, 0, 0, 0, 0, 1, 2, -9])), min_size=1, max_size=4
    ),
    ports=st.sampled_from([None, "22", "80", "8080,5432", "1-65535"]),
)
def test_live_query_on_damaged_tool_output(
    platform: OS, answers: list[tuple[bytes, int]], ports: str | None
) -> None:
    spec = parse_port_spec(ports) if ports else None
    try:
        answer = inspect(spec, platform=platform, executor=FakeExecutor(answers))
    except InspectError:
        event("no tool answered: InspectError")
        return
    event("answered with rows" if answer.rows else "answered: nothing matched")
    for row in answer.rows:
        check_row(row)
    assert answer.tool
