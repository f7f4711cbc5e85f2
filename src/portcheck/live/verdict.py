"""The one rule for "is this port in use?", shared by `portcheck PORT`, `wait`, `kill`, `info` and the
fleet summary, so that no two commands ever disagree about the same sockets.

A port is in use while any socket on it is in a state other than TIME_WAIT, whether or not a tool
names its process (a socket with no process shown is still somebody's: another user's, the
kernel's). TIME_WAIT rows are closed connections the kernel keeps for a while; no process owns them
and a server that sets SO_REUSEADDR (nearly all do) can bind the port at once, so a port with only
TIME_WAIT rows is free: exit 1, with the rows still shown and the hint that says what they are.

The one exception is a question that names states (`--state TIME_WAIT`): then the person asked for
those rows, and finding them is the answer, as grep's exit status would have it.
"""

from __future__ import annotations

from collections.abc import Iterable

from portcheck.core.filters import RowFilter
from portcheck.core.model import Socket, State


def holds_port(row: Socket) -> bool:
    """Does this socket keep the port from being free? Every state but TIME_WAIT does."""
    return row.state is not State.TIME_WAIT


def port_in_use(rows: Iterable[Socket], scope: RowFilter | None = None) -> bool:
    """The verdict on the rows a question found (`scope`: the question, for its --state)."""
    if scope is not None and scope.states is not None:
        return any(True for _ in rows)
    return any(holds_port(r) for r in rows)
