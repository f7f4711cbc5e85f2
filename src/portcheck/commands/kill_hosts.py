"""`portcheck kill PORT --host ...`: the local kill's care, on every host over ssh.

Every host stays logged in (Fleet.kept_open) from the query, through the person's answer, to the
signals and the check afterwards: the re-check just before each signal and the signal itself go over
the same connection that found the process, and a host that needed a password asks for it once.

One table shows what will be ended, the host first in each row; one y/N question names the host of
every process. Never signalled: PID 0, 1 and 4, and portcheck's own ssh session on the host (the
sshd serving it and every process above it: the listening sshd, a container's init), found with one
fixed shell line at the query (`session_chain`); where that cannot run (Windows), every sshd is
spared instead. portcheck's own PID and its parent mean nothing on another machine, so those local
rules do not apply there.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any

from portcheck.commands.hosts import HostOptions, fleet_for, report_hints, report_host_answer
from portcheck.commands.kill import (
    NEVER_SIGNALLED,
    Ending,
    Outcome,
    confirm,
    owners,
    pid_names,
    show_rows,
    unowned_warning,
    write_lines,
)
from portcheck.core.escape import escape_controls
from portcheck.core.filters import RowFilter
from portcheck.core.model import ExitCode, Socket
from portcheck.core.portspec import PortSpec
from portcheck.fleet.fleet import name_list, summary_line
from portcheck.live.question import LiveQuestion, describe_holders, holds_port
from portcheck.live.runner import ToolError
from portcheck.output.report import Reporter
from portcheck.platforms import platform_for

if TYPE_CHECKING:
    from portcheck.fleet.fleet import HostResult
    from portcheck.fleet.remote import SSHExecutor
    from portcheck.fleet.ssh import Target

SESSION_CHAIN = (
    'p=$$; while [ "$p" -gt 1 ] 2>/dev/null; do echo $p; '
    "p=$( (ps -o ppid= -p $p || sed -n 's/.*) [A-Za-z] \\([0-9]*\\).*/\\1/p' /proc/$p/stat) 2>/dev/null "
    "| tr -d ' '); done"
)
"""Run as `sh -c SESSION_CHAIN` (a fixed line, no user input): the PIDs from that sh up its parents
to (not including) PID 1: sh, the sshd serving portcheck's connection, the listening sshd, and what
started that. POSIX `ps -o ppid= -p`, with Linux /proc as the fallback where ps is missing."""
SESSION_REFUSAL = "it carries portcheck's own ssh session on this host (sshd, or a process above it)"
SSHD_NAMES = ("sshd", "sshd-session", "sshd.exe")
"""When the chain cannot be read (always on Windows), processes with these names are spared instead."""
ROOT_ADVICE = "log in as root (root@host) to end it"


@dataclass(frozen=True)
class Order:
    """What the person asked for, the same on every host."""

    spec: PortSpec
    scope: RowFilter
    """Which sockets count as holding the port."""
    chosen: RowFilter
    """Which of those are ended (--pid, --process narrow it)."""
    first_signal: str
    grace: float
    timeout: float
    matching: str
    """` with PID 7` / ` named like 'x'`: for the nothing-to-end line."""


@dataclass
class Found:
    """A host's answer to the query, and the PIDs kill must never signal there."""

    question: LiveQuestion
    held: list[Socket]
    guarded: dict[int, str]
    """PID -> why it is never signalled (the ssh session's own processes)."""


@dataclass
class HostPlan:
    """What will happen on one host: the rows shown, each PID's outcome so far, the candidates."""

    target: Target
    found: Found
    targets: list[Socket]
    ending: Ending
    candidates: dict[int, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.target.label


def session_chain(executor: SSHExecutor, timeout: float) -> list[int]:
    """The PIDs of portcheck's own ssh session on a POSIX host and every process above it; [] when the
    host would not say (then sshd processes are spared by name)."""
    if not platform_for(executor.system.os).traits.posix:
        return []
    try:
        result = executor.run(["sh", "-c", SESSION_CHAIN], timeout=timeout)
    except ToolError:
        return []
    words = result.output.decode("ascii", "replace").split()
    return [int(w) for w in words if w.isascii() and w.isdigit()]


def survey(order: Order, executor: SSHExecutor) -> Found:
    """The first job on each host: who holds the port, and which PIDs are the session's own."""
    from portcheck.fleet.fleet import for_person

    question = LiveQuestion(order.spec, order.scope, executor.system.os, executor, order.timeout)
    question.ask()
    assert question.last is not None
    answer = for_person(question.last, executor, order.timeout)
    held = [r for r in answer.rows if holds_port(r)]
    owned = [r for r in held if r.pid is not None]
    chain = session_chain(executor, order.timeout) if owned else []
    guarded = dict.fromkeys(chain, SESSION_REFUSAL)
    if not chain:
        guarded = {r.pid: SESSION_REFUSAL for r in owned if r.pid is not None and r.process in SSHD_NAMES}
    return Found(question, held, guarded)


def refusal(pid: int, guarded: dict[int, str]) -> str | None:
    """Why a PID is never signalled on a remote host, or None."""
    return NEVER_SIGNALLED.get(pid) or guarded.get(pid)


def end_on_host(plans: dict[Target, HostPlan], executor: SSHExecutor) -> list[Socket] | None:
    """The second job, over the connection the survey used: re-check, signal, wait, escalate; then
    what still holds the port. None for a host with nothing to end."""
    plan = plans.get(executor.connection.target)
    if plan is None:
        return None
    plan.ending.run(plan.candidates)
    return plan.found.question.held()


def plan_host(target: Target, found: Found, order: Order, reporter: Reporter) -> HostPlan:
    """Which of the host's rows will be ended, and which PIDs are refused there."""
    targets = [r for r in found.held if order.chosen(r)]
    ending = Ending(found.question, order.spec, order.first_signal, order.grace, denied_advice=ROOT_ADVICE)
    plan = HostPlan(target, found, targets, ending)
    warning = unowned_warning(targets)
    if warning:
        reporter.warn(f"{target.label}: {warning}")
    for pid, name in owners(targets).items():
        reason = refusal(pid, found.guarded)
        if reason:
            ending.settle(pid, name, Outcome.REFUSED, reason)
        else:
            plan.candidates[pid] = name
    return plan


def kill_hosts(options: HostOptions, order: Order, *, yes: bool, reporter: Reporter) -> ExitCode:
    """Query every host, show and confirm once, end on each host; per-PID outcomes with the host named,
    a line per host on the port, a summary line on stderr."""
    from portcheck.output.render import sort_rows

    with fleet_for(options, order.timeout).kept_open() as fleet:
        surveyed = fleet.run(partial(survey, order))
        plans: list[HostPlan] = []
        hints: dict[str, list[str]] = {}
        rows: list[Socket] = []
        labels: list[str] = []
        for host in surveyed:
            label = host.target.label
            if host.value is None:
                reporter.warn(f"{label}: {host.failure}")
                continue
            answer = host.value.question.last
            assert answer is not None
            report_host_answer(reporter, label, str(host.os), answer)
            for hint in answer.hints:
                hints.setdefault(hint, []).append(label)
            plan = plan_host(host.target, host.value, order, reporter)
            plans.append(plan)
            ordered = sort_rows(plan.targets)
            rows.extend(ordered)
            labels.extend([label] * len(ordered))
        report_hints(reporter, hints)
        if rows:
            show_rows(rows, labels)
        for plan in plans:
            if not plan.targets:
                sys.stdout.write(
                    f"{escape_controls(plan.label)}: nothing to end: no process{order.matching} "
                    f"holds port {order.spec}.\n"
                )
        acting = {p.target: p for p in plans if p.candidates}
        if acting and not yes and not confirm(_names(acting.values()), _plan_text(acting.values())):
            for plan in plans:
                write_lines(plan.ending.report_lines(plan.label))
            reporter.error("nothing ended")
            reporter.error(summary_line(surveyed, "nothing ended"))
            return ExitCode.NO_MATCH
        ended = fleet.run(partial(end_on_host, acting)) if acting else []
    after = {h.target: h for h in ended if h.target in acting}
    return _report(surveyed, {p.target: p for p in plans}, after, order, reporter)


def _names(plans: Iterable[HostPlan]) -> str:
    """`PID 7 (a), PID 9 (b) on web1; PID 3 (c) on web2`."""
    return "; ".join(f"{pid_names(p.candidates)} on {escape_controls(p.label)}" for p in plans)


def _plan_text(plans: Iterable[HostPlan]) -> str:
    """`SIGTERM (SIGKILL after 5 s)`; with Windows hosts in the mix, each OS's way with its hosts."""
    by_plan: dict[str, list[str]] = {}
    for plan in plans:
        by_plan.setdefault(plan.ending.describe_plan(), []).append(escape_controls(plan.label))
    if len(by_plan) == 1:
        return next(iter(by_plan))
    return "; ".join(f"{text} on {name_list(labels)}" for text, labels in by_plan.items())


def _report(
    surveyed: Sequence[HostResult[Found]],
    plans: dict[Target, HostPlan],
    after: dict[Target, HostResult[list[Socket] | None]],
    order: Order,
    reporter: Reporter,
) -> ExitCode:
    """Each host's outcomes and whether the port is free there; the summary; the exit code: 1 when a
    host still holds the port, else 3 when a host could not be inspected, else 0."""
    spec = order.spec
    outcomes: list[HostResult[Any]] = []
    free = held_on = 0
    for host in surveyed:
        outcome: HostResult[Any] = after.get(host.target, host)
        outcomes.append(outcome)
        plan = plans.get(host.target)
        if plan is None:
            continue
        label = escape_controls(plan.label)
        write_lines(plan.ending.report_lines(plan.label))
        if outcome.failure is not None:
            reporter.error(f"{host.target.label}: {outcome.failure}")
            continue
        held = outcome.value if plan.target in after else plan.found.held
        assert held is not None
        if held:
            held_on += 1
            reporter.error(f"{host.target.label}: port {spec} is still in use: {describe_holders(held)}")
        else:
            free += 1
            sys.stdout.write(f"{label}: port {spec} is free.\n")
    counts = [f"free on {free}"] if free else []
    counts += [f"still in use on {held_on}"] if held_on else []
    failed = any(h.failure is not None for h in outcomes)
    (reporter.error if failed or held_on else reporter.warn)(
        summary_line(outcomes, f"port {spec} " + ", ".join(counts) if counts else None)
    )
    if held_on:
        return ExitCode.NO_MATCH
    return ExitCode.CANNOT_INSPECT if failed else ExitCode.MATCH
