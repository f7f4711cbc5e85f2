"""`portcheck parse` through the real entry point: formats, filters, exit codes, stderr discipline."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from portcheck.core.model import FIELDS
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, run_cli
from tests.helpers.live import fake_tool

SS_TEXT = (FIXTURES / "linux" / "ss-old-no-pid-labels.txt").read_text()


def test_table_by_default_and_exit_0() -> None:
    result = run_cli("parse", "-", stdin=SS_TEXT)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["PROTO", "LOCAL", "REMOTE"]
    assert "rpcbind" in result.stdout
    assert result.stderr == ""


def test_json_has_exactly_the_contract_fields() -> None:
    rows = run_cli("parse", "--json", stdin=SS_TEXT).json()
    assert isinstance(rows, list) and rows
    assert all(list(row) == list(FIELDS) for row in rows)


def test_csv_reads_back_with_the_csv_module() -> None:
    result = run_cli("parse", "--format", "csv", stdin=SS_TEXT)
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0] == list(FIELDS)
    assert {row[FIELDS.index("process")] for row in table[1:]} == {"rpcbind", "sshd", "master"}


def test_port_filter_and_no_match_exit_1() -> None:
    rows = run_cli("parse", "--json", "--port", "22", stdin=SS_TEXT).json()
    assert {row["local_port"] for row in rows} == {22}
    result = run_cli("parse", "--port", "60653", stdin=SS_TEXT)
    assert result.code == 1
    assert result.stdout == ""


def test_empty_input_exits_1_with_a_note() -> None:
    result = run_cli("parse", stdin=b"")
    assert result.code == 1
    assert "empty" in result.stderr


def test_unrecognisable_input_exits_2_with_one_line() -> None:
    result = run_cli("parse", stdin="Dear support, my port is broken.\nThanks!\n")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1
    assert "supported" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_port_spec_exits_2_quoting_it() -> None:
    result = run_cli("parse", "--port", "80;id", stdin=SS_TEXT)
    assert result.code == 2
    assert "80;id" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_unknown_option_is_one_line_exit_2() -> None:
    result = run_cli("parse", "--no-such-option")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1


def test_missing_file_exits_2() -> None:
    result = run_cli("parse", "/nonexistent/file.txt")
    assert result.code == 2
    assert "no such file" in result.stderr


def test_skipped_lines_are_counted_on_stderr_and_strict_fails() -> None:
    text = "[root@web ~]# ss -tlnp | grep 22\n" + SS_TEXT + "-- More --\n"
    result = run_cli("parse", stdin=text)
    assert result.code == 0
    assert "1 line not understood, first at line 8" in result.stderr  # the prompt line is no output
    assert run_cli("parse", "--strict", stdin=text).code == 2


def test_version() -> None:
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("portcheck ")


def test_unknown_table_format_is_refused() -> None:
    result = run_cli("parse", "--table-format", "gird", stdin=SS_TEXT)
    assert result.code == 2
    assert "gird" in result.stderr and "grid" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert run_cli("parse", "--table-format", "grid", stdin=SS_TEXT).stdout.startswith("+")


# --- hints about the machine the paste came from (issue 12) ---------------------------------------------

SS_WITHOUT_OWNERS = (
    "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n"
    "tcp   LISTEN 0      128    0.0.0.0:8080       0.0.0.0:*\n"
)


def test_a_paste_without_owners_names_the_command_to_run_there() -> None:
    """Not --sudo (that runs tools on THIS machine): the command, as root, on the machine the text is from."""
    result = run_cli("parse", stdin=SS_WITHOUT_OWNERS)
    assert result.code == 0
    assert result.stderr == (
        "portcheck: some sockets show no process: if the ss output was made without root (or without its "
        "process option), run `sudo ss -tunap` on the machine it came from to see every owner\n"
    )
    czech = run_cli("parse", str(FIXTURES / "linux" / "netstat-tunap-cs-nobody.txt"))
    assert czech.code == 0
    assert czech.stderr.count("run `sudo netstat -tunap` on the machine it came from") == 1, czech.stderr
    assert "--sudo" not in czech.stderr
    windows = run_cli("parse", str(FIXTURES / "windows" / "netstat-ano-de-cp850.txt"))
    assert "sudo" not in windows.stderr  # every PID is there without elevation


ADDRESS_OF_23 = (
    "tcp6       0      0 ::ffff:10.10.200.1:8080 :::*                    LISTEN      4242/server\n"
)


def test_netstat_w_is_suggested_for_a_paste_not_after_running_it(tmp_path: Path) -> None:
    """The live query runs `netstat -W`: an address exactly 23 characters wide was not cut."""
    pasted = run_cli("parse", stdin=ADDRESS_OF_23)
    assert "run netstat -W (wide)" in pasted.stderr
    fake_tool(tmp_path, "netstat", output=ADDRESS_OF_23)
    live = run_cli("8080", "--verbose", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "linux"})
    assert live.code == 0, live.stderr
    assert "answered by netstat: netstat -tunapeW" in live.stderr
    assert "-W (wide)" not in live.stderr and "::ffff:10.10.200.1" in live.stdout


def test_verbose_says_which_lines_were_read_as_which_format(tmp_path: Path) -> None:
    ss = (FIXTURES / "linux" / "ss-tlnp.txt").read_text(encoding="utf-8").splitlines()
    windows = (FIXTURES / "windows" / "netstat-an-en-cp437.txt").read_bytes().decode("cp437").splitlines()
    chat = "[10:42] alice: and on the Mac: `tcp4 0 0 *.5000 *.* LISTEN`"
    lines = ["$ ss -tlnp", *ss, "C:\\Users\\alice>netstat -an", *windows, chat, "C:\\Users\\alice>"]
    paste = tmp_path / "paste.txt"
    paste.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli("parse", str(paste), "--verbose")
    assert result.code == 0, result.stderr
    said = [line.split(": ", 2)[2] for line in result.stderr.splitlines() if line.startswith("portcheck: /")]
    windows_from = len(ss) + 2
    assert said == [
        "read as utf-8, formats ss, netstat-windows, netstat-bsd",
        f"lines 1-{windows_from - 1}: ss (after `ss -tlnp`)",
        f"lines {windows_from}-{len(lines) - 1}: netstat-windows (after `netstat -an`)",
        f"line {len(lines) - 1}: netstat-bsd (lines not understood above, read again)",
        f"line {len(lines)}: a prompt, and no output after it",
    ]
