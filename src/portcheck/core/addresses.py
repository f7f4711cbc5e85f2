"""Endpoints as native tools print them, turned into (address, port).

Two notations exist. Linux, Windows and lsof put the port after the last colon (`127.0.0.1:80`,
`[::1]:80`, `:::80`, `*:80`, `127.0.0.53%lo:53`); BSD netstat (macOS, FreeBSD) puts it after the last
dot (`127.0.0.1.80`, `*.80`, `fe80::1%lo0.123`, `*.*`). Both may carry host or service names when the
tool ran without -n. These functions sit on every parser's hot path, so they use str methods only.
"""

from __future__ import annotations

from typing import Optional

from portcheck.core.model import Family, Proto
from portcheck.core.services import port_for_name

WILDCARD_V4 = "0.0.0.0"
WILDCARD_V6 = "::"
WILDCARD_HOSTS = frozenset({"*", "0.0.0.0", "::", "[::]", "", "[*]", "::0", "0:0:0:0:0:0:0:0"})
"""Hosts that mean "any address"; parsers test membership inline before calling `local_address`."""
WILDCARD_PORTS = frozenset({"*", "0", ""})

Endpoint = tuple[Optional[str], Optional[int]]
"""(address, port); either may be None (a wildcard peer, or a port the text does not show)."""


def family_of(address: str) -> Family | None:
    """IPv6 when the address has a colon, IPv4 when it is a dotted quad, None for names and `*`."""
    if ":" in address:
        return Family.IPV6
    if "%" in address:  # ss's `127.0.0.53%lo`: an address bound to a device
        address = address.partition("%")[0]
    if address.count(".") == 3 and address.replace(".", "").isdecimal():
        return Family.IPV4
    return None


def port_number(text: str, proto: Proto | str | None = None) -> int | None:
    """`80` -> 80, `ssh` -> 22 (from the packaged IANA table), `*` or an unknown name -> None.
    Digits are decimal digits (what int() reads), not every character str.isdigit() accepts (`²`);
    more than five of them (leading zeros aside) are no port, and are not handed to int(), which
    refuses more than 4300 digits."""
    if text.isdecimal():
        if len(text) > 5:
            text = text.lstrip("0") or "0"
            if len(text) > 5:
                return None
        port = int(text)
        return port if port <= 65535 else None
    if not text or text == "*":
        return None
    return port_for_name(text, proto)


def split_colon(text: str) -> tuple[str, str]:
    """`[::1]:80` -> (`::1`, `80`); `:::80` -> (`::`, `80`); `*:*` -> (`*`, `*`). No port: (text, "").
    A zone or device stays with the host wherever it was printed: `[fe80::1]%eth0:80` (ss),
    `[fe80::1%eth0]:80` and `fe80::1%eth0:80` all give (`fe80::1%eth0`, `80`)."""
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith("%"):  # ss: `[fe80::1]%eth0:8190`, the device after the brackets
            zone, _, port = rest.rpartition(":")
            return host + zone, port
        return host, rest[1:] if rest.startswith(":") else ""
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, ""
    return host, port


def split_dot(text: str) -> tuple[str, str]:
    """BSD notation: `127.0.0.1.80` -> (`127.0.0.1`, `80`); `*.*` -> (`*`, `*`); `fe80::1%lo0.123`."""
    host, sep, port = text.rpartition(".")
    if not sep:
        return text, ""
    return host, port


def local_address(host: str, family: Family | None) -> str:
    """The local side: a wildcard becomes `0.0.0.0` or `::` by family; anything else stays as printed."""
    if host in WILDCARD_HOSTS:
        if family is Family.IPV6 or ":" in host:
            return WILDCARD_V6
        if family is Family.IPV4 or host == WILDCARD_V4:
            return WILDCARD_V4
        return "*"
    return host


def remote_endpoint(host: str, port: str, proto: Proto | str | None = None) -> Endpoint:
    """The peer side: `*`, `0.0.0.0:*`, `[::]:0`, `*.*` are "no peer" (None, None)."""
    if host in WILDCARD_HOSTS and port in WILDCARD_PORTS:
        return None, None
    return host, port_number(port, proto)


def is_wildcard_peer(host: str, port: str) -> bool:
    """True for a peer that means "nobody yet" (`0.0.0.0:0`, `[::]:0`, `*:*`): a listener's remote."""
    return host in WILDCARD_HOSTS and port in WILDCARD_PORTS


def family_from_proto(word: str) -> Family | None:
    """`tcp6`/`udp6`/`tcp46` -> IPv6 (a dual-stack socket is an IPv6 socket), `tcp4` -> IPv4."""
    if word.endswith("6"):
        return Family.IPV6
    if word.endswith("4"):
        return Family.IPV4
    return None
