"""Real sockets for what the record says beyond ports: a cgroup whose name imitates ss's owner list, a
dual-stack listener and `-4`, connected UDP under `-u`, and a link-local listener with its zone, through
every Linux backend (ss, netstat, lsof, /proc). Each test starts its own process, holding the sockets
until its stdin closes, and asks the real CLI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers.live import only_tools
from tests.helpers.ports import BIND_UDP_SOURCE
from tests.helpers.services import cgroup2_root

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")


@contextmanager
def holding(code: str, *args: str) -> Iterator[list[str]]:
    """A Python child that runs `code` (which prints what the test needs, one line), then holds its
    sockets until its stdin closes; the printed words."""
    program = BIND_UDP_SOURCE + textwrap.dedent(code) + "\nimport sys\nsys.stdout.flush()\nsys.stdin.read()\n"
    child = subprocess.Popen(
        [sys.executable, "-c", program, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line, "the child ended before it held its sockets"
        yield line.split()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def rows(*args: str, path: str | None = None) -> tuple[int, list[dict[str, object]]]:
    result = run_cli(*args, "--json", env={"PATH": path} if path is not None else None)
    assert "Traceback" not in result.stderr
    return result.code, (result.json() if result.stdout.strip() else [])


# --- item 2: each field from its own column (issue 11 item 1) ----------------------------------------


HOSTILE_CGROUP = """
import os, socket, sys
directory = sys.argv[1]
with open(os.path.join(directory, "cgroup.procs"), "w") as procs:
    procs.write(str(os.getpid()))
# a socket belongs to the cgroup its creator was in when it was created
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
print(server.getsockname()[1], os.getpid())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="creating a cgroup needs root")
def test_a_cgroup_named_like_an_owner_list_adds_no_owner(tmp_path: Path) -> None:
    root = cgroup2_root()
    if root is None or shutil.which("ss") is None:
        pytest.skip("SKIPPED LOUDLY: no writable cgroup2 mount or no ss: the cgroup forgery is untested here")
    bystander = subprocess.Popen(["sleep", "60"])
    directory = root / f'pc-test x users:(("nginx",pid={bystander.pid},fd=3))'
    directory.mkdir()
    try:
        with holding(HOSTILE_CGROUP, str(directory)) as (port, pid):
            text = subprocess.run(
                ["ss", "-tlnpe", f"sport = :{port}"], capture_output=True, text=True, check=True
            ).stdout
            assert f"pid={bystander.pid}" in text  # ss itself printed the forged text, after cgroup:
            pasted = run_cli("parse", "--json", stdin=text)
            assert [(r["pid"], r["local_port"]) for r in pasted.json()] == [(int(pid), int(port))]
            code, live = rows(port, "--tcp", "--listening", path=only_tools(tmp_path / "bin", "ss"))
            assert code == 0
            assert {r["pid"] for r in live} == {int(pid)}
    finally:
        bystander.kill()
        bystander.wait()
        directory.rmdir()


# --- item 5: dual-stack listeners and -4 (issue 12 item 3) ------------------------------------------

LISTENERS_V6 = """
import socket
def listener(v6only):
    server = socket.socket(socket.AF_INET6)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    server.bind(("::", 0))
    server.listen()
    return server
both, only6 = listener(0), listener(1)
client = socket.create_connection(("127.0.0.1", both.getsockname()[1]))
accepted = both.accept()
print(both.getsockname()[1], only6.getsockname()[1])
"""


def test_a_dual_stack_listener_answers_minus_4_and_a_v6only_one_does_not() -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss is not installed")
    with holding(LISTENERS_V6) as (both, only6):
        code, found = rows(both, "-4", "--tcp")
        assert code == 0
        assert sorted((r["state"], r["local_address"], r["dual_stack"]) for r in found) == [
            ("ESTABLISHED", "::ffff:127.0.0.1", None),  # the IPv4 client's connection, IPv4-mapped
            ("LISTEN", "::", True),
        ]
        code, found = rows(only6, "-4")  # its IPv4 port number is free: another test may take it
        assert all(r["family"] == "ipv4" for r in found), found  # but never the v6-only listener
        assert code == (0 if found else 1)
        code, found = rows(only6, "--tcp")
        assert [r["dual_stack"] for r in found] == [False]
        table = run_cli(both, "--listening").stdout
        assert f"*:{both}" in table and f"[::]:{both}" not in table


@pytest.mark.parametrize("tool", ["netstat", "lsof", None], ids=["netstat", "lsof", "proc"])
def test_without_ss_dual_stack_is_unknown_and_the_machines_default_is_said(
    tmp_path: Path, tool: str | None
) -> None:
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    if Path("/proc/sys/net/ipv6/bindv6only").read_text().strip() != "0":
        pytest.skip("net.ipv6.bindv6only is not 0 here")
    with holding(LISTENERS_V6) as (both, _):
        result = run_cli(
            both,
            "--listening",
            "--tcp",
            "--json",
            env={"PATH": only_tools(tmp_path / "bin", *([tool] if tool else []))},
        )
        assert result.code == 0
        assert [r["dual_stack"] for r in result.json()] == [None]
        assert "net.ipv6.bindv6only=0" in result.stderr


def test_minus_4_keeps_the_ipv4_clients_connection_when_proc_answers(tmp_path: Path) -> None:
    """The connection a dual-stack listener accepted from an IPv4 client is IPv4 traffic: `-4` keeps it
    when /proc answers, as when ss does (the one row filter decides; the /proc step once had its own)."""
    with holding(LISTENERS_V6) as (both, _):
        result = run_cli(both, "-4", "--tcp", "--json", env={"PATH": only_tools(tmp_path / "bin")})
    assert result.code == 0, result.stderr
    assert [(r["state"], r["local_address"]) for r in result.json()] == [("ESTABLISHED", "::ffff:127.0.0.1")]


# --- item 4: connected UDP under -u (issue 12 item 2) -----------------------------------------------

CONNECTED_UDP = """
import socket
server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bind_udp(server, "127.0.0.1")
client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
bind_udp(client, "127.0.0.1")  # connect() alone would take one from the ephemeral range
client.connect(server.getsockname())
print(server.getsockname()[1], client.getsockname()[1])
"""


def test_connected_udp_is_udp_under_minus_u() -> None:
    if shutil.which("ss") is None:
        pytest.skip("ss is not installed")
    with holding(CONNECTED_UDP) as (server, client):
        code, found = rows(client, "-u")
        assert code == 0
        assert [(r["proto"], r["state"], r["remote_port"]) for r in found] == [
            ("udp", "ESTABLISHED", int(server))
        ]
        text = subprocess.run(["ss", "-unap"], capture_output=True, text=True, check=True).stdout
        assert not text.startswith("Netid")  # one protocol asked: ss prints no Netid column
        pasted = run_cli("parse", "--port", client, "--json", stdin=text)
        assert [(r["proto"], r["state"]) for r in pasted.json()] == [("udp", "ESTABLISHED")]


# --- item 3: link-local IPv6 with a zone (issue 12 item 1) ------------------------------------------


def _link_local() -> tuple[str, str] | None:
    """(address, interface) of an existing link-local IPv6 address."""
    try:
        text = subprocess.run(
            ["ip", "-6", "-o", "addr", "show", "scope", "link"], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in text.splitlines():
        words = line.split()
        if "inet6" in words:
            address = words[words.index("inet6") + 1].split("/")[0]
            if address.startswith("fe80:") and "tentative" not in words:
                return address, words[1].split("@")[0]
    return None


@pytest.fixture(scope="module")
def link_local() -> Iterator[tuple[str, str]]:
    """An interface's link-local address: an existing one, or a dummy interface made for the test."""
    found = _link_local()
    if found is not None:
        yield found
        return
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("SKIPPED LOUDLY: no link-local IPv6 address and no way to make one")
    subprocess.run(["ip", "link", "add", "pcll0", "type", "dummy"], check=True)
    try:
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.pcll0.disable_ipv6=0"], check=False)
        subprocess.run(["ip", "addr", "add", "fe80::5c:1/64", "dev", "pcll0", "nodad"], check=True)
        subprocess.run(["ip", "link", "set", "pcll0", "up"], check=True)
        yield "fe80::5c:1", "pcll0"
    finally:
        subprocess.run(["ip", "link", "del", "pcll0"], check=False)


SCOPED_LISTENER = """
import socket, sys
server = socket.socket(socket.AF_INET6)
server.bind((sys.argv[1], 0, 0, socket.if_nametoindex(sys.argv[2])))
server.listen()
print(server.getsockname()[1])
"""


@pytest.mark.parametrize("tool", ["ss", "netstat", "lsof", None], ids=["ss", "netstat", "lsof", "proc"])
def test_a_link_local_listener_keeps_its_port_and_zone(
    tmp_path: Path, link_local: tuple[str, str], tool: str | None
) -> None:
    if tool is not None and shutil.which(tool) is None:
        pytest.skip(f"{tool} is not installed")
    address, interface = link_local
    with holding(SCOPED_LISTENER, address, interface) as (port,):
        code, found = rows(port, "--tcp", path=only_tools(tmp_path / "bin", *([tool] if tool else [])))
        assert code == 0
        (row,) = found
        assert row["local_port"] == int(port) and row["family"] == "ipv6"
        shown = str(row["local_address"])
        assert shown.partition("%")[0] == str(
            socket.inet_ntop(socket.AF_INET6, socket.inet_pton(socket.AF_INET6, address))
        )
        if tool == "ss":  # the only one of the four that prints the zone
            assert shown == f"{address}%{interface}"
