"""Kill that frees the port (issue 16): when something keeps the holder running, ending its PID is not
the way. A container's runtime or a service manager starts it again, or (docker-proxy) ending the
forwarder leaves the container running without its port. `kill` says so before it asks, offers the
right way (`--stop-container`: `docker stop NAME`; `--stop-service`: `systemctl stop UNIT`, `sc.exe
stop NAME`, `launchctl bootout`), and afterwards says who started the process again.

Who supervises a PID comes from the answer's owners (portcheck.live.enrich: the cgroup the kernel
shows, the runtime's own container list, the service manager's records) and the platform module
(Platform.supervisor, container_runtimes); how to stop it is the platform's Command, run through the
question's Executor like every signal. Before a stop, the kernel is asked again whether one of its
PIDs holds the port (portcheck.live.ownership), as before every signal.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portcheck.core.escape import escape_controls
from portcheck.core.model import Socket
from portcheck.live.enrich import Owners
from portcheck.live.executor import output_lines
from portcheck.live.runner import ToolError
from portcheck.parsers.ownership import Holding
from portcheck.platforms.base import Command, ContainerRuntime, Encoding, Platform, Supervisor

if TYPE_CHECKING:
    from portcheck.live.question import LiveQuestion

RETURN_WATCH = 2.0
"""Seconds the port is watched after a supervised holder ended: systemd restarts after RestartSec
(100 ms by default), Docker at once; a holder that is back within this is reported as restarted."""
POLL_INTERVAL = 0.2
STOP_TIMEOUT = 120.0
"""Seconds a stop command may take: `docker stop` waits --grace, systemd its TimeoutStopSec (90 s)."""


@dataclass
class Supervision:
    """Who keeps one candidate PID running."""

    pid: int
    name: str
    container: str | None = None
    runtime: ContainerRuntime | None = None
    forwarder: bool = False
    """The PID only forwards the port to the container (docker-proxy, Docker Desktop)."""
    supervisor: Supervisor | None = None
    restart_policy: str | None = None
    main: bool | None = None
    """The PID is its unit's main process (systemd restarts a unit only when that one dies)."""

    @property
    def restarts(self) -> bool | None:
        """True: its manager starts it again when it ends; False: it does not; None: cannot tell."""
        if self.supervisor is None or self.supervisor.restart_check is None:
            return None
        if self.main is False:
            return False
        if self.restart_policy is None:
            return None
        return self.restart_policy != "no" and self.main is True


@dataclass
class StopAction:
    """One `docker stop NAME` or `systemctl stop UNIT`, for the PIDs it ends."""

    what: str
    """`container pc-web`, `service nginx.service`: how the report names it."""
    command: Command
    pids: list[int] = field(default_factory=list)

    @property
    def shown(self) -> str:
        return " ".join(self.command.argv)


def assess(
    pids: dict[int, str], rows: Sequence[Socket], owners: Owners, system: Platform, question: LiveQuestion
) -> dict[int, Supervision]:
    """The supervision of each candidate PID that has one (containers, services)."""
    found: dict[int, Supervision] = {}
    checked: dict[str, tuple[str | None, int | None]] = {}
    for pid, name in pids.items():
        row = next((r for r in rows if r.pid == pid and r.container), None)
        entry = Supervision(pid, name)
        if row is not None and row.container:
            container = owners.container(None, row.container)
            if container is not None:
                entry.container = container.name
                entry.runtime = next(
                    (r for r in system.container_runtimes if r.name == container.runtime), None
                )
                entry.forwarder = (row.process or "").lower() in system.forwarders
        facts = owners.facts.get(pid)
        if facts is not None and entry.container is None:
            entry.supervisor = system.supervisor(facts, privileged=question.executor.privileged)
        if entry.supervisor is not None and entry.supervisor.restart_check is not None:
            unit = entry.supervisor.name
            if unit not in checked:
                checked[unit] = _restart_policy(entry.supervisor, question)
            policy, main = checked[unit]
            entry.restart_policy = policy
            entry.main = None if main is None else main == pid
        if entry.container or entry.supervisor:
            found[pid] = entry
    return found


def _restart_policy(supervisor: Supervisor, question: LiveQuestion) -> tuple[str | None, int | None]:
    check, read = supervisor.restart_check, supervisor.read_restart
    if check is None or read is None:
        return None, None
    try:
        result = question.executor.run(check.argv, timeout=question.timeout, env=check.env or None)
    except ToolError:
        return None, None
    if result.status != 0:
        return None, None
    try:
        return read(output_lines(result, Encoding.DETECT, question.executor))
    except ToolError:  # a binary reply: the restart policy is unknown, as when the tool is missing
        return None, None


def advice(
    entries: Iterable[Supervision], spec: str, *, stop_container: bool, stop_service: bool
) -> list[str]:
    """What kill says before it asks: who would start each holder again, and the right way."""
    lines = []
    for entry in entries:
        who = f"PID {entry.pid} ({escape_controls(entry.name)})"
        if entry.container and entry.runtime is not None:
            stop = f"{' '.join(entry.runtime.stop)} {entry.container}"
            if stop_container:
                continue
            if entry.forwarder:
                lines.append(
                    f"{who} forwards port {spec} for {entry.runtime.name} container {entry.container}: "
                    f"ending it leaves the container running without its published port; `portcheck kill "
                    f"{spec} --stop-container` runs `{stop}`"
                )
            else:
                lines.append(
                    f"{who} runs in {entry.runtime.name} container {entry.container}, whose restart policy "
                    f"may start it again; `portcheck kill {spec} --stop-container` runs `{stop}`"
                )
        elif entry.supervisor is not None and not (stop_service and entry.supervisor.stop is not None):
            lines.append(_service_advice(who, entry, spec))
    return list(dict.fromkeys(escape_controls(line) for line in lines))


def _service_advice(who: str, entry: Supervision, spec: str) -> str:
    supervisor = entry.supervisor
    assert supervisor is not None
    way = f"`{supervisor.advice}`" if supervisor.stop is not None else supervisor.advice
    offer = f", or `portcheck kill {spec} --stop-service`" if supervisor.stop is not None else ""
    restarts = entry.restarts
    if restarts:
        return (
            f"{who} is {supervisor.name}'s main process, and {supervisor.kind} will restart it "
            f"(Restart={entry.restart_policy}): {way}{offer}"
        )
    if restarts is False and entry.main is False:
        kind = supervisor.kind
        return f"{who} belongs to {supervisor.name} (not its main process: {kind} does not restart it)"
    if restarts is False:
        return (
            f"{who} is {supervisor.name} ({supervisor.kind} will not restart it: Restart=no); {way} stops it"
        )
    kind = supervisor.kind
    return f"{who} is {kind}'s {supervisor.name}, which {kind} may start again: {way}{offer}"


def stop_actions(
    supervised: dict[int, Supervision], *, stop_container: bool, stop_service: bool
) -> list[StopAction]:
    """The stops the options ask for, one per container or service, with the PIDs each ends."""
    actions: dict[str, StopAction] = {}
    for entry in supervised.values():
        if stop_container and entry.container and entry.runtime is not None:
            key = f"{entry.runtime.name} container {entry.container}"
            argv = (*entry.runtime.stop, entry.container)
            actions.setdefault(key, StopAction(key, Command(argv))).pids.append(entry.pid)
        elif stop_service and entry.supervisor is not None and entry.supervisor.stop is not None:
            key = f"{entry.supervisor.kind} service {entry.supervisor.name}"
            actions.setdefault(key, StopAction(key, entry.supervisor.stop)).pids.append(entry.pid)
    return list(actions.values())


def run_stop(action: StopAction, question: LiveQuestion, grace: float) -> tuple[bool, str]:
    """Stop it, after the kernel confirmed (just now) that one of its PIDs holds the port; (stopped,
    what to report)."""
    from portcheck.live.ownership import check_holder

    proofs = [check_holder(question, pid) for pid in action.pids]
    if not any(p.holding is Holding.HOLDS for p in proofs):
        evidence = "; ".join(dict.fromkeys(p.evidence for p in proofs))
        return False, f"not stopped: none of its processes holds the port now (checked: {evidence})"
    command = action.command
    try:
        result = question.executor.run(command.argv, timeout=STOP_TIMEOUT + grace, env=command.env or None)
    except ToolError as error:
        return False, f"could not be stopped: {error}"
    except ValueError as error:  # a name the remote shell cannot be given safely
        return False, f"could not be stopped: {error}"
    if result.status != 0:
        said = result.error_line()
        return False, f"could not be stopped: `{action.shown}` exit status {result.status}" + (
            f": {said}" if said else ""
        )
    return True, f"stopped (`{action.shown}`)"


def who_restarted(row: Socket, owners: Owners, system: Platform, privileged: bool) -> str:
    """`systemd (nginx.service)`, `docker (container pc-web)`, `its parent, PID 77`: who started the
    process that holds the port again."""
    if row.container:
        container = owners.container(None, row.container)
        runtime = container.runtime if container else "its runtime"
        return f"{runtime} (container {row.container})"
    facts = owners.facts.get(row.pid) if row.pid is not None else None
    if facts is not None:
        supervisor = system.supervisor(facts, privileged=privileged)
        if supervisor is not None:
            return f"{supervisor.kind} ({supervisor.name})"
        if facts.ppid:
            return f"its parent, PID {facts.ppid}"
    return "something portcheck cannot name"


def watch_for_return(question: LiveQuestion, ended: set[int], seconds: float = RETURN_WATCH) -> list[Socket]:
    """The port's holders that are not among the PIDs just ended, as soon as one appears within
    `seconds` (a supervisor started the program again), with their owners looked up; [] if none."""
    deadline = time.monotonic() + seconds
    while True:
        newcomers = [r for r in question.held() if r.pid is not None and r.pid not in ended]
        if newcomers:
            return [r for r in question.held(enrich=True) if r.pid is not None and r.pid not in ended]
        if time.monotonic() >= deadline:
            return []
        time.sleep(POLL_INTERVAL)
