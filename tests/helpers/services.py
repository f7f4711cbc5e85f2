"""A systemd service without systemd (it is not PID 1 on the test machines): a real process in a real
cgroup named like a unit's (`/system.slice/NAME.service`, so /proc/PID/cgroup reads as it would under
systemd), kept running by a small supervisor that restarts it as `Restart=always` would, and a fake
`systemctl` on PATH that answers `show` from the supervisor's state and `stop` by stopping it for good.

What is real: the cgroup the kernel reports, the processes, their sockets and their signals. What is
fake: only systemctl's replies, written from systemctl(1) (`show --property=Restart --property=MainPID`
prints `Restart=always` and `MainPID=N`, one per line).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.ports import free_port as _free_port

SUPERVISOR = r"""
import os, signal, subprocess, sys, time
procs, state, port = sys.argv[1], sys.argv[2], sys.argv[3]
SERVER = (
    "import socket, sys, time\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(); print('up', flush=True); time.sleep(3600)\n"
)
def into_unit():
    with open(procs, "w") as unit:  # the child joins the unit's cgroup before it opens a socket
        unit.write(str(os.getpid()))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while not os.path.exists(os.path.join(state, "stopped")):
    argv = [sys.executable, "-c", SERVER, port]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, preexec_fn=into_unit)
    child.stdout.readline()
    with open(os.path.join(state, "main.tmp"), "w") as main:
        main.write(str(child.pid))
    os.replace(os.path.join(state, "main.tmp"), os.path.join(state, "main"))
    child.wait()
    time.sleep(0.1)  # RestartSec's default
"""

SYSTEMCTL = r"""#!{python}
import json, os, signal, sys, time
state = {state!r}
with open(os.path.join(state, "argv.log"), "a") as log:
    log.write(json.dumps(["systemctl", *sys.argv[1:]]) + "\n")
main = int(open(os.path.join(state, "main")).read())
if "show" in sys.argv:
    print("Restart={restart}")
    print(f"MainPID={{main}}")
elif "stop" in sys.argv:
    open(os.path.join(state, "stopped"), "w").close()
    os.kill(main, signal.SIGTERM)
    def running():
        try:
            return open(f"/proc/{{main}}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    while running():
        time.sleep(0.02)
else:
    sys.exit(1)
"""


def cgroup2_root() -> Path | None:
    """Where the unified (v2) cgroup hierarchy is mounted and writable."""
    for line in Path("/proc/mounts").read_text().splitlines():
        fields = line.split()
        if len(fields) > 2 and fields[2] == "cgroup2":
            root = Path(fields[1])
            if os.access(root, os.W_OK):
                return root
    return None


@dataclass
class Service:
    unit: str
    port: int
    state: Path
    bin_dir: Path
    """Holds the fake systemctl: put it first on PATH."""
    supervisor: subprocess.Popen[bytes]

    def main_pid(self, *, other_than: int | None = None, timeout: float = 10.0) -> int:
        """The unit's main process now (a new one, when `other_than` is the old)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                pid = int((self.state / "main").read_text())
                if pid != other_than:
                    return pid
            time.sleep(0.02)
        raise TimeoutError(f"{self.unit} did not start a main process")

    def systemctl_calls(self) -> list[list[str]]:
        import json

        log = self.state / "argv.log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


@contextlib.contextmanager
def systemd_service(tmp_path: Path, name: str = "pc-test", restart: str = "always") -> Iterator[Service]:
    """A unit NAME.service under /system.slice of the cgroup2 hierarchy, its supervisor and systemctl."""
    root = cgroup2_root()
    if root is None:
        import pytest

        pytest.skip("SKIPPED LOUDLY: no writable cgroup2 mount: the systemd unit tests cannot run here")
    unit = f"{name}-{os.getpid()}.service"
    group = root / "system.slice" / unit
    made_slice = not group.parent.exists()
    group.mkdir(parents=True)
    state = tmp_path / "unit-state"
    state.mkdir()
    bin_dir = tmp_path / "unit-bin"
    bin_dir.mkdir()
    systemctl = bin_dir / "systemctl"
    systemctl.write_text(
        textwrap.dedent(SYSTEMCTL).format(python=sys.executable, state=str(state), restart=restart)
    )
    systemctl.chmod(0o755)
    port = _free_port()
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(group / "cgroup.procs"), str(state), str(port)],
        stdin=subprocess.DEVNULL,
    )
    service = Service(unit, port, state, bin_dir, supervisor)
    try:
        service.main_pid()
        yield service
    finally:
        (state / "stopped").touch()
        supervisor.send_signal(signal.SIGTERM)
        supervisor.wait(timeout=10)
        for pid in (group / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while (group / "cgroup.procs").read_text().strip() and time.monotonic() < deadline:
            time.sleep(0.02)
        group.rmdir()
        if made_slice:
            with contextlib.suppress(OSError):
                group.parent.rmdir()  # only when empty: another test's unit may be in it
