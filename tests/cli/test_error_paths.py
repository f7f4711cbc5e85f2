"""Every way a mistake or a fault reaches the user ends in one line on stderr and the contract's exit code:
usage errors of every command and option, closed or odd standard streams, a full disk, and a bug
(`internal error ... please report`, exit 2 on the input side, 3 on the inspection side).

The option matrix runs in-process (main() with redirected streams: milliseconds per case); what
depends on the process itself (closed descriptors, locale, exit status) runs the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli, run_process

SS_FILE = FIXTURES / "linux" / "ss-old-no-pid-labels.txt"
SS_ROW = 'tcp   LISTEN 0      128    0.0.0.0:22     0.0.0.0:*    users:(("{name}",pid=998,fd=3))\n'


def one_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("portcheck: ")
    return lines[0]


USAGE_ERRORS = [
    # the port, as typed to the live query and to parse --port
    (["70000"], "invalid port '70000': 70000 is above 65535"),
    (["80-70"], "invalid port '80-70': range 80-70 is descending; write 70-80"),
    (["-1"], "invalid port '-1': ports cannot be negative"),
    (["80,,81"], "invalid port '80,,81': empty item in the comma list"),
    (["1-2-3"], "invalid port '1-2-3': a range has exactly two ends, like 8000-8100"),
    (["80;id"], "invalid port '80;id': expected a number 0-65535"),
    (["٨٠"], "invalid port '٨٠': expected a number 0-65535"),  # Arabic-Indic digits: isdigit() is True
    (["$(reboot)"], "invalid port '$(reboot)': expected a number"),
    (["80", "--timeout", "0"], "--timeout must be a positive number of seconds"),
    (["80", "--timeout", "-1"], "--timeout must be a positive number of seconds"),
    (["80", "--timeout", "nan"], "--timeout must be a positive number of seconds"),
    (["80", "--timeout", "inf"], "--timeout must be a positive number of seconds"),
    (["80", "--timeout", "soon"], "Invalid value for '--timeout': 'soon' is not a valid float."),
    (["80", "--state", "SLEEPY"], "unknown state 'SLEEPY'; states are: LISTEN"),
    (["80", "--pid", "abc"], "Invalid value for '--pid': 'abc' is not a valid int"),
    (["80", "--format", "xml"], "unknown output format 'xml'; choose one of: table, json, ndjson, csv"),
    (["80", "--fields", "pid,colour"], "unknown field 'colour'; fields are: proto"),
    (["80", "--no-such-option"], "No such option: --no-such-option"),
    (["kill", "80", "--grace", "nan"], "--grace must be 0 or more seconds"),
    (["kill", "80", "--grace", "inf"], "--grace must be 0 or more seconds"),
    (["kill", "80", "--signal", "STOP"], "unknown signal 'STOP'"),
    (["kill", "80", "--signal", "10"], "signal number 10 means different signals on different systems"),
    (["kill", "80", "--sudo"], "kill has no --sudo"),
    (["wait", "80", "--listening", "--timeout", "nan"], "--timeout must be 0 (forever) or more seconds"),
    (["wait", "80", "--listening", "--interval", "inf"], "--interval must be a positive number of seconds"),
    (["wait", "80"], "say what to wait for: --listening (a server is up) or --free (it is gone)"),
    (["wait", "80", "--listening", "--free"], "--listening and --free contradict each other"),
    (["info", "abc"], "invalid port 'abc': no service is registered as 'abc'; expected a number"),
    (["80", "--watch", "0"], "--watch 0: the refresh interval is in seconds, 0.1 to 3600"),
    (["80", "--host", "a;b"], "invalid host 'a;b': expected [user@]host[:port]"),
    (["80", "--hosts", "/nonexistent/hosts"], "--hosts /nonexistent/hosts: No such file or directory"),
    (["80", "--host", "x", "--sudo"], "--sudo runs tools on this machine; with --host, log in as root"),
    (["parse", "--port"], "Option '--port' requires an argument."),
    (["parse", "--port", "htp", str(SS_FILE)], "invalid port 'htp': no service is registered as 'htp'"),
    (["parse", "--from", "excel", str(SS_FILE)], "unknown format 'excel'; choose one of: fstat, fuser"),
    (["parse", "--format", "yaml", str(SS_FILE)], "unknown output format 'yaml'"),
    (["parse", "--fields", "nope", str(SS_FILE)], "unknown field 'nope'"),
    (["parse", "--state", "nope", str(SS_FILE)], "unknown state 'nope'"),
    (["parse", "/nonexistent/netstat.txt"], "/nonexistent/netstat.txt: no such file"),
    (["parse", str(FIXTURES)], f"{FIXTURES}: is a directory"),
    (["parse", "bad\x1b[2Jname.txt"], "bad\\x1b[2Jname.txt: no such file"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS, ids=[" ".join(a) for a, _ in USAGE_ERRORS])
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    code, stdout, stderr = run_cli(*args)
    assert (code, stdout) == (2, "")
    assert message in one_line(stderr)


@pytest.mark.parametrize(
    ("args", "help_command"),
    [
        (["kill", "80", "--bogus"], "portcheck kill --help"),
        (["wait", "80", "--interval", "soon"], "portcheck wait --help"),
        (["info"], "portcheck info --help"),
        (["parse", "--from"], "portcheck parse --help"),  # found by click's option parser, not a command
        (["8080", "--bogus"], "portcheck query --help"),  # the default command
        (["--version", "--bogus"], "portcheck --help"),
    ],
)
def test_a_usage_error_points_at_the_commands_own_help(args: list[str], help_command: str) -> None:
    code, stdout, stderr = run_cli(*args)
    assert (code, stdout) == (2, "")
    assert one_line(stderr).endswith(f"(see {help_command})")


def test_a_port_given_as_a_file_suggests_port(tmp_path: Path) -> None:
    """`portcheck parse netstat.txt 8080`: the 8080 was meant as the port."""
    code, _, stderr = run_cli("parse", str(SS_FILE), "8080")
    assert code == 2
    assert one_line(stderr) == "portcheck: 8080: no such file (to keep only port 8080, write --port 8080)"
    code, _, stderr = run_cli("parse", str(SS_FILE), ":80,443")
    assert one_line(stderr).endswith("(to keep only port 80,443, write --port :80,443)")
    code, _, stderr = run_cli("parse", str(tmp_path / "ssh"))
    assert one_line(stderr) == f"portcheck: {tmp_path / 'ssh'}: no such file"  # a name is a file name


def test_parse_help_names_every_exit_status() -> None:
    code, stdout, _ = run_cli("parse", "--help")
    assert code == 0
    text = " ".join(stdout.split())
    for status in ("0 rows matched", "1 none", "2 unreadable input or bad usage", "3 the input is a"):
        assert status in text, status


def test_versions_and_help_exit_0() -> None:
    for args in (["--version"], ["--help"], ["parse", "--help"], ["query", "-h"]):
        code, stdout, stderr = run_cli(*args)
        assert (code, stderr) == (0, ""), args
        assert stdout


# --- input that is partly or not at all readable --------------------------------------------------


def test_unknown_text_names_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "mail.txt"
    path.write_text("\n\nDear support,\nport 8080 is broken.\n")
    code, _, stderr = run_cli("parse", str(path))
    assert code == 2
    assert one_line(stderr).startswith(
        f"portcheck: {path}:3: not output of a supported tool (supported: ss, "
    )
    assert stderr.rstrip().endswith(": 'Dear support,'")


def test_strict_names_file_line_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "paste.txt"
    path.write_text(SS_ROW.format(name="sshd") + "-- More --\n" + SS_ROW.format(name="sshd") + "???\n")
    code, stdout, stderr = run_cli("parse", str(path))
    assert code == 0 and "sshd" in stdout
    assert one_line(stderr) == "portcheck: 2 lines not understood, first at line 2: '-- More --'"
    code, stdout, stderr = run_cli("parse", "--strict", str(path))
    assert (code, stdout) == (2, "")
    assert one_line(stderr) == (
        f"portcheck: {path}:2: line not understood (--strict; 2 such lines): '-- More --'"
    )


def _paste_with(tmp_path: Path, junk: str, state: str) -> str:
    """stderr for ss rows with a junk line between them and an odd state word in the second."""
    path = tmp_path / "paste.txt"
    path.write_text(
        SS_ROW.format(name="sshd") + junk + "\n" + SS_ROW.format(name="sshd").replace("LISTEN", state)
    )
    code, _, stderr = run_cli("parse", str(path))
    assert code == 0
    return stderr


def test_hostile_text_in_messages_is_escaped(tmp_path: Path) -> None:
    """A pasted line or a state word can carry control characters: messages show them, never run them.
    (ESC sequences are a terminal's colours and are taken off a paste before it is read: see below.)"""
    stderr = _paste_with(tmp_path, "\x9b2J\x07 junk line", "\x9b5mWAIT")
    assert "\x9b" not in stderr and "\x07" not in stderr
    assert "first at line 2: '\\x9b2J\\x07 junk line'" in stderr
    assert "unknown state word '\\x9b5mWAIT'" in stderr


def test_terminal_escapes_in_a_paste_are_taken_off(tmp_path: Path) -> None:
    stderr = _paste_with(tmp_path, "\x1b]0;owned\x1b\\\x1b[2J junk line", "\x1b[5mWAIT")
    assert "\x1b" not in stderr
    assert "first at line 2: 'junk line'" in stderr
    assert "unknown state word 'WAIT'" in stderr


def test_a_new_state_word_on_every_row_is_not_a_line_per_row(tmp_path: Path) -> None:
    path = tmp_path / "netstat.txt"
    header = (
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n"
    )
    rows = "".join(
        f"tcp        0      0 10.0.0.1:80       10.0.0.2:{1000 + i}     W{i}    1/x\n" for i in range(300)
    )
    path.write_text(header + rows)
    code, _, stderr = run_cli("parse", str(path))
    assert code == 0
    assert stderr.splitlines()[4:] == [
        "portcheck: unknown state word 'W4' (1 row): shown as LISTEN when the peer is a wildcard, "
        "else UNKNOWN",
        "portcheck: 295 more rows with other unknown state words",
    ]


def test_hostile_addresses_are_escaped_in_the_table(tmp_path: Path) -> None:
    """A host name is text from elsewhere too (found by test_cli_fuzz: the table showed it raw)."""
    path = tmp_path / "paste.txt"
    path.write_text(SS_ROW.format(name="sshd").replace("0.0.0.0:22", "ev\x9b2Jil:22"))
    code, stdout, _ = run_cli("parse", str(path))
    assert code == 0
    assert "\x9b" not in stdout
    assert "ev\\x9b2Jil:22" in stdout


def test_direction_overrides_in_a_name_are_shown_not_obeyed(tmp_path: Path) -> None:
    """U+202E would make the terminal draw `miner\u202egpj.exe` as `minerexe.jpg`."""
    path = tmp_path / "paste.txt"
    path.write_text(SS_ROW.format(name="miner\u202egpj.exe"))
    code, stdout, _ = run_cli("parse", str(path))
    assert code == 0
    assert "\u202e" not in stdout
    assert "miner\\u202egpj.exe" in stdout


# --- the process's own streams, through the real CLI ----------------------------------------------


def run_closed(fd: int, *args: str) -> subprocess.CompletedProcess[bytes]:
    """The real CLI started with descriptor `fd` closed, as `portcheck ... <&-` (or >&-, 2>&-) does."""
    return subprocess.run(
        [sys.executable, "-m", "portcheck", *args],
        stdout=None if fd == 1 else subprocess.PIPE,
        stderr=None if fd == 2 else subprocess.PIPE,
        preexec_fn=lambda: os.close(fd),
        timeout=60,
        check=False,
    )


def test_closed_stdin_stdout_and_stderr() -> None:
    no_stdin = run_closed(0, "parse")
    assert no_stdin.returncode == 2
    assert no_stdin.stderr == (
        b"portcheck: standard input is closed: give a file name, or pipe the tool's output in\n"
    )
    no_stdout = run_closed(1, "parse", str(SS_FILE))
    assert no_stdout.returncode == 2
    assert no_stdout.stderr == b"portcheck: standard output is closed: nowhere to write the answer\n"
    no_stderr = run_closed(2, "parse", "/nonexistent")
    assert (no_stderr.returncode, no_stderr.stdout) == (2, b"")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_is_one_line_exit_2() -> None:
    with open("/dev/full", "wb") as full:
        result = subprocess.run(
            [sys.executable, "-m", "portcheck", "parse", "--json", str(SS_FILE)],
            stdout=full,
            stderr=subprocess.PIPE,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2
    assert result.stderr.decode() == "portcheck: cannot write the output: No space left on device\n"


def test_a_reader_that_leaves_early_is_not_an_error(tmp_path: Path) -> None:
    path = tmp_path / "many.txt"
    path.write_text("".join(SS_ROW.replace(":22 ", f":{port} ").format(name="x") for port in range(1, 20000)))
    portcheck = subprocess.Popen(
        [sys.executable, "-m", "portcheck", "parse", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert portcheck.stdout is not None and portcheck.stderr is not None
    portcheck.stdout.readline()
    portcheck.stdout.close()
    assert portcheck.wait(timeout=60) == 0
    assert portcheck.stderr.read() == b""


def test_an_output_encoding_without_the_characters_escapes_them(tmp_path: Path) -> None:
    """LANG=C on an old system, or a Latin-1 terminal: a stranger's process name must not crash it, and
    JSON stays valid JSON with the exact name."""
    path = tmp_path / "ss.txt"
    name = "sshd→ü😀"
    path.write_text(SS_ROW.format(name=name))
    env = {"PYTHONIOENCODING": "ascii"}
    as_json = run_process("parse", "--json", str(path), env=env)
    assert as_json.code == 0, as_json.stderr
    assert [row["process"] for row in json.loads(as_json.stdout)] == [name]
    table = run_process("parse", str(path), env=env)
    assert table.code == 0, table.stderr
    assert "sshd\\u2192\\u00fc\\ud83d\\ude00" in table.stdout
    latin = subprocess.run(
        [sys.executable, "-m", "portcheck", "parse", "--format", "csv", str(path)],
        env={**os.environ, "PYTHONIOENCODING": "latin-1"},
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert latin.returncode == 0, latin.stderr
    assert "sshd\\u2192ü\\ud83d\\ude00," in latin.stdout.decode("latin-1")


@pytest.mark.skipif(sys.platform == "win32", reason="pty")
def test_pasting_into_the_terminal_ends_with_one_ctrl_d() -> None:
    import pexpect

    child = pexpect.spawn(
        sys.executable, ["-m", "portcheck", "parse", "--json"], encoding="utf-8", timeout=20
    )
    child.expect("reading from the terminal: paste the output, then press Ctrl-D")
    for port in (22, 80, 443):
        child.sendline(SS_ROW.replace(":22 ", f":{port} ").format(name="sshd").rstrip("\n"))
    child.sendeof()
    child.expect(pexpect.EOF)  # a second Ctrl-D was needed before: the reader asked again after the end
    child.close()
    assert child.exitstatus == 0
    assert child.before.count('"local_port"') == 3


# --- a bug: one line, a request for a report, the side's exit code --------------------------------


def broken(*args: object, **kwargs: object) -> None:
    raise RuntimeError("boom\x1b[2J" + "x" * 500)


@pytest.mark.parametrize(
    ("args", "code"), [(["parse", str(SS_FILE)], 2), (["8080"], 3)], ids=["parse", "query"]
)
def test_an_internal_error_asks_for_a_report(
    args: list[str], code: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import portcheck.live.query
    import portcheck.parsers.offline

    monkeypatch.setattr(portcheck.parsers.offline, "parse_stream", broken)
    monkeypatch.setattr(portcheck.live.query, "inspect", broken)
    result = run_cli(*args)
    assert result.code == code
    line = one_line(result.stderr)
    assert line.startswith("portcheck: internal error: RuntimeError: boom\\x1b[2Jxxx")
    assert line.endswith(
        "... Please report this at https://github.com/portcheck/portcheck/issues "
        "(PORTCHECK_DEBUG=1 shows the traceback)."
    )
    assert len(line) < 400
    debug = run_cli(*args, env={"PORTCHECK_DEBUG": "1"})
    assert "Traceback (most recent call last)" in debug.stderr
    assert "RuntimeError: boom" in debug.stderr
