"""`portcheck free`: every port it offers is outside this machine's ephemeral range, bindable now and
(when the range allows) unregistered; held, reserved and excluded ports are never offered."""

from __future__ import annotations

import random
import socket
from pathlib import Path

import pytest

from portcheck.core.model import Proto
from portcheck.core.services import services_for_port
from portcheck.meaning.freeports import binds, find_free
from portcheck.meaning.portinfo import ProbedRange, SystemPorts
from portcheck.parsers.portranges import PortRange
from portcheck.platforms.base import ProbeKind
from tests.conftest import run_cli
from tests.helpers.cli import listener
from tests.helpers.ports import bind_udp

LINUX_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def ephemeral() -> range:
    first, last = (int(w) for w in LINUX_RANGE.read_text().split())
    return range(first, last + 1)


def reserved() -> set[int]:
    text = Path("/proc/sys/net/ipv4/ip_local_reserved_ports").read_text().strip()
    ports: set[int] = set()
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return ports


def test_free_ports_are_safe_and_bindable() -> None:
    result = run_cli("free", "--count", "5", "--json")
    assert result.code == 0, result.stderr
    found = result.json()
    assert isinstance(found, list) and len(found) == 5
    ports = [item["port"] for item in found]
    assert len(set(ports)) == 5
    for item in found:
        port = item["port"]
        assert item == {"port": port, "proto": "tcp", "registered": []}
        assert 1024 <= port <= 65535 and port not in ephemeral() and port not in reserved()
        assert services_for_port(port, "tcp") == []
        with socket.socket() as probe:  # free now (a race with another program is possible, not likely)
            probe.bind(("0.0.0.0", port))


def test_plain_output_is_one_port_per_line() -> None:
    result = run_cli("free", "-n", "2", "--udp")
    lines = result.stdout.split()
    assert result.code == 0 and len(lines) == 2 and all(p.isdecimal() for p in lines)


def test_a_held_port_is_never_offered() -> None:
    with listener("pc-free-held") as child:
        result = run_cli("free", "--range", f"{child.port}-{child.port}")
    assert (result.code, result.stdout) == (1, "")
    assert result.stderr.endswith(
        f"only 0 of 1 ports in {child.port}-{child.port} are free and safe for a server\n"
    )


def test_a_udp_port_held_is_not_free_for_udp_only() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as held:
        bind_udp(held, "127.0.0.1")
        port = held.getsockname()[1]
        assert not binds(port, Proto.UDP)
        if port not in ephemeral():
            assert binds(port, Proto.TCP)


def test_registered_ports_come_last_and_are_named() -> None:
    """8000-8005 are all registered with IANA: offered only because nothing else is left."""
    result = run_cli("free", "--range", "8000-8005", "--json")
    if result.code == 1:
        pytest.skip("every port of 8000-8005 is in use on this machine")
    (item,) = result.json()  # type: ignore[misc]
    names = list(dict.fromkeys(s.name for s in services_for_port(item["port"], "tcp")))
    assert names and item["registered"] == names
    assert "is registered with IANA for" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "--count must be 1 to 1000"),
        (["--range", "9000-8000"], "invalid range '9000-8000'"),
        (["--range", "0-10"], "invalid range '0-10'"),
        (["--range", "80"], "invalid range '80'"),
    ],
)
def test_bad_usage(args: list[str], message: str) -> None:
    result = run_cli("free", *args)
    assert result.code == 2 and message in result.stderr


# --- the rules, with the machine's ranges given (the binding is real) ----------------------------------


def system(*ranges: tuple[ProbeKind, int, int]) -> SystemPorts:
    found = SystemPorts(None)
    for kind, first, last in ranges:
        found.ranges.append(ProbedRange(kind, (Proto.TCP, Proto.UDP), PortRange(first, last), "test"))
        found.answered.update({(kind, Proto.TCP), (kind, Proto.UDP)})
    found.answered.add((ProbeKind.EPHEMERAL, Proto.TCP))
    return found


def test_reserved_and_excluded_ranges_are_left_out() -> None:
    machine = system((ProbeKind.EPHEMERAL, 40000, 65535), (ProbeKind.RESERVED, 20001, 20003),
                     (ProbeKind.EXCLUDED, 20005, 20006))  # fmt: skip
    unregistered = [p for p in range(20000, 20010) if not services_for_port(p, "tcp")]
    found = find_free(machine, count=10, wanted=PortRange(20000, 20009), rng=random.Random(1))
    offered = {p.port for p in found.ports}
    assert offered.isdisjoint({20001, 20002, 20003, 20005, 20006})
    assert {p for p in unregistered if binds(p, Proto.TCP)} - {20001, 20002, 20003, 20005, 20006} <= offered
    assert [why for why, _ in found.avoided] == ["ephemeral (test)", "reserved (test)", "excluded (test)"]


def test_an_unknown_ephemeral_range_is_assumed_wide_and_said() -> None:
    found = find_free(
        SystemPorts(None, errors=["netsh: not installed"]), count=1, wanted=PortRange(30000, 40000)
    )
    assert found.ports and found.ports[0].port < 32768
    assert found.warnings == [
        "this machine's ephemeral range is unknown (netsh: not installed): avoiding 32768-65535, where every "
        "supported OS starts by default"
    ]


def test_candidates_are_every_allowed_port_once_from_an_even_start() -> None:
    from portcheck.meaning.freeports import _candidates

    avoided = [
        ("ephemeral", PortRange(100, 199)),
        ("reserved", PortRange(150, 250)),
        ("excluded", PortRange(10, 10)),
    ]
    starts = set()
    for seed in range(200):
        order = list(_candidates(PortRange(1, 300), avoided, random.Random(seed)))
        assert sorted(order) == [p for p in range(1, 301) if not (100 <= p <= 250 or p == 10)]
        starts.add(order[0])
    assert any(s > 250 for s in starts) and any(s < 100 for s in starts)  # not always just past a hole
    assert list(_candidates(PortRange(100, 120), avoided, random.Random(0))) == []


def test_a_port_in_time_wait_is_not_offered() -> None:
    """The server side closes first: its port stays in TIME_WAIT, and a bind without SO_REUSEADDR
    fails there (a server setting SO_REUSEADDR could take it; free is stricter)."""
    import time

    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection(("127.0.0.1", port))
        accepted, _ = server.accept()
        accepted.close()
        time.sleep(0.05)
        client.close()
    assert not binds(port, Proto.TCP)


def test_quiet_answers_with_the_status_alone() -> None:
    result = run_cli("free", "-q")
    assert (result.code, result.stdout, result.stderr) == (0, "", "")
