#!/usr/bin/env python3
"""Generate large, realistic outputs of the native tools for the parse benchmarks.

Each format gets N rows (default 100,000) of plausible sockets: a few listeners, many established
client connections, some TIME_WAIT and UDP, one in eight over IPv6, with real-looking process names,
laid out as each tool lays out its columns (ss right-aligns addresses, net-tools pads to 23, Windows
indents and pads, lsof prints `*:PORT` for a wildcard listener, macOS `*.PORT`). Exactly one row is a
LISTEN socket on port 60653 (the "needle"), so a filtered parse must find one row. Output is
deterministic (seeded) so runs are comparable.

Formats (file names): ss (`ss -tunap`), netstat-linux (`netstat -tunap`), netstat-windows
(`netstat -ano`, CRLF), lsof (`lsof -nP -i`), netstat-macos (`netstat -an`), netstat-macos-v
(`netstat -anv` as macOS 14 prints it, with the pid column), netstat-solaris (`netstat -an`: one
section per protocol and family), fstat (OpenBSD's `fstat -n`: socket rows among file rows).

Usage: python benchmarks/generate.py [--rows N] [--out DIR]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Iterator
from pathlib import Path

NEEDLE_PORT = 60653
NEEDLE_PROCESS = "needle"
FORMATS = (
    "ss",
    "netstat-linux",
    "netstat-windows",
    "lsof",
    "netstat-macos",
    "netstat-macos-v",
    "netstat-solaris",
    "fstat",
)
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
        self.v6 = rng.random() < 0.125
        if self.v6:
            self.local = f"fd00::{rng.randrange(1, 0xFFFF):x}"
            self.remote = f"fd00::{rng.randrange(1, 0xFFFF):x}"
        else:
            self.local = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            self.remote = (
                f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            )
        self.lport = rng.choice((80, 443, 5432, 22, 8080)) if self.listen else rng.randrange(1024, 60000)
        self.rport = rng.choice((443, 80, 5432, 6379, 22, 53))
        self.state_index = rng.randrange(len(STATES))
        self.pid = rng.randrange(100, 65000)
        self.fd = rng.randrange(3, 300)
        self.process = rng.choice(PROCESSES)
        self.user = rng.choice(("root", "www-data", "postgres", "alice"))
        self.inode = 100000 + index
        self.gencnt = rng.randrange(1 << 40)

    def needle(self) -> Row:
        self.udp, self.listen, self.v6 = False, True, False
        self.local, self.lport, self.process, self.pid = "0.0.0.0", NEEDLE_PORT, NEEDLE_PROCESS, 60653
        return self

    @property
    def connected(self) -> bool:
        return not (self.udp or self.listen)

    @property
    def wildcard(self) -> bool:
        return self.local in ("0.0.0.0", "::")


def _bracketed(address: str) -> str:
    return f"[{address}]" if ":" in address else address


def ss(rows: Iterator[Row]) -> Iterator[str]:
    yield ("Netid State      Recv-Q Send-Q          Local Address:Port           Peer Address:Port Process")
    for r in rows:
        proto = "udp" if r.udp else "tcp"
        state = "UNCONN" if r.udp else "LISTEN" if r.listen else STATES_SS[r.state_index]
        if r.connected:
            peer, peer_port = _bracketed(r.remote), str(r.rport)
        else:
            peer, peer_port = ("[::]" if r.v6 else "0.0.0.0"), "*"
        users = f'users:(("{r.process}",pid={r.pid},fd={r.fd}))'
        queues = f"{0:<6} {128 if r.listen else 0:<6}"
        local = _bracketed(r.local)
        yield f"{proto:<5} {state:<10} {queues} {local:>22}:{r.lport:<5} {peer:>22}:{peer_port:<5} {users}"


def netstat_linux(rows: Iterator[Row]) -> Iterator[str]:
    yield "Active Internet connections (servers and established)"
    yield (
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    "
    )
    for r in rows:
        proto = ("udp" if r.udp else "tcp") + ("6" if r.v6 else "")
        state = "" if r.udp else "LISTEN" if r.listen else STATES[r.state_index]
        peer = f"{r.remote}:{r.rport}" if r.connected else ":::*" if r.v6 else "0.0.0.0:*"
        local = f"{r.local}:{r.lport}"
        yield f"{proto:<5}      0      0 {local:<23} {peer:<23} {state:<11} {f'{r.pid}/{r.process}':<20}"


def netstat_windows(rows: Iterator[Row]) -> Iterator[str]:
    yield ""
    yield "Active Connections"
    yield ""
    yield "  Proto  Local Address          Foreign Address        State           PID"
    for r in rows:
        local = f"{_bracketed(r.local)}:{r.lport}"
        if r.udp:
            peer = "*:*"
            yield f"  UDP    {local:<22} {peer:<39}{r.pid}"
            continue
        state = "LISTENING" if r.listen else STATES[r.state_index]
        peer = ("[::]:0" if r.v6 else "0.0.0.0:0") if r.listen else f"{_bracketed(r.remote)}:{r.rport}"
        yield f"  TCP    {local:<22} {peer:<22} {state:<15} {r.pid}"


def lsof(rows: Iterator[Row]) -> Iterator[str]:
    yield "COMMAND       PID     USER   FD   TYPE  DEVICE SIZE/OFF NODE NAME"
    for r in rows:
        proto = "UDP" if r.udp else "TCP"
        local = f"{'*' if r.wildcard else _bracketed(r.local)}:{r.lport}"
        if r.udp:
            name = local
        elif r.listen:
            name = f"{local} (LISTEN)"
        else:
            name = f"{local}->{_bracketed(r.remote)}:{r.rport} ({STATES[r.state_index]})"
        family = "IPv6" if r.v6 else "IPv4"
        owner = f"{r.process:<12} {r.pid:>6} {r.user:>8} {r.fd:>4}u"
        yield f"{owner}  {family} {r.inode:>7}      0t0  {proto} {name}"


def _bsd_endpoints(r: Row) -> tuple[str, str, str]:
    """(proto, local, peer) in BSD notation."""
    proto = ("udp" if r.udp else "tcp") + ("6" if r.v6 else "4")
    local = f"{'*' if r.wildcard else r.local}.{r.lport}"
    peer = f"{r.remote}.{r.rport}" if r.connected else "*.*"
    return proto, local, peer


def netstat_macos(rows: Iterator[Row]) -> Iterator[str]:
    yield "Active Internet connections (including servers)"
    yield "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)    "
    for r in rows:
        proto, local, peer = _bsd_endpoints(r)
        state = "" if r.udp else "LISTEN" if r.listen else STATES[r.state_index]
        yield f"{proto:<6}     0      0  {local:<22} {peer:<22} {state:<11}"


def netstat_macos_v(rows: Iterator[Row]) -> Iterator[str]:
    yield "Active Internet connections (including servers)"
    yield (
        "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)      rhiwat  shiwat"
        "    pid   epid state  options           gencnt    flags   flags1 usscnt rtncnt fltrs"
    )
    for r in rows:
        proto, local, peer = _bsd_endpoints(r)
        state = "" if r.udp else "LISTEN" if r.listen else STATES[r.state_index]
        buffers = "786896    9216" if r.udp else "131072  131072"
        yield (
            f"{proto:<6}     0      0  {local:<22} {peer:<22} {state:<11} {buffers} {r.pid:>6}      0 00100"
            f" 00000006 {r.gencnt:016x} 00000000 00000800      1      0 000001"
        )


SOLARIS_SECTIONS = (
    ("UDP: IPv4", "   Local Address        Remote Address      State", 20, "----------"),
    ("UDP: IPv6", "   Local Address                     Remote Address                   State      If", 33,
     "---------- -----"),
    ("TCP: IPv4", "   Local Address        Remote Address    Swind Send-Q Rwind Recv-Q    State", 20,
     "----- ------ ----- ------ -----------"),
    ("TCP: IPv6", "   Local Address                     Remote Address                 "
     "Swind Send-Q Rwind Recv-Q   State      If", 33, "----- ------ ----- ------ ----------- -----"),
)  # fmt: skip
SOLARIS_STATES = ("ESTABLISHED", "ESTABLISHED", "ESTABLISHED", "TIME_WAIT", "CLOSE_WAIT", "SYN_SENT")


def netstat_solaris(rows: Iterator[Row]) -> Iterator[str]:
    """Solaris prints each protocol and family in a section of its own: the rows are gathered first."""
    sections: list[list[Row]] = [[], [], [], []]
    for r in rows:
        sections[(0 if r.udp else 2) + (1 if r.v6 else 0)].append(r)
    for (title, header, width, dashes), members in zip(SOLARIS_SECTIONS, sections):
        yield ""
        yield title
        yield header
        yield f"{'-' * width} {'-' * width} {dashes}"
        for r in members:
            local = f"{'      *' if r.wildcard else r.local}.{r.lport}"
            peer = f"{r.remote}.{r.rport}" if r.connected else "      *.*"
            if r.udp:
                yield f"{local:<{width}} {'':<{width}} Idle"
                continue
            state = "LISTEN" if r.listen else SOLARIS_STATES[r.state_index]
            windows = "     0      0 128000      0" if r.listen else " 64128      0 128872      0"
            yield f"{local:<{width}} {peer:<{width}} {windows} {state}"


def fstat(rows: Iterator[Row]) -> Iterator[str]:
    yield "USER     CMD          PID   FD  DEV    INUM       MODE R/W    SZ|DV"
    for r in rows:
        owner = f"{r.user:<8.8} {r.process:<10} {r.pid:5}"
        if r.fd % 8 == 0:  # the files of fstat -n around the sockets
            yield f"{owner}   wd 4,0         2  drwxr-xr-x  r      512"
        domain = "internet6" if r.v6 else "internet"
        kind = "dgram udp" if r.udp else "stream tcp"
        local = f"{'*' if r.wildcard else _bracketed(r.local)}:{r.lport}"
        peer = f" --> {_bracketed(r.remote)}:{r.rport}" if r.connected else ""
        yield f"{owner} {r.fd:4}* {domain} {kind} 0xfffffd80{r.inode:08x} {local}{peer}"


WRITERS: dict[str, Callable[[Iterator[Row]], Iterator[str]]] = {
    "ss": ss,
    "netstat-linux": netstat_linux,
    "netstat-windows": netstat_windows,
    "lsof": lsof,
    "netstat-macos": netstat_macos,
    "netstat-macos-v": netstat_macos_v,
    "netstat-solaris": netstat_solaris,
    "fstat": fstat,
}


def rows(count: int, seed: int = NEEDLE_PORT) -> Iterator[Row]:
    rng = random.Random(seed)
    for index in range(count):
        row = Row(rng, index)
        yield row.needle() if index == count // 2 else row


def lines(fmt: str, count: int) -> Iterator[str]:
    """The text of one format, line by line (without terminators)."""
    return WRITERS[fmt](rows(count))


def generate(fmt: str, count: int, path: Path) -> Path:
    newline = "\r\n" if fmt == "netstat-windows" else "\n"
    with path.open("w", encoding="utf-8", newline="") as out:
        for line in lines(fmt, count):
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
