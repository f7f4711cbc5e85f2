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
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Iterator

from portcheck.core.owners import ProcessFacts, iso_utc

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
"""The C locale's month names (calendar.month_abbr follows the locale)."""
_WEEKDAYS = frozenset(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"))
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


def _bounded(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line[:MAX_LINE]
