"""Who can reach a listener: this machine only (loopback), every interface, or specific addresses.

One function answers it for every address a source prints (`127.0.0.1`, `[::1]`, `::ffff:127.0.0.1`,
ss's device-bound `127.0.0.53%lo`, a zone-scoped `fe80::1%eth0`, `*`, a host name), so the `--exposed`
filter, `check --loopback` and the shared-port hint never disagree about what "exposed" means.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from portcheck.core.model import Socket, is_listening
from portcheck.core.redaction import redacted
from portcheck.core.strenum import StrEnum


class Exposure(StrEnum):
    LOOPBACK = "loopback"
    """Only this machine can connect: 127.0.0.0/8, ::1, ::ffff:127.x.y.z, `localhost`."""
    ALL = "all"
    """Every interface: 0.0.0.0, ::, `*` (reachable from every network the machine is on)."""
    SPECIFIC = "specific"
    """One address of the machine (a LAN address, a zone-scoped link-local one, a host name): reachable
    from the networks that address is on."""


_ALL_INTERFACES = frozenset({"*", "0.0.0.0", "::", "[::]", "[*]", "::0", "0:0:0:0:0:0:0:0"})
_LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "ip6-loopback", "localhost6"})


def exposure_of(address: str | None) -> Exposure | None:
    """The exposure of a socket bound to `address`; None when the source could not say (fuser's `?`).

    A zone or device suffix (`%eth0`, `%lo`) limits a socket to one interface but does not make it
    loopback: only the address itself decides. A host name other than localhost is specific: it
    stands for one of the machine's addresses."""
    if not address or address == "?":
        return None
    if address in _ALL_INTERFACES:
        return Exposure.ALL
    host = address.strip("[]").partition("%")[0]
    lowered = host.lower()
    if lowered in _LOOPBACK_NAMES or lowered.endswith(".localhost"):
        return Exposure.LOOPBACK
    import ipaddress  # only here: a query that never asks about exposure does not pay for it

    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if redacted(address):
            return None  # `x.x.x.x`, `<redacted>`: blanked out before it was pasted
        return Exposure.SPECIFIC  # a host name printed by a tool that ran without -n
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    if ip.is_unspecified:
        return Exposure.ALL
    if ip.is_loopback:
        return Exposure.LOOPBACK
    return Exposure.SPECIFIC


def is_exposed(address: str | None) -> bool:
    """Reachable from other machines, or possibly so: `--exposed` keeps what it cannot rule out."""
    return exposure_of(address) is not Exposure.LOOPBACK


# --- several listeners on one port: who gets a connection ------------------------------------------------

LOOPBACK_V4 = "127.0.0.1"
LOOPBACK_V6 = "::1"
OTHER_V4 = "this machine's other IPv4 addresses"
OTHER_V6 = "its IPv6 addresses"
DESTINATIONS = (LOOPBACK_V4, LOOPBACK_V6, OTHER_V4, OTHER_V6)


def _v6(address: str) -> bool:
    return ":" in address


def receivers(listeners: Sequence[Socket], destination: str) -> list[Socket]:
    """The listeners of one protocol and port that a connection to `destination` (one of
    DESTINATIONS) reaches: the most specific bind wins (a socket bound to the address itself before
    a wildcard), and for IPv4 an IPv4 wildcard before an IPv6 one that also accepts IPv4 (dual
    stack: measured on Linux; BSD, macOS and Windows also prefer the more specific bind). Several
    rows when one socket has several processes (pre-forked servers); an IPv6 wildcard whose dual
    stack is unknown counts as dual stack."""
    ipv4 = destination in (LOOPBACK_V4, OTHER_V4)
    loopback = destination in (LOOPBACK_V4, LOOPBACK_V6)
    exact = [r for r in listeners if loopback and r.local_address.partition("%")[0] == destination]
    if exact:
        return exact
    wild4 = [
        r for r in listeners if exposure_of(r.local_address) is Exposure.ALL and not _v6(r.local_address)
    ]
    wild6 = [r for r in listeners if exposure_of(r.local_address) is Exposure.ALL and _v6(r.local_address)]
    if ipv4:
        return wild4 or [r for r in wild6 if r.dual_stack is not False]
    return wild6


def shared_ports(rows: Iterable[Socket]) -> dict[tuple[str, int], list[Socket]]:
    """Listening sockets grouped by (proto, port), for the groups bound to more than one address by
    more than one process: where a connection lands depends on the address it is made to."""
    groups: dict[tuple[str, int], list[Socket]] = {}
    for row in rows:
        if row.local_port is not None and is_listening(row):
            groups.setdefault((row.proto, row.local_port), []).append(row)
    return {
        key: group
        for key, group in groups.items()
        if len({r.local_address for r in group}) > 1 and len({(r.pid, r.process) for r in group}) > 1
    }
