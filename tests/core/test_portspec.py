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


# --- service names and lsof's `:PORT` (issue 12) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ssh", "22"),
        ("SSH", "22"),  # names are compared without case, as services files do
        ("mysql", "3306"),
        ("ms-wbt-server", "3389"),  # a name with dashes is one name, not a range
        ("3com-amp3", "629"),  # and one starting with a digit
        ("webcache", "8080"),  # a name only services files know (not IANA)
        ("x11", "6000-6063"),  # IANA registers x11 on a range
        ("ssh,https,8000-8001", "22,443,8000-8001"),
        (":8000", "8000"),
        (":8000-8100", "8000-8100"),
        (":80,:443", "80,443"),
    ],
)
def test_service_names_and_lsof_colon_ports(text: str, expected: str) -> None:
    assert str(parse_port_spec(text)) == expected


def test_a_name_registered_on_several_ports_lists_them_and_is_refused() -> None:
    with pytest.raises(UsageError) as caught:
        parse_port_spec("http-alt")
    assert str(caught.value) == (
        "invalid port 'http-alt': the service 'http-alt' is registered on several ports, 591 (tcp/udp), "
        "8008 (tcp/udp), 8080 (tcp/udp): give the number"
    )
    with pytest.raises(UsageError, match=r"2007 \(udp\), 2013 \(tcp\)"):
        parse_port_spec("raid-am")  # one port for TCP, another for UDP: still two answers


@pytest.mark.parametrize("bad", ["nosuchservice", "ssh/tcp", "ss h", "::80", ":", "0x50", "s" * 64])
def test_unknown_or_malformed_names_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="invalid port"):
        parse_port_spec(bad)
