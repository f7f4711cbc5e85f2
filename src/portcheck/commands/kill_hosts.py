"""`portcheck kill PORT --host ...`: the local kill's care, on every host over ssh.

Every host stays logged in (Fleet.kept_open) from the survey, through the person's answer, to the
signals and the check afterwards: the re-check just before each signal and the signal itself go over
the same connection that found the process, and a host that needed a password asks for it once.

One table shows what will be ended, the host first in each row; one y/N question names the host of
every process. What each host does, and what it never signals, is portcheck.fleet.kill.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from portcheck.commands.base import confirm, show_processes, write_lines
from portcheck.commands.hosts import HostOptions, answered_hosts, fleet_for
from portcheck.core.escape import escape_controls
from portcheck.core.model import ExitCode, Socket
from portcheck.fleet.fleet import name_list, summary_line
from portcheck.fleet.kill import HostPlan, Order, end_on_host, plan_host, survey
from portcheck.live.kill import pid_names, process_lines
from portcheck.live.question import describe_holders
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.fleet.fleet import HostResult
    from portcheck.fleet.kill import Found
    from portcheck.fleet.ssh import Target
    from portcheck.live.query import Answer


def kill_hosts(options: HostOptions, order: Order, *, yes: bool, reporter: Reporter) -> ExitCode:
    """Query every host, show and confirm once, end on each host; per-PID outcomes with the host named,
    a line per host on the port, a summary line on stderr."""
    with fleet_for(options, order.timeout).kept_open() as fleet:
        surveyed = fleet.run(partial(survey, order))
        plans: list[HostPlan] = []
        processes: list[str] = []
        for host, found in answered_hosts(reporter, surveyed, _last_answer):
            plan = plan_host(host.target, found, order, reporter)
            plans.append(plan)
            processes.extend(process_lines(plan.targets, host.target.label))
        acting = {p.target: p for p in plans if p.candidates}
        show_processes(processes, asking=bool(acting) and not yes)
        for plan in plans:
            if not plan.targets:
                sys.stdout.write(
                    f"{escape_controls(plan.label)}: nothing to end: no process{order.matching} "
                    f"holds port {order.spec}.\n"
                )
        if acting and not yes and not confirm(_names(acting.values()), _plan_text(acting.values())):
            for plan in plans:
                write_lines(plan.ending.report_lines(plan.label))
            reporter.error("nothing ended")
            reporter.error(summary_line(surveyed, "nothing ended"))
            return ExitCode.NO_MATCH
        ended = fleet.run(partial(end_on_host, acting)) if acting else []
    after = {h.target: h for h in ended if h.target in acting}
    return _report(surveyed, {p.target: p for p in plans}, after, order, reporter)


def _last_answer(found: Found) -> Answer:
    answer = found.question.last
    assert answer is not None  # survey() asked
    return answer


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
