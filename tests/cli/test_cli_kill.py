"""`portcheck kill PORT` through the real CLI: real child processes on real ports are ended and the
port is free afterwards; PIDs that must never be signalled are refused; no terminal and no --yes is
a refusal, never a hang; the y/N question on a pseudo-terminal; Windows' taskkill through fakes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import Result, run_cli, run_process
from tests.helpers.cli import listener, reserved_port, spawn_cli, stateful_script
from tests.helpers.live import fake_tool, macos_kill_as_nobody, recorded_argv, run_as_nobody
from tests.helpers.ports import free_port

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux processes")


def kill(*args: str, env: dict[str, str] | None = None) -> Result:
    return run_cli("kill", *args, env=env)


def test_ends_a_real_listener_and_the_port_is_free() -> None:
    with listener("pc-kill-me") as child:
        result = kill(str(child.port), "--yes")
        assert result.code == 0, result.stderr
        assert child.process.wait(timeout=5) == -15  # SIGTERM
    assert result.stdout.splitlines() == [
        f"PID {child.pid} (pc-kill-me, user root): listening on {child.port}/tcp",
        f"PID {child.pid} (pc-kill-me): ended by SIGTERM",
        f"Port {child.port} is free.",
    ]
    assert run_cli(str(child.port)).code == 1


def test_quiet_kill_prints_nothing_and_its_status_answers() -> None:
    """-q as in grep: nothing on stdout; the exit status says whether the port is free afterwards."""
    with listener("pc-kill-quiet") as child:
        result = kill(str(child.port), "--yes", "-q")
        assert child.process.wait(timeout=5) == -15
    assert (result.code, result.stdout, result.stderr) == (0, "", "")


def test_sigterm_ignored_means_sigkill_after_the_grace() -> None:
    with listener("pc-stubborn", flags="ignore-term") as child:
        result = kill(str(child.port), "-y", "--grace", "0.5")
        assert result.code == 0, result.stderr
        assert child.process.wait(timeout=5) == -9
    assert f"PID {child.pid} (pc-stubborn): ended by SIGKILL (SIGTERM was not enough for 0.5 s)" in (
        result.stdout
    )


@pytest.mark.parametrize(
    ("given", "shown", "status"),
    [("int", "SIGINT", -2), ("SIGKILL", "SIGKILL", -9), ("9", "SIGKILL", -9), ("15", "SIGTERM", -15)],
)
def test_signal_option(given: str, shown: str, status: int) -> None:
    with listener("pc-signalled") as child:
        result = kill(str(child.port), "-y", "--signal", given)
        assert result.code == 0, result.stderr
        assert child.process.wait(timeout=5) == status
    assert f"PID {child.pid} (pc-signalled): ended by {shown}" in result.stdout


@pytest.mark.parametrize("args", [["--signal", "10"], ["--signal", "STOP"], ["--grace", "-1"], ["70000"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = kill(*(args if args == ["70000"] else ["8080", *args]), "--yes")
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_hup_is_not_followed_by_sigkill() -> None:
    """HUP asks a server to reload: a process that stays after it keeps running, and says so."""
    with listener("pc-reloads", flags="ignore-hup") as child:
        result = kill(str(child.port), "-y", "--signal", "HUP", "--grace", "0.3")
        assert child.alive()
    assert result.code == 1
    assert (
        f"PID {child.pid} (pc-reloads): still holds the port after SIGHUP (SIGHUP does not ask a program "
        "to exit, so nothing stronger followed)"
    ) in result.stdout


SERVING = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, b"pc-busy", 0, 0, 0)
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
print(server.getsockname()[1], flush=True)
accepted = [server.accept()[0] for _ in range(3)]
print("accepted", flush=True)
sys.stdin.read()
"""


def test_the_question_names_processes_not_connections() -> None:
    """`kill PORTS` on a server with connections: one line per process, its listening ports and how
    many connections, on stderr with the question (no terminal here: the refusal follows)."""
    busy = subprocess.Popen(
        [sys.executable, "-c", SERVING], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert busy.stdout is not None
    port = int(busy.stdout.readline())
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        assert busy.stdout.readline() == "accepted\n"
        with listener("pc-other") as other:
            result = kill(f"{port},{other.port}")
            assert busy.poll() is None and other.alive()
    finally:
        for client in clients:
            client.close()
        busy.kill()
        busy.wait(timeout=10)
    assert result.code == 2
    lines = result.stderr.splitlines()
    assert f"PID {busy.pid} (pc-busy, user root): listening on {port}/tcp; 3 connections" in lines
    assert f"PID {other.pid} (pc-other, user root): listening on {other.port}/tcp" in lines
    assert not any("ESTABLISHED" in line for line in lines)


def test_without_a_terminal_and_without_yes_it_refuses_with_exit_2() -> None:
    with listener("pc-spared") as child:
        result = kill(str(child.port))  # stdin is a pipe, not a terminal: nobody can answer
        assert result.code == 2
        assert child.alive()
    assert "no terminal to confirm on; pass --yes" in result.stderr
    assert f"PID {child.pid} (pc-spared)" in result.stderr
    # what it would have ended is still shown, with the question: on stderr
    assert f"PID {child.pid} (pc-spared, user root): listening on {child.port}/tcp" in result.stderr
    assert result.stdout == ""


def test_its_own_parent_is_refused() -> None:
    """The test process itself listens; portcheck's parent must never be signalled. (A real process:
    run in this one, portcheck's parent would be the test's.)"""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        result = run_process("kill", str(port), "--yes")
    assert result.code == 1
    assert f"PID {os.getpid()} " in result.stdout
    assert "refused: that is portcheck's parent (the shell or script that ran it)" in result.stdout
    assert f"port {port} is still in use: PID {os.getpid()}" in result.stderr


def test_nothing_to_end_on_a_free_port_exits_0() -> None:
    with reserved_port() as port:
        result = kill(str(port), "--yes")
    assert result.code == 0
    assert result.stdout == f"Nothing to end: no process holds port {port}.\nPort {port} is free.\n"


def test_filters_narrow_what_is_ended() -> None:
    """Two processes share one port (SO_REUSEPORT): --pid ends one, --process the other; --udp none."""
    port = free_port()
    with (
        listener("pc-first", port=port, flags="reuseport") as first,
        listener("pc-second", port=port, flags="reuseport") as second,
    ):
        none = kill(str(port), "--udp", "-y")
        assert none.code == 0 and "Nothing to end: no process holds port" in none.stdout
        one = kill(str(port), "--pid", str(first.pid), "-y")
        assert one.code == 1  # the other one still holds the port
        assert first.process.wait(timeout=5) == -15 and second.alive()
        assert "pc-second" not in one.stdout
        assert f"port {port} is still in use: PID {second.pid} (pc-second)" in one.stderr
        other = kill(str(port), "--process", "SECOND", "--tcp", "--listening", "-4", "-y")
        assert other.code == 0, other.stderr
        assert second.process.wait(timeout=5) == -15


def test_ipv6_filter() -> None:
    with listener("pc-six", flags="ipv6") as child:
        assert "Nothing to end" in kill(str(child.port), "-4", "-y").stdout
        assert kill(str(child.port), "-6", "-y").code == 0
        assert child.process.wait(timeout=5) == -15


# --- on a terminal: the question ------------------------------------------------------------------


def test_answer_no_ends_nothing_and_yes_ends_it() -> None:
    import pexpect

    with listener("pc-asked") as child:
        session = spawn_cli("kill", str(child.port))
        session.expect(r"End PID \d+ \(pc-asked\) with SIGTERM \(SIGKILL after 5 s\)\? \[y/N\]")
        session.sendline("n")
        session.expect(pexpect.EOF)
        session.close()
        assert session.exitstatus == 1 and child.alive()
        assert "nothing ended" in session.before
        session = spawn_cli("kill", str(child.port))
        session.expect(r"\[y/N\]")
        session.sendline("y")
        session.expect(pexpect.EOF)
        session.close()
        assert session.exitstatus == 0, session.before
        assert f"PID {child.pid} (pc-asked): ended by SIGTERM" in session.before
        assert child.process.wait(timeout=5) == -15


def test_with_stdout_in_a_file_the_question_is_on_the_terminal(tmp_path: Path) -> None:
    import pexpect

    from tests.conftest import ROOT

    out = tmp_path / "out.txt"
    with listener("pc-filed") as child:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "PC_OUT": str(out)}
        line = f'"{sys.executable}" -m portcheck kill {child.port} > "$PC_OUT"'
        session = pexpect.spawn("sh", ["-c", line], env=env, timeout=30, encoding="utf-8")
        session.expect(rf"PID {child.pid} \(pc-filed, user root\): listening on {child.port}/tcp")
        session.expect(r"End PID \d+ \(pc-filed\) with SIGTERM \(SIGKILL after 5 s\)\? \[y/N\]")
        session.sendline("y")
        session.expect(pexpect.EOF)
        session.close()
        assert session.exitstatus == 0, session.before
        assert child.process.wait(timeout=5) == -15
    assert out.read_text() == f"PID {child.pid} (pc-filed): ended by SIGTERM\nPort {child.port} is free.\n"


def test_ctrl_c_during_the_grace_says_what_was_signalled() -> None:
    """Ctrl-C while the process has had SIGTERM and kill waits for the port: a newline, what was sent
    to whom, no SIGKILL, exit 130."""
    import pexpect

    with listener("pc-slow", flags="note-term") as child:
        session = spawn_cli("kill", str(child.port), "--grace", "60")
        session.expect(r"\[y/N\]")
        session.sendline("y")
        assert child.process.stdout is not None
        assert child.process.stdout.readline() == "TERM\n"  # the signal arrived; kill is in its grace
        session.sendintr()
        session.expect(pexpect.EOF)
        session.close()
        assert child.alive()
    assert session.exitstatus == 130, session.before
    assert (
        f"\r\nPID {child.pid} (pc-slow): interrupted: SIGTERM sent; stopped before it let go of port "
        f"{child.port}, so no SIGKILL followed"
    ) in session.before


def test_as_another_user_the_hint_is_sudo_portcheck_kill() -> None:
    """kill has no --sudo: its advice for hidden owners is `sudo portcheck kill PORT`."""
    with listener("pc-not-yours") as child:
        done = run_as_nobody("-m", "portcheck", "kill", str(child.port), "--yes")
        assert child.alive()
    assert done.returncode == 1, done.stderr
    assert f"run `sudo portcheck kill {child.port}` to see and end other users' processes" in done.stderr
    assert "--sudo" not in done.stderr


def test_a_pid_that_let_go_before_the_answer_is_skipped() -> None:
    """The re-check just before the signal: the PID shown no longer holds the port, so it is left alone."""
    import pexpect

    with listener("pc-leaving") as child:
        session = spawn_cli("kill", str(child.port))
        session.expect(r"\[y/N\]")
        child.process.terminate()
        child.process.wait(timeout=5)
        session.sendline("y")
        session.expect(pexpect.EOF)
        session.close()
    assert session.exitstatus == 0, session.before
    assert f"PID {child.pid} (pc-leaving): skipped: it no longer holds port {child.port}" in session.before


# --- other machines and other outcomes through fake tools --------------------------------------------

LSOF_HEADER = "COMMAND PID USER   FD   TYPE             DEVICE SIZE/OFF NODE NAME\n"


def lsof_row(name: str, pid: int, port: int, user: str = "root") -> str:
    return f"{name} {pid} {user}    7u  IPv4 0x8f3c4a1b2d5e6f01      0t0  TCP *:{port} (LISTEN)\n"


def test_pid_1_is_refused_and_never_signalled(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=LSOF_HEADER + lsof_row("launchd", 1, 8080))
    fake_tool(tmp_path, "kill")
    result = kill("8080", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert result.code == 1
    assert "PID 1 (launchd): refused: PID 1 is init (systemd, launchd)" in result.stdout
    assert [argv[0] for argv in recorded_argv(tmp_path)] == ["lsof", "lsof"]  # never `kill`


def test_a_pid_that_is_gone_is_reported(tmp_path: Path) -> None:
    """lsof (a fake that lags behind) still lists a PID that no longer exists: kill says so."""
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    fake_tool(tmp_path, "lsof", output=LSOF_HEADER + lsof_row("ghost", gone.pid, 8080))
    (tmp_path / "kill").symlink_to("/bin/kill")
    result = kill("8080", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert result.code == 1  # the fake lsof still lists it
    assert f"PID {gone.pid} (ghost): already gone" in result.stdout


LIVE_LSOF = r"""#!/bin/sh
# lsof that lists $PC_PID on $PC_PORT while that process lives (a zombie holds no sockets)
read -r stat < "/proc/$PC_PID/stat" 2>/dev/null || exit 1
state=${stat##*) }
case "${state%% *}" in Z|X) exit 1;; esac
echo "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME"
echo "pc-lsof $PC_PID root 7u IPv4 0x1 0t0 TCP 127.0.0.1:$PC_PORT (LISTEN)"
"""


def live_lsof(directory: Path) -> None:
    """A shell script, so that the user nobody can run it too."""
    script = directory / "lsof"
    script.write_text(LIVE_LSOF)
    script.chmod(0o755)


def test_without_a_kill_program_it_signals_by_itself(tmp_path: Path) -> None:
    """A PATH with no `kill` (a minimal container): os.kill does it."""
    with listener("pc-lsof") as child:
        live_lsof(tmp_path)
        env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos", "PC_PID": str(child.pid)}
        result = kill(str(child.port), "--yes", env={**env, "PC_PORT": str(child.port)})
        assert result.code == 0, result.stderr
        assert child.process.wait(timeout=5) == -15
    assert f"PID {child.pid} (pc-lsof): ended by SIGTERM" in result.stdout


def test_another_users_process_is_permission_denied() -> None:
    with listener("pc-roots") as child:
        done = macos_kill_as_nobody(LIVE_LSOF, child.pid, child.port, with_kill=True)
        assert child.alive()
    assert done.returncode == 1, done.stderr
    assert f"PID {child.pid} (pc-lsof): permission denied: it belongs to another user" in done.stdout


def test_cannot_inspect_exits_3(tmp_path: Path) -> None:
    result = kill("8080", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert result.code == 3
    assert "cannot inspect" in result.stderr


WINDOWS_NETSTAT = r"""
import os
print("\r\nActive Connections\r\n\r")
print("  Proto  Local Address          Foreign Address        State           PID\r")
print("  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4\r")
if not os.path.exists(os.path.join(os.path.dirname(__file__), "ended")):
    print("  TCP    0.0.0.0:3000           0.0.0.0:0              LISTENING       4242\r")
"""
WINDOWS_TASKKILL = r"""
import json, os, sys
here = os.path.dirname(__file__)
with open(os.path.join(here, "argv.log"), "a") as log:
    log.write(json.dumps(["taskkill", *sys.argv[1:]]) + "\n")
if "/F" not in sys.argv:
    print('ERROR: The process with PID 4242 could not be terminated.\r')
    print('Reason: This process can only be terminated forcefully (with /F option).\r')
    sys.exit(1)
open(os.path.join(here, "ended"), "w").close()
print('SUCCESS: The process with PID 4242 has been terminated.\r')
"""


def test_windows_taskkill_then_forced(tmp_path: Path) -> None:
    stateful_script(tmp_path, "netstat", WINDOWS_NETSTAT)
    stateful_script(tmp_path, "taskkill", WINDOWS_TASKKILL)
    fake_tool(
        tmp_path,
        "tasklist",
        output='"System","4","Services","0","144 K"\r\n"node.exe","4242","Console","1","50,000 K"\r\n',
    )
    env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "windows"}
    result = kill("3000,445", "--yes", env=env)
    assert result.code == 1, result.stderr  # PID 4 keeps 445
    assert "PID 4242 (node.exe): ended by taskkill /F" in result.stdout
    assert "PID 4 (System): refused: PID 4 is the Windows kernel (System)" in result.stdout
    taskkills = [argv for argv in recorded_argv(tmp_path) if argv[0] == "taskkill"]
    assert taskkills == [["taskkill", "/PID", "4242"], ["taskkill", "/PID", "4242", "/F"]]
    assert kill("3000", "--yes", env=env).code == 0  # and 3000 is free now
