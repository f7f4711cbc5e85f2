"""Memory stays flat however large the input: streams generated while they are piped into
`portcheck parse --port 60653` (never a file on disk), peak RSS read by the child itself. The bound is
generous (a regression that holds the input grows by the input's size); benchmarks/bench_memory.py
measures the same streams at 1 GiB. Deselect with -m "not slow"."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_memory  # benchmarks/bench_memory.py
import generate  # benchmarks/generate.py

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="getrusage is POSIX"),
]

BOUND = 100 * 2**20
MIB = 2**20


def test_a_large_filtered_stream_keeps_memory_flat() -> None:
    chunks: list[int] = []

    def counted(stream: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in stream:
            chunks.append(len(chunk))
            yield chunk

    result = bench_memory.measure(counted(bench_memory.rows_stream("ss", 64 * MIB)), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.bytes_fed >= 60 * MIB
    rows = json.loads(result.stdout)
    assert len(rows) == len(chunks) - 1  # a header, then blocks with one needle each
    needle = (generate.NEEDLE_PORT, "LISTEN", generate.NEEDLE_PROCESS)
    assert {(r["local_port"], r["state"], r["process"]) for r in rows} == {needle}
    assert 0 < result.peak_bytes < BOUND, f"peak RSS {result.peak_bytes / MIB:.1f} MiB"


def test_one_enormous_line_streams_past() -> None:
    result = bench_memory.measure(bench_memory.one_long_line_stream(64 * MIB), "--json")
    assert result.exit_code == 0, result.stderr
    assert [r["process"] for r in json.loads(result.stdout)] == ["a", "b"]
    assert result.stderr == (
        b"portcheck: 1 line not understood, first at line 2: "
        b"'<portcheck: line longer than 65536 characters skipped>'\n"
    )
    assert 0 < result.peak_bytes < BOUND, f"peak RSS {result.peak_bytes / MIB:.1f} MiB"


def test_a_record_that_never_ends_is_not_held() -> None:
    result = bench_memory.measure(bench_memory.list_keys_stream(16 * MIB), "--from", "powershell")
    assert result.exit_code == 1, result.stderr
    assert 0 < result.peak_bytes < BOUND, f"peak RSS {result.peak_bytes / MIB:.1f} MiB"
