"""`portcheck wait PORT --listening|--free` through the real CLI, with real child processes that start
listening, or stop, after a delay; and the timeout."""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import pytest

from portcheck.core.model import FIELDS
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import run_cli
from tests.helpers.cli import listener, reserved_port
from tests.helpers.ports import bind_udp

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")


def test_listening_waits_for_a_server_that_starts_late() -> None:
    with listener("pc-late", delay=0.8) as child:
        result = run_cli("wait", str(child.port), "--listening", "--timeout", "20", "--interval", "0.1")
        assert result.code == 0, result.stderr
    assert result.stdout == "" and result.stderr == ""  # quiet: for scripts


def test_listening_with_json_prints_the_listeners() -> None:
    with listener("pc-json", delay=0.3) as child:
        result = run_cli("wait", str(child.port), "-l", "--json", "--tcp", "-4")
    assert result.code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [list(FIELDS)]
    assert (rows[0]["local_port"], rows[0]["state"], rows[0]["pid"], rows[0]["process"]) == (
        child.port,
        "LISTEN",
        child.pid,
        "pc-json",
    )


def test_free_waits_until_the_server_lets_go() -> None:
    with listener("pc-leaving", hold=0.8) as child:
        assert run_cli(str(child.port)).code == 0  # listening now
        result = run_cli("wait", str(child.port), "--free", "--interval", "0.1", "--json")
        assert result.code == 0, result.stderr
        assert child.alive()  # the process lives on; only its listener closed
    assert json.loads(result.stdout) == []


def test_timeout_exits_1_with_one_line_on_stderr() -> None:
    with reserved_port() as port:
        result = run_cli("wait", str(port), "--listening", "--timeout", "0.3", "--interval", "0.1")
    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr == f"portcheck: timed out after 0.3 s: nothing listens on port {port}\n"


def test_free_timeout_names_the_holder_and_quiet_silences_it() -> None:
    with listener("pc-staying") as child:
        result = run_cli("wait", str(child.port), "--free", "--timeout", "0.2")
        quiet = run_cli("wait", str(child.port), "--free", "--timeout", "0.2", "-q")
    assert result.code == 1
    assert f"port {child.port} is still in use: PID {child.pid} (pc-staying)" in result.stderr
    assert (quiet.code, quiet.stdout, quiet.stderr) == (1, "", "")


def test_every_port_must_be_listening() -> None:
    with listener("pc-one") as one, reserved_port() as other:
        result = run_cli("wait", f"{one.port},{other}", "--listening", "--timeout", "0.3")
        assert result.code == 1
        assert f"nothing listens on port {other}\n" in result.stderr
        assert run_cli("wait", str(one.port), "--udp", "-l", "--timeout", "0.2").code == 1  # TCP only
        assert run_cli("wait", str(one.port), "-6", "-l", "--timeout", "0.2").code == 1  # IPv4 only


def test_verbose_says_which_tool_answered() -> None:
    with listener("pc-verbose") as child:
        result = run_cli("wait", str(child.port), "-l", "--verbose")
    assert result.code == 0
    assert "answered by" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["8080"],
        ["8080", "--listening", "--free"],
        ["8080", "-l", "--interval", "0"],
        ["8080", "-l", "--timeout", "-1"],
        ["80;id", "-l"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run_cli("wait", *args)
    assert result.code == 2
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr


def test_cannot_inspect_exits_3(tmp_path: Path) -> None:
    result = run_cli("wait", "8080", "-l", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert result.code == 3


def test_a_listening_timeout_says_what_the_filters_left_out() -> None:
    """`wait PORT -l --tcp` while only a UDP socket is bound there: the timeout names it."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        bind_udp(udp, "127.0.0.1")
        port = udp.getsockname()[1]
        result = run_cli("wait", str(port), "-l", "--tcp", "-4", "--timeout", "0.3", "--interval", "0.1")
    assert result.code == 1
    assert result.stderr.startswith(f"portcheck: timed out after 0.3 s: nothing listens on port {port}; ")
    assert f"left out by --tcp: udp 127.0.0.1:{port} NONE (" in result.stderr
    assert f"PID {os.getpid()})" in result.stderr
