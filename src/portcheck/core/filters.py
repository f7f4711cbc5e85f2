"""Row selection shared by the live query and `portcheck parse`: ports, protocol, family, state, owner.

A NamedTuple rather than a frozen dataclass: every `portcheck PORT` defines it at start-up, and a
dataclass costs ten times as much to define (0.7 ms against 0.07 ms)."""

from __future__ import annotations

from typing import NamedTuple

from portcheck.core.exposure import is_exposed
from portcheck.core.model import Family, Proto, Socket, State, is_listening
from portcheck.core.portspec import PortSpec


class RowFilter(NamedTuple):
    ports: PortSpec | None = None
    match_remote: bool = False
    protos: frozenset[Proto] | None = None
    families: frozenset[Family] | None = None
    listening: bool = False
    states: frozenset[State] | None = None
    pids: frozenset[int] | None = None
    process: str | None = None
    exposed: bool = False
    """Only sockets reachable from other machines (portcheck.core.exposure: not loopback-only)."""

    def __call__(self, row: Socket) -> bool:
        if self.ports is not None:
            ports = self.ports.ports
            if row.local_port not in ports and not (self.match_remote and row.remote_port in ports):
                return False
        if self.protos is not None and row.proto not in self.protos:
            return False
        if self.families is not None and row.family not in self.families:
            return False
        if self.listening and not is_listening(row):
            return False
        if self.states is not None and row.state not in self.states:
            return False
        if self.pids is not None and row.pid not in self.pids:
            return False
        if self.exposed and not is_exposed(row.local_address):
            return False
        return self.process is None or (
            row.process is not None and self.process.casefold() in row.process.casefold()
        )

    @property
    def is_trivial(self) -> bool:
        """True when every row passes (nothing to check per row)."""
        return self == RowFilter()
