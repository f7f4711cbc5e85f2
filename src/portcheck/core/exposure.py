"""Who can reach a listener: this machine only (loopback), every interface, or specific addresses.

One function answers it for every address a source prints (`127.0.0.1`, `[::1]`, `::ffff:127.0.0.1`,
ss's device-bound `127.0.0.53%lo`, a zone-scoped `fe80::1%eth0`, `*`, a host name), so the `--exposed`
filter, `check --loopback` and the shared-port hint never disagree about what "exposed" means.
"""

from __future__ import annotations

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
