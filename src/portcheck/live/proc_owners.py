"""What /proc says about the processes behind sockets (cmdline, started, unit, container), read by
portcheck itself on this machine: no process at all (platforms.linux.OWNERS_SCRIPT asks an ssh host for
the same files; portcheck.parsers.owners.linux reads both alike). Apart from portcheck.live.procfs so
that a query does not load kill's ownership reader for it."""

from __future__ import annotations

import os
from collections.abc import Iterable

from portcheck.core.owners import ProcessFacts
from portcheck.parsers.owners.linux import MAX_FILE, boot_time, facts

PROC = "/proc"


def owner_facts(pids: Iterable[int]) -> dict[int, ProcessFacts]:
    """What /proc says of each process (command line, start, unit, container); a PID that is gone is
    left out."""
    try:
        with open(f"{PROC}/stat", encoding="ascii", errors="replace") as system:
            btime = boot_time(system.read(MAX_FILE))
    except OSError:
        btime = None
    hz = os.sysconf("SC_CLK_TCK")
    found: dict[int, ProcessFacts] = {}
    for pid in pids:
        stat, cgroup, cmdline = (
            _read_bytes(f"{PROC}/{pid}/{name}") for name in ("stat", "cgroup", "cmdline")
        )
        got = facts(pid, stat, cgroup, cmdline, btime, hz)
        if got is not None:
            found[pid] = got
    return found


def _read_bytes(path: str) -> bytes | None:
    """Up to MAX_FILE bytes of a /proc file (a command line may be megabytes); None if it is gone."""
    try:
        with open(path, "rb", buffering=0) as source:
            chunks = []
            size = 0
            while size < MAX_FILE:
                chunk = source.read(MAX_FILE - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
            return b"".join(chunks)
    except OSError:
        return None
