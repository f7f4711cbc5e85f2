"""Every option, format and exit code of the main query (`portcheck PORT...`) through the real CLI,
against real sockets: a child holding TCP/UDP on IPv4/IPv6 (filters), real processes whose names are
hostile (`\\x1b[2J`, `\\x07`, `=HYPERLINK(1)`, set with prctl) for escaping; CSV read back with the csv
module and JSON checked against the field contract."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portcheck.core.model import FIELDS, State
from portcheck.live.hints import OWN_SOCKETS_HINT
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, Result, run_cli
from tests.helpers.cli import listener, reserved_port, spawn_cli
from tests.helpers.live import Holder, fake_tool, socket_holder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")

TYPES = {
    "proto": (str,),
    "family": (str, type(None)),
    "local_address": (str,),
    "local_port": (int, type(None)),
    "remote_address": (str, type(None)),
    "remote_port": (int, type(None)),
    "state": (str,),
    "pid": (int, type(None)),
    "process": (str, type(None)),
    "user": (str, type(None)),
    "source": (str,),
    "dual_stack": (bool, type(None)),
    "cmdline": (str, type(None)),
    "started": (str, type(None)),
    "service": (str, type(None)),
    "container": (str, type(None)),
}


def check_contract(record: dict[str, object]) -> None:
    """One JSON record against DESIGN.md's field contract: names in order, types, enumerations."""
    assert list(record) == list(FIELDS)
    for name, value in record.items():
        assert isinstance(value, TYPES[name]), (name, value)
    assert record["proto"] in ("tcp", "udp")
    assert record["family"] in ("ipv4", "ipv6", None)
    assert record["state"] in {s.value for s in State}
    assert (record["remote_address"] is None) == (record["remote_port"] is None)


@pytest.fixture(scope="module")
def holder() -> Iterator[Holder]:
    with socket_holder("pc-options") as held:
        yield held


def rows_of(result: Result) -> list[dict[str, object]]:
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    for row in rows:
        check_contract(row)
    return rows


def all_ports(holder: Holder) -> str:
    return ",".join(str(p) for p in holder.ports.values())


# --- filters ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {"tcp4", "tcp4-established", "tcp6", "udp4", "udp6"}),
        (["--tcp"], {"tcp4", "tcp4-established", "tcp6"}),
        (["--udp"], {"udp4", "udp6"}),
        (["-u", "-6"], {"udp6"}),
        (["-4"], {"tcp4", "tcp4-established", "udp4"}),
        (["-6"], {"tcp6", "udp6"}),
        (["--listening"], {"tcp4", "tcp6", "udp4", "udp6"}),
        (["-l", "-t", "-4"], {"tcp4"}),
        (["--state", "established"], {"tcp4-established"}),
        (["--state", "LISTEN", "--state", "NONE"], {"tcp4", "tcp6", "udp4", "udp6"}),
        (["--process", "PC-OPT"], {"tcp4", "tcp4-established", "tcp6", "udp4", "udp6"}),
        (["--process", "nginx"], set()),
        (["--pid", "1"], set()),
    ],
)
def test_filters(holder: Holder, args: list[str], expected: set[str]) -> None:
    result = run_cli(all_ports(holder), *args, "--json")
    if not expected:
        assert result.code == 1 and result.stdout == "[]\n"
        return
    found = set()
    for row in rows_of(result):
        kind = f"{row['proto']}{'4' if row['family'] == 'ipv4' else '6'}"
        found.add(kind + ("-established" if row["state"] == "ESTABLISHED" else ""))
        assert (row["pid"], row["process"]) == (holder.pid, holder.name)
    assert found == expected


def test_pid_filter_and_remote(holder: Holder) -> None:
    mine = rows_of(run_cli(str(holder.ports["tcp4"]), "--pid", str(holder.pid), "--json"))
    assert {r["state"] for r in mine} == {"LISTEN", "ESTABLISHED"}
    plain = rows_of(run_cli(str(holder.ports["tcp4"]), "--json"))
    remote = rows_of(run_cli(str(holder.ports["tcp4"]), "--remote", "--json"))
    client = [r for r in remote if r not in plain]
    assert [(r["local_port"], r["remote_port"]) for r in client] == [
        (holder.ports["client"], holder.ports["tcp4"])
    ]


# --- formats ----------------------------------------------------------------------------------------


def test_json_ndjson_and_csv_agree(holder: Holder) -> None:
    ports = all_ports(holder)
    as_json = rows_of(run_cli(ports, "--json"))
    assert rows_of(run_cli(ports, "--format", "json")) == as_json
    ndjson = run_cli(ports, "--format", "ndjson")
    assert ndjson.code == 0
    assert [json.loads(line) for line in ndjson.stdout.splitlines()] == as_json
    table = list(csv.reader(io.StringIO(run_cli(ports, "-f", "csv").stdout)))
    assert table[0] == list(FIELDS)
    as_text = [
        ["" if v is None else json.dumps(v) if isinstance(v, bool) else str(v) for v in r.values()]
        for r in as_json
    ]
    assert table[1:] == as_text
    no_header = list(csv.reader(io.StringIO(run_cli(ports, "-f", "csv", "--no-header").stdout)))
    assert no_header == as_text


def test_table_is_sorted_listeners_first(holder: Holder) -> None:
    result = run_cli(all_ports(holder), "--format", "table")
    header, _, *lines = result.stdout.splitlines()
    assert header.split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER"]
    states = [line.split()[3] for line in lines]
    established = states.index("ESTABLISHED")
    assert established > 0 and set(states[established:]) == {"ESTABLISHED"}
    listeners = [int(line.split()[1].rsplit(":", 1)[1]) for line in lines[:established]]
    assert listeners == sorted(listeners)
    assert f"[::1]:{holder.ports['tcp6']}" in result.stdout  # IPv6 intact, bracketed


def test_fields_no_header_and_table_formats(holder: Holder) -> None:
    port = str(holder.ports["udp4"])
    plain = run_cli(port, "--fields", "local_port,pid,process", "--no-header")
    assert plain.stdout.split() == [port, str(holder.pid), holder.name]
    github = run_cli(port, "--table-format", "github", "--fields", "proto,local_port").stdout.splitlines()
    assert github[0].replace(" ", "") == "|PROTO|PORT|" and set(github[1]) <= {"|", "-", ":"}
    grid = run_cli(port, "--table-format", "grid").stdout
    assert grid.startswith("+---") and "| udp " in grid
    csv_fields = run_cli(port, "-f", "csv", "--fields", "process,local_port").stdout
    assert csv_fields == f"process,local_port\n{holder.name},{port}\n"


@pytest.mark.parametrize(
    "args",
    [
        ["--format", "xml"],
        ["--fields", "local_port,color"],
        ["80;id"],
        ["$(id)"],
        ["-1"],
        ["70000"],
        ["1-2-3"],
        ["90-80"],
    ],
)
def test_usage_errors_exit_2_with_one_line(args: list[str]) -> None:
    result = run_cli(*(args if not args[0].startswith("--") else ["8080", *args]))
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    bad = args[-1] if not args[0].startswith("--") else None
    if bad is not None:
        assert repr(bad) in result.stderr  # the bad value, quoted


def test_exit_codes_0_1_3(tmp_path: Path, holder: Holder) -> None:
    assert run_cli(str(holder.ports["tcp4"])).code == 0
    with reserved_port() as free:
        nothing = run_cli(str(free))
    assert (nothing.code, nothing.stdout) == (1, "")
    cannot = run_cli("8080", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert cannot.code == 3 and "cannot inspect" in cannot.stderr


def test_quiet_silences_hints_but_not_data(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=FIXTURES / "live" / "macos-lsof-i.txt")
    env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"}
    loud = run_cli("8080", env=env)
    assert OWN_SOCKETS_HINT in loud.stderr
    quiet = run_cli("8080", "--quiet", env=env)
    assert quiet.code == 0 and quiet.stderr == "" and quiet.stdout == loud.stdout


def test_empty_owner_columns_are_dropped(tmp_path: Path) -> None:
    """FreeBSD netstat names no processes: no PID, PROCESS or USER column at all."""
    fake_tool(tmp_path, "netstat", output=FIXTURES / "live" / "freebsd-netstat-anW.txt")
    result = run_cli("22", "-q", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "freebsd"})
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["PROTO", "LOCAL", "REMOTE", "STATE"]


# --- untrusted text from real processes ------------------------------------------------------------------

HOSTILE = "ev\x1b[2Jil\x07x"


def test_table_escapes_a_real_process_name_with_control_characters() -> None:
    with listener(HOSTILE) as child:
        table = run_cli(str(child.port))
        as_json = run_cli(str(child.port), "--json")
    assert table.code == 0, table.stderr
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout
    assert "ev\\x1b[2Jil\\x07x" in table.stdout
    assert [r["process"] for r in rows_of(as_json)] == [HOSTILE]  # JSON keeps the exact value


def test_csv_neutralises_a_real_process_named_like_a_formula(tmp_path: Path) -> None:
    """Through /proc (an empty PATH), which reads the name exactly; ss itself cuts a name at its first
    `)` (it reads /proc/PID/stat with `%[^)]`), so through ss the cell is `'=HYPERLINK(1`."""
    with listener("=HYPERLINK(1)") as child:
        result = run_cli(str(child.port), "--format", "csv", env={"PATH": str(tmp_path)})
        as_json = run_cli(str(child.port), "--json", env={"PATH": str(tmp_path)})
        through_ss = run_cli(str(child.port), "--format", "csv", "--fields", "process")
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(row["process"], row["source"]) for row in table] == [("'=HYPERLINK(1)", "proc")]
    assert [r["process"] for r in rows_of(as_json)] == ["=HYPERLINK(1)"]
    assert through_ss.stdout.splitlines()[1].startswith("'=HYPERLINK(1")


# --- on a terminal ---------------------------------------------------------------------------------------


def test_terminal_width_cuts_the_process_cell_only() -> None:
    import pexpect

    with listener("a-long-name-15c") as child:
        session = spawn_cli(str(child.port), env={"NO_COLOR": "1"})
        session.setwinsize(24, 70)
        session.expect(pexpect.EOF)
    lines = [line for line in session.before.splitlines() if line.strip()]
    assert max(len(line) for line in lines) <= 70, lines
    assert f"127.0.0.1:{child.port}" in session.before and "…" in session.before
    assert "a-long-name-15c" not in session.before


def test_colour_on_a_terminal_and_none_with_no_color() -> None:
    import pexpect

    with listener("pc-colour") as child:
        coloured = spawn_cli(str(child.port))
        coloured.expect(pexpect.EOF)
        plain = spawn_cli(str(child.port), env={"NO_COLOR": "1"})
        plain.expect(pexpect.EOF)
    assert "\x1b[32mLISTEN" in coloured.before
    assert "\x1b[" not in plain.before
