"""One rule for "in use", and the bind test when no tool lists a port (portcheck.live.verdict,
portcheck.live.bindtest).

Linux for real: a TIME_WAIT-only port is free for `portcheck PORT`, `wait --free`, `kill` and `info`
alike (with what a server could do now); a socket bound but not listening, which no tool lists,
makes the port in use (exit 0) with the reason on stderr; a free port binds; a privileged port as the
user nobody cannot be tested. Windows through the bind test's seam: a simulated WSAEACCES (10013) and
WSAEADDRINUSE (10048), with the excluded ranges read by the real runner from a fake netsh.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from portcheck.core.filters import RowFilter
from portcheck.core.model import Family, Proto
from portcheck.live.bindtest import Kind, bind_test, summary_lines
from portcheck.live.executor import LocalExecutor
from portcheck.platforms import platform_for
from portcheck.platforms.base import OS
from tests.cli.test_cli_info import fake_netsh
from tests.conftest import run_cli
from tests.helpers.cli import reserved_port
from tests.helpers.live import recorded_argv, run_as_nobody
from tests.helpers.ports import free_port

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")


@contextmanager
def time_wait_only(*, reuse: bool) -> Iterator[int]:
    """A port whose server accepted a connection, closed it first (so the server side waits in
    TIME_WAIT) and stopped listening: only TIME_WAIT rows are left. `reuse`: the server had set
    SO_REUSEADDR, as most do."""
    server = socket.socket()
    if reuse:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = server.accept()
    accepted.close()  # the server closes first: its side goes to TIME_WAIT
    client.recv(1)  # the FIN arrived
    client.close()
    server.close()
    yield port


@LINUX
def test_time_wait_rows_alone_are_free_for_every_command() -> None:
    with time_wait_only(reuse=True) as port:
        query = run_cli(str(port))
        asked = run_cli(str(port), "--state", "TIME_WAIT", "--json")
        waited = run_cli("wait", str(port), "--free", "--timeout", "5")
        killed = run_cli("kill", str(port), "--yes")
        info = run_cli("info", str(port))
    assert query.code == 1, query.stderr
    assert "TIME_WAIT" in query.stdout  # still shown, with the hint
    assert "TIME_WAIT rows are closed connections" in query.stderr
    assert (
        f"port {port} has only TIME_WAIT rows (free: no process holds it); a server that sets SO_REUSEADDR "
        "(most do) can bind it now, one without it only once they expire"
    ) in query.stderr
    assert asked.code == 0 and asked.json()  # --state names what counts: grep's answer
    assert waited.code == 0, waited.stderr
    assert (killed.code, killed.stdout) == (
        0,
        f"Nothing to end: no process holds port {port}.\nPort {port} is free.\n",
    )
    assert "only TIME_WAIT rows (closed connections: no process holds" in " ".join(info.stdout.split())


@LINUX
def test_time_wait_of_a_server_without_so_reuseaddr_blocks_every_bind() -> None:
    """Linux copies SO_REUSEADDR into the TIME_WAIT socket: when the old server did not set it, a new
    one cannot bind even with it. Still free by the rule (no process), and said."""
    with time_wait_only(reuse=False) as port:
        query = run_cli(str(port))
    assert query.code == 1
    assert "but no server can bind it until they expire, not even with SO_REUSEADDR" in query.stderr


@LINUX
def test_a_socket_no_tool_lists_is_found_by_binding() -> None:
    with reserved_port() as port:  # bound, never listening: in no socket table
        found = run_cli(str(port), "--json")
        off = run_cli(str(port), "--no-bind")
        narrowed = run_cli(str(port), "--listening")
        pasted = run_cli("parse", "-", "--port", str(port), stdin="")
    assert (found.code, found.json()) == (0, [])
    assert (
        f"port {port}: no tool lists a socket on it, but binding 0.0.0.0:{port} (tcp) fails with EADDRINUSE: "
        "something the tools did not show holds it; most likely a socket bound but not listening"
    ) in found.stderr
    assert (off.code, off.stderr) == (1, "")
    assert narrowed.code == 1 and "binding" not in narrowed.stderr  # --listening asks about some sockets
    assert pasted.code == 1 and "binding" not in pasted.stderr  # never for parse


@LINUX
def test_a_free_port_binds_and_says_so_with_verbose() -> None:
    port = free_port()
    quiet = run_cli(str(port))
    verbose = run_cli(str(port), "-v", "--tcp", "-4")
    assert (quiet.code, quiet.stdout, quiet.stderr) == (1, "", "")  # not a terminal: nothing said
    assert verbose.code == 1
    assert (
        verbose.stderr.splitlines()[-1]
        == f"portcheck: nothing on port {port} matches: tcp, IPv4; binding 0.0.0.0:{port} (tcp) succeeded"
    )


def _free_privileged_port() -> int | None:
    for port in range(1023, 900, -1):
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError:
                continue
            return port
    return None


@LINUX
def test_a_privileged_port_as_nobody_cannot_be_tested() -> None:
    start = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")
    port = _free_privileged_port()
    if port is None or not start.exists() or int(start.read_text()) <= port:
        pytest.skip("needs privileged ports")
    done = run_as_nobody("-m", "portcheck", str(port))
    assert done.returncode == 1, done.stderr
    assert f"cannot test port {port}: binding it needs root (EACCES; a privileged port)" in done.stderr


# --- Windows: what 10013 and 10048 mean there, through the binder seam ---------------------------------


def _windows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int | None) -> list[tuple[Kind, str]]:
    fake_netsh(tmp_path)  # excluded tcp ranges 1027-1126, 4990-5089, 50000-50059 (administered)
    monkeypatch.setenv("PATH", str(tmp_path))

    def binder(proto: Proto, family: Family, port: int, reuse: bool) -> int | None:
        return error if proto is Proto.TCP and family is Family.IPV4 else None

    findings = bind_test(
        [5000, 50010, 8080],
        [],
        RowFilter(),
        platform_for(OS.WINDOWS),
        LocalExecutor(privileged=False),
        5.0,
        binder=binder,
    )
    return [(f.kind, f.message) for f in findings]


@pytest.mark.skipif(sys.platform == "win32", reason="the fake netsh is a POSIX script")
def test_windows_wsaeacces_in_an_excluded_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found = _windows(tmp_path, monkeypatch, 10013)
    assert found == [
        (
            Kind.UNUSABLE,
            "port 5000 is in an excluded port range, 4990-5089 (WSAEACCES 10013): Hyper-V, WSL or Docker "
            "reserved it and nothing may bind it; see `netsh int ipv4 show excludedportrange protocol=tcp`",
        ),
        (
            Kind.UNUSABLE,
            "port 50010 is in an excluded port range, 50000-50059 (WSAEACCES 10013): an administrator "
            "excluded it and nothing may bind it; see `netsh int ipv4 show excludedportrange protocol=tcp`",
        ),
        (
            Kind.UNUSABLE,
            "binding port 8080 is forbidden (WSAEACCES 10013): another program bound it exclusively "
            "(SO_EXCLUSIVEADDRUSE), or it is reserved",
        ),
    ]
    # the ranges were asked once, for TCP only
    assert recorded_argv(tmp_path) == [["netsh", "int", "ipv4", "show", "excludedportrange", "protocol=tcp"]]


@pytest.mark.skipif(sys.platform == "win32", reason="the fake netsh is a POSIX script")
def test_windows_wsaeaddrinuse_and_a_free_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    taken = _windows(tmp_path, monkeypatch, 10048)
    assert [kind for kind, _ in taken] == [Kind.HIDDEN] * 3
    assert (
        "fails with WSAEADDRINUSE 10048: something the tools did not show holds it; an HTTP.sys"
        in taken[0][1]
    )
    assert recorded_argv(tmp_path) == []  # no denial: netsh never asked
    free = _windows(tmp_path / "free", monkeypatch, None)
    assert [kind for kind, _ in free] == [Kind.FREE] * 3


def test_summary_lines_stay_bounded() -> None:
    from portcheck.live.bindtest import Finding

    many = [Finding(p, Kind.HIDDEN, f"port {p}: held") for p in range(20)]
    many += [Finding(p, Kind.FREE, f"port {p} is free") for p in range(100, 130)]
    lines, free = summary_lines(many)
    assert lines[-1] == "and 10 more ports the tools did not list" and len(lines) == 11
    assert free == "binding each of the 30 ports succeeded"
