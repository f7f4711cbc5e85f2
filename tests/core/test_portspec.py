from __future__ import annotations

import pytest

from portcheck.core.errors import UsageError
from portcheck.core.portspec import parse_port_spec


def test_single_range_and_list() -> None:
    assert parse_port_spec("60653").ports == frozenset({60653})
    assert parse_port_spec("8000-8002").ranges == ((8000, 8002),)
    spec = parse_port_spec("80,443,8000-8100", "81")
    assert spec.ranges == ((80, 81), (443, 443), (8000, 8100))
    assert 8050 in spec.ports and 82 not in spec.ports
    assert str(spec) == "80-81,443,8000-8100"
    assert parse_port_spec("0").ports == frozenset({0})
    assert parse_port_spec("65535").ports == frozenset({65535})


@pytest.mark.parametrize("bad", ["80;id", "$(id)", "-1", "70000", "1-2-3", "", "80,", "abc", "90-80", "٨٠"])
def test_bad_specs_quote_the_value(bad: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_port_spec(bad)
    assert repr(bad.strip())[1:-1] in str(caught.value) or bad == ""
