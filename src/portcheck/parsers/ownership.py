"""Readers of `kill`'s ownership check: does process PID hold a socket on the port, in the kernel's own
view, just before it is signalled? (The check itself, per OS, is portcheck.platforms' OwnershipCheck;
running it is portcheck.live.ownership.)

The answer must not come from text a stranger can shape. A tool's row for the port lists its owner
next to names and cgroup paths that other users choose, so a row can be forged (a cgroup named
`x users:(("nginx",pid=928,fd=3))` once made portcheck signal PID 928). What decides here is read
from places only the kernel writes: on Linux the inodes of PID's socket descriptors (/proc/PID/fd)
against the inodes of the sockets on the port (/proc/net/tcp, tcp6, udp, udp6); elsewhere a fresh
answer of a tool asked about that one PID (`lsof -a -p PID`, whose rows are only PID's own files) or
a table without any names (Windows `netstat -ano`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portcheck.core.filters import RowFilter
from portcheck.core.parsing import ParseContext
from portcheck.core.strenum import StrEnum
from portcheck.parsers.proc_net import ProcEntry, entries


class Holding(StrEnum):
    """What the check found about one PID and the port."""

    HOLDS = "holds"
    NOT_HELD = "does not hold"
    GONE = "gone"
    """No such process any more."""
    UNREADABLE = "unreadable"
    """Its descriptors cannot be looked into (another user's process, without root)."""
    FOREIGN_PIDS = "foreign pids"
    """The PIDs the tools print are not the ones kill(2) would reach: /proc belongs to another PID
    namespace than portcheck (`unshare --pid` without `--mount-proc`, a container given the host's
    /proc)."""


class LinuxEvidence(NamedTuple):
    """What /proc says about PID and the port, read by portcheck (this machine) or by the fixed remote
    script (platforms.linux.OWNERSHIP_SCRIPT)."""

    namespace_levels: int | None
    """How many PID namespaces /proc/self/status's NSpid line spans from /proc's namespace down to
    the reader's own: 1 when /proc is the reader's; None on kernels without NSpid (before 4.1)."""
    gone: bool
    unreadable: bool
    socket_inodes: frozenset[int]
    """The inodes of the sockets PID holds (its descriptors that are sockets)."""
    port_sockets: tuple[ProcEntry, ...]
    """The kernel's sockets on the port (the /proc/net rows the port filter kept)."""


def decide(evidence: LinuxEvidence, scope: RowFilter) -> Holding:
    """HOLDS when one of PID's socket inodes is a socket on the port that `scope` counts."""
    if evidence.namespace_levels is not None and evidence.namespace_levels > 1:
        return Holding.FOREIGN_PIDS
    if evidence.gone:
        return Holding.GONE
    if evidence.unreadable:
        return Holding.UNREADABLE
    on_port = {e.inode for e in evidence.port_sockets if e.inode and scope(e.socket)}
    return Holding.HOLDS if on_port & evidence.socket_inodes else Holding.NOT_HELD


def namespace_levels(status_line: str) -> int | None:
    """`NSpid:\\t8346\\t3` -> 2: the PID in every namespace from /proc's own down to the process's."""
    if not status_line.startswith("NSpid:"):
        return None
    numbers = status_line[len("NSpid:") :].split()
    return len(numbers) if numbers and all(n.isdecimal() for n in numbers) else None


_INODE_LINE = re.compile(r"\s*(\d{1,20}) /proc/\d{1,10}/fd/\d{1,10}")
"""`ls -iLd /proc/PID/fd/N ...`: the inode of each descriptor's target, then the path portcheck's script
named itself (digits only): no text another program chose can appear on these lines."""
TABLES_MARK = "tables"
GONE_MARK = "pid gone"
UNREADABLE_MARK = "fd unreadable"


def read_linux_reply(lines: Iterable[str], scope: RowFilter) -> LinuxEvidence:
    """The remote script's reply: the NSpid line, a mark when PID is gone or unreadable, one
    `INODE /proc/PID/fd/N` line per socket descriptor, then `tables` and /proc/net/{tcp,tcp6,udp,udp6}."""
    levels: int | None = None
    gone = unreadable = False
    inodes: set[int] = set()
    rest: Iterator[str] = iter(lines)
    for line in rest:
        text = line.rstrip("\r\n")
        if text == TABLES_MARK:
            break
        if text.startswith("NSpid:"):
            levels = namespace_levels(text)
        elif text == GONE_MARK:
            gone = True
        elif text == UNREADABLE_MARK:
            unreadable = True
        else:
            match = _INODE_LINE.fullmatch(text)
            if match:
                inodes.add(int(match.group(1)))
    ports = scope.ports.ports if scope.ports is not None else None
    found = tuple(entries(rest, ParseContext(ports)))
    return LinuxEvidence(levels, gone, unreadable, frozenset(inodes), found)


def rows_name_pid(parser: str, lines: Iterable[str], pid: int, scope: RowFilter) -> Holding:
    """A tool's fresh rows (format `parser`) for the port: HOLDS when one is PID's and `scope` counts it."""
    from portcheck.parsers import load

    ports = scope.ports.ports if scope.ports is not None else None
    rows = load(parser).parse(lines, ParseContext(ports))
    return Holding.HOLDS if any(r.pid == pid and scope(r) for r in rows) else Holding.NOT_HELD
