"""Ctrl-C and SIGTERM during a fleet query, against the real ssh lab: the run ends within a second
(the bound asserted is a generous 3 s: machines are noisy; the time is printed), exits 130 or 143, and
leaves nothing behind: no ssh client, no ControlMaster, no control directory.

The hosts: `slow` logs in and then never answers a tool (its ssh client is waiting when the signal
comes, its master is up), `hang` never speaks SSH (its login is waiting). The signal is sent once the
slow host's tool runs on the far side: the lab's hosts are this machine, whose login shell may run
start-up files that should not be cut short (root's bashrc here runs `pyenv rehash`, which leaves a
lock behind when killed).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.helpers.sshd import Lab, lab_commands, portcheck_ssh_left, sshd_available

pytestmark = pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))


def _ssh_commands(lab: Lab) -> list[bytes]:
    """Command lines of the ssh processes that use the lab's config (portcheck's clients and masters)."""
    found = [c for c in lab_commands(lab) if c.split(b"\x00", 1)[0].rsplit(b"/", 1)[-1] == b"ssh"]
    _LAST[:] = found
    return found


_LAST: list[bytes] = []
"""What _ssh_commands saw last, for a failure message."""


def _running_script(path: Path) -> bool:
    """A process runs the shell script `path` (after its login shell's start-up files)."""
    wanted = f"/bin/sh\x00{path}\x00".encode()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes() == wanted:
                    return True
            except OSError:
                continue
    return False


def _wait_for(condition: object, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail(f"never saw {what}: {_LAST}")


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_an_interrupted_fleet_query_ends_at_once_and_leaves_nothing(lab: Lab, signum: int, code: int) -> None:
    temp = Path(tempfile.mkdtemp(prefix="portcheck-fleet-test-"))
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    args = ["22", "--host", "slow", "--host", "hang", "--timeout", "60"]
    child = subprocess.Popen(
        [sys.executable, "-m", "portcheck", *args, "--ssh-config", str(lab.config)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**env, "TMPDIR": str(temp)},
        start_new_session=True,
    )
    try:
        # The slow host's tool is running (a multiplexed client whose command is not the OS probe,
        # and its ForceCommand script on the far side), and the hung host's login waits for a banner.
        _wait_for(
            lambda: any(
                b"slow" in c and b"ControlMaster=no" in c and b"uname" not in c for c in _ssh_commands(lab)
            ),
            "the slow host's tool running",
        )
        _wait_for(lambda: _running_script(lab.root / "slow.sh"), "the slow host's script running")
        assert any(b"hang" in c and b"ControlMaster=yes" in c for c in _ssh_commands(lab))
        assert [p.name for p in temp.iterdir()] != []  # the control directory exists now
        started = time.monotonic()
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
        took = time.monotonic() - started
        left_behind = list(temp.iterdir())
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        shutil.rmtree(temp, ignore_errors=True)
    print(f"\n{signal.Signals(signum).name}: portcheck exited {child.returncode} after {took:.3f} s")
    assert child.returncode == code, stderr
    assert b"Traceback" not in stderr
    assert took < 3, f"{took:.2f} s"
    assert left_behind == []  # the portcheck-ssh-* directory is removed
    assert portcheck_ssh_left(lab) == []  # no client, no master
    assert _ssh_commands(lab) == []
