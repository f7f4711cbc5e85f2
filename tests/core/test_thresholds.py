"""The plugin range syntax, checked against the guidelines' own table and against the nagiosplugin
library's Range (a real implementation, used here only)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, strategies as st

from portcheck.core.errors import UsageError
from portcheck.core.thresholds import parse_threshold

# The table of the Nagios plugin development guidelines ("Threshold and ranges"): range, alert when.
GUIDELINES = [
    ("10", lambda v: v < 0 or v > 10),
    ("10:", lambda v: v < 10),
    ("~:10", lambda v: v > 10),
    ("10:20", lambda v: v < 10 or v > 20),
    ("@10:20", lambda v: 10 <= v <= 20),
]


@pytest.mark.parametrize(("spec", "alerts"), GUIDELINES, ids=[g[0] for g in GUIDELINES])
@pytest.mark.parametrize("value", [-1, 0, 5, 9.5, 10, 15, 20, 20.5, 25, 1e9])
def test_the_guidelines_table(spec: str, alerts: object, value: float) -> None:
    assert parse_threshold(spec).alerts(value) is alerts(value)  # type: ignore[operator]


numbers = st.one_of(
    st.integers(-1000, 1000), st.floats(-1000, 1000, allow_nan=False).map(lambda f: round(f, 2))
)


@st.composite
def specs(draw: st.DrawFn) -> str:
    start = draw(st.one_of(st.none(), st.just("~"), numbers))
    end = draw(st.one_of(st.none(), numbers))
    if isinstance(start, (int, float)) and isinstance(end, (int, float)) and start > end:
        start, end = end, start
    if start is None and end is None:
        end = 0
    if start is None and end is not None and end < 0:
        end = -end  # a missing start is 0
    text = f"{'' if start is None else start}:{'' if end is None else end}"
    if start is None:
        text = str(end) if draw(st.booleans()) else f":{end}"
    return ("@" if draw(st.booleans()) else "") + text


@given(specs(), numbers)
def test_every_range_alerts_where_nagiosplugin_says_it_does(spec: str, value: float) -> None:
    nagiosplugin = pytest.importorskip("nagiosplugin")  # a real implementation, in the test extra
    ours = parse_threshold(spec)
    theirs = nagiosplugin.Range(spec)
    assert ours.alerts(value) is (not theirs.match(value)), (spec, value)


@pytest.mark.parametrize("spec", ["-1", ":-1", "5:1"])
def test_nagiosplugin_refuses_what_portcheck_refuses(spec: str) -> None:
    nagiosplugin = pytest.importorskip("nagiosplugin")  # a real implementation, in the test extra
    with pytest.raises(ValueError):
        nagiosplugin.Range(spec)
    with pytest.raises(UsageError):
        parse_threshold(spec)


@pytest.mark.parametrize(
    "spec", ["", "@", "abc", "10:5", "1:2:3", "nan", "inf", "~", "@~", "1e400", "x" * 100]
)
def test_a_bad_range_is_a_usage_error(spec: str) -> None:
    with pytest.raises(UsageError, match="invalid threshold"):
        parse_threshold(spec)


def test_the_text_is_kept_for_the_perfdata() -> None:
    assert parse_threshold(" ~:10 ").text == "~:10"
    assert parse_threshold("10:").end == math.inf
