"""Native tools that misbehave, beyond the cases in test_live_platforms.py (hang, exit 1 with a
complaint, exit 139, garbage, missing): a tool killed by a signal, one that prints good rows and then
dies or hangs (its rows are not trusted), one that closes its output but runs on, one that leaves a
grandchild holding the pipe, a file that cannot be executed, output that floods, and localised output
despite LC_ALL=C. Each is reported in one line naming the tool, and the next tool in the plan answers.

The fakes are small Python scripts on a PATH of their own; the plan is chosen with PORTCHECK_PLATFORM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
import time
from pathlib import Path

import pytest

from portcheck.live import runner
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, Result, run_cli
from tests.helpers.live import fake_tool, script

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX scripts")

LIVE = FIXTURES / "live"
LSOF_ROWS = (LIVE / "macos-lsof-i.txt").read_text()


def netstat_answers(directory: Path) -> None:
    fake_tool(directory, "netstat", output=LIVE / "macos-netstat-anvW.txt")


def run_on(platform: str, bin_dir: Path, *args: str) -> Result:
    return run_cli(*args, env={"PATH": str(bin_dir), PLATFORM_VARIABLE: platform})


def answered_by_netstat(result: Result, message: str) -> None:
    """The fault is one line on stderr, and netstat's rows (not a single lsof row) are the answer."""
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list) and rows
    assert {r["source"] for r in rows} == {"netstat-bsd"}
    assert [line for line in result.stderr.splitlines() if "lsof" in line] == [f"portcheck: {message}"]
    assert "Traceback" not in result.stderr


PRINT_ROWS = f"sys.stdout.write({LSOF_ROWS!r}); sys.stdout.flush()\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (PRINT_ROWS + "os.kill(os.getpid(), signal.SIGSEGV)\n", "lsof: failed (killed by signal 11)"),
        (PRINT_ROWS + "os.kill(os.getpid(), signal.SIGKILL)\n", "lsof: failed (killed by signal 9)"),
        (PRINT_ROWS + "sys.exit(2)\n", "lsof: failed (exit status 2)"),
        (
            PRINT_ROWS + 'sys.stderr.write("lsof: WARNING: can\'t stat() nfs file system\\n"); sys.exit(1)\n',
            "lsof: failed (exit status 1: lsof: WARNING: can't stat() nfs file system)",
        ),
        (PRINT_ROWS + "time.sleep(60)\n", "lsof: timed out (no answer within 1 s; killed)"),
        (PRINT_ROWS + "os.close(1); time.sleep(60)\n", "lsof: timed out (no answer within 1 s; killed)"),
    ],
    ids=[
        "segfault",
        "sigkill",
        "partial-then-exit-2",
        "partial-then-complaint",
        "partial-then-hang",
        "closes",
    ],
)
def test_partial_output_from_a_dying_tool_is_not_trusted(tmp_path: Path, body: str, message: str) -> None:
    script(tmp_path, "lsof", body)
    netstat_answers(tmp_path)
    started = time.monotonic()
    result = run_on("macos", tmp_path, "8080", "--timeout", "1", "--json")
    answered_by_netstat(result, message)
    assert time.monotonic() - started < 30


def _gone(pid: int) -> bool:
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def lsof_leaving_a_grandchild(directory: Path, *, detached: bool) -> Path:
    """A fake lsof that prints its rows, starts a grandchild that keeps stdout open for a minute (in a
    session of its own when `detached`) and exits 0; returns the file the grandchild's PID goes to."""
    pidfile = directory / "grandchild.pid"
    body = f"""
        pid = os.fork()
        if pid == 0:
            if {detached!r}:
                os.setsid()
            time.sleep(60)
            os._exit(0)
        open({str(pidfile)!r}, "w").write(str(pid))
        """
    script(directory, "lsof", PRINT_ROWS + textwrap.dedent(body))
    netstat_answers(directory)
    return pidfile


def answered_by_lsof_at_once(directory: Path) -> Result:
    """The query with a 60 s tool timeout: waiting for it would fail the test's own 30 s limit."""
    env = {"PATH": str(directory), PLATFORM_VARIABLE: "macos"}
    result = run_cli("8080", "--timeout", "60", "--json", env=env, timeout=30)
    assert result.code == 0, result.stderr
    assert {r["source"] for r in result.json()} == {"lsof"}  # type: ignore[union-attr]
    assert "timed out" not in result.stderr
    return result


def test_a_grandchild_holding_the_pipe_is_ended_when_the_tool_exits(tmp_path: Path) -> None:
    """The tool prints its rows and exits 0, but a process it started keeps stdout open: no EOF comes.
    Its process group is ended once the tool has exited, so its rows are the answer at once and
    nothing of it outlives portcheck."""
    pidfile = lsof_leaving_a_grandchild(tmp_path, detached=False)
    answered_by_lsof_at_once(tmp_path)
    assert _gone(int(pidfile.read_text())), "the grandchild outlived the tool"


def test_a_detached_grandchild_holding_the_pipe_does_not_hold_the_answer(tmp_path: Path) -> None:
    """A grandchild that left the tool's session (setsid) cannot be ended with the group: portcheck
    takes what the tool wrote (all of it is in the pipe once the tool has exited) and stops waiting."""
    pidfile = lsof_leaving_a_grandchild(tmp_path, detached=True)
    try:
        answered_by_lsof_at_once(tmp_path)
    finally:
        os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_a_file_that_cannot_run_is_a_failed_tool(tmp_path: Path) -> None:
    broken = tmp_path / "lsof"
    broken.write_bytes(b"\x00\x01 not a program\n")
    broken.chmod(0o755)
    netstat_answers(tmp_path)
    result = run_on("macos", tmp_path, "8080", "--json")
    answered_by_netstat(result, "lsof: failed (Exec format error)")


def test_a_flood_of_output_is_stopped_at_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """`yes` never ends: without a bound it fills 600 MB in the default 5 s timeout."""
    monkeypatch.setattr(runner, "MAX_OUTPUT", 1024 * 1024)
    with pytest.raises(runner.ToolError) as caught:
        runner.run([sys.executable, "-c", "import sys\nwhile True: sys.stdout.write('y' * 4096)"], timeout=30)
    assert caught.value.problem is runner.Problem.UNREADABLE
    assert str(caught.value).endswith(
        "printed output portcheck cannot read (more than 1 MiB of output; stopped)"
    )


# --- localised output despite LC_ALL=C ----------------------------------------------------------------


def test_translated_net_tools_are_read_and_lc_all_was_asked(tmp_path: Path) -> None:
    """A netstat whose catalogue ignores LC_ALL=C (or a wrapper that resets it) prints German: the
    parser reads its words. The fake records its environment: portcheck did ask for LC_ALL=C."""
    german = (FIXTURES / "linux" / "netstat-tunap-de.txt").read_text()
    envlog = tmp_path / "env.json"
    script(
        tmp_path,
        "netstat",
        f"""
        import json
        open({str(envlog)!r}, "w").write(json.dumps(dict(os.environ)))
        sys.stdout.write({german!r})
        """,
    )
    result = run_on("linux", tmp_path, "47312", "--json", "--verbose")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    assert {(r["local_port"], r["state"], r["source"]) for r in rows} == {
        (47312, "LISTEN", "netstat-linux"),
        (47312, "ESTABLISHED", "netstat-linux"),
    }
    assert json.loads(envlog.read_text())["LC_ALL"] == "C"
    assert "ss: not installed" in result.stderr


def test_an_unknown_translated_state_keeps_the_row_and_names_the_word(tmp_path: Path) -> None:
    """A language the state table does not know: the row stays (LISTEN for a wildcard peer, as DESIGN.md
    says), and one line names the word so it can be added to states.py."""
    text = (
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name\n"
        "tcp        0      0 0.0.0.0:8080            0.0.0.0:*               KUUNTELEE   4242/python3\n"
    )
    fake_tool(tmp_path, "netstat", output=text)
    result = run_on("linux", tmp_path, "8080", "--json")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    assert [(r["state"], r["pid"], r["process"]) for r in rows] == [("LISTEN", 4242, "python3")]
    assert result.stderr.splitlines() == [
        "portcheck: netstat: unknown state word 'KUUNTELEE' (1 row): shown as LISTEN when the peer is a "
        "wildcard, else UNKNOWN"
    ]


def test_output_in_a_language_nothing_reads_falls_through(tmp_path: Path) -> None:
    """Rows the parser cannot read at all (a tool rewritten by a localising wrapper): the step fails,
    the next tool answers."""
    fake_tool(
        tmp_path,
        "lsof",
        output="BEFEHL   PID   BENUTZER\n" + "Python 52311 alice Netzwerkverbindung Port achtzigachtzig\n",
    )
    netstat_answers(tmp_path)
    result = run_on("macos", tmp_path, "8080", "--json")
    answered_by_netstat(
        result, "lsof: printed output portcheck cannot read (line 1: 'BEFEHL   PID   BENUTZER')"
    )
