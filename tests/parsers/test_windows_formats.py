# ruff: noqa: E501  (real tool lines are wider than the code style allows)
"""Windows formats through the real CLI and the parsers: the cases a fixture file cannot show alone
(two files, exit codes, stderr, order of a combined paste, lines past the detection sample)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from portcheck.core.localised import ELEVATION_REQUIRED
from portcheck.core.model import Proto, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import resolve
from portcheck.parsers.detect import SAMPLE_LINES, detect
from portcheck.parsers.offline import parse_stream
from portcheck.parsers.windows import netstat as netstat_windows, powershell, tasklist
from tests.conftest import FIXTURES, run_cli

WINDOWS = FIXTURES / "windows"


def parse_pid_names(lines: list[str]) -> dict[int, str]:
    """The tasklist format's own parse: no sockets, every PID's name in the notes."""
    ctx = ParseContext()
    assert list(tasklist.parse(lines, ctx)) == []
    return ctx.notes.pid_names.names


LISTEN_60653 = "  TCP    0.0.0.0:60653          0.0.0.0:0              LISTENING       7212"
TASKS_CSV = '"System","4","Services","0","2,268 K"\r\n"node.exe","7212","Console","1","48,932 K"\r\n'


def test_findstr_lone_line_from_stdin() -> None:
    result = run_cli("parse", "--json", stdin=LISTEN_60653 + "\r\n")
    assert result.code == 0, result.stderr
    assert result.json() == [
        {
            "proto": "tcp",
            "family": "ipv4",
            "local_address": "0.0.0.0",
            "local_port": 60653,
            "remote_address": None,
            "remote_port": None,
            "state": "LISTEN",
            "pid": 7212,
            "process": None,
            "user": None,
            "source": "netstat-windows",
            "dual_stack": None,
            "cmdline": None,
            "started": None,
            "service": None,
            "container": None,
        }
    ]
    assert result.stderr == ""


def test_netstat_and_tasklist_as_two_files_in_either_order(tmp_path: Path) -> None:
    netstat = WINDOWS / "netstat-ano-en-utf16le-bom.txt"
    tasks = tmp_path / "tasklist.txt"
    tasks.write_text(TASKS_CSV, encoding="cp437")
    for files in ((netstat, tasks), (tasks, netstat)):
        result = run_cli("parse", *map(str, files), "--json", "--port", "60653")
        assert result.code == 0, result.stderr
        assert {(r["pid"], r["process"]) for r in result.json()} == {(7212, "node.exe")}
    result = run_cli("parse", str(netstat), str(tasks), "--json", "--port", "445")
    assert [r["process"] for r in result.json()] == ["System"]


def test_process_filter_sees_names_from_tasklist(tmp_path: Path) -> None:
    text = LISTEN_60653 + "\r\n" + TASKS_CSV
    result = run_cli("parse", "--json", "--process", "node", stdin=text)
    assert result.code == 0, result.stderr
    assert [r["process"] for r in result.json()] == ["node.exe"]


def test_tasklist_longer_than_the_detection_sample_then_netstat() -> None:
    """Detection sees only the tasklist; its parser still reads the netstat rows that follow."""
    tasks = [f'"worker{n}.exe","{1000 + n}","Console","1","1,024 K"' for n in range(SAMPLE_LINES + 50)]
    text = "\r\n".join([*tasks, "", LISTEN_60653.replace("7212", "1007"), ""])
    assert detect(text.splitlines()[:SAMPLE_LINES]) == "tasklist"
    result = run_cli("parse", "--json", stdin=text)
    assert result.code == 0, result.stderr
    assert [(r["local_port"], r["pid"], r["process"]) for r in result.json()] == [
        (60653, 1007, "worker7.exe")
    ]
    assert result.stderr == ""


def test_tasklist_alone_has_no_sockets_and_exits_1() -> None:
    result = run_cli("parse", str(WINDOWS / "tasklist-csv-nh.txt"))
    assert result.code == 1
    assert result.stdout == ""


def test_parse_pid_names_reads_every_tasklist_layout() -> None:
    csv_names = parse_pid_names((WINDOWS / "tasklist-csv-header-utf8.txt").read_text("utf-8").splitlines())
    assert csv_names[4] == "System"
    assert csv_names[8120] == "NVIDIA Web Helper.exe"
    assert "PID" not in csv_names.values()
    table = (WINDOWS / "tasklist-table-utf16le-bom.txt").read_text("utf-16")
    table_names = parse_pid_names(table.splitlines())
    assert table_names[0] == "System Idle Process"
    assert table_names[7212] == "node.exe"
    verbose = [
        "Image Name                     PID Session Name        Session#    Mem Usage Status          User Name",
        "========================= ======== ================ =========== ============ =============== =========",
        "svchost.exe                   1040 Services                   0     14,512 K Unknown         NT AUTHORITY\\SYSTEM",
        "node.exe                      7212 Console                    1     48,932 K Running         CONTOSO\\jdoe",
    ]
    assert parse_pid_names(verbose) == {1040: "svchost.exe", 7212: "node.exe"}
    assert parse_pid_names(
        ["svchost.exe                   1040 Services                   0     14.512 K"]
    ) == {1040: "svchost.exe"}


@pytest.mark.parametrize("message", ELEVATION_REQUIRED)
def test_elevation_message_exits_3_with_one_line(message: str) -> None:
    result = run_cli("parse", stdin=("\r\n" + message + "\r\n").encode("utf-16"))
    assert result.code == 3, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert "administrator" in result.stderr
    assert result.stdout == ""


def test_elevation_message_beside_rows_is_a_warning() -> None:
    result = run_cli(
        "parse", "--json", stdin=LISTEN_60653 + "\r\nThe requested operation requires elevation.\r\n"
    )
    assert result.code == 0
    assert len(result.json()) == 1
    assert "administrator rights" in result.stderr


def test_elevation_is_reported_by_the_parser_and_exit_3_decided_by_the_caller() -> None:
    ctx = ParseContext()
    assert list(netstat_windows.parse(["The requested operation requires elevation."], ctx)) == []
    assert ctx.notes.refused is not None and "administrator" in ctx.notes.refused
    read = ParseContext()
    parsed = parse_stream(io.BytesIO(b"The requested operation requires elevation.\r\n"), read)
    assert list(parsed.rows) == [] and read.notes.refused == ctx.notes.refused  # exit 3: the CLI test


@pytest.mark.parametrize(
    "line",
    [
        "  TCP    10.0.0.5:52014         140.82.113.25:443      SCHLIESSEN_WARTEN  5608",
        "  TCP    10.0.0.5:52014         140.82.113.25:443      SCHLIESSEN_WARTEN5608",
    ],
    ids=["spaced", "glued"],
)
def test_state_word_wider_than_its_column(line: str) -> None:
    ctx = ParseContext()
    [row] = netstat_windows.parse([line], ctx)
    assert (row.state, row.pid) == (State.CLOSE_WAIT, 5608)
    assert not ctx.notes.unknown_states


def test_unknown_word_is_named_once_on_stderr() -> None:
    result = run_cli("parse", str(WINDOWS / "netstat-ano-unknown-state.txt"))
    assert result.code == 0
    assert result.stderr.count("'LAUSCHEND'") == 1


@pytest.mark.parametrize("path", sorted(WINDOWS.glob("*.txt")), ids=lambda p: p.stem)
def test_no_windows_fixture_leaves_a_line_not_understood(path: Path) -> None:
    """Titles, headers and `-b` lines of every language are recognised, not merely skipped."""
    ctx = ParseContext()
    with path.open("rb") as stream:
        list(parse_stream(stream, ctx).rows)
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped


def test_lines_that_are_not_netstat_are_counted() -> None:
    ctx = ParseContext()
    lines = ["C:\\Users\\jdoe>netstat -ano | findstr :60653", LISTEN_60653, "TCP garbage"]
    rows = list(netstat_windows.parse(lines, ctx))
    assert len(rows) == 1
    assert ctx.notes.skipped == 2
    assert ctx.notes.first_skipped is not None and ctx.notes.first_skipped[0] == 1


def test_port_filter_applies_before_rows_are_built_and_b_lines_stay_quiet() -> None:
    ctx = ParseContext(frozenset({135}))
    text = (WINDOWS / "netstat-anob-en-utf16le-bom.txt").read_text("utf-16").splitlines()
    rows = list(netstat_windows.parse(text, ctx))
    assert {(r.local_address, r.process) for r in rows} == {("0.0.0.0", "svchost.exe"), ("::", "svchost.exe")}
    assert ctx.notes.skipped == 0


def test_netstat_alias_and_detection_against_other_windows_formats() -> None:
    assert "netstat-windows" in resolve("netstat")
    assert detect([LISTEN_60653]) == "netstat-windows"
    assert detect(['"node.exe","7212","Console","1","48,932 K"']) == "tasklist"
    assert detect(["LocalAddress  : ::", "LocalPort     : 80"]) == "powershell"


def test_powershell_rows_without_a_header() -> None:
    ctx = ParseContext()
    lines = [
        "0.0.0.0                             60653     0.0.0.0                             0          Listen                     7212",
        "192.168.1.23                        52044     52.113.194.132                      443        Established Internet       14460",
        "::                                  5355",
    ]
    rows = list(powershell.parse(lines, ctx))
    assert [(r.proto, r.local_port, r.state, r.pid) for r in rows] == [
        (Proto.TCP, 60653, State.LISTEN, 7212),
        (Proto.TCP, 52044, State.ESTABLISHED, 14460),
        (Proto.UDP, 5355, State.NONE, None),
    ]
    assert ctx.notes.skipped == 0


def test_powershell_7_coloured_header() -> None:
    lines = [
        "\x1b[32;1mLocalAddress LocalPort RemoteAddress RemotePort State  OwningProcess\x1b[0m",
        "\x1b[32;1m------------ --------- ------------- ---------- ------ -------------\x1b[0m",
        f"{'::':<12} {80:>9} {'::':<13} {0:>10} {'Listen':<6} {4:>13}",
    ]
    [row] = powershell.parse(lines)
    assert (row.local_port, row.state, row.pid) == (80, State.LISTEN, 4)


WIDE_TABLE = [
    "LocalAddress                        LocalPort RemoteAddress                       RemotePort State       "
    "AppliedSetting OwningProcess",
    "------------                        --------- -------------                       ---------- -----       "
    "-------------- -------------",
    "::                                  3000      ::                                  0          Listen      "
    "               15820",
    "127.0.0.1                           3000      127.0.0.1                           51544      Established "
    "Internet       15820",
    "fe80::1c2b:3d4e:5f60:7a8b%12        3000      fe80::9abc:def0:1234:5678%12        50001      Established "
    "Internet       15820",
    "0.0.0.0                             3001      0.0.0.0                             0          Listen",
]
"""A default-width Get-NetTCPConnection table (PowerShell 5.1's column widths), the last row without its
OwningProcess (a Select-Object that dropped it for one row does not exist, but a cut paste does)."""


def _wrap(lines: list[str], width: int) -> list[str]:
    """As a mail client wraps plain text: greedily at blanks, the blanks at each break dropped."""
    import textwrap

    return [part for line in lines for part in textwrap.wrap(line, width, break_on_hyphens=False)]


@pytest.mark.parametrize("width", [60, 72, 76, 80, 200])
def test_powershell_table_mailed_at_any_width_keeps_its_pids(width: int) -> None:
    """The header's last names, their underlines and each row's last values move to lines of their own
    (at 60 columns the IPv6 row takes three lines): read as the parts side by side, every row keeps
    its PID, and no line is left over."""
    ctx = ParseContext()
    rows = list(powershell.parse(_wrap(WIDE_TABLE, width), ctx))
    assert [(r.local_address, r.local_port, r.remote_port, r.state, r.pid) for r in rows] == [
        ("::", 3000, None, State.LISTEN, 15820),
        ("127.0.0.1", 3000, 51544, State.ESTABLISHED, 15820),
        ("fe80::1c2b:3d4e:5f60:7a8b%12", 3000, 50001, State.ESTABLISHED, 15820),
        ("0.0.0.0", 3001, None, State.LISTEN, None),
    ]
    assert ctx.notes.skipped == 0
    # Get-Process's table (71 columns) wraps below 72: ProcessName alone under the header, names on
    # the next line; its PIDs still name the connections'
    named = ParseContext()
    assert list(powershell.parse(_wrap(GET_PROCESS, width), named)) == []
    assert (named.notes.pid_names.names, named.notes.skipped) == ({15820: "node", 4: "System"}, 0)


GET_PROCESS = [
    "Handles  NPM(K)    PM(K)      WS(K)     CPU(s)     Id  SI ProcessName",
    "-------  ------    -----      -----     ------     --  -- -----------",
    "    213      17    40312      52108       0.89  15820   1 node",
    "   4203       0      192       3180     127.48      4   0 System",
]


@pytest.mark.parametrize("width", [30, 40, 60])
def test_powershell_wrapped_select_object_with_any_column_names(width: int) -> None:
    """A Select-Object's own columns (`CommandLine`) move like the others, over as many lines as it takes."""
    table = [
        "LocalAddress LocalPort State  OwningProcess CommandLine",
        "------------ --------- -----  ------------- -----------",
        "0.0.0.0           8080 Listen          4242 node.exe",
    ]
    ctx = ParseContext()
    [row] = powershell.parse(_wrap(table, width), ctx)
    assert (row.local_port, row.state, row.pid, ctx.notes.skipped) == (8080, State.LISTEN, 4242, 0)


def test_powershell_wrapped_header_with_one_underline_reads_what_arrived() -> None:
    """A header whose next line is only column names, then a single underline: not a wrapped table
    after all (the second line of names had no underline); the first part's columns are read."""
    ctx = ParseContext()
    lines = [
        "LocalAddress LocalPort State",
        "OwningProcess",
        "------------ --------- ------",
        "0.0.0.0           8080 Listen",
    ]
    [row] = powershell.parse(lines, ctx)
    assert (row.local_port, row.state, row.pid) == (8080, State.LISTEN, None)


def test_powershell_header_parts_are_bounded() -> None:
    """Lines of column names after a header are its wrapped parts only up to MAX_HEADER_PARTS: the
    rest are lines not understood, not parts held in memory."""
    ctx = ParseContext()
    lines = ["LocalAddress LocalPort State", *["OwningProcess"] * 50]
    assert list(powershell.parse(lines, ctx)) == []
    assert ctx.notes.skipped == 50 - (powershell.MAX_HEADER_PARTS - 1)


def test_powershell_columns_removed_warning() -> None:
    ctx = ParseContext()
    lines = ["WARNING: 1 columns do not fit into the display and were removed."]
    assert list(powershell.parse(lines, ctx)) == []
    assert ctx.notes.skipped == 0
    assert any("OwningProcess" in m for m in ctx.notes.messages)


@pytest.mark.parametrize(
    "name", ["combined-netstat-then-tasklist-csv", "combined-tasklist-table-then-netstat-de-cp850"]
)
def test_a_combined_paste_is_detected_as_netstat(name: str) -> None:
    ctx = ParseContext()
    with (WINDOWS / f"{name}.txt").open("rb") as stream:
        assert parse_stream(stream, ctx).format == "netstat-windows"


def test_an_overlong_line_is_reported_not_held() -> None:
    text = LISTEN_60653 + "\r\n" + "x" * 200_000 + "\r\n" + LISTEN_60653.replace("60653", "60654") + "\r\n"
    result = run_cli("parse", "--json", stdin=text)
    assert result.code == 0
    assert [r["local_port"] for r in result.json()] == [60653, 60654]
    assert "1 line not understood, first at line 2" in result.stderr
    assert "longer than" in result.stderr


def test_tasklist_csv_line_with_a_stray_carriage_return() -> None:
    assert parse_pid_names(['"node.exe",7212\r,"Console"', '"svchost.exe","1040","Services","0","8 K"']) == {
        1040: "svchost.exe"
    }


def test_powershell_not_found_error_means_the_port_is_free() -> None:
    text = (
        "Get-NetTCPConnection : No MSFT_NetTCPConnection objects found with property 'LocalPort' equal to "
        "'60653'.  Verify the value of the property and retry.\r\n"
        "At line:1 char:1\r\n"
        "+ Get-NetTCPConnection -LocalPort 60653\r\n"
        "+ ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\r\n"
        "    + CategoryInfo          : ObjectNotFound: (60653:UInt32) [Get-NetTCPConnection], CimJobException\r\n"
        "    + FullyQualifiedErrorId : CmdletizationQuery_NotFound_LocalPort,Get-NetTCPConnection\r\n"
        "\r\n"
    )
    result = run_cli("parse", "-v", stdin=text.encode("utf-16"))
    assert result.code == 1, result.stderr
    assert "format powershell" in result.stderr
    assert "not understood" not in result.stderr
