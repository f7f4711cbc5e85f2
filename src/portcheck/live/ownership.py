"""`kill`'s last word before each signal: does this PID hold a socket on the port, as the kernel sees it
now? The platform says how to ask (platforms.base.OwnershipCheck: a command and the reader of its
reply, portcheck.parsers.ownership); this runs it through the question's Executor, so `kill --host`
asks the host the same way, or, on this Linux machine, reads /proc itself.

Nothing the first query printed decides here: the tool's rows only chose the candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from portcheck.live.runner import ToolError
from portcheck.parsers.ownership import Holding
from portcheck.platforms import platform_for
from portcheck.platforms.base import Question

if TYPE_CHECKING:
    from portcheck.live.question import LiveQuestion


class Proof(NamedTuple):
    holding: Holding | None
    """None when the check could not be run (then nothing is signalled either)."""
    evidence: str
    """What was consulted, or why nothing could be."""


def check_holder(question: LiveQuestion, pid: int) -> Proof:
    """Ask the kernel (through the platform's OwnershipCheck) whether `pid` holds a socket on the
    question's ports that its scope counts."""
    scope = question.scope._replace(ports=question.ports, pids=None, process=None)
    asked = Question(question.ports, False, scope.protos, scope.families)
    check = platform_for(question.os_name).ownership_check(pid, asked)
    executor = question.executor
    if check.in_process and executor.local:
        from portcheck.live.procfs import holder_evidence
        from portcheck.parsers.ownership import decide

        return Proof(decide(holder_evidence(pid, scope), scope), check.evidence)
    command = check.command
    try:
        result = executor.run(command.argv, timeout=question.timeout, env=command.env or None)
    except ToolError as error:
        return Proof(None, f"{command.tool}: {error.problem.value}")
    if result.status != 0 and not (result.status in check.no_match_status and not result.error_line()):
        return Proof(None, f"{command.tool}: exit status {result.status}")
    from portcheck.live.executor import output_lines

    try:
        holding = check.read(output_lines(result, check.encoding, executor), pid, scope)
    except ToolError as error:  # binary output
        return Proof(None, str(error))
    if holding is Holding.NOT_HELD and not check.sees_all and not executor.privileged:
        return Proof(Holding.UNREADABLE, f"without root {command.tool} sees only your own processes")
    return Proof(holding, check.evidence)
