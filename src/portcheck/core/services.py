"""Registered service names, from the table scripts/gen_services.py generates out of the IANA registry.

Loaded lazily and at most once: most commands never need it (numeric output is the norm), so the cost
(a few milliseconds) is paid only when a pasted text has `localhost:ssh` or `portcheck info` asks.
"""

from __future__ import annotations

from functools import cache
from typing import NamedTuple

TABLE = "data/iana_services.tsv"
NAMES = "data/service_ports.tsv"
_PROTOCOL_CODES = {"t": ("tcp",), "u": ("udp",), "tu": ("tcp", "udp")}


def _read(resource: str) -> str:
    """A data file of this package, through its loader: a plain file when installed, a member of the
    archive when portcheck runs from dist/portcheck.pyz (where a path to it names no file)."""
    import pkgutil

    data = pkgutil.get_data(__name__, resource)
    if data is None:  # a loader that cannot read data files; none of the stdlib's
        raise FileNotFoundError(resource)
    return data.decode("utf-8")


class Service(NamedTuple):
    name: str
    first_port: int
    last_port: int
    protocols: tuple[str, ...]
    description: str


@cache
def _lines() -> tuple[str, ...]:
    return tuple(_read(TABLE).splitlines())


@cache
def _names() -> dict[str, int]:
    """`name` and `name/proto` -> port, from the index the generator writes beside the table."""
    table: dict[str, int] = {}
    for line in _read(NAMES).splitlines():
        if line.startswith("#"):
            continue
        name, port, *proto = line.split("\t")
        table[f"{name}/{proto[0]}" if proto else name] = int(port)
    return table


def port_for_name(name: str, proto: str | None = None) -> int | None:
    """The port a service name stands for (`ssh` -> 22), or None when no registry knows the name.

    Tools print names from their machine's services file; those agree with IANA except where IANA lists
    one name on several ports, which the generator's preferred list settles the way services files do.
    """
    table = _names()
    key = name.lower()
    if proto:
        port = table.get(f"{key}/{proto}")
        if port is not None:
            return port
    return table.get(key)


def services_for_port(port: int, proto: str | None = None) -> list[Service]:
    """Every registered service on `port` (optionally only for one protocol), in registry order."""
    found: list[Service] = []
    for line in _lines():
        if line[:1] in ("#", "@"):
            continue
        ports, protos, name, description = line.split("\t", 3)
        first, _, last = ports.partition("-")
        low = int(first)
        if low > port:
            break
        high = int(last) if last else low
        protocols = _PROTOCOL_CODES[protos]
        if port <= high and (proto is None or proto in protocols):
            found.append(Service(name, low, high, protocols, description))
    return found


class Registration(NamedTuple):
    first: int
    last: int
    protocols: tuple[str, ...]


def registrations(name: str) -> list[Registration]:
    """Where a service name is registered (`ssh` -> 22 for tcp and udp; `x11` -> 6000-6063), one entry
    per distinct port or range, in port order. A name only services files know (`webcache`, 8080)
    gives its one port; a name nobody knows gives nothing."""
    key = name.lower()
    by_span: dict[tuple[int, int], list[str]] = {}
    for line in _lines():
        if line[:1] in ("#", "@"):
            continue
        ports, protos, entry, _ = line.split("\t", 3)
        if entry.lower() != key:
            continue
        first, _, last = ports.partition("-")
        span = (int(first), int(last) if last else int(first))
        known = by_span.setdefault(span, [])
        known.extend(p for p in _PROTOCOL_CODES[protos] if p not in known)
    if not by_span:
        port = _names().get(key)
        return [] if port is None else [Registration(port, port, ("tcp", "udp"))]
    return [
        Registration(first, last, tuple(p for p in ("tcp", "udp") if p in protos))
        for (first, last), protos in sorted(by_span.items())
    ]
