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
from tests.conftest import FIXTURES, Result, run_cli, run_process
from tests.helpers.cli import listener, reserved_port, spawn_cli
from tests.helpers.live import Holder, fake_tool, own_name, socket_holder
from tests.helpers.ports import free_port

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
    with socket_holder(own_name("pc-options")) as held:
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
        if row["state"] == "TIME_WAIT" and row["pid"] is None:
            continue  # a closed connection of another test that had one of these port numbers
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


def neutral(text: str) -> str:
    """What a file's CSV writes for a text with line breaks (a command line may hold them)."""
    return text.replace("\x00", "\\x00").replace("\r", "\\x0d").replace("\n", "\\x0a")


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
        ["" if v is None else json.dumps(v) if isinstance(v, bool) else neutral(str(v)) for v in r.values()]
        for r in as_json
    ]
    assert table[1:] == as_text
    no_header = list(csv.reader(io.StringIO(run_cli(ports, "-f", "csv", "--no-header").stdout)))
    assert no_header == as_text


def test_table_is_sorted_listeners_first(holder: Holder) -> None:
    result = run_cli(all_ports(holder), "--format", "table")
    header, _, *shown = result.stdout.splitlines()
    assert header.split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER"]
    # Another test's closed connection on one of these port numbers (TIME_WAIT, no PID) is not ours.
    lines = [line for line in shown if line.split()[4] == str(holder.pid)]
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


def test_exit_codes_0_1_2_3(tmp_path: Path, holder: Holder) -> None:
    """Each exit code from a real process, `python -m portcheck` (the other tests run the CLI in-process)."""
    assert run_process(str(holder.ports["tcp4"])).code == 0
    with reserved_port() as hidden:  # bound, not listening: no tool lists it
        nothing = run_process(str(hidden), "--no-bind")
        found = run_process(str(hidden), "--json")
    assert (nothing.code, nothing.stdout) == (1, "")
    assert (found.code, found.json()) == (0, [])  # the bind test: something holds it
    assert f"binding 0.0.0.0:{hidden} (tcp) fails with EADDRINUSE" in found.stderr
    free = run_process(str(free_port()))
    assert (free.code, free.stdout) == (1, "")
    usage = run_process("70000")
    assert (usage.code, usage.stdout) == (2, "")
    assert usage.stderr == "portcheck: invalid port '70000': 70000 is above 65535\n"
    cannot = run_process("8080", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert cannot.code == 3 and "cannot inspect" in cannot.stderr


def test_no_hints_silences_hints_but_not_data(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=FIXTURES / "live" / "macos-lsof-i.txt")
    env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"}
    loud = run_cli("8080", env=env)
    assert OWN_SOCKETS_HINT in loud.stderr
    hushed = run_cli("8080", "--no-hints", env=env)
    assert hushed.code == 0 and hushed.stderr == "" and hushed.stdout == loud.stdout


def test_quiet_prints_nothing_like_grep_q(tmp_path: Path) -> None:
    """`if portcheck 8080 -q; then`: the exit status alone, no table and no hints."""
    fake_tool(tmp_path, "lsof", output=FIXTURES / "live" / "macos-lsof-i.txt")
    env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"}
    quiet = run_cli("8080", "-q", env=env)
    assert (quiet.code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert (run_cli("8081", "--quiet", env=env).code, run_cli("8081", "--quiet", env=env).stdout) == (1, "")


def test_empty_owner_columns_are_dropped(tmp_path: Path) -> None:
    """FreeBSD netstat names no processes: no PID, PROCESS or USER column at all."""
    fake_tool(tmp_path, "netstat", output=FIXTURES / "live" / "freebsd-netstat-anW.txt")
    result = run_cli("22", "--no-hints", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "freebsd"})
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
        # The size is the pty's from the start: set after spawning, portcheck may have read 80 already.
        session = spawn_cli(str(child.port), env={"NO_COLOR": "1"}, dimensions=(24, 70))
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


def test_no_color_set_but_empty_keeps_colour() -> None:
    """no-color.org: only a NO_COLOR that is set AND not empty turns colour off."""
    import pexpect

    with listener("pc-colour") as child:
        session = spawn_cli(str(child.port), env={"NO_COLOR": ""})
        session.expect(pexpect.EOF)
    assert "\x1b[32mLISTEN" in session.before


# --- issue 12: what -q, the output options and a free port say -------------------------------------------


def test_quiet_prints_nothing_for_real_sockets(holder: Holder) -> None:
    port = str(holder.ports["tcp4"])
    busy = run_cli(port, "-q")
    assert (busy.code, busy.stdout, busy.stderr) == (0, "", "")
    idle = run_cli(str(free_port()), "--quiet")
    assert (idle.code, idle.stdout, idle.stderr) == (1, "", "")
    with reserved_port() as hidden:  # bound, not listening: the bind test finds it, -q says nothing
        found = run_cli(str(hidden), "--quiet")
    assert (found.code, found.stdout, found.stderr) == (0, "", "")
    hushed = run_cli(port, "--no-hints", "--fields", "pid")
    assert hushed.code == 0 and str(holder.pid) in hushed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-f", "csv", "--json"], "--json and --format csv ask for two formats: give one"),
        (["--json", "--format", "table"], "--json and --format table ask for two formats: give one"),
        (["-q", "--json"], "--quiet prints nothing on stdout, so --json would print nothing either"),
        (["-q", "-f", "csv"], "--quiet prints nothing on stdout, so --format would print nothing either"),
        (["-q", "--watch", "1"], "--watch draws a table and --quiet prints nothing: give one"),
    ],
)
def test_conflicting_output_options_are_refused(args: list[str], message: str) -> None:
    result = run_cli("8080", *args)
    assert (result.code, result.stdout) == (2, "")
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_json_with_format_json_is_no_conflict(holder: Holder) -> None:
    assert rows_of(run_cli(str(holder.ports["udp4"]), "--json", "--format", "JSON"))


def test_fields_take_the_headers_spellings(holder: Holder) -> None:
    """The table's header says PID, LOCAL, PORT: --fields takes those words, in any case."""
    port = str(holder.ports["tcp4"])
    table = run_cli(port, "-l", "--fields", "PID,Local,port,LOCAL ADDRESS,Process")
    assert table.code == 0, table.stderr
    header, _, line = table.stdout.splitlines()
    assert header.split() == ["PID", "LOCAL", "PORT", "LOCAL", "ADDRESS", "PROCESS"]
    assert line.split() == [str(holder.pid), f"127.0.0.1:{port}", port, "127.0.0.1", holder.name]
    # Outside a table, LOCAL is what it shows: the address and the port fields.
    as_csv = run_cli(port, "-l", "-f", "csv", "--fields", "pid,local,remote-port").stdout
    assert as_csv == f"pid,local_address,local_port,remote_port\n{holder.pid},127.0.0.1,{port},\n"


def test_pid_without_a_port_shows_every_socket_of_it(holder: Holder) -> None:
    """`portcheck --pid N`: its connections and UDP sockets too, not only its listeners."""
    rows = rows_of(run_cli("--pid", str(holder.pid), "--json"))
    assert {(r["local_port"], r["state"]) for r in rows} == {
        (holder.ports["tcp4"], "LISTEN"),
        (holder.ports["tcp4"], "ESTABLISHED"),
        (holder.ports["client"], "ESTABLISHED"),
        (holder.ports["tcp6"], "LISTEN"),
        (holder.ports["udp4"], "NONE"),
        (holder.ports["udp6"], "NONE"),
    }
    by_name = rows_of(run_cli("--process", holder.name, "--json"))
    assert len(by_name) == len(rows)
    established = rows_of(run_cli("--state", "established", "--pid", str(holder.pid), "--json"))
    assert {r["local_port"] for r in established} == {holder.ports["tcp4"], holder.ports["client"]}
    listening = rows_of(run_cli("--pid", str(holder.pid), "-l", "--json"))
    assert {r["state"] for r in listening} == {"LISTEN", "NONE"}


def test_a_free_port_says_so_on_a_terminal_and_nothing_in_a_script() -> None:
    import pexpect

    free = free_port()
    session = spawn_cli(str(free), env={"NO_COLOR": "1"})
    session.expect(pexpect.EOF)
    session.close()
    assert session.exitstatus == 1
    said = (
        f"portcheck: nothing uses port {free}; binding 0.0.0.0:{free} and [::]:{free} (tcp and udp) succeeded"
    )
    assert session.before.strip() == said
    narrowed = spawn_cli(str(free), "-u", "-6")
    narrowed.expect(pexpect.EOF)
    assert f"portcheck: nothing on port {free} matches: udp, IPv6; binding [::]:{free} (udp) succeeded" in (
        narrowed.before
    )
    listening = spawn_cli(str(free), "-l", "--no-hints")  # -l asks about some sockets: no bind test
    listening.expect(pexpect.EOF)
    assert listening.before.strip() == f"portcheck: nothing on port {free} matches: listening"
    quiet = spawn_cli(str(free), "-q")
    quiet.expect(pexpect.EOF)
    assert quiet.before == ""
    piped = run_cli(str(free))  # a script: the exit status alone
    verbose = run_cli(str(free), "-v", "--no-bind")  # --verbose says it anywhere
    assert (piped.code, piped.stdout, piped.stderr) == (1, "", "")
    assert verbose.stderr.splitlines()[-1] == f"portcheck: nothing uses port {free}"
