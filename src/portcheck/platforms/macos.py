"""macOS: lsof first (the only tool that names processes), then `netstat -anvW` (its -v adds the PID).
Who a process is: one `sh` script running `ps` and `launchctl list`; Docker Desktop's containers from
`docker ps`."""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from portcheck.core.model import Proto, Socket
from portcheck.platforms.base import (
    OS,
    POSIX_ENV,
    PS_ENV,
    BsdPlatform,
    ClipboardReader,
    Command,
    OwnerProbe,
    OwnershipCheck,
    Question,
    Step,
    Supervisor,
    Traits,
    container_cli,
    lsof_ownership,
    lsof_step,
)

if TYPE_CHECKING:
    from portcheck.core.owners import ProcessFacts

OWNERS_SCRIPT = (
    '/bin/ps -ww -o pid=,lstart=,command= -p "$1"; echo "launchctl list:"; /bin/launchctl list 2>/dev/null; '
    "exit 0"
)
"""Run as `sh -c OWNERS_SCRIPT sh PID,PID,...` (a fixed script; its one argument is PIDs, ints, joined by
commas): ps for the PIDs, then every job launchd runs for this user (root: the system's daemons) with
its PID, so a process's label costs no second command (portcheck.parsers.owners.bsd.read_macos_reply
reads both). The tools by their absolute paths (macOS keeps both in /bin): no PATH is consulted, so
through `--sudo` (which resolves `sh` in the system directories) nothing a user planted runs as root."""
AIRPLAY_PORTS = frozenset({5000, 7000})
AIRPLAY_HINT = (
    "ControlCenter on port {ports} is macOS's AirPlay Receiver (macOS 12 and later): turn it off in System "
    "Settings → General → AirDrop & Handoff → AirPlay Receiver, or run your server on another port"
)


class MacOS(BsdPlatform):
    os = OS.MACOS
    traits = Traits(posix=True, getent=False)
    unames = ("Darwin",)
    container_runtimes = (container_cli("docker"),)
    forwarders = MappingProxyType(
        {"com.docker.backend": "docker", "com.docker.vpnkit": "docker", "vpnkit": "docker"}
    )
    # pbpaste writes the text in the locale's encoding: UTF-8 asked for, whatever the caller's locale
    clipboard = (
        ClipboardReader(Command(("pbpaste", "-Prefer", "txt"), MappingProxyType({"LC_ALL": "en_US.UTF-8"}))),
    )
    clipboard_install = "pbpaste (part of macOS)"

    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        return (
            lsof_step(question, privileged),
            Step("netstat", "netstat-bsd", (Command(("netstat", "-anvW"), POSIX_ENV),)),
        )

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        return lsof_ownership(pid, question)

    def owner_probes(self, pids: Sequence[int], orphans: Sequence[int] = ()) -> tuple[OwnerProbe, ...]:
        from portcheck.parsers.owners.bsd import read_macos_reply

        argv = ("sh", "-c", OWNERS_SCRIPT, "sh", ",".join(map(str, pids)))
        return (OwnerProbe(Command(argv, PS_ENV), read_macos_reply),)

    def supervisor(self, facts: ProcessFacts, *, privileged: bool) -> Supervisor | None:
        """A launchd job: `launchctl bootout` (`remove` in the user's own domain) unloads it and ends it,
        so KeepAlive cannot restart it. Which domain: root's `launchctl list` shows the system's, a
        user's their gui/UID one."""
        label = facts.service
        if not label:
            return None
        if privileged:
            stop = Command(("launchctl", "bootout", f"system/{label}"), POSIX_ENV)
            advice = f"sudo launchctl bootout system/{label}"
        else:  # `remove` unloads from the caller's own domain (gui/UID) without naming the UID
            stop = Command(("launchctl", "remove", label), POSIX_ENV)
            advice = f"launchctl bootout gui/$(id -u)/{label}"
        return Supervisor("launchd", label, stop, advice)

    def cause_hints(self, rows: Sequence[Socket]) -> list[str]:
        ports = sorted(
            {
                r.local_port
                for r in rows
                if r.proto is Proto.TCP
                and r.local_port in AIRPLAY_PORTS
                and r.remote_port is None
                and r.process == "ControlCenter"
            }
        )
        return [AIRPLAY_HINT.format(ports=" and ".join(map(str, ports)))] if ports else []


PLATFORM = MacOS()
