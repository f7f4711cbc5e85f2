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

from tests.conftest import ROOT, run_cli

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


# --- numbers out of range --------------------------------------------------------------------------


POSITIVE = "must be a positive number of seconds, at most 3600"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["80", "--timeout", "1e18"], f"--timeout {POSITIVE}"),
        (["80", "--timeout", "1e300"], f"--timeout {POSITIVE}"),
        (["info", "80", "--timeout", "1e18"], f"--timeout {POSITIVE}"),
        (["kill", "80", "--timeout", "1e18"], f"--timeout {POSITIVE}"),
        (["kill", "80", "--grace", "1e18"], "--grace must be 0 or more seconds, at most 3600"),
        (["wait", "80", "--free", "--interval", "1e18"], f"--interval {POSITIVE}"),
        (
            ["wait", "80", "--free", "--timeout", "1e18"],
            "--timeout must be 0 (forever) or more seconds, at most 604800",
        ),
        (["80", "--watch", "1e18"], "--watch 1e+18: the refresh interval is in seconds, 0.1 to 3600"),
        (
            ["80", "--host", "h", "--parallel", "99999999999999999999"],
            "--parallel must be at least 1 and at most 64 (hosts asked at once)",
        ),
        (["80", "--pid", "99999999999999999999"], "--pid 99999999999999999999: a PID is 0 to 4294967295"),
        (["kill", "80", "--pid", "-1"], "--pid -1: a PID is 0 to 4294967295"),
    ],
)
def test_numbers_out_of_range_are_usage_errors_that_name_the_range(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2, result.stderr
    assert result.stderr == f"portcheck: {message}\n"


def test_a_huge_watch_interval_is_not_mistaken_for_a_port() -> None:
    result = run_cli("80", "--watch", "1e18")
    assert "to watch port" not in result.stderr
    assert "to watch port 9000 write `portcheck 9000 --watch`" in run_cli("80", "--watch", "9000").stderr


# --- hosts files -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("/dev/zero", "--hosts /dev/zero: binary data, not a list of hosts: only NUL bytes"),
        ("/dev/urandom", "--hosts /dev/urandom: binary data, not a list of hosts: "),
    ],
)
def test_an_endless_hosts_file_is_refused_at_once(source: str, message: str) -> None:
    """Before, `--hosts /dev/zero` read 2.4 GB in 10 s and went on; now the first 1 MiB decides."""
    started = time.monotonic()
    result = run_cli("80", "--hosts", source, timeout=60)
    print(f"\n--hosts {source}: exit {result.code} after {time.monotonic() - started:.2f} s")
    assert result.code == 2
    assert result.stderr.startswith(f"portcheck: {message}")


def test_a_hosts_file_is_bounded_in_size_and_hosts(tmp_path: Path) -> None:
    big = tmp_path / "big"
    big.write_text("# a comment line that is long enough to fill the file\n" * 20_000)
    result = run_cli("80", "--hosts", str(big))
    assert (result.code, result.stderr) == (
        2,
        f"portcheck: --hosts {big}: larger than 1024 KiB; not a list of hosts\n",
    )
    many = tmp_path / "many"
    many.write_text("".join(f"h{i}\n" for i in range(10_001)))
    result = run_cli("80", "--hosts", str(many))
    assert (result.code, result.stderr) == (
        2,
        "portcheck: 10001 hosts: one run asks at most 10,000; split the list\n",
    )
    endless = run_cli("80", "--hosts", "-", stdin=b"h\n" * 600_000)
    assert endless.code == 2
    assert endless.stderr == "portcheck: --hosts -: larger than 1024 KiB; not a list of hosts\n"


def test_a_utf16_hosts_file_is_text(tmp_path: Path) -> None:
    """Notepad's UTF-16 with a BOM: read as text (the host is then checked, and refused here)."""
    hosts = tmp_path / "hosts.txt"
    hosts.write_bytes("a;b\r\n".encode("utf-16"))
    result = run_cli("80", "--hosts", str(hosts))
    assert (result.code, result.stderr) == (2, "portcheck: invalid host 'a;b': expected [user@]host[:port]\n")


def test_an_invalid_host_is_escaped_once() -> None:
    result = run_cli("80", "--host", "host\nx")
    assert result.stderr == "portcheck: invalid host 'host\\x0ax': expected [user@]host[:port]\n"
