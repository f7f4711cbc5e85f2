"""Helpers for the CLI tests of query options, kill, wait and --watch: a real child process that
listens on a port under a chosen name (set with prctl, so ss, lsof and /proc show it), optionally
after a delay, for a while, ignoring SIGTERM or sharing the port (SO_REUSEPORT); and ports that are
free but reserved by this test process, so tests can run in parallel."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

_LISTENER = r"""
import ctypes, signal, socket, sys, time
name, port, flags = sys.argv[1], int(sys.argv[2]), sys.argv[5]
delay, hold = float(sys.argv[3]), float(sys.argv[4])
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: the comm ss, lsof and /proc show
if "ignore-term" in flags:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
if "note-term" in flags:  # stays, and says on stdout that SIGTERM came
    signal.signal(signal.SIGTERM, lambda *_: print("TERM", flush=True))
if "ignore-hup" in flags:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
server = socket.socket(socket.AF_INET6 if "ipv6" in flags else socket.AF_INET, socket.SOCK_STREAM)
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if "reuseport" in flags:
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
server.bind(("::1" if "ipv6" in flags else "127.0.0.1", port))
if "udp" in flags:
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", server.getsockname()[1]))
print(server.getsockname()[1], flush=True)
time.sleep(delay)
server.listen()
if hold >= 0:
    time.sleep(hold)
    server.close()
sys.stdin.read()
"""


@dataclass
class Listener:
    process: subprocess.Popen[str]
    port: int
    name: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


@contextmanager
def listener(
    name: str = "pc-listener",
    *,
    port: int = 0,
    delay: float = 0.0,
    hold: float = -1.0,
    flags: str = "",
) -> Iterator[Listener]:
    """A child named `name` that binds `port` (0: the kernel picks), starts listening after `delay`
    seconds, and closes the listener after `hold` seconds (negative: keeps it) while staying alive.
    Yields once the port is bound (and, without a delay, listening). `flags`: ignore-term, note-term
    (prints TERM when SIGTERM comes, and stays), ignore-hup, reuseport, ipv6, udp (a UDP socket on the
    same port too)."""
    child = subprocess.Popen(
        [sys.executable, "-c", _LISTENER, name, str(port), str(delay), str(hold), flags],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        bound = int(child.stdout.readline())
        if delay == 0:
            time.sleep(0.05)  # listen() follows the print at once
        yield Listener(child, bound, name)
    finally:
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)


@contextmanager
def reserved_port() -> Iterator[int]:
    """A port bound by this process but not listening: no socket table lists it (portcheck finds it
    free), and no other program can take it while the block runs."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def spawn_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 30, dimensions: tuple[int, int] = (24, 80)
) -> object:
    """portcheck on a pseudo-terminal (pexpect) of `dimensions` (rows, columns), as a person runs it."""
    import pexpect

    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "PORTCHECK_DEBUG")}
    full_env["TERM"] = "xterm"
    full_env["PYTHONPATH"] = str(ROOT / "src")
    full_env.update(env or {})
    return pexpect.spawn(
        sys.executable,
        ["-m", "portcheck", *args],
        env=full_env,
        timeout=timeout,
        encoding="utf-8",
        dimensions=dimensions,
    )


def stateful_script(directory: Path, name: str, code: str) -> Path:
    """An executable `name` in `directory` running Python `code` (a fake tool with a memory)."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / name
    script.write_text(f"#!{sys.executable}\n{code}")
    script.chmod(0o755)
    return script
