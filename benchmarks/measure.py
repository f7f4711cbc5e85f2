"""What the benchmarks share: run a child, measure it, alternate commands, take medians.

Each run is one child process; `os.wait4` returns its resource usage, so the numbers are the child's
own: wall time (perf_counter around spawn and wait), CPU time (user + system) and peak RSS. Commands
run in alternating order round after round, so drift on a shared machine (other jobs, CPU frequency,
caches) spreads over all of them instead of favouring whichever ran first.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED")}
"""As a user runs them: bytecode cached (a session with PYTHONDONTWRITEBYTECODE=1 would recompile every
module on every run) and stdout buffered."""

RSS_UNIT = 1024 if sys.platform.startswith("linux") else 1
"""ru_maxrss is in KiB on Linux, in bytes on macOS and the BSDs."""


@dataclass(frozen=True)
class Sample:
    wall: float
    """seconds"""
    cpu: float
    """seconds of user + system time"""
    rss: int
    """peak resident set size, bytes"""


@dataclass
class Series:
    samples: list[Sample] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(s.wall for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> int:
        return int(statistics.median(s.rss for s in self.samples))


def measure(argv: Sequence[str], stdin: Path | None = None, env: Mapping[str, str] | None = None) -> Sample:
    """Run argv once, its output thrown away, and return what it cost."""
    with open(stdin if stdin is not None else os.devnull, "rb") as source:
        started = time.perf_counter()
        child = subprocess.Popen(
            list(argv),
            stdin=source,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=dict(env if env is not None else ENV),
        )
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(argv)} failed with exit status {child.returncode}")
    return Sample(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * RSS_UNIT)


def alternate(commands: Mapping[str, tuple[Sequence[str], Path | None]], rounds: int) -> dict[str, Series]:
    """Every command once per round, forwards in even rounds and backwards in odd ones."""
    series = {name: Series() for name in commands}
    names = list(commands)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            argv, stdin = commands[name]
            series[name].samples.append(measure(argv, stdin))
    return series


def seconds(value: float) -> str:
    return f"{value * 1000:7.0f} ms" if value < 10 else f"{value:7.1f} s "


def megabytes(value: int) -> str:
    return f"{value / 1e6:6.1f} MB"


def python_module(module: str) -> list[str]:
    """`python -m module` with the interpreter running the benchmark (the project's venv)."""
    return [sys.executable, "-m", module]
