"""Who really holds the port: the record's `cmdline`, `started`, `service` and `container`, filled on
every OS from the platform's own probes (issue 16), and the hints that name a cause.

Everything here is data from the platform module (portcheck.platforms.base: OwnerProbe,
ContainerRuntime, KernelOwners, forwarders) run through the answer's Executor, so an ssh host gets
the same probes over the same connection, and read by portcheck.parsers.owners. The cost is bounded by
design:

- ONE owner probe for all the PIDs of the answer: none at all on this Linux machine (/proc is read in
  this process), one `sh` script on a Linux host, one `ps` (macOS: with `launchctl list` in the same
  script), one PowerShell on Windows;
- a container runtime's `ps` only when a row needs it: a process whose cgroup names a container, or
  a forwarder (docker-proxy, Docker Desktop) whose container is the one that publishes its port;
- HTTP.sys's request queues only when Windows' PID 4 holds a port.

What cannot be learnt stays null and the answer goes on: a probe that is missing or fails is said once
on stderr when it matters, never an error. None of these strings decides a signal: `kill` proves
ownership from the kernel before each one (portcheck.live.ownership).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from portcheck.core.errors import excerpt
from portcheck.core.model import Socket, is_listening
from portcheck.core.owners import Container, ContainerRef, PortOwner, ProcessFacts
from portcheck.core.parsing import ParseNotes
from portcheck.live.executor import Executor, output_lines
from portcheck.live.runner import Problem, ToolError, ToolRun
from portcheck.platforms.base import ContainerRuntime, Encoding, Platform

MAX_PIDS = 256
"""Processes asked about per answer: a listing on a large server names a few dozen. Past this, the
rest keep null fields (said on stderr); it also bounds the probe's command line (cmd.exe takes 8 KiB)."""
MAX_HINT_TEXT = 120


class Owners:
    """What was learnt about the processes of an answer, beyond what the rows carry (for the table's
    images, `kill`'s supervisors, and the hints). A plain class: every query builds one, and defining
    a dataclass costs a query half a millisecond."""

    __slots__ = ("containers", "facts", "listed", "port_owners", "probed")

    def __init__(self) -> None:
        self.facts: dict[int, ProcessFacts] = {}
        self.containers: list[Container] = []
        self.listed: set[str] = set()
        """Runtimes whose `ps` answered: a forwarder none of their containers explains is orphaned."""
        self.port_owners: list[PortOwner] = []
        self.probed = False
        """An owner probe answered: a PID missing from `facts` then belongs to no process."""

    def container(self, runtime: str | None, name: str | None) -> Container | None:
        return next((c for c in self.containers if c.name == name and runtime in (None, c.runtime)), None)

    def image(self, row: Socket) -> str | None:
        found = self.container(None, row.container) if row.container else None
        return found.image if found else None


def enrich(
    rows: list[Socket], system: Platform, executor: Executor, timeout: float, notes: ParseNotes
) -> tuple[list[Socket], Owners, list[str]]:
    """The rows with their owners' facts filled in, what was learnt, and the hints it gives."""
    owners = Owners()
    kernel = system.kernel_owners
    kernel_pids = kernel.pids if kernel is not None else frozenset()
    pids = list(dict.fromkeys(r.pid for r in rows if r.pid and r.pid not in kernel_pids))
    if not pids:
        return _with_kernel_owners(rows, system, executor, timeout, notes, owners)
    if len(pids) > MAX_PIDS:
        notes.warn(
            f"cmdline, started, service and container are filled for the first {MAX_PIDS} processes only"
        )
        pids = pids[:MAX_PIDS]
    orphans = [p for p in pids if system.vanished_pid_hint and _unnamed(rows, p)]
    answered = _probe(system, pids, orphans, executor, timeout, notes)
    owners.probed = answered is not None
    owners.facts = answered or {}
    _list_containers(rows, system, owners, executor, timeout, notes)
    filled = [_filled(row, system, owners) for row in rows]
    filled, owners, hints = _with_kernel_owners(filled, system, executor, timeout, notes, owners)
    return filled, owners, [*hints, *owner_hints(filled, system, owners, orphans)]


def _unnamed(rows: Sequence[Socket], pid: int) -> bool:
    return all(r.process is None for r in rows if r.pid == pid)


def _reply_lines(
    result: ToolRun, encoding: Encoding, executor: Executor, what: str, notes: ParseNotes
) -> Iterator[str] | None:
    """A probe's reply as lines, or None with a warning when it is binary: the owners are extra facts,
    so a broken probe costs its own facts and never the answer."""
    try:
        return output_lines(result, encoding, executor)
    except ToolError as error:
        notes.warn(f"{what} unavailable ({error.tool}: {error.detail})")
        return None


def _probe(
    system: Platform,
    pids: Sequence[int],
    orphans: Sequence[int],
    executor: Executor,
    timeout: float,
    notes: ParseNotes,
) -> dict[int, ProcessFacts] | None:
    """The first of the platform's probes whose tool exists (Windows: PowerShell, then wmic); None
    when none could be asked."""
    for probe in system.owner_probes(pids, orphans):
        if probe.in_process and executor.local:
            from portcheck.live.proc_owners import owner_facts

            return owner_facts(pids)
        try:
            result = executor.run(probe.command.argv, timeout=timeout, env=probe.command.env or None)
        except ToolError as error:
            if error.problem is Problem.MISSING:
                continue
            notes.warn(f"command lines and start times unavailable ({error})")
            return None
        lines = _reply_lines(result, probe.encoding, executor, "command lines and start times", notes)
        if lines is None:
            return None
        found = probe.read(lines)
        if not found and result.status != 0:
            said = f": {excerpt(result.error_line(), 120)}" if result.error_line() else ""
            tool = probe.command.tool
            notes.warn(f"command lines and start times unavailable ({tool}: exit {result.status}{said})")
            return None
        return found
    return None


def _needed_runtimes(rows: Sequence[Socket], system: Platform, owners: Owners) -> list[ContainerRuntime]:
    wanted = {f.container.runtime for f in owners.facts.values() if f.container is not None}
    wanted |= {
        system.forwarders[r.process.lower()]
        for r in rows
        if r.process and r.process.lower() in system.forwarders
    }
    return [runtime for runtime in system.container_runtimes if runtime.name in wanted]


def _list_containers(
    rows: Sequence[Socket],
    system: Platform,
    owners: Owners,
    executor: Executor,
    timeout: float,
    notes: ParseNotes,
) -> None:
    """One `docker ps` (or `podman ps`) per runtime a row needs, and only then."""
    for runtime in _needed_runtimes(rows, system, owners):
        from portcheck.parsers.owners.containers import read_containers

        command = runtime.listing
        try:
            result = executor.run(command.argv, timeout=timeout, env=command.env or None)
        except ToolError as error:
            if error.problem is not Problem.MISSING:
                notes.warn(f"container names unavailable ({error})")
            continue
        if result.status != 0:
            said = excerpt(result.error_line(), 160) or f"exit status {result.status}"
            notes.warn(f"container names unavailable ({runtime.name} ps: {said})")
            continue
        lines = _reply_lines(result, Encoding.DETECT, executor, "container names", notes)
        if lines is None:
            continue
        owners.listed.add(runtime.name)
        owners.containers.extend(read_containers(lines, runtime.name))


def _by_id(owners: Owners, ref: ContainerRef) -> Container | None:
    return next((c for c in owners.containers if c.runtime == ref.runtime and c.id == ref.id), None)


WILDCARDS = frozenset({"", "0.0.0.0", "::", "*"})


def publisher(row: Socket, runtime: str, owners: Owners) -> Container | None:
    """The container that publishes the row's port on the row's address, when its runtime listed one:
    the forwarder holding that port forwards it there. A port published on every address (`0.0.0.0`,
    `::`) is a wildcard row's; one published on 127.0.0.1 is the row on 127.0.0.1's (two containers
    may publish one port on two addresses)."""
    if row.local_port is None:
        return None
    wildcard = row.local_address in WILDCARDS
    for container in owners.containers:
        if container.runtime == runtime and any(
            p.covers(row.proto.value, row.local_port)
            and ((p.host_ip or "") in WILDCARDS if wildcard else p.host_ip == row.local_address)
            for p in container.published
        ):
            return container
    return None


def _filled(row: Socket, system: Platform, owners: Owners) -> Socket:
    facts = owners.facts.get(row.pid) if row.pid is not None else None
    container = None
    if facts is not None and facts.container is not None:
        found = _by_id(owners, facts.container)
        container = found.name if found else None
    elif row.process and row.process.lower() in system.forwarders:
        found = publisher(row, system.forwarders[row.process.lower()], owners)
        container = found.name if found else None
    if facts is None:
        return row._replace(container=container) if container else row
    return row._replace(
        cmdline=facts.cmdline,
        started=facts.started,
        service=row.service or facts.service,
        container=container,
        process=row.process or facts.name,
    )


def _with_kernel_owners(
    rows: list[Socket],
    system: Platform,
    executor: Executor,
    timeout: float,
    notes: ParseNotes,
    owners: Owners,
) -> tuple[list[Socket], Owners, list[str]]:
    """Windows' PID 4: which process registered the URLs of its port with HTTP.sys."""
    kernel = system.kernel_owners
    if kernel is None or not any(r.pid in kernel.pids for r in rows):
        return rows, owners, []
    try:
        result = executor.run(kernel.command.argv, timeout=timeout, env=kernel.command.env or None)
    except ToolError as error:
        notes.warn(f"{kernel.service} owners unavailable ({error})")
        return rows, owners, []
    lines = _reply_lines(result, kernel.encoding, executor, f"{kernel.service} owners", notes)
    if lines is None:
        return rows, owners, []
    owners.port_owners = kernel.read(lines)
    ports = {o.port for o in owners.port_owners}
    filled = [
        r._replace(service=kernel.service) if r.pid in kernel.pids and r.local_port in ports else r
        for r in rows
    ]
    hints = []
    for port in sorted({r.local_port for r in filled if r.pid in kernel.pids and r.local_port in ports}):
        held = [o for o in owners.port_owners if o.port == port]
        urls = ", ".join(dict.fromkeys(u for o in held for u in o.urls))
        who = " and ".join(dict.fromkeys(f"PID {o.pid} ({o.image or '?'})" for o in held))
        hints.append(
            f"port {port} is HTTP.sys's (PID 4, System, holds it for other programs): {excerpt(urls, 200)} "
            f"registered by {who}; stop that program (or its service) to free the port"
        )
    return filled, owners, hints


def owner_hints(
    rows: Sequence[Socket], system: Platform, owners: Owners, orphans: Sequence[int] = ()
) -> list[str]:
    """The causes the owners' facts name: a forwarder's container, or none (orphaned), a `kubectl
    port-forward`, a PID no process has (Windows), and what the platform knows (AirPlay Receiver,
    systemd-resolved's stub)."""
    hints = []
    seen: set[tuple[str, int | None]] = set()
    for row in rows:
        name = (row.process or "").lower()
        runtime = system.forwarders.get(name)
        if runtime is None or (name, row.local_port) in seen or not is_listening(row):
            continue
        seen.add((name, row.local_port))
        if row.container:
            image = owners.image(row)
            shown = f"{row.container} ({image})" if image else row.container
            hints.append(
                f"{row.process} (PID {row.pid}) only forwards port {row.local_port}: the server runs in "
                f"{runtime} container {shown}"
            )
        elif name in system.orphan_forwarders and runtime in owners.listed:
            hints.append(
                f"{row.process} (PID {row.pid}) holds port {row.local_port}, but no running {runtime} "
                f"container publishes it: a proxy that outlived its container; restarting {runtime} ends "
                f"it, or `portcheck kill {row.local_port}`"
            )
    hints.extend(_port_forward_hints(rows))
    hints.extend(_vanished_hints(rows, system, owners, orphans))
    hints.extend(system.cause_hints(rows))
    return hints


def explained_forwarders(rows: Sequence[Socket], system: Platform, owners: Owners) -> set[str]:
    """Forwarder names the hints above explain (the general "only forwards" hint is not needed)."""
    return {
        (r.process or "").lower()
        for r in rows
        if r.container
        or (
            (r.process or "").lower() in system.orphan_forwarders
            and system.forwarders.get((r.process or "").lower()) in owners.listed
        )
    }


def _port_forward_hints(rows: Sequence[Socket]) -> list[str]:
    """`kubectl port-forward svc/web 8080:80` left running holds 8080 (FIELD-NOTES: eks-workshop#247)."""
    hints = []
    for row in rows:
        words = (row.cmdline or "").split()
        if not words or "port-forward" not in words or not is_listening(row):
            continue
        program = words[0].replace("\\", "/").rsplit("/", 1)[-1].lower()
        if program not in ("kubectl", "kubectl.exe", "oc", "oc.exe"):
            continue
        after = [w for w in words[words.index("port-forward") + 1 :] if not w.startswith("-")]
        target = excerpt(" ".join(after), MAX_HINT_TEXT) or "a pod"
        hints.append(
            f"{row.process or program} (PID {row.pid}) on port {row.local_port} is a `kubectl "
            f"port-forward` to {target}, left running: the server is in the Kubernetes cluster; stop "
            f"the port-forward (`portcheck kill {row.local_port}`)"
        )
    return list(dict.fromkeys(hints))


def _vanished_hints(
    rows: Sequence[Socket], system: Platform, owners: Owners, orphans: Sequence[int]
) -> list[str]:
    """Windows names the PID that created a socket even after it exited: say so, with the children
    that may have inherited it."""
    if not system.vanished_pid_hint or not owners.probed:
        return []
    hints = []
    for pid in orphans:
        if pid in owners.facts:
            continue
        port = next((r.local_port for r in rows if r.pid == pid), None)
        children = [f for f in owners.facts.values() if f.ppid == pid]
        named = (
            ", ".join(f"PID {f.pid} ({f.name or '?'})" for f in children) or "none of its children is running"
        )
        hints.append(system.vanished_pid_hint.format(pid=pid, port=port, children=named))
    return hints
