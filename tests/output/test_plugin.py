"""The monitoring-plugin line: status, text and performance data as the guidelines write them, the
perfdata checked against the nagiosplugin library's Performance."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, strategies as st

from portcheck.output.plugin import Perf, PluginState, perf_text, plugin_output, worst

# One item of performance data, from the guidelines: 'label'=value[UOM];[warn];[crit];[min];[max]
PERF_ITEM = re.compile(
    r"(?P<label>'(?:[^']|'')+'|[^'= ]+)=(?P<value>-?[0-9.]+)(?P<uom>[a-zA-Z%]*)"
    r"(?:;(?P<warn>[^; ]*)(?:;(?P<crit>[^; ]*)(?:;(?P<min>[-0-9.]*)(?:;(?P<max>[-0-9.]*))?)?)?)?"
)


def parse_perfdata(text: str) -> list[dict[str, str | None]]:
    """The items of a perfdata string, or an AssertionError where the string breaks the format."""
    items = []
    rest = text.strip()
    while rest:
        match = PERF_ITEM.match(rest)
        assert match is not None, rest
        items.append(match.groupdict())
        rest = rest[match.end() :]
        assert rest == "" or rest.startswith(" "), rest
        rest = rest.strip()
    return items


def test_the_issue_example() -> None:
    out = plugin_output(
        PluginState.OK,
        "nginx (PID 812) listens on tcp 0.0.0.0:443",
        [Perf("listeners", 1, min=0), Perf("connections", 37, min=0)],
    )
    assert out == "OK: nginx (PID 812) listens on tcp 0.0.0.0:443 | listeners=1;;;0 connections=37;;;0\n"


labels = st.text(
    st.characters(blacklist_characters="'=|", blacklist_categories=("Cc", "Cs")), min_size=1, max_size=20
)


@given(labels, st.integers(0, 10**6), st.sampled_from(["", "10", "~:10", "@10:20", "5:"]))
def test_perfdata_is_what_nagiosplugin_writes(label: str, value: int, warn: str) -> None:
    nagiosplugin = pytest.importorskip("nagiosplugin")  # a real implementation, in the test extra
    ours = perf_text(Perf(label, value, warn=warn, crit="", min=0))
    theirs = str(nagiosplugin.Performance(label, value, "", warn, "", 0))
    assert ours == theirs


@pytest.mark.parametrize(
    ("label", "written"),
    [
        ("listeners", "listeners"),
        ("web1 listeners", "'web1 listeners'"),
        ("db's conns", "'db''s conns'"),
        ("a=b", "a_b"),
        ("evil\x1b[2J", "'evil\\x1b[2J'"),
    ],
)
def test_labels_are_quoted_and_cleaned(label: str, written: str) -> None:
    text = perf_text(Perf(label, 1, min=0))
    assert text == f"{written}=1;;;0"
    (item,) = parse_perfdata(text)
    assert item["label"] == written


def test_text_cannot_start_perfdata_or_a_new_line() -> None:
    out = plugin_output(PluginState.CRITICAL, "evil|x=1\nOK: fake", [Perf("listeners", 0, min=0)])
    first, _, perf = out.rstrip("\n").partition(" | ")
    assert out.count("\n") == 1 and "|" not in first
    assert first == "CRITICAL: evil\\x7cx=1\\x0aOK: fake"
    assert parse_perfdata(perf) == [
        {"label": "listeners", "value": "0", "uom": "", "warn": "", "crit": "", "min": "0", "max": None}
    ]


def test_the_worst_state_puts_critical_before_unknown() -> None:
    """monitoring-plugins' max_state_alt order."""
    assert worst([PluginState.OK, PluginState.UNKNOWN]) is PluginState.UNKNOWN
    assert worst([PluginState.UNKNOWN, PluginState.WARNING]) is PluginState.WARNING
    assert worst([PluginState.CRITICAL, PluginState.UNKNOWN]) is PluginState.CRITICAL
    assert worst([]) is PluginState.OK
