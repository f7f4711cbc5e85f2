"""`portcheck parse` next to jc on 100,000-line dumps of every format: wall time, CPU time, peak RSS.

Run by hand (never in tests), from the project's venv with the bench extra installed:

    .venv/bin/pip install -q -e '.[bench]' && .venv/bin/python benchmarks/bench_parse.py

The inputs come from benchmarks/generate.py (written to benchmarks/out/ on first use). For each format
three commands run in alternating order, several rounds: `portcheck parse FILE --json` (every row),
`portcheck parse FILE --json --port 60653` (the one needle row) and jc's parser for the same tool
(`jc --ss`, `jc --netstat` for Linux, Windows and macOS netstat, `jc --lsof`), each reading the file
and writing JSON to /dev/null. Before timing, one run of each is checked: the row counts must be the
generator's. The table shows medians; "x faster" and "RSS" are relative to jc.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import generate
from measure import ENV, Series, alternate, megabytes, python_module, seconds

JC_PARSER = {
    "ss": "--ss",
    "netstat-linux": "--netstat",
    "netstat-windows": "--netstat",
    "lsof": "--lsof",
    "netstat-macos": "--netstat",
    "netstat-macos-v": "--netstat",
}
SPEED_TARGET = 5.0
MEMORY_TARGET = 0.25


def inputs(rows: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for fmt in formats:
        path = folder / f"{fmt}-{rows}.txt"
        if not path.exists():
            generate.generate(fmt, rows, path)
        paths[fmt] = path
    return paths


def commands(fmt: str, path: Path) -> dict[str, tuple[list[str], Path | None]]:
    portcheck = [*python_module("portcheck"), "parse", str(path), "--json"]
    return {
        f"jc {JC_PARSER[fmt]}": ([*python_module("jc"), JC_PARSER[fmt]], path),
        "portcheck parse --json": (portcheck, None),
        f"portcheck parse --json --port {generate.NEEDLE_PORT}": (
            [*portcheck, "--port", str(generate.NEEDLE_PORT)],
            None,
        ),
    }


_COUNT = "import json, sys; print(len(json.load(sys.stdin)))"


def check(fmt: str, table: dict[str, tuple[list[str], Path | None]], rows: int) -> None:
    """Each command once, its JSON counted: jc and portcheck see every row, the filter one. The JSON is
    read by another child: this process must stay small, since a child's peak RSS counts the memory
    of its parent at the moment it was spawned."""
    for name, (argv, stdin) in table.items():
        with open(stdin or os.devnull, "rb") as source:
            producer = subprocess.Popen(argv, stdin=source, stdout=subprocess.PIPE, env=ENV)
            counted = subprocess.run(
                [sys.executable, "-c", _COUNT], stdin=producer.stdout, capture_output=True, check=False
            )
            assert producer.stdout is not None
            producer.stdout.close()
            producer.wait()
        count = int(counted.stdout or 0)
        expected = 1 if "--port" in argv else rows
        if count != expected:
            raise SystemExit(f"{fmt}: {name} gave {count} rows, expected {expected}")


def report(fmt: str, rows: int, series: dict[str, Series]) -> list[tuple[str, float, float, float]]:
    names = list(series)
    jc = series[names[0]]
    print(f"\n{fmt} ({rows:,} rows)")
    heading = f"{'wall':>10} {'cpu':>10} {'peak RSS':>9}   {'vs jc: wall':>11} {'cpu':>6} {'RSS':>5}"
    print(f"  {'command':40} {heading}")
    for name in names:
        s = series[name]
        print(
            f"  {name:40} {seconds(s.wall)} {seconds(s.cpu)} {megabytes(s.rss)}   "
            f"{jc.wall / s.wall:10.1f}x {jc.cpu / s.cpu:5.1f}x {s.rss / jc.rss:5.2f}"
        )
    everything, filtered = series[names[1]], series[names[2]]
    return [
        (fmt, jc.wall / everything.wall, jc.cpu / everything.cpu, jc.wall / filtered.wall,
         jc.cpu / filtered.cpu, filtered.rss / jc.rss)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--formats", nargs="+", default=list(generate.FORMATS), choices=generate.FORMATS)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    paths = inputs(args.rows, args.out, args.formats)
    print(f"{args.rounds} alternating rounds, medians; {os.cpu_count()} CPUs; {sys.version.split()[0]}")
    summary = []
    for fmt, path in paths.items():
        table = commands(fmt, path)
        check(fmt, table, args.rows)
        summary += report(fmt, args.rows, alternate(table, args.rounds))
    print(
        f"\ntargets: every row >= {SPEED_TARGET:g}x faster than jc; filtered peak RSS <= "
        f"{MEMORY_TARGET:g} of jc's"
    )
    print(
        f"  {'speed-up over jc':18} {'all rows: wall':>14} {'cpu':>6} {'filtered: wall':>15} {'cpu':>6}   RSS"
    )
    for fmt, *speeds, memory in summary:
        shown = " ".join(
            f"{x:{w}.1f}x{' ' if x >= SPEED_TARGET else '!'}" for x, w in zip(speeds, (13, 5, 14, 5))
        )
        print(f"  {fmt:18} {shown}  {memory:5.2f}{'' if memory <= MEMORY_TARGET else '!'}")
    print("  (! marks a target not met; on a busy machine the CPU time is the steadier measure)")


if __name__ == "__main__":
    main()
