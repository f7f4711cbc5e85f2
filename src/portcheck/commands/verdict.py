"""The exit status of `portcheck PORT` on this machine, and the words for it: the one rule for "in
use" (portcheck.live.verdict), then, for the ports no tool listed, the bind test
(portcheck.live.bindtest). What the bind test learnt goes to stderr; a free answer is said in one line
for a person at a terminal (or --verbose), "nothing uses port 8002; binding ... succeeded"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portcheck.core.model import ExitCode

if TYPE_CHECKING:
    from portcheck.core.filters import RowFilter
    from portcheck.core.portspec import PortSpec
    from portcheck.live.query import Answer
    from portcheck.output.report import Reporter


def local_verdict(
    answer: Answer,
    spec: PortSpec | None,
    scope: RowFilter,
    reporter: Reporter,
    *,
    bind: bool,
    timeout: float,
    nothing: str | None,
) -> ExitCode:
    """0 when a socket holds a port (TIME_WAIT rows alone do not) or the bind test finds that something
    no tool listed holds it; 1 otherwise, said as `nothing` (None: say nothing, a script is asking).

    The bind test runs for a port question (not the listing) whose filters ask about every socket on
    the ports: --listening, --state, --pid and --process ask about some of them, and an empty answer
    then says nothing about the port."""
    from portcheck.live.verdict import port_in_use

    in_use = port_in_use(answer.rows, scope)
    narrowed = scope.listening or scope.states or scope.pids or scope.process
    findings = []
    if bind and spec is not None and not narrowed:
        from portcheck.live.bindtest import bind_test
        from portcheck.live.executor import LocalExecutor
        from portcheck.platforms import current_os, platform_for

        system = platform_for(current_os())
        findings = bind_test(sorted(spec.ports), answer.rows, scope, system, LocalExecutor(), timeout)
    from portcheck.live.bindtest import summary_lines

    lines, free = summary_lines(findings)
    for line in lines:
        reporter.warn(line)
    if in_use or any(f.in_use for f in findings):
        return ExitCode.MATCH
    if nothing is not None and not answer.rows:
        reporter.status(f"{nothing}; {free}" if free else nothing)
    elif nothing is not None and not findings:  # TIME_WAIT rows only, and no bind test said so
        reporter.status(f"nothing holds port {spec}: only TIME_WAIT rows (closed connections)")
    return ExitCode.NO_MATCH
