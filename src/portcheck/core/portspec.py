"""Port specifications as users type them: `60653`, `8000-8100`, `80,443,8000-8100`.

Validated before anything runs: the value ends up in a native tool's filter expression, so only
integers 0-65535 ever leave this module.
"""

from __future__ import annotations

from typing import NamedTuple

from portcheck.core.errors import UsageError, quote

MAX_PORT = 65535


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
        raise _bad(spec, "expected a number 0-65535, a range A-B or a comma list like 80,443,8000-8100")
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
        for part in text.split(","):
            part = part.strip()
            if not part:
                raise _bad(spec, "empty item in the comma list")
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
