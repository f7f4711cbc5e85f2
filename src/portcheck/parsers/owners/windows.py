"""Windows: what Win32_Process, tasklist /svc and HTTP.sys say about the processes behind sockets.

- The PowerShell probe (platforms.windows.CIM_SCRIPT) prints `ConvertTo-Json -Compress` of objects
  with ProcessId, ParentProcessId, Name, CommandLine and Started (CreationDate converted to UTC by the
  script, in the invariant culture, so no locale reaches the text): one object, or an array.
- wmic, where PowerShell is absent: `wmic process where "..." get
  CommandLine,CreationDate,Name,ParentProcessId,ProcessId /value` prints `Key=Value` lines, every key
  once per process (blank lines are no guide: wmic ends its lines with CR CR LF); CreationDate is
  CIM_DATETIME, `yyyymmddHHMMSS.ffffff+UUU`: local time and its offset from UTC in minutes.
- `tasklist /svc /fo csv /nh`: `"image","PID","Service1,Service2"`; a process hosting no service shows
  `N/A` (translated on other languages' Windows: anything that is not a list of service names).
- `netsh http show servicestate view=requestq`: one block per HTTP.sys request queue, each listing the
  processes attached to it (`ID: 3112, image: C:\\...\\svchost.exe`) and its registered URLs
  (`HTTP://+:5985/WSMAN/`). The titles are translated on other languages' Windows; the `ID: n, x: path`
  shape, the URLs and the indentation are not, so only they are read.
"""

from __future__ import annotations

import calendar
import json
import re
from collections.abc import Iterable, Iterator
from typing import NamedTuple

from portcheck.core.owners import PortOwner, ProcessFacts, iso_utc

MAX_REPLY = 16 * 1024 * 1024
"""Characters of a JSON reply read: a few hundred processes' command lines are far less."""
MAX_LINE = 65536
_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
_CIM_DATETIME = re.compile(r"(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)\.\d{6}([+-])(\d{3})")
_SERVICE_NAME = re.compile(r"[A-Za-z0-9_.$@#-]+")
_QUEUE_PROCESS = re.compile(r"\s+ID:\s*(\d{1,10}),\s*[^:]{1,40}:\s*(.*)")
_URL = re.compile(r"\s+((?:https?)://\S+)", re.IGNORECASE)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _pid(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def read_cim(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """PID -> facts from the PowerShell probe's JSON."""
    kept: list[str] = []
    size = 0
    for line in lines:  # one line when compressed: bounded as a whole, not per line
        kept.append(line)
        size += len(line)
        if size > MAX_REPLY:
            return {}
    text = "".join(kept).lstrip("\ufeff").strip()
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    found: dict[int, ProcessFacts] = {}
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict):
            continue
        pid = _pid(item.get("ProcessId"))
        if pid is None:
            continue
        started = _text(item.get("Started"))
        found[pid] = ProcessFacts(
            pid,
            cmdline=_text(item.get("CommandLine")),
            started=started if started and _ISO.fullmatch(started) else None,
            ppid=_pid(item.get("ParentProcessId")),
            name=_text(item.get("Name")),
        )
    return found


def cim_datetime_iso(value: str) -> str | None:
    """`20261204174639.123456+060` (local time, 60 minutes east of UTC) -> `2026-12-04T16:46:39Z`."""
    found = _CIM_DATETIME.fullmatch(value.strip())
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        return None
    offset = int(found.group(8)) * (1 if found.group(7) == "+" else -1)
    return iso_utc(calendar.timegm((year, month, day, hour, minute, second)) - offset * 60)


def read_wmic(lines: Iterable[str]) -> dict[int, ProcessFacts]:
    """PID -> facts from `wmic process ... get ... /format:list`."""
    found: dict[int, ProcessFacts] = {}
    block: dict[str, str] = {}

    def flush() -> None:
        pid_text = block.get("ProcessId", "")
        if pid_text.isdecimal():
            pid = int(pid_text)
            parent = block.get("ParentProcessId", "")
            found[pid] = ProcessFacts(
                pid,
                cmdline=block.get("CommandLine") or None,
                started=cim_datetime_iso(block.get("CreationDate", "")),
                ppid=int(parent) if parent.isdecimal() else None,
                name=block.get("Name") or None,
            )
        block.clear()

    for line in _bounded(lines):
        key, equals, value = line.strip("\r\n").partition("=")
        if not equals:
            continue  # blank: wmic ends lines with CR CR LF, so blank lines fall between the keys too
        if key in block:  # every process prints every key once: a key seen again starts the next
            flush()
        block[key] = value.strip()
    flush()
    return found


def read_tasklist_services(lines: Iterable[str]) -> dict[int, str]:
    """PID -> the services it hosts, joined by `, `, from `tasklist /svc /fo csv /nh`."""
    import csv

    services: dict[int, str] = {}
    for fields in csv.reader(_bounded(line for line in lines if line.startswith('"'))):
        if len(fields) < 3 or not fields[1].isdecimal():
            continue
        names = [name.strip() for name in fields[2].split(",")]
        if names and all(_SERVICE_NAME.fullmatch(name) for name in names):
            services[int(fields[1])] = ", ".join(names)
    return services


class RequestQueue(NamedTuple):
    """One HTTP.sys request queue: the processes that serve it and the URLs it is registered for."""

    processes: tuple[tuple[int, str], ...]
    """(PID, image path)."""
    urls: tuple[str, ...]

    def ports(self) -> set[int]:
        return {port for port in map(url_port, self.urls) if port is not None}


def url_port(url: str) -> int | None:
    """The port of an HTTP.sys URL (`HTTP://+:5985/WSMAN/`; `https://*/` is 443, `http://x/` 80)."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0]
    if host.startswith("["):
        host = host.partition("]")[2]
    _, colon, port = host.rpartition(":")
    if not colon:
        return 443 if scheme.lower() == "https" else 80
    return int(port) if port.isdecimal() and int(port) <= 65535 else None


def read_request_queues(lines: Iterable[str]) -> list[RequestQueue]:
    """The request queues of `netsh http show servicestate view=requestq`."""
    queues: list[RequestQueue] = []
    processes: list[tuple[int, str]] = []
    urls: list[str] = []

    def flush() -> None:
        if processes or urls:
            queues.append(RequestQueue(tuple(processes), tuple(urls)))
        processes.clear()
        urls.clear()

    for line in _bounded(lines):
        process = _QUEUE_PROCESS.fullmatch(line.rstrip())
        if process is not None:
            if urls:  # a queue's processes come before its URLs
                flush()
            processes.append((int(process.group(1)), process.group(2).strip()))
            continue
        url = _URL.fullmatch(line.rstrip())
        if url is not None:
            urls.append(url.group(1))
        elif line.strip() and not line[:1].isspace():
            flush()  # a title at the left margin starts the next queue
    flush()
    return queues


def _bounded(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line[:MAX_LINE]


def read_http_owners(lines: Iterable[str]) -> list[PortOwner]:
    """Each process that registered a URL with HTTP.sys, per port: what stands behind PID 4 there."""
    owners: list[PortOwner] = []
    for queue in read_request_queues(lines):
        for port in sorted(queue.ports()):
            urls = tuple(url for url in queue.urls if url_port(url) == port)
            for pid, image in queue.processes:
                owners.append(PortOwner(port, pid, image.rsplit("\\", 1)[-1] or None, urls))
    return owners
