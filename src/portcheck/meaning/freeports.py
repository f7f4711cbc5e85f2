"""`portcheck free`: ports a new server can take now and keep.

A port is offered when it is
- outside this machine's ephemeral range (an outgoing connection may take any of those at any moment:
  the server would then fail to start, now and then, for no visible reason);
- not one of Linux's ip_local_reserved_ports: the kernel keeps those out of the ephemeral range so
  that ONE server an administrator had in mind can count on it; handing it to another server would
  break that plan (they are safe from outgoing connections, not free for anyone);
- outside Windows' excluded port ranges (Hyper-V, WSL 2, Docker): binding there fails with "access
  denied" although nothing listens;
- not registered with IANA when enough unregistered ports are left (registered ones come last);
- free now: this process binds it on every interface (IPv4 and, where the machine has it, IPv6)
  without SO_REUSEADDR and closes it at once.

The ranges come from the platform's probes, the same that `portcheck info` reports.
"""

from __future__ import annotations

import errno
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from portcheck.core.errors import UsageError
from portcheck.core.model import Family, Proto
from portcheck.live.bindtest import try_bind
from portcheck.meaning.portinfo import SystemPorts
from portcheck.parsers.portranges import PortRange
from portcheck.platforms.base import ProbeKind

DEFAULT_FIRST = 1024
"""Ports below are for system services (and need root on Linux and FreeBSD): asked for with --range."""
MAX_COUNT = 1000
FALLBACK_EPHEMERAL = PortRange(32768, 65535)
"""Avoided when the machine did not say its ephemeral range: Linux's default start to the top, which
covers the IANA dynamic range that macOS, FreeBSD and Windows use by default."""


class FreePort(NamedTuple):
    port: int
    proto: Proto
    registered: tuple[str, ...]
    """Service names IANA registered on this port for this protocol (empty for most)."""


@dataclass
class FreePorts:
    ports: list[FreePort]
    avoided: list[tuple[str, PortRange]] = field(default_factory=list)
    """(why, range) for every range left out: `ephemeral (/proc/sys/...)`, `reserved`, `excluded`."""
    warnings: list[str] = field(default_factory=list)


def parse_range(text: str) -> PortRange:
    first_text, dash, last_text = text.strip().partition("-")
    if not (dash and first_text.isdecimal() and last_text.isdecimal() and first_text.isascii()):
        raise UsageError(f"invalid range {text!r}: expected FIRST-LAST, like 20000-29999")
    first, last = int(first_text), int(last_text)
    if not 1 <= first <= last <= 65535:
        raise UsageError(f"invalid range {text!r}: ports 1-65535, the first not above the last")
    return PortRange(first, last)


def avoided_ranges(system: SystemPorts, proto: Proto) -> tuple[list[tuple[str, PortRange]], list[str]]:
    """What a server should not take on this machine, and warnings for what it could not learn."""
    avoided: list[tuple[str, PortRange]] = []
    warnings: list[str] = []
    for kind, why in (
        (ProbeKind.EPHEMERAL, "ephemeral"),
        (ProbeKind.RESERVED, "reserved"),
        (ProbeKind.EXCLUDED, "excluded"),
    ):
        avoided.extend((f"{why} ({r.source})", r.range) for r in system.of(kind, proto))
    if (ProbeKind.EPHEMERAL, proto) not in system.answered:
        avoided.append(("ephemeral (assumed: the machine did not say)", FALLBACK_EPHEMERAL))
        warnings.append(
            f"this machine's ephemeral range is unknown ({'; '.join(system.errors) or 'no probe'}): "
            f"avoiding {FALLBACK_EPHEMERAL}, where every supported OS starts by default"
        )
    return avoided, warnings


def binds(port: int, proto: Proto) -> bool:
    """True when this process can bind `port` on every interface now (IPv4, and IPv6 where the
    machine has it), without SO_REUSEADDR; the sockets are closed at once. The binds are the bind
    test's (live/bindtest.py), the one place that opens an internet socket."""
    for family in (Family.IPV4, Family.IPV6):
        error = try_bind(proto, family, port)
        if error is not None and error != errno.EAFNOSUPPORT:  # no IPv6 here: nothing to conflict with
            return False
    return True


def _allowed(wanted: PortRange, avoided: list[tuple[str, PortRange]]) -> list[range]:
    """`wanted` minus every avoided range, as ranges."""
    pieces = [range(wanted.first, wanted.last + 1)]
    for _, hole in avoided:
        cut: list[range] = []
        for piece in pieces:
            if hole.last < piece.start or hole.first >= piece.stop:
                cut.append(piece)
                continue
            cut.extend(r for r in (range(piece.start, hole.first), range(hole.last + 1, piece.stop)) if r)
        pieces = cut
    return pieces


def _candidates(wanted: PortRange, avoided: list[tuple[str, PortRange]], rng: random.Random) -> Iterator[int]:
    """Every port of `wanted` outside `avoided`, from a starting point drawn evenly among them (two
    scripts asking at the same moment rarely get the same port), wrapping around."""
    ports = [port for piece in _allowed(wanted, avoided) for port in piece]
    if not ports:
        return
    start = rng.randrange(len(ports))
    yield from ports[start:]
    yield from ports[:start]


def find_free(
    system: SystemPorts,
    *,
    count: int = 1,
    wanted: PortRange | None = None,
    proto: Proto = Proto.TCP,
    rng: random.Random | None = None,
    can_bind: Callable[[int, Proto], bool] = binds,
) -> FreePorts:
    """Up to `count` ports as the module describes, unregistered ones first."""
    from portcheck.core.services import services_for_port

    if not 1 <= count <= MAX_COUNT:
        raise UsageError(f"--count must be 1 to {MAX_COUNT}")
    wanted = wanted or PortRange(DEFAULT_FIRST, 65535)
    avoided, warnings = avoided_ranges(system, proto)
    found: list[FreePort] = []
    registered: list[tuple[int, tuple[str, ...]]] = []
    for port in _candidates(wanted, avoided, rng or random.Random()):
        names = tuple(dict.fromkeys(s.name for s in services_for_port(port, proto.value)))
        if names:
            registered.append((port, names))
            continue
        if can_bind(port, proto):
            found.append(FreePort(port, proto, ()))
            if len(found) == count:
                break
    for port, names in registered:
        if len(found) == count:
            break
        if can_bind(port, proto):
            found.append(FreePort(port, proto, names))
    return FreePorts(found, avoided, warnings)
