"""Port specifications as users type them: `60653`, `8000-8100`, `80,443,8000-8100`, lsof's `:8000`,
and service names (`ssh`, `mysql`, `ssh,https`).

Validated before anything runs: the value ends up in a native tool's filter expression, so only
integers 0-65535 ever leave this module. A name becomes the port (or range) IANA registers it on; a
name IANA registers on several ports is refused with those ports listed, because picking one would
answer a question the person may not have asked (`raid-am` is 2007 for TCP but 2013 for UDP).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from portcheck.core.errors import UsageError, quote

MAX_PORT = 65535
EXPECTED = (
    "expected a number 0-65535, a range A-B, a comma list like 80,443,8000-8100 or a service name like ssh"
)
_NUMERIC = re.compile(r"[0-9-]*")
"""An item made of digits and dashes is read as numbers, never looked up as a name."""
_SERVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,62}")
"""What a typed service name may hold (IANA's names are letters, digits and dashes; a few have `_`,
`.` or `+`); anything else is refused before any lookup."""


class PortSpec(NamedTuple):
    ranges: tuple[tuple[int, int], ...]
    """Merged, sorted, inclusive ranges: what a native tool's filter expression is built from."""
    ports: frozenset[int]
    """Every port, for the O(1) membership test parsers run on each row."""

    def __str__(self) -> str:
        return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in self.ranges)


def _bad(spec: str, why: str) -> UsageError:
    return UsageError(f"invalid port {quote(spec)}: {why}")


def _number(text: str, spec: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise _bad(spec, EXPECTED)
    value = int(text)
    if value > MAX_PORT:
        raise _bad(spec, f"{value} is above {MAX_PORT}")
    return value


def parse_port_spec(*specs: str) -> PortSpec:
    """One PortSpec from one or more user-typed specs (`portcheck 80 443,8000-8100`)."""
    ranges: list[tuple[int, int]] = []
    for spec in specs:
        text = spec.strip()
        if not text:
            raise _bad(spec, "empty port")
        for item in text.split(","):
            part = item.strip()
            if part.startswith(":"):  # lsof's spelling, `-i :8000`
                part = part[1:]
            if not part:
                raise _bad(spec, "empty item in the comma list")
            if not _NUMERIC.fullmatch(part):
                ranges.append(_service(part, spec))
                continue
            low_text, dash, high_text = part.partition("-")
            if not dash:
                port = _number(part, spec)
                ranges.append((port, port))
                continue
            if not low_text:
                raise _bad(spec, "ports cannot be negative")
            if "-" in high_text:
                raise _bad(spec, "a range has exactly two ends, like 8000-8100")
            low, high = _number(low_text, spec), _number(high_text, spec)
            if low > high:
                raise _bad(spec, f"range {low}-{high} is descending; write {high}-{low}")
            ranges.append((low, high))
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    ports = frozenset(p for low, high in merged for p in range(low, high + 1))
    return PortSpec(tuple(merged), ports)


def _service(name: str, spec: str) -> tuple[int, int]:
    """The port (or range) a service name is registered on; exit 2 when there is none or several."""
    if not name.isascii() or not _SERVICE_NAME.fullmatch(name):
        raise _bad(spec, EXPECTED)
    from portcheck.core.services import registrations

    found = registrations(name)
    if not found:
        raise _bad(spec, f"no service is registered as {quote(name)}; {EXPECTED}")
    if len(found) > 1:
        listed = ", ".join(f"{_span(r.first, r.last)} ({'/'.join(r.protocols)})" for r in found)
        raise _bad(
            spec, f"the service {quote(name)} is registered on several ports, {listed}: give the number"
        )
    return found[0].first, found[0].last


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"
