"""The exit status of `portcheck PORT` on this machine: the one rule for "in use"
(portcheck.live.verdict), then, for the ports no tool listed, the bind test (portcheck.live.bindtest)
and what it found, on stderr."""

from __future__ import annotations

import sys
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
) -> ExitCode:
    """0 when a socket holds a port (TIME_WAIT rows alone do not) or the bind test finds one that no
    tool listed holds it; 1 otherwise. The bind test runs for a port question (not the listing)
    whose filters ask about every socket on the ports: --listening, --state, --pid and --process ask
    about some of them, and an empty answer then says nothing about the port."""
    from portcheck.live.verdict import port_in_use

    in_use = port_in_use(answer.rows, scope)
    narrowed = scope.listening or scope.states or scope.pids or scope.process
    if not bind or spec is None or narrowed:
        return ExitCode.MATCH if in_use else ExitCode.NO_MATCH
    from portcheck.live.bindtest import bind_test, summary_lines
    from portcheck.live.executor import LocalExecutor
    from portcheck.platforms import current_os, platform_for

    system = platform_for(current_os())
    findings = bind_test(sorted(spec.ports), answer.rows, scope, system, LocalExecutor(), timeout)
    lines, free = summary_lines(findings)
    for line in lines:
        reporter.warn(line)
    if free is not None:
        (reporter.warn if sys.stderr.isatty() else reporter.info)(free)
    return ExitCode.MATCH if in_use or any(f.in_use for f in findings) else ExitCode.NO_MATCH
