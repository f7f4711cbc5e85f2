"""`portcheck PORT --host ...` wall time for 1 host against 8, with 8 workers and with 1.

Run by hand (never in tests), on Linux with /usr/sbin/sshd:  .venv/bin/python benchmarks/bench_fleet.py
    [--rounds 7] [--hosts 8]

The 8 "hosts" are 8 sshd instances on loopback ports of this machine (tests/helpers/sshd.py: generated
keys, a private ssh config; nothing in ~/.ssh is used), each asked for a port a child process
listens on. Each round runs every case once, in alternating order; medians are printed. For scale, a
bare `ssh HOST ss ...` (one fresh connection, no portcheck) is timed too. Then one host's time is
split into its steps, in-process: the login (control master), the OS probe, ss, getent (uids to names),
an empty command over the master (what every remote command costs at least: a channel and the login
shell with its rc files), and closing the master.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.sshd import Lab, ssh_lab, sshd_available  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: Sequence[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, env=ENV, check=False, start_new_session=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed


def cases(lab: Lab, port: int, hosts: int) -> dict[str, list[str]]:
    portcheck = [sys.executable, "-m", "portcheck", str(port), "--ssh-config", str(lab.config)]
    names = [f"srv{i}" for i in range(hosts)]
    every = [a for name in names for a in ("--host", name)]
    return {
        "ssh srv0 ss (bare, 1 connection)": [
            "ssh", "-F", str(lab.config), "-o", "BatchMode=yes", "srv0", f"ss -tunapH 'sport = :{port}'",
        ],
        "portcheck --host srv0": [*portcheck, "--host", "srv0"],
        f"portcheck {hosts} hosts --parallel {hosts}": [*portcheck, *every, "--parallel", str(hosts)],
        f"portcheck {hosts} hosts --parallel 1": [*portcheck, *every, "--parallel", "1"],
    }  # fmt: skip


def phases(lab: Lab, port: int, rounds: int) -> dict[str, list[float]]:
    from portcheck.fleet.remote import SSHExecutor, detect
    from portcheck.fleet.ssh import Connection, ControlDir, Settings, parse_target

    steps: dict[str, list[float]] = {}

    def lap(name: str, started: float) -> float:
        now = time.perf_counter()
        steps.setdefault(name, []).append(now - started)
        return now

    for _ in range(rounds):
        control = ControlDir()
        connection = Connection(parse_target("srv0"), Settings(10, str(lab.config)), control.socket(0))
        started = time.perf_counter()
        connection.open_batch()
        started = lap("login (ssh -M -N -f)", started)
        executor = SSHExecutor(connection, detect(connection, 10))
        started = lap("OS probe (uname -s && id -u)", started)
        executor.run(["ss", "-tunapeH", f"sport = :{port}"], timeout=10, env={"LC_ALL": "C"})
        started = lap("ss", started)
        executor.run(["getent", "passwd", "0"], timeout=10)
        started = lap("getent passwd", started)
        connection.run("true", 10)
        started = lap("empty command (true)", started)
        connection.close()
        lap("close (ssh -O exit)", started)
        control.remove()
    return steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--hosts", type=int, default=8)
    args = parser.parse_args()
    missing = sshd_available()
    if missing:
        raise SystemExit(f"cannot run: {missing}")
    with (
        tempfile.TemporaryDirectory() as root,
        ssh_lab(Path(root), servers=args.hosts, password=False) as lab,
    ):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        found = cases(lab, listener.getsockname()[1], args.hosts)
        times: dict[str, list[float]] = {name: [] for name in found}
        for argv in found.values():  # warm-up: bytecode, page cache
            timed(argv)
        for round_ in range(args.rounds):
            order = list(found.items())
            for name, argv in order if round_ % 2 == 0 else reversed(order):
                times[name].append(timed(argv))
        steps = phases(lab, listener.getsockname()[1], args.rounds)
        listener.close()
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; medians of {args.rounds} rounds")
    one = statistics.median(times["portcheck --host srv0"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<40} {median * 1000:7.0f} ms   ({median / one:4.2f} x one host)")
    print("one host, step by step (in-process):")
    for name, values in steps.items():
        print(f"  {name:<40} {statistics.median(values) * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
