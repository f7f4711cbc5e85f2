"""What `kill` and `wait` share: asking the live query the same question again and again.

A port counts as held while any socket on it is in a state other than TIME_WAIT: a TIME_WAIT row is
a closed connection the kernel keeps for a minute, owned by no process; it does not stop a server
from listening (servers set SO_REUSEADDR), so waiting or killing for it would be waiting for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portcheck.core.filters import RowFilter
from portcheck.core.model import Socket, State
from portcheck.core.portspec import PortSpec
from portcheck.live.executor import Executor
from portcheck.live.query import Answer
from portcheck.platforms.base import OS


def holds_port(row: Socket) -> bool:
    return row.state is not State.TIME_WAIT


@dataclass
class LiveQuestion:
    """One question for inspect(), asked as often as needed with the same executor."""

    ports: PortSpec | None
    scope: RowFilter
    os_name: OS
    executor: Executor
    timeout: float
    last: Answer | None = field(default=None, repr=False)
    """The latest answer (for its tool, notes and hints)."""

    def ask(self) -> list[Socket]:
        """The rows in scope now; raises InspectError (exit 3) when the machine cannot be inspected."""
        from portcheck.live.query import inspect

        answer = inspect(
            self.ports, platform=self.os_name, timeout=self.timeout, executor=self.executor, scope=self.scope
        )
        self.last = answer
        return answer.rows

    def held(self) -> list[Socket]:
        return [r for r in self.ask() if holds_port(r)]


def describe_holders(rows: list[Socket]) -> str:
    """`PID 812 (nginx), PID 813 (nginx)`: who holds a port, for a one-line message."""
    from portcheck.core.escape import escape_controls

    return ", ".join(
        sorted(
            {
                f"PID {r.pid} ({escape_controls(r.process or '?')})"
                if r.pid is not None
                else "a socket with no process"
                for r in rows
            }
        )
    )
