"""macOS and FreeBSD: `ps -ww -o pid=,lstart=,command= -p PIDS` (and, on macOS, `launchctl list`).

ps(1) on both (the BSD ps): `=` after each keyword drops the header; `-ww` lifts the width limit (79
columns when stdout is not a terminal, so a command line would be cut); `lstart` is the start time as
ctime(3) prints it, `Fri Dec  4 16:46:39 2026`: always five words in the C locale (the day of the
month is padded with a blank, not a second word), in the time zone TZ names, so the probe runs with
LC_ALL=C and TZ=UTC0. `command` is the rest of the line (the arguments joined by blanks; ps shows
unprintable bytes as `\\ooo`), so each line splits into the PID, five words and the command.

launchctl(1) `list`: three tab-separated columns, `PID  Status  Label`, with `-` for a job not running,
of the caller's domain (root: the system's daemons; a user: their agents). A label that starts with
`application.` is an app the user opened (Dock, Finder), not a job launchd keeps alive: not a service.

FreeBSD's rc.d keeps no PID -> script table, but its scripts (rc.subr's `pidfile`, daemon(8)'s `-P`)
write `/var/run/NAME.pid` for the daemons they start: the FreeBSD script prints, after ps, each such
file's first line and name, then the names of the rc.d scripts (/etc/rc.d, /usr/local/etc/rc.d). A
process is a service when a pid file in /var/run itself (writable by root alone: a daemon's own
subdirectory is not read) holds its PID and an rc.d script has the file's name.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Iterator
from itertools import islice

from portcheck.core.owners import ProcessFacts, iso_utc

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
"""The C locale's month names (calendar.month_abbr follows the locale)."""
_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
RC_PIDFILES_MARKER = "rc.d pidfiles:"
RC_SCRIPTS_MARKER = "rc.d scripts:"
"""The lines the FreeBSD script prints before its pid files and before its rc.d script names."""
_RC_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
"""An rc.d script's name as rc.d(8) scripts are named; anything else is not taken for one."""
MAX_PIDFILES = 4096
LAUNCHCTL_MARKER = "launchctl list:"
"""The line the macOS script prints between ps's reply and launchctl's: no ps line starts with a
letter (each starts with the PID, right-aligned)."""
MAX_LINE = 65536


def lstart_iso(words: list[str]) -> str | None:
    """`['Fri', 'Dec', '4', '16:46:39', '2026']` (UTC) -> `2026-12-04T16:46:39Z`."""
    if len(words) != 5 or words[0] not in _WEEKDAYS or words[1] not in _MONTHS:
        return None
    day, clock, year = words[2], words[3].split(":"), words[4]
    if not (day.isdecimal() and year.isdecimal() and len(clock) == 3 and all(p.isdecimal() for p in clock)):
        return None
    hour, minute, second = map(int, clock)
    if not (1 <= int(day) <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    return iso_utc(calendar.timegm((int(year), _MONTHS[words[1]], int(day), hour, minute, second)))


def read_ps(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """PID -> facts (cmdline, started) from `ps -o pid=,lstart=,command=`."""
    found: dict[int, ProcessFacts] = {}
    for line in _bounded(lines):
        words = line.split(None, 6)
        if len(words) < 6 or not words[0].isdecimal():
            continue
        pid = int(words[0])
        command = words[6].strip() if len(words) == 7 else ""
        found[pid] = ProcessFacts(pid, cmdline=command or None, started=lstart_iso(words[1:6]))
    return found


def read_launchctl(lines: Iterable[str]) -> dict[int, str]:
    """PID -> label of every running job `launchctl list` shows."""
    labels: dict[int, str] = {}
    for line in _bounded(lines):
        cells = line.split("\t")
        if len(cells) != 3 or not cells[0].isdecimal():
            continue  # the header, or a job that is not running (`-`)
        label = cells[2].strip()
        if label and not label.startswith("application."):
            labels[int(cells[0])] = label
    return labels


def read_macos_reply(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """The macOS script's reply: ps's lines, the marker, then `launchctl list`."""
    ps_lines: list[str] = []
    rest: Iterator[str] = iter(lines)
    for line in rest:
        if line.strip() == LAUNCHCTL_MARKER:
            break
        ps_lines.append(line)
    found = read_ps(ps_lines)
    labels = read_launchctl(rest)
    return {pid: f._replace(service=labels.get(pid)) for pid, f in found.items()}


def read_freebsd_reply(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """The FreeBSD script's reply: ps's lines, the pid files of /var/run, then the rc.d scripts, each
    part ended by the script's own marker line, in that order (a ps line starts with its PID, so no
    command line is taken for a marker)."""
    rest = iter(_bounded(lines))
    ps_lines = list(_until(rest, RC_PIDFILES_MARKER))
    pidfiles = list(islice(_until(rest, RC_SCRIPTS_MARKER), MAX_PIDFILES))
    scripts = {
        name for name in islice((line.strip() for line in rest), MAX_PIDFILES) if _RC_NAME.fullmatch(name)
    }
    services = rc_services(pidfiles, scripts)
    return {pid: f._replace(service=services.get(pid)) for pid, f in read_ps(ps_lines).items()}


def _until(lines: Iterator[str], marker: str) -> Iterator[str]:
    for line in lines:
        if line.strip() == marker:
            return
        yield line


def rc_services(pidfiles: Iterable[str], scripts: set[str]) -> dict[int, str]:
    """PID -> rc.d script from `PID NAME.pid` lines: only a name an rc.d script has, and only a PID
    one file alone claims (two scripts' files naming one PID tell nothing)."""
    claims: dict[int, set[str]] = {}
    for line in pidfiles:
        words = line.split()
        if len(words) != 2 or not words[0].isdecimal() or len(words[0]) > 10 or not words[1].endswith(".pid"):
            continue
        name = words[1][: -len(".pid")]
        if name in scripts:
            claims.setdefault(int(words[0]), set()).add(name)
    return {pid: names.pop() for pid, names in claims.items() if len(names) == 1}


def _bounded(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line[:MAX_LINE]
