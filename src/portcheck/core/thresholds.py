"""Threshold ranges in the monitoring-plugin syntax (Nagios plugin development guidelines, "Threshold
and ranges"), for `portcheck check --warning/--critical`.

`[@]start:end`; `start` defaults to 0 and may be `~` (negative infinity); an empty `end` is positive
infinity. The check alerts when the value is OUTSIDE start..end (both inclusive), or INSIDE it when the
range starts with `@`: `10` alerts above 10 or below 0, `10:` below 10, `~:10` above 10, `10:20`
outside 10-20, `@10:20` inside 10-20.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from portcheck.core.errors import UsageError, quote


class Threshold(NamedTuple):
    start: float
    end: float
    inside: bool
    """True for `@`: alert inside the range instead of outside it."""
    text: str
    """As the user wrote it: the perfdata repeats it verbatim."""

    def alerts(self, value: float) -> bool:
        within = self.start <= value <= self.end
        return within if self.inside else not within


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise _bad(spec) from None
    if math.isnan(value) or math.isinf(value):
        raise _bad(spec)
    return value


def _bad(spec: str, why: str = "") -> UsageError:
    return UsageError(
        f"invalid threshold {quote(spec)}: {why or 'expected N, N:, ~:N, N:M or @N:M (plugin range syntax)'}"
    )


def parse_threshold(spec: str) -> Threshold:
    text = spec.strip()
    body = text[1:] if text.startswith("@") else text
    if not body or len(body) > 64:
        raise _bad(spec)
    start_text, colon, end_text = body.partition(":")
    if not colon:
        start, end = 0.0, _number(start_text, spec)
    else:
        start = -math.inf if start_text == "~" else _number(start_text, spec) if start_text else 0.0
        end = _number(end_text, spec) if end_text else math.inf
    if start > end:
        raise _bad(spec, "the start is above the end")
    return Threshold(start, end, text.startswith("@"), text)
