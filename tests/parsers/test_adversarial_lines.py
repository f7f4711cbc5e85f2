"""Regular expressions cannot be made to backtrack for ever: every parser (parse and sniff) and format
detection get lines of nearly 64 KiB built to trigger catastrophic backtracking (see
benchmarks/bench_adversarial.py, which prints the timings). Normal cost is milliseconds per line; the
bound here is a hang guard far above that (before this review one such line took 13 s in ss and one
never finished in the /proc parser), not a performance assertion."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from portcheck import parsers
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_adversarial  # benchmarks/bench_adversarial.py

HANG_GUARD = 5.0


@contextmanager
def hang_guard(seconds: float) -> Iterator[None]:
    """Fail instead of hanging: the regex engine checks for signals while it backtracks."""
    if not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("key", list(bench_adversarial.LINES))
def test_no_adversarial_line_makes_a_parser_backtrack(key: str) -> None:
    line = bench_adversarial.LINES[key]
    slow: dict[str, float] = {}
    for name in parsers.FORMATS:
        with hang_guard(4 * HANG_GUARD):
            seconds = bench_adversarial.time_parser(name, line)
        if seconds > HANG_GUARD:
            slow[name] = seconds
    with hang_guard(4 * HANG_GUARD):
        seconds = bench_adversarial.time_detect(line)
    if seconds > HANG_GUARD:
        slow["detect"] = seconds
    with hang_guard(4 * HANG_GUARD):
        seconds = bench_adversarial.time_paste(line)
    if seconds > HANG_GUARD:
        slow["paste"] = seconds
    assert not slow, f"{key}: {slow}"


def test_the_lines_are_as_long_as_decode_lets_through() -> None:
    from portcheck.core.decode import MAX_LINE

    assert all(MAX_LINE // 2 < len(line) <= MAX_LINE for line in bench_adversarial.LINES.values())
