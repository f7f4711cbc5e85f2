"""`kill --host`'s jobs on each host: the survey (who holds the port, and which PIDs carry portcheck's own
ssh session), the plan (what will be ended, what is refused), and the ending itself over the same
connection that found the process (portcheck.live.kill's Ending, with the host's executor).

Never signalled on a host: PID 0, 1 and 4, and portcheck's own ssh session there (the sshd serving it
and every process above it: the listening sshd, a container's init), found with one fixed shell line
at the survey (`session_chain`); where that cannot run (Windows), every sshd is spared instead.
portcheck's own PID and its parent mean nothing on another machine, so those local rules do not
apply there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from portcheck.core.filters import RowFilter
from portcheck.core.model import Socket
from portcheck.core.portspec import PortSpec
from portcheck.live.kill import NEVER_SIGNALLED, Ending, Outcome, owners, unowned_warning
from portcheck.live.question import LiveQuestion
from portcheck.live.runner import ToolError
from portcheck.live.verdict import holds_port
from portcheck.output.report import Reporter
from portcheck.platforms import platform_for

if TYPE_CHECKING:
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
    question.ask(enrich=True)
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
