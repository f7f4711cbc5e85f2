"""Readers for what an OS says about its own port ranges: which ports it hands out as ephemeral
(client) ports, and which it keeps back. Pure functions from the lines a probe printed to ranges;
each platform's probes (portcheck.platforms) say which reader goes with which command, and
portcheck.meaning.portinfo runs them. They sit with the parsers (not in info/) because they are parsers of
tool output, and the platforms that name them must not depend on info.

Every reader raises ValueError for text it cannot read, so a probe that printed an error message
instead of numbers is reported as unreadable rather than turned into a wrong range.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from portcheck.core.portspec import MAX_PORT


class PortRange(NamedTuple):
    first: int
    last: int
    administered: bool = False
    """Windows excluded ranges: added by an administrator (`netsh ... add excludedportrange`, marked
    `*`), as opposed to reserved on the fly by Hyper-V, WSL or Docker."""

    def __contains__(self, port: object) -> bool:
        return isinstance(port, int) and self.first <= port <= self.last

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


_VALUE_AFTER_COLON = re.compile(r":\s*(\d+)\s*$")
_EXCLUDED_ROW = re.compile(r"^\s*(\d+)\s+(\d+)\s*(\*)?\s*$")


def _checked(first: int, last: int) -> PortRange:
    if not 0 <= first <= last <= MAX_PORT:
        raise ValueError(f"not a port range: {first}-{last}")
    return PortRange(first, last)


def two_numbers(lines: Iterable[str]) -> list[PortRange]:
    """The first and last port as two integers: `32768\t60999` (Linux ip_local_port_range, or
    `sysctl -n net.ipv4.ip_local_port_range`), or one per line (`sysctl -n net.inet.ip.portrange.first
    net.inet.ip.portrange.last` on macOS and FreeBSD)."""
    numbers: list[int] = []
    for line in lines:
        words = line.split()
        if not all(w.isdecimal() for w in words):
            raise ValueError(f"expected port numbers, got {line.strip()!r}")
        numbers.extend(int(w) for w in words)
    if len(numbers) != 2:
        raise ValueError(f"expected two port numbers, got {len(numbers)}")
    return [_checked(*numbers)]


def port_list(lines: Iterable[str]) -> list[PortRange]:
    """Linux ip_local_reserved_ports: `8080,9000-9100`, or an empty line when nothing is reserved."""
    ranges: list[PortRange] = []
    for line in lines:
        for item in line.replace(" ", "").split(","):
            if not item:
                continue
            low, dash, high = item.partition("-")
            if not low.isdigit() or (dash and not high.isdigit()):
                raise ValueError(f"not a port list: {line.strip()!r}")
            ranges.append(_checked(int(low), int(high) if dash else int(low)))
    return ranges


def netsh_dynamic_port(lines: Iterable[str]) -> list[PortRange]:
    """`netsh int ipv4 show dynamicport tcp` in any language: the labels are translated ("Start Port",
    "Startport", "Port de démarrage"), the layout is not. The two values after a colon are the first
    port and the number of ports (not the last port)."""
    values = [int(m.group(1)) for line in lines if (m := _VALUE_AFTER_COLON.search(line))]
    if len(values) < 2:
        raise ValueError("no start port and number of ports in the output")
    start, count = values[0], values[1]
    if count < 1:
        raise ValueError(f"a dynamic range of {count} ports")
    return [_checked(start, start + count - 1)]


def netsh_excluded_ranges(lines: Iterable[str]) -> list[PortRange]:
    """`netsh int ipv4 show excludedportrange protocol=tcp` in any language: rows of two numbers,
    `*` after the administered ones. Headings and the footnote have no such row. An empty table (no
    exclusions) is a valid answer; output with no table heading at all (an error) is not."""
    ranges: list[PortRange] = []
    heading = False
    for line in lines:
        row = _EXCLUDED_ROW.match(line)
        if row:
            ranges.append(_checked(int(row.group(1)), int(row.group(2)))._replace(administered=bool(row[3])))
        elif line.strip().startswith("---"):
            heading = True
    if not ranges and not heading:
        raise ValueError("no port exclusion table in the output")
    return ranges
