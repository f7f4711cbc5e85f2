"""The one record that flows from every parser to every renderer.

`Socket` is a NamedTuple rather than a dataclass: parsers build hundreds of thousands of them when a
customer pastes a large dump, and tuple construction is the cheapest record Python offers while still
giving named, typed fields. The field names are a public contract (JSON and CSV use them verbatim).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum
from functools import partial
from typing import NamedTuple

from portcheck.core.strenum import StrEnum


class Proto(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class Family(StrEnum):
    IPV4 = "ipv4"
    IPV6 = "ipv6"


class State(StrEnum):
    """psutil's state names, plus UNKNOWN for a word portcheck has never seen (see states.py)."""

    LISTEN = "LISTEN"
    ESTABLISHED = "ESTABLISHED"
    SYN_SENT = "SYN_SENT"
    SYN_RECV = "SYN_RECV"
    FIN_WAIT1 = "FIN_WAIT1"
    FIN_WAIT2 = "FIN_WAIT2"
    TIME_WAIT = "TIME_WAIT"
    CLOSE = "CLOSE"
    CLOSE_WAIT = "CLOSE_WAIT"
    LAST_ACK = "LAST_ACK"
    CLOSING = "CLOSING"
    DELETE_TCB = "DELETE_TCB"
    BOUND = "BOUND"
    NONE = "NONE"
    UNKNOWN = "UNKNOWN"


class ExitCode(IntEnum):
    """grep-like exit codes; scripts depend on these exact numbers."""

    MATCH = 0
    NO_MATCH = 1
    USAGE = 2
    CANNOT_INSPECT = 3


class Socket(NamedTuple):
    proto: Proto
    family: Family | None
    local_address: str
    local_port: int | None
    remote_address: str | None
    remote_port: int | None
    state: State
    pid: int | None = None
    process: str | None = None
    user: str | None = None
    source: str = ""
    # Fields added later, in the order they were added (DESIGN.md "Adding fields"): only ever appended.
    dual_stack: bool | None = None
    """An IPv6 socket on the wildcard `::` that also accepts IPv4 (IPV6_V6ONLY=0); None where the source
    cannot tell, and for every other address (where it says nothing about IPv4)."""
    cmdline: str | None = None
    started: str | None = None
    """Process start time, ISO 8601 UTC (`2026-12-04T16:46:39Z`)."""
    service: str | None = None
    """The supervisor's name for the process: a systemd unit, Windows service names joined by ", "."""
    container: str | None = None


make_socket: Callable[[tuple[object, ...]], Socket] = partial(tuple.__new__, Socket)
"""A Socket from a tuple of all sixteen values, without NamedTuple's Python-level __new__ (which costs as
much again as building the tuple): for parsers, which build one per row of a 100,000-row paste. A
parser that knows none of the later fields ends its tuple with NO_EXTRAS's five Nones written out
(a literal tuple costs nothing more to build; joining two tuples would)."""

NO_EXTRAS: tuple[None, None, None, None, None] = (None, None, None, None, None)
"""dual_stack, cmdline, started, service, container: what most sources cannot tell."""

FIELDS: tuple[str, ...] = Socket._fields
"""Field names in contract order, for JSON, CSV and `--fields`."""


def as_record(row: Socket, fields: Sequence[str] | None = None) -> dict[str, object]:
    """A row as its JSON object: every field in contract order, or only `fields`, in their order."""
    record: dict[str, object] = dict(zip(FIELDS, row))
    return {f: record[f] for f in fields} if fields else record


LISTENING_STATES = frozenset({State.LISTEN, State.NONE, State.BOUND})
"""States that mean "this socket is waiting for traffic": TCP LISTEN and UDP sockets with no peer."""


def is_listening(row: Socket) -> bool:
    """A TCP listener, or a UDP socket bound without a peer (what `--listening` and the no-PORT view show)."""
    if row.proto is Proto.TCP:
        return row.state is State.LISTEN
    return row.remote_port is None and row.state in LISTENING_STATES
