"""Exit codes under odd conditions, through the real CLI: a reader of stdout that leaves early, a
closed stdin at kill's question, numbers out of range, hosts files that never end, and invalid host
names (escaped once)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_memory  # benchmarks/bench_memory.py: a realistic stream of rows

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes and descriptors")


@pytest.fixture(scope="module")
def large_paste(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 4 MiB of ss output whose every block has a LISTEN row on port 60653: far more output
    than a pipe holds, so the writer meets the closed pipe."""
    path = tmp_path_factory.mktemp("paste") / "ss.txt"
    with open(path, "wb") as out:
        for chunk in bench_memory.rows_stream("ss", 4 * 2**20):
            out.write(chunk)
    return path


def first_line_then_leave(*args: str) -> tuple[int, bytes, bytes]:
    """`portcheck ARGS | head -1`: the reader takes one line and closes the pipe."""
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    child = subprocess.Popen(
        [sys.executable, "-m", "portcheck", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    line = child.stdout.readline()
    child.stdout.close()
    stderr = child.stderr.read()
    return child.wait(timeout=120), line, stderr


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv", "table"])
def test_a_reader_that_leaves_keeps_the_exit_code_of_the_match(large_paste: Path, fmt: str) -> None:
    """click's own broken-pipe handler used to exit 1 ("free") although rows matched."""
    code, line, stderr = first_line_then_leave("parse", str(large_paste), "--port", "60653", "--format", fmt)
    assert line
    assert (code, stderr) == (0, b"")


def test_a_reader_that_leaves_ends_a_watch(tmp_path: Path) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = str(listener.getsockname()[1])
        code, line, stderr = first_line_then_leave(port, "--watch", "0.1")
    assert line.startswith(b"--- ")
    assert (code, stderr) == (0, b"")


@pytest.fixture
def listener_process() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    script = "import socket, sys\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
    script += "print(s.getsockname()[1], flush=True); sys.stdin.read()"
    child = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert child.stdout is not None and child.stdin is not None
    port = int(child.stdout.readline())
    yield port, child
    child.stdin.close()
    child.wait(timeout=10)


def test_kill_with_a_closed_stdin_is_the_documented_refusal(
    listener_process: tuple[int, subprocess.Popen[bytes]],
) -> None:
    """`portcheck kill PORT <&-` without --yes: no terminal to confirm on (exit 2), not an
    AttributeError (exit 3); the listener is untouched."""
    port, holder = listener_process
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    result = subprocess.run(
        [sys.executable, "-m", "portcheck", "kill", str(port)],
        capture_output=True,
        preexec_fn=lambda: os.close(0),
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert b"there is no terminal to confirm on; pass --yes" in result.stderr
    assert b"internal error" not in result.stderr
    time.sleep(0.1)
    assert holder.poll() is None
