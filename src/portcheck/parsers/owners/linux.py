"""Linux: what /proc says about a process. portcheck reads the files itself on this machine
(portcheck.live.procfs.owner_facts); on an ssh host one script sends them back hex-encoded
(platforms.linux.OWNERS_SCRIPT), read by `read_reply`. Both end in `facts`.

- /proc/PID/cmdline: the arguments, NUL-separated. A program that rewrote its title (`nginx: master
  process /usr/sbin/nginx`, `postgres: checkpointer`) leaves one argument with spaces in it, shown as
  it is; otherwise the arguments are joined as a shell would need them (`sh -c 'echo hi'`), so what
  is shown is what ran.
- /proc/PID/stat: field 4 the parent PID, field 22 the start time in clock ticks after boot; the
  command name before them is in parentheses and may hold spaces and `)`, so fields are counted from
  the last `)`.
- /proc/stat `btime`: the boot time, seconds since the epoch. Start = btime + ticks / CLK_TCK, to the
  second, as procps' `ps -o lstart` computes it.
- /proc/PID/cgroup: the systemd unit and the container (portcheck.core.cgroups).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable

from portcheck.core.cgroups import process_cgroup
from portcheck.core.owners import ProcessFacts, iso_utc

MAX_FILE = 32768
"""Bytes read of each file (the script's `dd bs=4096 count=8`): a command line may be up to ARG_MAX
(2 MiB); what is shown of it is bounded, its end marked."""
CUT = " …"
DEFAULT_HZ = 100
"""USER_HZ: 100 on every Linux architecture that matters; used when `getconf CLK_TCK` is missing."""
_MARKER = re.compile(r"(stat|cgroup|cmdline) (\d{1,10})")
_HEADER = re.compile(r"(clk|btime) (\d{1,20})")


def join_cmdline(data: bytes) -> str | None:
    """The command line from /proc/PID/cmdline's bytes; None when it is empty (a kernel thread, a
    zombie). Bytes that are not UTF-8 are kept visible as `\\xNN`."""
    cut = len(data) >= MAX_FILE
    args = data[:MAX_FILE].split(b"\0")
    while args and not args[-1]:
        args.pop()  # the terminating NUL, and the padding of a program that rewrote its title
    if not args:
        return None
    words = [arg.decode("utf-8", "backslashreplace") for arg in args]
    text = words[0] if len(words) == 1 else shlex.join(words)
    return text + CUT if cut else text


def read_stat(data: bytes) -> tuple[int, int] | None:
    """(parent PID, start time in clock ticks after boot) from /proc/PID/stat; None if it is not one."""
    fields = data.rpartition(b")")[2].split()
    try:
        return int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def boot_time(stat_text: str) -> int | None:
    """/proc/stat's `btime` line."""
    for line in stat_text.splitlines():
        if line.startswith("btime "):
            found = _HEADER.fullmatch(line.strip())
            return int(found.group(2)) if found else None
    return None


def facts(
    pid: int, stat: bytes | None, cgroup: bytes | None, cmdline: bytes | None, btime: int | None, hz: int
) -> ProcessFacts | None:
    """One process's facts from its three files; None when its stat is gone (it exited)."""
    parsed = read_stat(stat) if stat else None
    if parsed is None:
        return None
    ppid, ticks = parsed
    started = iso_utc(btime + ticks // max(hz, 1)) if btime is not None else None
    path = service = container = None
    if cgroup:
        path, service, container = process_cgroup(cgroup[:MAX_FILE].decode("utf-8", "backslashreplace"))
    return ProcessFacts(
        pid,
        cmdline=join_cmdline(cmdline) if cmdline else None,
        started=started,
        service=service,
        ppid=ppid,
        container=container,
        cgroup=path,
    )


def read_reply(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """The remote script's reply: `clk N`, `btime N`, then for each PID and file a `FILE PID` line and
    the file's bytes as `od -An -v -tx1` prints them (lines that start with a blank, hex digits only),
    so nothing a process put in its name or arguments can pose as a line of the reply."""
    hz, btime = DEFAULT_HZ, None
    files: dict[int, dict[str, bytearray]] = {}
    current: bytearray | None = None
    for line in lines:
        if line.startswith(" "):
            if current is not None and len(current) < MAX_FILE:
                try:
                    current.extend(bytes.fromhex(line))
                except ValueError:
                    current = None  # not od's output: that file is dropped, not guessed at
            continue
        current = None
        marker = _MARKER.fullmatch(line.strip())
        if marker is not None:
            current = files.setdefault(int(marker.group(2)), {}).setdefault(marker.group(1), bytearray())
            continue
        header = _HEADER.fullmatch(line.strip())
        if header is not None:
            if header.group(1) == "clk":
                hz = int(header.group(2)) or DEFAULT_HZ
            else:
                btime = int(header.group(2))
    found = {}
    for pid, its in files.items():
        got = facts(
            pid,
            bytes(its.get("stat", b"")),
            bytes(its.get("cgroup", b"")),
            bytes(its.get("cmdline", b"")),
            btime,
            hz,
        )
        if got is not None:
            found[pid] = got
    return found
