"""The monitoring-plugin output format (Nagios plugin development guidelines; Icinga, Naemon, Sensu and
Zabbix's Nagios compatibility read the same): `STATUS: text | label=value[UOM];warn;crit;min;max ...`
on the first line, optional long text on the following lines, and the exit status 0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN.

The text part is read by people in a web interface and by the monitoring core: control characters are
escaped like everywhere else, and `|` (which would start the performance data) is written `\\x7c`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from enum import IntEnum
from typing import NamedTuple

from portcheck.core.escape import escape_controls


class PluginState(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


SEVERITY = (PluginState.OK, PluginState.UNKNOWN, PluginState.WARNING, PluginState.CRITICAL)
"""Least to most severe when states are combined (several hosts): monitoring-plugins' max_state_alt,
where a CRITICAL host is not hidden behind another host that could not be asked."""


def worst(states: Iterable[PluginState]) -> PluginState:
    return max(states, key=SEVERITY.index, default=PluginState.OK)


class Perf(NamedTuple):
    """One performance-data item."""

    label: str
    value: float
    uom: str = ""
    warn: str = ""
    crit: str = ""
    min: float | None = None
    max: float | None = None


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and math.isfinite(value):
        return str(int(value))
    return str(value)


_WORD = re.compile(r"\w+")


def perf_label(label: str) -> str:
    """A label as the guidelines allow it: no `=` (it would end the label) or `|`, `'` written twice,
    and the whole label in single quotes unless it is letters, digits and `_` only (the rule of the
    nagiosplugin library: graphing add-ons stumble over anything else unquoted)."""
    clean = escape_controls(label).replace("=", "_").replace("|", "_")
    if _WORD.fullmatch(clean):
        return clean
    return "'" + clean.replace("'", "''") + "'"


def perf_text(item: Perf) -> str:
    """`label=value[UOM];warn;crit;min;max`, trailing empty fields dropped as the guidelines allow."""
    fields = [
        f"{perf_label(item.label)}={_number(item.value)}{item.uom}",
        item.warn,
        item.crit,
        _number(item.min),
        _number(item.max),
    ]
    while fields and not fields[-1]:
        fields.pop()
    return ";".join(fields)


def plugin_text(text: str) -> str:
    """Text safe for the status line: controls escaped, no `|`."""
    return escape_controls(text).replace("|", "\\x7c")


def plugin_output(
    state: PluginState, summary: str, perf: Sequence[Perf] = (), long_lines: Sequence[str] = ()
) -> str:
    """The whole output: `STATE: summary | perf` and the long text on the following lines (each
    already a finished line; a later line may carry its own `| perf`)."""
    line = f"{state.name}: {plugin_text(summary)}"
    if perf:
        line += " | " + " ".join(perf_text(p) for p in perf)
    return "\n".join([line, *long_lines]) + "\n"
