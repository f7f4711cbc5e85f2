"""Exposure for real: the EXPOSURE column, --exposed, and the hint that says which of several
listeners on one port a connection reaches (processes this test starts, bound to different
addresses; the receiving rules were measured on Linux: tests/core/test_exposure.py)."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli
from tests.helpers.cli import listener

_BOUND = r"""
import ctypes, socket, sys
name, address, port, v6only = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)
server = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
if ":" in address:
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1 if v6only else 0)
server.bind((address, port))
server.listen()
print(server.getsockname()[1], flush=True)
sys.stdin.read()
"""


@contextmanager
def bound(name: str, address: str, port: int = 0, *, v6only: bool = True) -> Iterator[tuple[int, int]]:
    """A child named `name` listening on address:port; yields (port, pid)."""
    child = subprocess.Popen([sys.executable, "-c", _BOUND, name, address, str(port), "1" if v6only else "0"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert child.stdout is not None
        yield int(child.stdout.readline()), child.pid
    finally:
        child.kill()
        child.wait(timeout=10)


def hint_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "is shared by processes on different addresses" in line]


def test_the_exposure_column() -> None:
    with bound("pc-exp-all", "0.0.0.0") as (port, _), socket.create_connection(("127.0.0.1", port)):
        result = run_cli(str(port), "--exposure")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER", "EXPOSURE"]
    listening = next(line for line in lines if "LISTEN " in line)
    assert listening.split()[-1] == "all"
    connection = next(
        line for line in lines if "ESTABLISHED" in line and line.split()[1] == f"127.0.0.1:{port}"
    )
    assert not connection.rstrip().endswith(("all", "loopback", "specific"))
    with listener("pc-exp-lo") as child:
        assert run_cli(str(child.port), "--exposure").stdout.splitlines()[2].split()[-1] == "loopback"


def test_exposed_keeps_only_listeners_other_machines_can_reach() -> None:
    with listener("pc-exp-hidden") as hidden, bound("pc-exp-open", "0.0.0.0") as (port, pid):
        both = f"{hidden.port},{port}"
        result = run_cli(both, "--exposed", "--json")
        assert [(r["pid"], r["local_address"]) for r in result.json()] == [(pid, "0.0.0.0")]  # type: ignore[union-attr]
        assert run_cli(str(hidden.port), "--exposed").code == 1
        listing = run_cli("--exposed", "--json").json()
    assert isinstance(listing, list) and (pid, port) in {(r["pid"], r["local_port"]) for r in listing}
    assert hidden.pid not in {r["pid"] for r in listing}


def test_exposed_reads_pastes_too() -> None:
    paste = FIXTURES / "windows" / "netstat-ano-de-cp850.txt"
    rows = run_cli("parse", str(paste), "--exposed", "--json").json()
    assert isinstance(rows, list) and rows
    assert all(r["state"] in ("LISTEN", "NONE") and not r["local_address"].startswith("127.") for r in rows)
    assert all(r["local_address"] != "::1" for r in rows)


def test_the_column_is_for_tables() -> None:
    for args in (
        ["--exposure", "--json"],
        ["--exposure", "--host", "web1"],
        ["parse", "-", "--exposure", "-f", "csv"],
    ):
        result = run_cli(*args, stdin="")
        assert result.code == 2 and "--exposure adds a column" in result.stderr, args


def test_hint_for_ipv4_and_ipv6_loopback_held_by_different_processes() -> None:
    with bound("pc-exp-v4", "127.0.0.1") as (port, pid4), bound("pc-exp-v6", "::1", port) as (_, pid6):
        result = run_cli(str(port))
    assert hint_lines(result.stderr) == [
        f"portcheck: tcp port {port} is shared by processes on different addresses; a connection to "
        f"127.0.0.1: pc-exp-v4 (PID {pid4}); to ::1: pc-exp-v6 (PID {pid6}); to this machine's other IPv4 "
        f"addresses: refused; to its IPv6 addresses: refused. `localhost` {_localhost()}, and a client that "
        "does not try the next address (Node 17+) stops there"
    ]


def test_hint_for_a_loopback_server_beside_an_ipv6_wildcard() -> None:
    with bound("pc-exp-lo", "127.0.0.1") as (port, lo), bound("pc-exp-any6", "::", port) as (_, any6):
        result = run_cli(str(port), "--quiet")
        (hint,) = hint_lines(run_cli(str(port)).stderr)
    assert hint_lines(result.stderr) == []  # --quiet
    v6 = f"pc-exp-any6 (PID {any6})"
    assert (
        f"to 127.0.0.1: pc-exp-lo (PID {lo}); to ::1: {v6}; to this machine's other IPv4 addresses: {v6}"
        in hint
    )
    assert f"to its IPv6 addresses: {v6}." in hint


def test_the_hints_rules_are_what_linux_does() -> None:
    """Where the kernel really sends a connection to 127.0.0.1 when 127.0.0.1:P and [::]:P (dual stack)
    both listen (SO_REUSEPORT lets them share): to the more specific bind."""
    from portcheck.api.sockets import query
    from portcheck.core.exposure import LOOPBACK_V4, receivers

    servers = []
    try:
        for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::")):
            server = socket.socket(family)
            servers.append(server)
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            server.bind((address, servers[0].getsockname()[1] if servers[1:] else 0))
            server.listen()
            server.settimeout(2)
        port = servers[0].getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            accepted, _ = servers[0].accept()  # the 127.0.0.1 socket got it (a timeout here: it did not)
            accepted.close()
        rows = query(port)
    finally:
        for server in servers:
            server.close()
    (winner,) = receivers([r for r in rows if r.state == "LISTEN"], LOOPBACK_V4)
    assert winner.local_address == "127.0.0.1"


def _localhost() -> str:
    found = set()
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.partition("#")[0].split()
        if "localhost" in fields[1:]:
            found.add(fields[0])
    if "::1" in found:
        return "is ::1 first here (/etc/hosts)"
    return f"is {min(found)} first here (/etc/hosts)" if found else "is ::1 first on most systems"


@pytest.mark.parametrize("address", ["127.0.0.1", "::1"])
def test_one_process_on_two_addresses_gets_no_hint(address: str) -> None:
    """A server that binds both loopbacks itself is not surprising."""
    with socket.socket(socket.AF_INET) as v4, socket.socket(socket.AF_INET6) as v6:
        v4.bind(("127.0.0.1", 0))
        v4.listen()
        v6.bind(("::1", v4.getsockname()[1]))
        v6.listen()
        assert hint_lines(run_cli(str(v4.getsockname()[1])).stderr) == []
