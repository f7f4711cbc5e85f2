"""What portcheck learns about the process behind a socket beyond its PID and name: the facts that fill
the record's `cmdline`, `started`, `service` and `container`, and what `kill` needs to end a supervised
holder the right way (issue 16).

Each OS tells these differently (/proc on Linux, `ps` on the BSDs, Win32_Process on Windows); the
readers in portcheck.parsers.owners turn each reply into the same `ProcessFacts`, and
portcheck.live.enrich puts them into the rows. Every string here came from another program and is
shown to people only through the escaping renderers; none of it ever decides a signal.
"""

from __future__ import annotations

from typing import NamedTuple


class ContainerRef(NamedTuple):
    """A container as a process's cgroup path names it: the runtime that made the cgroup and the id.
    Only that runtime can give its name (`docker ps`)."""

    runtime: str
    """`docker`, `podman`, or `kubernetes` (a pod's container: named by the cluster, not here)."""
    id: str
    """The full 64-hex id."""


class ProcessFacts(NamedTuple):
    """What an OS says about one process. Every field is None where the source cannot tell."""

    pid: int
    cmdline: str | None = None
    started: str | None = None
    """ISO 8601 UTC, to the second (`2026-12-04T16:46:39Z`)."""
    service: str | None = None
    """The supervisor's name for it: a systemd unit, a launchd label, Windows service names."""
    ppid: int | None = None
    container: ContainerRef | None = None
    cgroup: str | None = None
    """The cgroup path the service and container came from (Linux), for kill's advice (a user unit)."""
    name: str | None = None
    """The program's name, where the source gives one (Windows Win32_Process.Name)."""


class Published(NamedTuple):
    """One port a container publishes on the host: `127.0.0.1:8080->80/tcp`, a range `8000-8001->...`."""

    host_ip: str | None
    """As the runtime prints it (`0.0.0.0`, `::`, `127.0.0.1`); None when it prints none."""
    low: int
    high: int
    proto: str

    def covers(self, proto: str, port: int) -> bool:
        return self.proto == proto and self.low <= port <= self.high


class Container(NamedTuple):
    """A running container as its runtime lists it (`docker ps`)."""

    runtime: str
    id: str
    name: str
    image: str | None = None
    published: tuple[Published, ...] = ()

    def publishes(self, proto: str, port: int) -> bool:
        return any(p.covers(proto, port) for p in self.published)


class PortOwner(NamedTuple):
    """A process that asked the kernel for a port which the kernel itself holds (Windows HTTP.sys: the
    socket is PID 4's, the URLs are this process's)."""

    port: int
    pid: int
    image: str | None
    urls: tuple[str, ...]


def iso_utc(seconds: float) -> str | None:
    """Seconds since the epoch as `2026-12-04T16:46:39Z` (fractions dropped, as ps drops them); None
    for a time no clock of this century shows (a reply that is not what it claims)."""
    import time

    if not 0 <= seconds < 2**37:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(seconds)))
