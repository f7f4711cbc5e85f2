"""The last step of the Linux plan: the kernel's socket tables read directly, for a container that has
no ss, netstat or lsof at all.

/proc/net/{tcp,tcp6,udp,udp6} list every socket of this network namespace with its inode and owner
uid; the processes come from /proc/PID/fd, whose `socket:[INODE]` links say which process holds which
socket, names from /proc/PID/comm, users from the uid and the password database. Without root, other
users' /proc/PID/fd cannot be read: those sockets keep their user but get no PID, and the count of
unreadable processes tells the caller why.
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

from portcheck.core.filters import RowFilter
from portcheck.core.model import Proto, Socket
from portcheck.core.parsing import ParseContext
from portcheck.live.users import user_name
from portcheck.parsers.ownership import LinuxEvidence, namespace_levels
from portcheck.parsers.proc_net import ByteOrder, ProcEntry, entries

PROC = "/proc"
DESCRIPTION = "reading /proc/net and /proc/*/fd"
MISSING = "no /proc/net tables"
TABLES = (("tcp", Proto.TCP), ("tcp6", Proto.TCP), ("udp", Proto.UDP), ("udp6", Proto.UDP))
_SOCKET_LINK = "socket:["


@dataclass
class ProcSockets:
    rows: list[Socket]
    tables_read: int
    """How many of the four tables existed (IPv6 may be disabled); 0 means /proc is not usable."""
    unreadable_processes: int = 0
    """Processes whose descriptors could not be read (other users' processes without root)."""
    owners: dict[int, list[int]] = field(default_factory=dict)


def _read_tables(ctx: ParseContext) -> tuple[list[ProcEntry], int]:
    found: list[ProcEntry] = []
    tables = 0
    byteorder: ByteOrder = "little" if sys.byteorder == "little" else "big"
    for name, proto in TABLES:
        try:
            with open(f"{PROC}/net/{name}", encoding="ascii", errors="replace") as table:
                found.extend(entries(table, ctx, proto=proto, byteorder=byteorder))
        except OSError:
            continue
        tables += 1
    return found, tables


def socket_owners(inodes: Iterable[int]) -> tuple[dict[int, list[int]], int]:
    """inode -> PIDs holding it (in PID order), and how many processes could not be looked into."""
    wanted = set(inodes)
    owners: dict[int, list[int]] = {}
    denied = 0
    if not wanted:
        return owners, denied
    with os.scandir(PROC) as processes:
        for process in processes:
            if not process.name.isdecimal():
                continue
            pid = int(process.name)
            try:
                descriptors = os.scandir(f"{PROC}/{pid}/fd")
            except PermissionError:
                denied += 1
                continue
            except OSError:  # the process ended meanwhile
                continue
            with descriptors:
                for descriptor in descriptors:
                    try:
                        target = os.readlink(descriptor.path)
                    except OSError:
                        continue
                    if target.startswith(_SOCKET_LINK):
                        inode = int(target[len(_SOCKET_LINK) : -1])
                        if inode in wanted:
                            pids = owners.setdefault(inode, [])
                            if pid not in pids:
                                pids.append(pid)
    for pids in owners.values():
        pids.sort()
    return owners, denied


def process_name(pid: int) -> str | None:
    try:
        with open(f"{PROC}/{pid}/comm", encoding="utf-8", errors="replace") as comm:
            return comm.read().rstrip("\n") or None
    except OSError:
        return None


def read_sockets(ctx: ParseContext) -> ProcSockets:
    """Every socket the port filter in `ctx` wants, one row per owning process."""
    found, tables = _read_tables(ctx)
    owners, denied = socket_owners(e.inode for e in found if e.inode)
    rows: list[Socket] = []
    names: dict[int, str | None] = {}
    for entry in found:
        row = entry.socket
        if row.user is not None:
            row = row._replace(user=user_name(entry.uid))
        pids = owners.get(entry.inode) if entry.inode else None
        if not pids:
            rows.append(row)
            continue
        for pid in pids:
            if pid not in names:
                names[pid] = process_name(pid)
            rows.append(row._replace(pid=pid, process=names[pid]))
    return ProcSockets(rows, tables, denied, owners)


def holder_evidence(pid: int, scope: RowFilter) -> LinuxEvidence:
    """What kill's ownership check needs, read fresh from /proc by portcheck itself (the same reading
    as platforms.linux.OWNERSHIP_SCRIPT on a remote host): this process's NSpid, PID's socket
    descriptors (stat follows each link: a socket's inode is its st_ino) and the sockets on the port."""
    levels = _own_namespace_levels()
    ports = scope.ports.ports if scope.ports is not None else None
    found, _ = _read_tables(ParseContext(ports))
    gone = unreadable = False
    inodes: set[int] = set()
    try:
        with os.scandir(f"{PROC}/{pid}/fd") as descriptors:
            for descriptor in descriptors:
                try:
                    target = os.stat(descriptor.path)
                except OSError:  # closed meanwhile
                    continue
                if stat.S_ISSOCK(target.st_mode):
                    inodes.add(target.st_ino)
    except PermissionError:
        unreadable = True
    except OSError:
        gone = not os.path.isdir(f"{PROC}/{pid}")
        unreadable = not gone
    return LinuxEvidence(levels, gone, unreadable, frozenset(inodes), tuple(found))


def _own_namespace_levels() -> int | None:
    """1 when /proc numbers processes as this process's PID namespace does; more when /proc is an
    ancestor namespace's. Kernels before 4.1 print no NSpid: /proc/self then tells (it names this
    process by /proc's numbering)."""
    try:
        with open(f"{PROC}/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return namespace_levels(line)
        return 1 if os.readlink(f"{PROC}/self") == str(os.getpid()) else 2
    except OSError:
        return None
