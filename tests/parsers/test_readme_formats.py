"""The README's table of formats names every format `portcheck parse` reads, and its one line of each
is recognised as that format on its own (a single grep'd line is how half of all pastes arrive)."""

from __future__ import annotations

import re

import pytest

from portcheck import parsers
from portcheck.parsers.detect import detect
from tests.conftest import ROOT

ROW = re.compile(r"^\| `([a-z-]+)` \| .* \| `(.*)` \|$", re.MULTILINE)
EXAMPLES = {name: line.replace("\\|", "|") for name, line in ROW.findall((ROOT / "README.md").read_text())}


def test_every_format_is_in_the_table() -> None:
    assert sorted(EXAMPLES) == sorted(parsers.FORMATS)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_its_example_line_is_recognised_alone(name: str) -> None:
    assert detect([EXAMPLES[name]]) == name
