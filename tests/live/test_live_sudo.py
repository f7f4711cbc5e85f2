"""--sudo against a fake sudo that prompts like the real one: the password is asked with getpass on the
terminal, typed into sudo's pty and never seen again; a wrong password and a script with no terminal
end with exit 3 and one clear line; sudo and the tools come from the system directories only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pexpect
import pytest

from tests.helpers.live import Holder, fake_tool, own_name, recorded_argv, socket_holder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty and live Linux sockets")

WRAPPER = Path(__file__).parent.parent / "helpers" / "sudo_wrapper.py"
PASSWORD = "correct horse 42"

FAKE_SUDO = """\
import os, sys, termios
here = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
with open(os.path.join(here, "sudo.log"), "a") as log:
    log.write(repr(args) + "\\n" + repr(dict(os.environ)) + "\\n")
prompt, batch = "Password:", False
while args and args[0] != "--":
    option = args.pop(0)
    if option == "-p":
        prompt = args.pop(0)
    elif option == "-n":
        batch = True
args.pop(0)
if batch:
    sys.stderr.write("sudo: a password is required\\n")
    sys.exit(1)
tty_in, tty = open("/dev/tty"), open("/dev/tty", "w")
attributes = termios.tcgetattr(tty_in)
quiet = termios.tcgetattr(tty_in)
quiet[3] &= ~termios.ECHO
for attempt in range(2):
    tty.write(prompt)
    tty.flush()
    termios.tcsetattr(tty_in, termios.TCSADRAIN, quiet)
    typed = tty_in.readline().rstrip("\\n")
    termios.tcsetattr(tty_in, termios.TCSADRAIN, attributes)
    tty.write("\\n")
    tty.flush()
    if typed == PASSWORD:
        os.execv(args[0], args)
    tty.write("Sorry, try again.\\n")
    tty.flush()
sys.stderr.write("sudo: 2 incorrect password attempts\\n")
sys.exit(1)
"""


def _fake_sudo(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    sudo = directory / "sudo"
    sudo.write_text(f"#!{sys.executable}\nPASSWORD = {PASSWORD!r}\n" + FAKE_SUDO)
    sudo.chmod(0o755)
    return sudo


@pytest.fixture(scope="module")
def holder() -> object:
    with socket_holder(own_name("pc-sudo")) as held:
        yield held


def _spawn(
    system_dir: Path, *args: str, path: str | None = None, dimensions: tuple[int, int] = (24, 80)
) -> pexpect.spawn:
    env = {**os.environ, "PATH": path or os.environ["PATH"]}
    env.pop("PORTCHECK_DEBUG", None)
    return pexpect.spawn(
        sys.executable,
        [str(WRAPPER), str(system_dir), *args],
        env=env,
        timeout=30,
        encoding="utf-8",
        dimensions=dimensions,
    )


def _json_rows(output: str) -> list[dict[str, object]]:
    lines = output.replace("\r\n", "\n").splitlines()
    start = lines.index("[")
    end = lines.index("]", start)
    return json.loads("\n".join(lines[start : end + 1]))


def test_password_prompt_on_a_terminal(tmp_path: Path, holder: Holder) -> None:
    system = tmp_path / "system"
    _fake_sudo(system)
    planted = tmp_path / "planted"  # a user-writable PATH entry with its own sudo and ss
    fake_tool(planted, "sudo", output="planted sudo ran\n")
    fake_tool(planted, "ss", output="planted ss ran\n")
    child = _spawn(
        system, str(holder.ports["tcp4"]), "--sudo", "--json", path=f"{planted}:{os.environ['PATH']}"
    )
    child.expect(r"\[sudo\] password for \S+ \(portcheck --sudo\): ")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    output = child.before
    assert child.exitstatus == 0, output
    rows = _json_rows(output)
    assert {(r["pid"], r["process"], r["state"]) for r in rows} >= {(holder.pid, holder.name, "LISTEN")}
    assert PASSWORD not in output
    log = (system / "sudo.log").read_text()
    assert PASSWORD not in log  # neither in sudo's argv nor in its environment
    argv = eval(log.splitlines()[0])
    assert argv[:3] == ["-p", "[portcheck-sudo-password]", "--"]
    assert argv[3] in ("/usr/sbin/ss", "/usr/bin/ss", "/sbin/ss", "/bin/ss")
    assert recorded_argv(planted) == []


def test_wrong_password_is_reported_clearly(tmp_path: Path, holder: Holder) -> None:
    system = tmp_path / "system"
    _fake_sudo(system)
    child = _spawn(system, str(holder.ports["tcp4"]), "--sudo")
    child.expect("password for")
    child.sendline("not the password")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3, child.before
    assert "portcheck: --sudo: wrong password" in child.before
    assert "not the password" not in child.before
    assert "Traceback" not in child.before


def test_no_terminal_fails_at_once_with_exit_3(tmp_path: Path, holder: Holder) -> None:
    system = tmp_path / "system"
    _fake_sudo(system)
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    result = subprocess.run(
        [sys.executable, str(WRAPPER), str(system), str(holder.ports["tcp4"]), "--sudo"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        start_new_session=True,  # no controlling terminal, as under cron
        timeout=30,
        check=False,
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "portcheck: --sudo: sudo needs a password and there is no terminal to ask for it; run portcheck "
        "from a terminal, or allow these tools without a password in sudoers"
    ]
    argv = eval((system / "sudo.log").read_text().splitlines()[0])
    assert argv[0] == "-n"


def test_tools_outside_system_directories_are_never_run(tmp_path: Path) -> None:
    """With the system directories reduced to one holding only sudo, no tool is found: --sudo does not
    fall back to PATH (/proc, which runs inside portcheck, still answers)."""
    system = tmp_path / "system"
    _fake_sudo(system)
    script = textwrap.dedent(
        f"""
        import sys
        from portcheck import platforms
        from portcheck.live import runner
        runner.SYSTEM_DIRS = ({str(system)!r},)
        platforms.is_elevated = lambda: False
        from portcheck.cli import main
        main(["1", "--sudo", "--verbose"])
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    assert "ss: not installed (--sudo runs only tools from " in result.stderr
    assert not (system / "sudo.log").exists()
    assert result.returncode in (0, 1), result.stderr


def test_watch_asks_for_the_password_once(tmp_path: Path, holder: Holder) -> None:
    """`--watch --sudo`: sudo (this fake one, like a real one whose ticket is per terminal) prompts at
    every refresh, and every refresh gets a new pty; the person is asked once, and the password sudo
    accepted answers the later prompts."""
    system = tmp_path / "system"
    _fake_sudo(system)
    child = _spawn(system, str(holder.ports["tcp4"]), "--sudo", "--watch", "0.2", dimensions=(40, 120))
    child.expect(r"\[sudo\] password for \S+ \(portcheck --sudo\): ")
    child.sendline(PASSWORD)
    seen = ""
    for _ in range(4):
        child.expect(r"Every 0\.2 s: portcheck \d+")
        seen += child.before + child.after
    child.expect(str(holder.pid))
    seen += child.before
    child.sendintr()
    child.expect(pexpect.EOF)
    seen += child.before
    child.close()
    assert child.exitstatus == 0, seen
    assert "password for" not in seen  # never asked again after the first frame
    assert PASSWORD not in seen
    runs = [line for line in (system / "sudo.log").read_text().splitlines() if line.startswith("[")]
    assert len(runs) >= 4  # sudo ran (and prompted) at every refresh
