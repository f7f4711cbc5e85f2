"""The readers of the OS's own port ranges (the probes that run them: tests/platforms/test_platforms.py).
The CLI tests (test_cli_info.py, test_cli_kill.py) run them end to end; these pin the edges."""

from __future__ import annotations

import pytest

from portcheck.parsers.portranges import (
    PortRange,
    netsh_dynamic_port,
    netsh_excluded_ranges,
    port_list,
    two_numbers,
)


def test_two_numbers_on_one_line_or_two() -> None:
    assert two_numbers(["32768\t60999"]) == [PortRange(32768, 60999)]
    assert two_numbers(["49152", "65535", ""]) == [PortRange(49152, 65535)]


@pytest.mark.parametrize(
    "lines",
    [
        ["sysctl: unknown oid 'net.inet.ip.portrange.first'"],
        ["49152"],
        ["1 2 3"],
        ["60999 32768"],  # descending
        ["1024 70000"],
    ],
)
def test_two_numbers_refuses_anything_else(lines: list[str]) -> None:
    with pytest.raises(ValueError):
        two_numbers(lines)


def test_linux_reserved_port_list() -> None:
    assert port_list([""]) == []
    assert port_list(["8080,9000-9100"]) == [PortRange(8080, 8080), PortRange(9000, 9100)]
    with pytest.raises(ValueError):
        port_list(["8080;9000"])


FRENCH_DYNAMIC = """
Protocole tcp Plage de ports dynamique
---------------------------------
Port de démarrage   : 49152
Nombre de ports     : 16384
""".splitlines()


def test_netsh_dynamic_port_in_any_language() -> None:
    assert netsh_dynamic_port(FRENCH_DYNAMIC) == [PortRange(49152, 65535)]
    assert netsh_dynamic_port(["Start Port : 1025", "Number of Ports : 64511"]) == [PortRange(1025, 65535)]
    with pytest.raises(ValueError):
        netsh_dynamic_port(["The requested operation requires elevation (Run as administrator)."])
    with pytest.raises(ValueError):
        netsh_dynamic_port(["Start Port : 65000", "Number of Ports : 16384"])  # past 65535


def test_netsh_excluded_ranges() -> None:
    table = ["Start Port    End Port", "----------    --------", "      5357        5357", " 50000  50059  *"]
    assert netsh_excluded_ranges(table) == [PortRange(5357, 5357), PortRange(50000, 50059, administered=True)]
    assert netsh_excluded_ranges(["Start Port    End Port", "----------    --------", ""]) == []
    with pytest.raises(ValueError):
        netsh_excluded_ranges(["The following command was not found: int ipv4 show excludedportrange."])
