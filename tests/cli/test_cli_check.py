"""`portcheck check`: the monitoring-plugin contract for real (listeners this test opens, connections
it makes), its output read back by a parser written from the plugin guidelines and its ranges by the
nagiosplugin library's Range."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import Result, run_cli
from tests.helpers.cli import listener, reserved_port
from tests.helpers.sshd import Lab, fleet
from tests.output.test_plugin import parse_perfdata

STATUS_LINE = re.compile(r"^(OK|WARNING|CRITICAL|UNKNOWN): ([^|\n]*?)(?: \| ([^\n]*))?$")
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
SLOW = ("--timeout", "20")
"""ssh on a machine busy with other test runs can take more than the default 5 s."""


def plugin(result: Result) -> tuple[str, str, dict[str, dict[str, str | None]], list[str]]:
    """(status, text, perfdata by label, long-text lines), asserting the guidelines' shape: a
    status word, the exit status that goes with it, nothing on stderr that the core would miss."""
    first, *long_lines = result.stdout.rstrip("\n").split("\n")
    match = STATUS_LINE.match(first)
    assert match is not None, result.stdout
    status, text, perf = match.groups()
    assert result.code == EXIT[status], (result.code, result.stdout, result.stderr)
    items = {item["label"]: item for item in parse_perfdata(perf or "")}  # type: ignore[misc]
    return status, text, items, long_lines  # type: ignore[return-value]


def check(*args: str, env: dict[str, str] | None = None) -> Result:
    return run_cli("check", *args, env=env)


@contextmanager
def server_on_all_interfaces(clients: int = 0) -> Iterator[int]:
    """This test process listening on 0.0.0.0 with `clients` connected (not accepted: the kernel
    completes them, and ss shows them ESTABLISHED on the server's port)."""
    with ExitStack() as stack:
        server = stack.enter_context(socket.socket())
        server.bind(("0.0.0.0", 0))
        server.listen(64)
        port = server.getsockname()[1]
        for _ in range(clients):
            client = stack.enter_context(socket.socket())
            client.connect(("127.0.0.1", port))
        yield port


def test_ok_when_the_named_process_listens() -> None:
    with listener("pc-check-ok") as child:
        result = check(str(child.port), "--process", "check-ok")
    status, text, perf, _ = plugin(result)
    assert status == "OK"
    assert text == f"pc-check-ok (PID {child.pid}) listens on tcp 127.0.0.1:{child.port}"
    assert result.stdout == f"OK: {text} | listeners=1;;;0 connections=0;;;0\n"
    assert perf["listeners"]["min"] == "0"


def test_critical_when_nothing_listens_or_the_wrong_process_does() -> None:
    with reserved_port() as port:
        status, text, perf, _ = plugin(check(str(port)))
    assert (status, text, perf["listeners"]["value"]) == ("CRITICAL", f"nothing listens on port {port}", "0")
    with listener("pc-check-other") as child:
        status, text, _, _ = plugin(check(str(child.port), "--process", "nginx", "--user", "www-data"))
    assert status == "CRITICAL"
    assert text == (
        f"no process named like 'nginx' of user 'www-data' listens on port {child.port} "
        f"(it is held by pc-check-other (PID {child.pid}))"
    )


def test_user_must_match() -> None:
    with listener("pc-check-user") as child:
        assert plugin(check(str(child.port), "--user", "root"))[0] == "OK"
        assert plugin(check(str(child.port), "--user", "nobody"))[0] == "CRITICAL"


def test_exposure_assertions() -> None:
    with listener("pc-check-lo") as child:
        assert plugin(check(str(child.port), "--loopback"))[0] == "OK"
        status, text, _, _ = plugin(check(str(child.port), "--exposed"))
    assert (status, text) == (
        "CRITICAL",
        f"only this machine can connect (loopback): pc-check-lo (PID {child.pid}) listens on tcp "
        f"127.0.0.1:{child.port}",
    )
    with server_on_all_interfaces() as port:
        assert plugin(check(str(port), "--exposed"))[0] == "OK"
        status, text, _, _ = plugin(check(str(port), "--loopback"))
    assert status == "CRITICAL" and text.startswith("reachable from other machines, expected loopback only: ")
    assert f"listens on tcp 0.0.0.0:{port}" in text


@pytest.mark.parametrize(
    ("clients", "args", "status"),
    [
        (2, ["-w", "5", "-c", "10"], "OK"),
        (3, ["-w", "2", "-c", "10"], "WARNING"),
        (3, ["-w", "1", "-c", "2"], "CRITICAL"),
        (3, ["-w", "@3:3"], "WARNING"),
        (0, ["-c", "1:"], "CRITICAL"),  # fewer than one connection is critical
    ],
)
def test_connection_thresholds(clients: int, args: list[str], status: str) -> None:
    nagiosplugin = pytest.importorskip("nagiosplugin")
    with server_on_all_interfaces(clients) as port:
        result = check(str(port), *args)
    got, text, perf, _ = plugin(result)
    assert got == status, result.stdout
    connections = perf["connections"]
    assert connections["value"] == str(clients)
    # The ranges in the perfdata are the ones given, and mean what nagiosplugin says they mean.
    warn, crit = connections["warn"] or "", connections["crit"] or ""
    expected = "OK"
    if warn and not nagiosplugin.Range(warn).match(clients):
        expected = "WARNING"
    if crit and not nagiosplugin.Range(crit).match(clients):
        expected = "CRITICAL"
    assert expected == status
    if status != "OK":
        assert text.startswith(f"{clients} connections (outside ")


def test_expect_free() -> None:
    with reserved_port() as port:
        assert plugin(check(str(port), "--expect", "free"))[:2] == ("OK", f"port {port} is free")
    with listener("pc-check-busy") as child:
        status, text, _, _ = plugin(check(str(child.port), "--expect", "FREE"))
    assert (status, text) == (
        "CRITICAL",
        f"port {child.port} is in use: pc-check-busy (PID {child.pid}) listens on tcp 127.0.0.1:{child.port}",
    )


def test_time_wait_does_not_hold_the_port() -> None:
    with server_on_all_interfaces() as port, socket.create_connection(("127.0.0.1", port)):
        pass  # the client closes first: its side goes to TIME_WAIT
    status, text, _, _ = plugin(check(str(port), "--expect", "free"))
    assert status == "OK" and text.startswith(f"port {port} is free")


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["80", "--exposed", "--loopback"], "--exposed and --loopback contradict each other"),
        (["80;id"], "invalid port '80;id'"),
        (["80,443"], "info takes one port number"),
        (["80", "--expect", "maybe"], "--expect 'maybe': expected listening or free"),
        (["80", "-w", "10:5"], "the start is above the end"),
        (["80", "--expect", "free", "-c", "5"], "go with --expect listening"),
        ([], "Missing argument 'PORT'"),
        (["80", "--bogus"], "No such option: --bogus"),
        (["80", "--timeout", "0"], "--timeout must be a positive number"),
    ],
)
def test_bad_usage_is_unknown_on_stdout(args: list[str], reason: str) -> None:
    """The guidelines: invalid arguments are UNKNOWN (3), and the core reads the reason on stdout."""
    result = check(*args)
    status, text, perf, _ = plugin(result)
    assert status == "UNKNOWN" and reason in text, result.stdout
    assert perf == {} and result.stderr == ""


def test_a_machine_that_cannot_be_inspected_is_unknown(tmp_path: Path) -> None:
    """macOS's plan with neither lsof nor netstat on PATH."""
    result = check("80", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    status, text, _, _ = plugin(result)
    assert status == "UNKNOWN" and text.startswith("cannot inspect this machine's sockets")


def test_hostile_process_names_stay_on_one_line() -> None:
    with listener("ev|l\x1b[2J\nx") as child:
        result = check(str(child.port))
    status, text, perf, lines = plugin(result)
    assert status == "OK" and lines == [] and "ev\\x7cl\\x1b[2J" in text
    assert list(perf) == ["listeners", "connections"]


def test_many_hosts_worst_state_first_then_one_line_each(lab: Lab) -> None:
    with listener("pc-check-fleet") as child:
        result = fleet(
            lab, "check", str(child.port), "--host", "srv0", "--host", "refused", "--host", "srv1", *SLOW
        )
        one = fleet(lab, "check", str(child.port), "--host", "srv0", "--process", "nginx", *SLOW)
    status, text, perf, lines = plugin(result)
    assert status == "UNKNOWN"  # two OK, one could not be asked
    assert text == f"port {child.port} on 3 hosts: 1 UNKNOWN (refused), 2 OK"
    assert perf["'srv0 listeners'"]["value"] == "1" and perf["'srv1 connections'"]["min"] == "0"
    assert [line.split(":")[0:2] for line in lines] == [
        ["srv0", " OK"],
        ["refused", " UNKNOWN"],
        ["srv1", " OK"],
    ]
    assert lines[0] == f"srv0: OK: pc-check-fleet (PID {child.pid}) listens on tcp 127.0.0.1:{child.port}"
    held = f"(it is held by pc-check-fleet (PID {child.pid}))"
    assert plugin(one)[:2] == (
        "CRITICAL",
        f"srv0: no process named like 'nginx' listens on port {child.port} {held}",
    )
