"""The macOS, Windows and FreeBSD plans end to end: the real CLI and the real runner, with small fake
`lsof`, `netstat`, `tasklist` and `sockstat` on PATH that print recorded output and record their argv.
The plan is chosen by PORTCHECK_PLATFORM (a test hook read only by platforms.py). Then the faults: a
tool that hangs, exits 1, prints garbage or is missing, and the next tool answers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from portcheck.live.hints import (
    NO_OWNERS_HINT,
    OWN_SOCKETS_HINT,
    SUDO_HINT,
    TIME_WAIT_HINT,
    WINDOWS_ELEVATION_HINT,
    WINDOWS_KERNEL_HINT,
)
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, Result, run_cli
from tests.helpers.live import fake_tool, recorded_argv, records

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX scripts")

LIVE = FIXTURES / "live"
LSOF_ARGV = ["lsof", "+c", "0", "-nP", "-w"]


def run_on(platform: str, bin_dir: Path, *args: str) -> Result:
    bin_dir.mkdir(parents=True, exist_ok=True)
    return run_cli(*args, env={"PATH": str(bin_dir), PLATFORM_VARIABLE: platform})


def same_rows(result: Result, source: str, *expected_rows: tuple[object, ...]) -> None:
    expected = records(source, *expected_rows)
    assert result.code == 0, result.stderr
    got = result.json()
    assert isinstance(got, list)
    assert sorted(json.dumps(r, sort_keys=True) for r in got) == sorted(
        json.dumps(r, sort_keys=True) for r in expected
    ), result.stderr


def netstat_answers(directory: Path) -> None:
    fake_tool(directory, "netstat", output=LIVE / "macos-netstat-anvW.txt")


# --- macOS: lsof, then netstat -anvW -----------------------------------------------------------------


def test_macos_lsof_answers_with_one_filtered_call(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=LIVE / "macos-lsof-i.txt")
    fake_tool(tmp_path, "netstat", output="must not run\n")
    result = run_on("macos", tmp_path, "5432", "8080", "--json", "--verbose")
    same_rows(
        result,
        "lsof",
        ("tcp", "ipv6", "::", 5432, None, None, "LISTEN", 1873, "com.docker.backend", "alice"),
        ("tcp", "ipv4", "127.0.0.1", 8080, None, None, "LISTEN", 52311, "Python", "alice"),
        ("tcp", "ipv6", "::1", 8080, None, None, "LISTEN", 52311, "Python", "alice"),
        ("tcp", "ipv4", "127.0.0.1", 8080, "127.0.0.1", 61544, "ESTABLISHED", 52311, "Python", "alice"),
        ("udp", "ipv4", "0.0.0.0", 8080, None, None, "NONE", 52311, "Python", "alice"),
    )
    assert recorded_argv(tmp_path) == [[*LSOF_ARGV, "-i:5432,8080"]]
    assert (
        "com.docker.backend only forwards this port: the real server runs in a Docker Desktop"
        in result.stderr
    )
    assert OWN_SOCKETS_HINT in result.stderr
    assert "answered by lsof: lsof +c 0 -nP -w -i:5432,8080" in result.stderr


def test_macos_listing_asks_tcp_listeners_and_udp_separately(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=LIVE / "macos-lsof-i.txt")
    result = run_on("macos", tmp_path, "--json")
    assert result.code == 0, result.stderr
    assert recorded_argv(tmp_path) == [[*LSOF_ARGV, "-iTCP", "-sTCP:LISTEN"], [*LSOF_ARGV, "-iUDP"]]
    assert {r["state"] for r in result.json()} == {"LISTEN", "NONE"}  # type: ignore[union-attr, index]


def test_macos_empty_lsof_without_root_asks_netstat(tmp_path: Path) -> None:
    """lsof without root sees only the caller's sockets, so its "nothing" is checked with netstat."""
    fake_tool(tmp_path, "lsof", status=1)
    netstat_answers(tmp_path)
    result = run_on("macos", tmp_path, "8080", "--json")
    same_rows(
        result,
        "netstat-bsd",
        ("tcp", "ipv4", "127.0.0.1", 8080, None, None, "LISTEN", 52311, None, None),
        ("tcp", "ipv4", "127.0.0.1", 8080, "127.0.0.1", 61544, "ESTABLISHED", 52311, None, None),
        ("udp", "ipv4", "0.0.0.0", 8080, None, None, "NONE", 52311, None, None),
    )
    assert recorded_argv(tmp_path) == [[*LSOF_ARGV, "-i:8080"], ["netstat", "-anvW"]]


def test_macos_free_port_exits_1(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", status=1)
    netstat_answers(tmp_path)
    result = run_on("macos", tmp_path, "60653")
    assert (result.code, result.stdout) == (1, ""), result.stderr


# --- Windows: netstat -ano and ONE tasklist -----------------------------------------------------------


def windows_tools(directory: Path) -> None:
    fake_tool(directory, "netstat", output=LIVE / "windows-netstat-ano.txt")
    fake_tool(directory, "tasklist", output=LIVE / "windows-tasklist-svc-csv-nh.txt")
    fake_tool(directory, "findstr", output="findstr must never run\n")


def test_windows_port_80_is_not_8042_and_pid_4_is_the_kernel(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    result = run_on("windows", tmp_path, "80", "--json")
    same_rows(
        result,
        "netstat-windows",
        ("tcp", "ipv4", "0.0.0.0", 80, None, None, "LISTEN", 4, "System", None),
        ("tcp", "ipv6", "::", 80, None, None, "LISTEN", 4, "System", None),
    )
    assert recorded_argv(tmp_path)[:2] == [["netstat", "-ano"], ["tasklist", "/svc", "/fo", "csv", "/nh"]]
    assert WINDOWS_KERNEL_HINT in result.stderr
    assert SUDO_HINT not in result.stderr


def test_windows_names_every_pid_with_one_tasklist_call(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    result = run_on("windows", tmp_path, "80,3000,8042", "--remote", "--json")
    assert result.code == 0, result.stderr
    names = {(r["pid"], r["process"]) for r in result.json()}  # type: ignore[union-attr, index]
    assert names == {
        (4, "System"),
        (0, "System Idle Process"),
        (9900, "wslrelay.exe"),
        (7212, "node.exe"),
        (8120, "NVIDIA Web Helper.exe"),
    }
    assert [argv[0] for argv in recorded_argv(tmp_path)] == ["netstat", "tasklist"]
    assert TIME_WAIT_HINT in result.stderr
    assert "wslrelay.exe only forwards this port: the real server runs in WSL" in result.stderr


def test_windows_table(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    result = run_on("windows", tmp_path, "8042")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS"]
    assert "node.exe" in result.stdout


def test_windows_single_protocol_and_family_is_asked_with_p(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    run_on("windows", tmp_path, "80", "--tcp", "-6")
    assert recorded_argv(tmp_path)[0] == ["netstat", "-ano", "-p", "TCPv6"]


def test_windows_sudo_says_an_elevated_prompt_is_needed(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    fake_tool(tmp_path, "sudo", output="sudo must not run\n")
    result = run_on("windows", tmp_path, "80", "--sudo")
    assert result.code == 0, result.stderr
    assert WINDOWS_ELEVATION_HINT in result.stderr
    assert "sudo" not in [argv[0] for argv in recorded_argv(tmp_path)]


# --- FreeBSD: sockstat -l and -c, then netstat -an -------------------------------------------------


def test_freebsd_sockstat_listening_and_connected(tmp_path: Path) -> None:
    fake_tool(
        tmp_path,
        "sockstat",
        when={"-46ls": LIVE / "freebsd-sockstat-46ls.txt", "-46cs": LIVE / "freebsd-sockstat-46cs.txt"},
    )
    result = run_on("freebsd", tmp_path, "22", "--json")
    same_rows(
        result,
        "sockstat",
        ("tcp", "ipv6", "::", 22, None, None, "LISTEN", 745, "sshd", "root", False),  # tcp6: v6-only
        ("tcp", "ipv4", "0.0.0.0", 22, None, None, "LISTEN", 745, "sshd", "root"),
        ("tcp", "ipv4", "192.168.71.163", 22, "192.168.71.1", 56321, "ESTABLISHED", 2207, "sshd", "root"),
    )
    select = ["-P", "tcp,udp", "-p", "22"]
    assert recorded_argv(tmp_path) == [["sockstat", "-46ls", *select], ["sockstat", "-46cs", *select]]


def test_freebsd_without_sockstat_uses_netstat(tmp_path: Path) -> None:
    fake_tool(tmp_path, "netstat", output=LIVE / "freebsd-netstat-anW.txt")
    result = run_on("freebsd", tmp_path, "22", "--json", "--verbose")
    same_rows(
        result,
        "netstat-bsd",
        ("tcp", "ipv4", "192.168.71.163", 22, "192.168.71.1", 56321, "ESTABLISHED", None, None, None),
        ("tcp", "ipv6", "::", 22, None, None, "LISTEN", None, None, None, False),  # tcp6: v6-only
        ("tcp", "ipv4", "0.0.0.0", 22, None, None, "LISTEN", None, None, None),
    )
    assert "sockstat: not installed" in result.stderr
    assert NO_OWNERS_HINT in result.stderr and SUDO_HINT not in result.stderr


# --- faults: the next tool answers, each failure in one line ------------------------------------------


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"hang": True}, "lsof: timed out (no answer within 1 s; killed)"),
        (
            {"status": 1, "stderr": "lsof: unknown option -w\n"},
            "lsof: failed (exit status 1: lsof: unknown option -w)",
        ),
        ({"status": 139}, "lsof: failed (exit status 139)"),
        (
            {"output": "\x00\x01garbage\nmore garbage here\n"},
            "lsof: printed output portcheck cannot read (binary data, not text: a NUL byte at offset 0)",
        ),
        (
            {"output": "garbage\nmore garbage here\n"},
            "lsof: printed output portcheck cannot read (line 1: 'garbage')",
        ),
    ],
    ids=["hangs", "exits-1-with-an-error", "crashes", "binary", "garbage"],
)
def test_a_failing_tool_is_reported_and_the_next_answers(
    tmp_path: Path, fault: dict[str, object], message: str
) -> None:
    fake_tool(tmp_path, "lsof", **fault)  # type: ignore[arg-type]
    netstat_answers(tmp_path)
    result = run_on("macos", tmp_path, "8080", "--timeout", "1", "--json")
    assert result.code == 0, result.stderr
    assert {r["source"] for r in result.json()} == {"netstat-bsd"}  # type: ignore[union-attr, index]
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_tool_is_only_mentioned_with_verbose(tmp_path: Path) -> None:
    netstat_answers(tmp_path)
    quiet = run_on("macos", tmp_path, "8080")
    assert quiet.code == 0 and quiet.stderr == ""
    verbose = run_on("macos", tmp_path, "8080", "--verbose")
    assert "lsof: not installed" in verbose.stderr


def test_nothing_works_exit_3_naming_every_tool(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", hang=True)
    fake_tool(
        tmp_path,
        "netstat",
        status=1,
        stderr="netstat: sysctl: net.inet.tcp.pcblist: Operation not permitted\n",
    )
    result = run_on("macos", tmp_path, "8080", "--timeout", "0.5")
    assert result.code == 3
    assert result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("portcheck: cannot inspect this machine's sockets: lsof: timed out")
    assert (
        "netstat: failed (exit status 1: netstat: sysctl: net.inet.tcp.pcblist: Operation not permitted)"
        in last
    )


def test_unknown_platform_variable_exits_3(tmp_path: Path) -> None:
    result = run_on("plan9", tmp_path, "80")
    assert result.code == 3
    assert "PORTCHECK_PLATFORM='plan9' is not one of: linux, macos, windows, freebsd" in result.stderr
