"""What `kill` and `wait` share: asking the live query the same question again and again. Which
sockets hold a port is the rule of portcheck.live.verdict (TIME_WAIT rows do not)."""

from __future__ import annotations

from dataclasses import dataclass, field

from portcheck.core.filters import RowFilter
from portcheck.core.model import Socket
from portcheck.core.portspec import PortSpec
from portcheck.live.executor import Executor
from portcheck.live.query import Answer
from portcheck.live.verdict import holds_port
from portcheck.platforms.base import OS

__all__ = ["LiveQuestion", "describe_holders", "holds_port"]


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

    def ask(self, *, enrich: bool = False) -> list[Socket]:
        """The rows in scope now; raises InspectError (exit 3) when the machine cannot be inspected.
        `enrich`: with cmdline, started, service and container (what kill shows and advises on; the
        polls while it waits do without)."""
        from portcheck.live.query import inspect

        answer = inspect(
            self.ports,
            platform=self.os_name,
            timeout=self.timeout,
            executor=self.executor,
            scope=self.scope,
            enrich=enrich,
        )
        self.last = answer
        return answer.rows

    def held(self, *, enrich: bool = False) -> list[Socket]:
        return [r for r in self.ask(enrich=enrich) if holds_port(r)]


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


MAX_SOCKETS_DESCRIBED = 5


def describe_sockets(rows: list[Socket]) -> str:
    """`udp 0.0.0.0:5353 NONE (avahi-daemon, PID 612); tcp 127.0.0.1:5353 ESTABLISHED ...`: what was seen,
    for a one-line message (at most five, then how many more)."""
    from portcheck.core.escape import escape_controls
    from portcheck.output.render import endpoint, sort_rows

    shown = []
    for row in sort_rows(rows):
        owner = f" ({escape_controls(row.process or '?')}, PID {row.pid})" if row.pid is not None else ""
        shown.append(
            f"{row.proto} {endpoint(row.local_address, row.local_port, row.family)} {row.state}{owner}"
        )
    unique = list(dict.fromkeys(shown))
    more = len(unique) - MAX_SOCKETS_DESCRIBED
    return "; ".join(unique[:MAX_SOCKETS_DESCRIBED]) + (f"; and {more} more" if more > 0 else "")
