#!/usr/bin/env python3
"""Peak memory of `portcheck parse --port 60653` on a huge stream: it must stay flat however large the
input (parsers stream; only matching rows are kept; sorting and rendering see only the matches).

The stream is generated while it is written into portcheck's stdin through a pipe, never stored on disk:
a block of realistic rows (benchmarks/generate.py, with one LISTEN row on port 60653 per block) is
repeated until the size is reached. portcheck runs inside a small wrapper that writes its own peak RSS
(VmHWM on Linux, getrusage ru_maxrss elsewhere) to a file as it exits.

Run by hand:  .venv/bin/python benchmarks/bench_memory.py [--size-mb 1024] [--format ss ...]
tests/cli/test_memory.py runs the same measurement on a smaller stream with a generous bound.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # benchmarks/generate.py, beside this file

NEEDLE_PORT = generate.NEEDLE_PORT
BLOCK_ROWS = 10_000

# The peak is the child's own: Linux's VmHWM belongs to the memory of the exec'd program. ru_maxrss
# would not do there, because the kernel carries the parent's peak over through fork and exec, so a
# test run whose pytest process had grown large measured that instead.
_WRAPPER = """
import atexit, os, resource, sys
def _peak():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024
def _report():
    with open(os.environ["PORTCHECK_PEAK_FILE"], "w") as out:
        out.write(str(_peak()))
atexit.register(_report)
from portcheck.cli import main
main(sys.argv[1:])
"""


@dataclass
class Measurement:
    bytes_fed: int
    seconds: float
    peak_bytes: int
    exit_code: int
    stdout: bytes
    stderr: bytes

    @property
    def mib_per_second(self) -> float:
        return self.bytes_fed / 2**20 / self.seconds if self.seconds else 0.0


def rows_stream(fmt: str, size: int) -> Iterator[bytes]:
    """About `size` bytes of `fmt`: its header, then a block of BLOCK_ROWS realistic rows (one of them
    LISTEN on NEEDLE_PORT) repeated."""
    newline = "\r\n" if fmt == "netstat-windows" else "\n"
    lines = list(generate.WRITERS[fmt](generate.rows(BLOCK_ROWS)))
    head, body = lines[: len(lines) - BLOCK_ROWS], lines[len(lines) - BLOCK_ROWS :]
    yield "".join(line + newline for line in head).encode()
    block = (newline.join(body) + newline).encode()
    for _ in range(max(1, size // len(block))):
        yield block


def one_long_line_stream(size: int) -> Iterator[bytes]:
    """An ss row, a single line of `size` bytes, another ss row: the line must stream past, not be held."""
    yield b'tcp   LISTEN 0      128          0.0.0.0:60653      0.0.0.0:*     users:(("a",pid=1,fd=3))\n'
    piece = b"x" * 2**20
    for _ in range(max(1, size // len(piece))):
        yield piece
    yield b'\ntcp   LISTEN 0      128          [::]:60653         [::]:*        users:(("b",pid=2,fd=3))\n'


def list_keys_stream(size: int) -> Iterator[bytes]:
    """PowerShell Format-List lines with a new key each: a "record" that never ends."""
    written = 0
    index = 0
    while written < size:
        piece = "".join(f"Key{n} : value\r\n" for n in range(index, index + 20_000)).encode()
        index += 20_000
        written += len(piece)
        yield piece


UNKNOWN_STATE_ROWS = 3_000_000
TASKLIST_LINES = 1_500_000
"""The two notes that grew with their input (issue 11, item 4): 561 MB and 629 MB before they were bounded."""


def unknown_states_stream(rows: int = UNKNOWN_STATE_ROWS) -> Iterator[bytes]:
    """netstat rows on the wanted port, each with a state word never seen before and a peer: UNKNOWN
    rows, which `--state LISTEN` then drops, so only the notes about the words can grow."""
    yield b"Proto Recv-Q Send-Q Local Address           Foreign Address         State\n"
    for start in range(0, rows, 20_000):
        yield "".join(
            f"tcp        0      0 127.0.0.1:{NEEDLE_PORT}         10.0.0.2:443            W{n:09d}\n"
            for n in range(start, min(rows, start + 20_000))
        ).encode()


def tasklist_then_row_stream(lines: int = TASKLIST_LINES) -> Iterator[bytes]:
    """A `tasklist /fo csv /nh` of `lines` processes, then one `netstat -ano` row: the names the row
    does not need must not all be kept."""
    for start in range(0, lines, 20_000):
        yield "".join(
            f'"p{n}.exe","{n * 4}","Console","1","8,000 K"\r\n'
            for n in range(start, min(lines, start + 20_000))
        ).encode()
    yield f"  TCP    0.0.0.0:{NEEDLE_PORT}          0.0.0.0:0              LISTENING       4\r\n".encode()


def measure(chunks: Iterable[bytes], *args: str) -> Measurement:
    """Feed the chunks to `portcheck parse --port NEEDLE_PORT ARGS` through a pipe and measure it."""
    with tempfile.TemporaryDirectory() as scratch:
        peak_file = Path(scratch) / "peak"
        env = {**os.environ, "PORTCHECK_PEAK_FILE": str(peak_file)}
        env.pop("PORTCHECK_DEBUG", None)
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, "parse", "--port", str(NEEDLE_PORT), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert child.stdin is not None
        captured: dict[str, bytes] = {}
        readers = [
            threading.Thread(target=_drain, args=(child.stdout, captured, "out")),
            threading.Thread(target=_drain, args=(child.stderr, captured, "err")),
        ]
        for reader in readers:
            reader.start()
        fed = 0
        try:
            for chunk in chunks:
                child.stdin.write(chunk)
                fed += len(chunk)
            child.stdin.close()
        except BrokenPipeError:
            pass
        code = child.wait()
        for reader in readers:
            reader.join()
        seconds = time.perf_counter() - started
        peak = int(peak_file.read_text()) if peak_file.exists() else -1
    return Measurement(fed, seconds, peak, code, captured.get("out", b""), captured.get("err", b""))


def _drain(stream: IO[bytes] | None, into: dict[str, bytes], key: str) -> None:
    assert stream is not None
    into[key] = stream.read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="MiB fed per format (default 1024)")
    parser.add_argument(
        "--format",
        action="append",
        choices=sorted(generate.WRITERS),
        dest="formats",
        help="only these formats' row streams (default: ss and netstat-windows, then the hostile streams)",
    )
    parser.add_argument(
        "--notes-only", action="store_true", help="only the two streams of notes (unknown states, tasklist)"
    )
    args = parser.parse_args()
    if args.notes_only:
        for name, chunks, extra in (
            ("3M unknown states", unknown_states_stream(), ["--state", "LISTEN"]),
            ("1.5M tasklist", tasklist_then_row_stream(), ["--json"]),
        ):
            report(name, measure(chunks, *extra))
        return
    size = args.size_mb * 2**20
    streams: list[tuple[str, Iterable[bytes], list[str]]] = [
        (fmt, rows_stream(fmt, size), ["--json"]) for fmt in args.formats or ["ss", "netstat-windows"]
    ]
    if not args.formats:
        streams.append(("one long line", one_long_line_stream(size), ["--json"]))
        streams.append(("Format-List keys", list_keys_stream(size), ["--from", "powershell"]))
        streams.append(("3M unknown states", unknown_states_stream(), ["--state", "LISTEN"]))
        streams.append(("1.5M tasklist", tasklist_then_row_stream(), ["--json"]))
    for name, chunks, extra in streams:
        report(name, measure(chunks, *extra))


def report(name: str, result: Measurement) -> None:
    rows = result.stdout.count(b'"local_port": 60653')
    print(
        f"{name:17s} fed {result.bytes_fed / 2**20:7.0f} MiB in {result.seconds:6.1f} s "
        f"({result.mib_per_second:5.1f} MiB/s), {rows} rows matched, exit {result.exit_code}, "
        f"peak RSS {result.peak_bytes / 2**20:6.1f} MiB"
    )


if __name__ == "__main__":
    main()
