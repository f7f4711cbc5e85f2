"""Does a query cost more on a machine with many sockets? `portcheck PORT` with 10 and with 10,000 open.

Run by hand (never in tests), on Linux:  .venv/bin/python benchmarks/bench_scale.py

A child process (this script with --hold) opens the sockets on loopback: a quarter listeners, the rest
established pairs (client and accepted end) spread over the listeners, so the first listener's port
has a LISTEN row and connections. The soft RLIMIT_NOFILE is raised for it (up to the hard limit).
While it holds them, each command runs in alternating order for several rounds: `portcheck PORT`
(table and --json), what portcheck runs (`ss -tunapeH 'sport = :PORT'`), the same without -p (no
process names), `lsof -i :PORT`, and `portcheck parse` of an `ss -tunap` dump taken at that moment
(all rows, and filtered to PORT). Then the holder exits and the next size is measured; sizes are
measured twice, small-large-small-large, so drift on a shared machine hits both.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from measure import ENV, Series, alternate, python_module, seconds

SIZES = (10, 10_000)
TARGET = 1.5


def hold(count: int) -> None:
    """Open `count` sockets, print the first listener's port, and keep them until stdin closes."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = count + 64
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            raise SystemExit(f"need {needed} descriptors, the hard limit is {hard} (raise it: ulimit -Hn)")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    listeners = []
    for _ in range(max(1, count // 4)):
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        listeners.append(listener)
    held = list(listeners)
    for index in range((count - len(listeners)) // 2):
        listener = listeners[index % len(listeners)]
        client = socket.create_connection(listener.getsockname())
        accepted, _ = listener.accept()
        held += [client, accepted]
    print(listeners[0].getsockname()[1], len(held), flush=True)
    sys.stdin.read()


def machine_sockets() -> int:
    """TCP and UDP sockets on the whole machine (every namespace-visible one, not only ours)."""
    result = subprocess.run(["ss", "-tunaH"], capture_output=True, text=True, check=False)
    return len(result.stdout.splitlines())


def commands(port: int, dump: Path) -> dict[str, tuple[list[str], Path | None]]:
    portcheck = python_module("portcheck")
    table: dict[str, tuple[list[str], Path | None]] = {
        "portcheck PORT": ([*portcheck, str(port)], None),
        "portcheck PORT --json": ([*portcheck, str(port), "--json"], None),
        "ss -tunapeH 'sport = :PORT'": (["ss", "-tunapeH", f"sport = :{port}"], None),
        "ss -tunaeH 'sport = :PORT' (no -p)": (["ss", "-tunaeH", f"sport = :{port}"], None),
    }
    if shutil.which("lsof"):
        table["lsof -nP -i :PORT"] = (["lsof", "-nP", f"-i:{port}"], None)
    table["portcheck parse DUMP --json"] = ([*portcheck, "parse", str(dump), "--json"], None)
    table["portcheck parse DUMP --port PORT"] = ([*portcheck, "parse", str(dump), "--port", str(port)], None)
    return table


def measure_size(count: int, rounds: int, folder: Path) -> tuple[dict[str, Series], int, int]:
    holder = subprocess.Popen(
        [sys.executable, __file__, "--hold", str(count)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        line = holder.stdout.readline().split()
        if not line:
            raise SystemExit("the socket holder failed (see its error above)")
        port, held = int(line[0]), int(line[1])
        time.sleep(0.5)  # let the kernel settle the last handshakes
        dump = folder / f"ss-tunap-{count}.txt"
        dump.write_bytes(subprocess.run(["ss", "-tunap"], capture_output=True, env=ENV, check=True).stdout)
        table = commands(port, dump)
        for argv, _ in table.values():  # warm caches and .pyc files
            subprocess.run(argv, capture_output=True, env=ENV, check=False)
        total = machine_sockets()
        return alternate(table, rounds), held, total
    finally:
        if holder.stdin is not None:
            holder.stdin.close()
        holder.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--cycles", type=int, default=2, help="small-large measurements, combined")
    parser.add_argument("--sizes", type=int, nargs=2, default=SIZES, metavar=("SMALL", "LARGE"))
    parser.add_argument("--hold", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hold is not None:
        hold(args.hold)
        return
    if not sys.platform.startswith("linux") or not shutil.which("ss"):
        raise SystemExit("bench_scale measures the Linux plan: it needs Linux and ss")
    results: dict[int, dict[str, Series]] = {}
    sockets: dict[int, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.cycles):
            for size in args.sizes:
                series, held, total = measure_size(size, args.rounds, Path(folder))
                sockets[size] = (held, total)
                if size not in results:
                    results[size] = series
                else:
                    for name, more in series.items():
                        results[size][name].samples += more.samples
    small, large = args.sizes
    print(f"{args.cycles} x {args.rounds} alternating rounds, medians; {os.cpu_count()} CPUs")
    for size in args.sizes:
        held, total = sockets[size]
        print(f"  {size:>6}: {held} sockets held by the benchmark, {total} TCP/UDP sockets on the machine")
    print(f"\n  {'command':36} {f'{small} sockets':>21} {f'{large} sockets':>21} {'ratio':>13}")
    print(f"  {'':36} {'wall':>10} {'cpu':>10} {'wall':>10} {'cpu':>10} {'wall':>6} {'cpu':>6}")
    names = list(results[small])
    for name in names:
        a, b = results[small][name], results[large][name]
        print(
            f"  {name[:36]:36} {seconds(a.wall)} {seconds(a.cpu)} {seconds(b.wall)} {seconds(b.cpu)} "
            f"{b.wall / a.wall:5.2f}x {b.cpu / a.cpu:5.2f}x"
        )
    query = names[0]
    ratio = results[large][query].wall / results[small][query].wall
    verdict = "met" if ratio <= TARGET else "NOT met"
    print(f"\ntarget: `portcheck PORT` with {large} sockets <= {TARGET}x its time with {small}: {verdict}")


if __name__ == "__main__":
    main()
