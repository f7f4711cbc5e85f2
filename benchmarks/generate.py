#!/usr/bin/env python3
"""Generate large, realistic outputs of the native tools for the parse benchmarks.

Each format gets N rows (default 100,000) of plausible sockets: a few listeners, many established
client connections, some TIME_WAIT and UDP, with real-looking process names. Exactly one row is a
LISTEN socket on port 60653 (the "needle"), so a filtered parse must find one row. Output is
deterministic (seeded) so runs are comparable.

Usage: python benchmarks/generate.py [--rows N] [--out DIR]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Iterator
from pathlib import Path

NEEDLE_PORT = 60653
FORMATS = ("ss", "netstat-linux", "netstat-windows", "lsof", "netstat-macos")
PROCESSES = (
    "nginx",
    "postgres",
    "sshd",
    "firefox",
    "chrome",
    "node",
    "python3",
    "java",
    "redis-server",
    "dockerd",
)
STATES_SS = ("ESTAB", "ESTAB", "ESTAB", "TIME-WAIT", "CLOSE-WAIT", "SYN-SENT")
STATES = ("ESTABLISHED", "ESTABLISHED", "ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "SYN_SENT")


class Row:
    """One synthetic socket, rendered differently by each format."""

    def __init__(self, rng: random.Random, index: int) -> None:
        self.udp = rng.random() < 0.08
        self.listen = not self.udp and rng.random() < 0.02
        self.local = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        self.lport = rng.choice((80, 443, 5432, 22, 8080)) if self.listen else rng.randrange(1024, 60000)
        self.remote = (
            f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        )
        self.rport = rng.choice((443, 80, 5432, 6379, 22, 53))
        self.state_index = rng.randrange(len(STATES))
        self.pid = rng.randrange(100, 65000)
        self.fd = rng.randrange(3, 300)
        self.process = rng.choice(PROCESSES)
        self.user = rng.choice(("root", "www-data", "postgres", "alice"))
        self.inode = 100000 + index

    def needle(self) -> Row:
        self.udp, self.listen = False, True
        self.local, self.lport, self.process, self.pid = "0.0.0.0", NEEDLE_PORT, "needle-server", 60653
        return self


def ss(rows: Iterator[Row]) -> Iterator[str]:
    yield "Netid State    Recv-Q Send-Q   Local Address:Port    Peer Address:Port Process"
    for r in rows:
        proto = "udp" if r.udp else "tcp"
        state = "UNCONN" if r.udp else "LISTEN" if r.listen else STATES_SS[r.state_index]
        peer = "0.0.0.0:*" if r.udp or r.listen else f"{r.remote}:{r.rport}"
        users = f'users:(("{r.process}",pid={r.pid},fd={r.fd}))'
        yield f"{proto}   {state:<8} 0      0      {r.local}:{r.lport:<6}  {peer:<22} {users}"


def netstat_linux(rows: Iterator[Row]) -> Iterator[str]:
    yield "Active Internet connections (servers and established)"
    yield "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name"
    for r in rows:
        proto = "udp" if r.udp else "tcp"
        state = "" if r.udp else "LISTEN" if r.listen else STATES[r.state_index]
        peer = "0.0.0.0:*" if r.udp or r.listen else f"{r.remote}:{r.rport}"
        local = f"{r.local}:{r.lport}"
        yield f"{proto:<5}      0      0 {local:<23} {peer:<23} {state:<11} {r.pid}/{r.process}"


def netstat_windows(rows: Iterator[Row]) -> Iterator[str]:
    yield ""
    yield "Active Connections"
    yield ""
    yield "  Proto  Local Address          Foreign Address        State           PID"
    for r in rows:
        local = f"{r.local}:{r.lport}"
        if r.udp:
            yield f"  UDP    {local:<22} *:*                                    {r.pid}"
            continue
        state = "LISTENING" if r.listen else STATES[r.state_index]
        peer = "0.0.0.0:0" if r.listen else f"{r.remote}:{r.rport}"
        yield f"  TCP    {local:<22} {peer:<22} {state:<15} {r.pid}"


def lsof(rows: Iterator[Row]) -> Iterator[str]:
    yield "COMMAND     PID     USER   FD   TYPE  DEVICE SIZE/OFF NODE NAME"
    for r in rows:
        proto = "UDP" if r.udp else "TCP"
        if r.udp:
            name = f"{r.local}:{r.lport}"
        elif r.listen:
            name = f"{r.local}:{r.lport} (LISTEN)"
        else:
            name = f"{r.local}:{r.lport}->{r.remote}:{r.rport} ({STATES[r.state_index]})"
        yield f"{r.process:<9} {r.pid:>7} {r.user:>8} {r.fd:>4}u  IPv4 {r.inode:>7}      0t0  {proto} {name}"


def netstat_macos(rows: Iterator[Row]) -> Iterator[str]:
    yield "Active Internet connections (including servers)"
    yield "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    "
    for r in rows:
        proto = "udp4" if r.udp else "tcp4"
        state = "" if r.udp else "LISTEN" if r.listen else STATES[r.state_index]
        local = f"{'*' if r.local == '0.0.0.0' else r.local}.{r.lport}"
        peer = "*.*" if r.udp or r.listen else f"{r.remote}.{r.rport}"
        yield f"{proto:<6}     0      0  {local:<22} {peer:<22} {state}"


WRITERS: dict[str, Callable[[Iterator[Row]], Iterator[str]]] = {
    "ss": ss,
    "netstat-linux": netstat_linux,
    "netstat-windows": netstat_windows,
    "lsof": lsof,
    "netstat-macos": netstat_macos,
}


def rows(count: int, seed: int = 60653) -> Iterator[Row]:
    rng = random.Random(seed)
    for index in range(count):
        row = Row(rng, index)
        yield row.needle() if index == count // 2 else row


def generate(fmt: str, count: int, path: Path) -> Path:
    newline = "\r\n" if fmt == "netstat-windows" else "\n"
    with path.open("w", encoding="utf-8", newline="") as out:
        for line in WRITERS[fmt](rows(count)):
            out.write(line + newline)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for fmt in FORMATS:
        path = generate(fmt, args.rows, args.out / f"{fmt}.txt")
        print(f"{path} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
