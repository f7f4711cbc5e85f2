"""`portcheck PORT` on this Linux machine, for real: a child process holds TCP and UDP sockets on
IPv4 and IPv6 loopback under a known name, and every backend in the plan (ss, netstat, lsof, /proc)
must report the same pid, process, user, state and addresses. Each backend is forced by a PATH that
shows only its tool; an empty PATH leaves /proc."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from portcheck import parsers
from portcheck.live.hints import FILTERED_OUT_HINT, SUDO_HINT
from tests.conftest import Result, run_cli
from tests.helpers.live import Holder, only_tools, own_name, socket_holder, unprivileged_python

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")

BACKENDS = [
    pytest.param("ss", "ss", id="ss"),
    pytest.param("netstat", "netstat-linux", id="netstat"),
    pytest.param("lsof", "lsof", id="lsof"),
    pytest.param(None, "proc", id="proc"),
]


@pytest.fixture(scope="module")
def holder() -> object:
    with socket_holder(own_name("pc-live")) as held:
        yield held


def _without_source(rows: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k != "source"}, sort_keys=True) for r in rows)


def _query(tmp_path: Path, tool: str | None, *args: str) -> Result:
    path = only_tools(tmp_path / "bin", *([tool] if tool else []))
    return run_cli(*args, env={"PATH": path})


def _needs(tool: str | None, source: str) -> None:
    assert source in parsers.FORMATS  # a lost registration fails (tests/test_architecture.py too)
    if tool is not None and not (Path("/usr/bin") / tool).exists() and not (Path("/bin") / tool).exists():
        pytest.skip(f"{tool} is not installed")


@pytest.mark.parametrize(("tool", "source"), BACKENDS)
def test_each_backend_finds_the_holders_sockets(
    tmp_path: Path, holder: Holder, tool: str | None, source: str
) -> None:
    _needs(tool, source)
    result = _query(tmp_path, tool, *holder.port_args, "--json", "--verbose")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    rows = holder.strangers_left_out(rows)
    assert {r["source"] for r in rows} == {source}, result.stderr
    assert _without_source(rows) == _without_source(holder.expected()), result.stderr
    assert f"answered by {tool or '/proc'}" in result.stderr


@pytest.mark.parametrize(("tool", "source"), BACKENDS)
def test_remote_adds_the_client_side(tmp_path: Path, holder: Holder, tool: str | None, source: str) -> None:
    _needs(tool, source)
    result = _query(tmp_path, tool, str(holder.ports["tcp4"]), "--remote", "--json")
    assert result.code == 0, result.stderr
    expected = [
        r for r in holder.expected(remote=True) if holder.ports["tcp4"] in (r["local_port"], r["remote_port"])
    ]
    rows = holder.strangers_left_out(result.json())  # type: ignore[arg-type]
    assert _without_source(rows) == _without_source(expected)


@pytest.mark.parametrize(("tool", "source"), BACKENDS)
def test_listing_without_port_shows_listeners_not_connections(
    tmp_path: Path, holder: Holder, tool: str | None, source: str
) -> None:
    _needs(tool, source)
    result = _query(tmp_path, tool, "--json")
    assert result.code == 0, result.stderr
    mine = [r for r in result.json() if r["pid"] == holder.pid]  # type: ignore[union-attr, index]
    listeners = [r for r in holder.expected() if r["state"] != "ESTABLISHED"]
    assert _without_source(mine) == _without_source(listeners)


def test_free_port_exits_1_with_nothing_on_stdout(tmp_path: Path, holder: Holder) -> None:
    import socket

    with socket.socket() as probe:  # a port that was free a moment ago and is closed again
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    result = run_cli(str(free))
    assert result.code == 1, result.stderr
    assert result.stdout == ""


def test_table_names_the_process(holder: Holder) -> None:
    result = run_cli(str(holder.ports["tcp4"]))
    assert result.code == 0, result.stderr
    header, _, *lines = result.stdout.splitlines()
    assert header.split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER"]
    assert all(str(holder.pid) in line and holder.name in line for line in lines)


def test_no_tool_at_all_still_answers_from_proc(tmp_path: Path, holder: Holder) -> None:
    result = _query(tmp_path, None, str(holder.ports["udp6"]), "--verbose")
    assert result.code == 0
    assert "reading /proc/net" in result.stderr
    assert holder.name in result.stdout


def test_usage_errors_exit_2() -> None:
    for args in (["70000"], ["80-70"], ["htp"], ["80", "--timeout", "0"], ["80", "--state", "SLEEPY"]):
        result = run_cli(*args)
        assert result.code == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


# --- without root: the hint -------------------------------------------------------------------------


def _as_nobody(args: list[str], *tools: str) -> subprocess.CompletedProcess[str]:
    """portcheck run as the user nobody, with a PATH (readable by nobody) holding only `tools`."""
    runner = unprivileged_python()
    if runner is None:
        pytest.skip("cannot run portcheck as the user nobody here (not root, or files unreadable)")
    prefix, env = runner
    with tempfile.TemporaryDirectory(prefix="portcheck-bin-") as directory:
        os.chmod(directory, 0o755)  # pytest's tmp_path sits under a directory only root may enter
        path = only_tools(Path(directory), *tools)
        return subprocess.run(
            [*prefix, "-m", "portcheck", *args],
            env={**os.environ, **env, "PATH": path},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.mark.parametrize(("tool", "source"), [BACKENDS[0], BACKENDS[1], BACKENDS[3]])
def test_without_root_other_users_sockets_show_no_pid_and_a_hint(
    tmp_path: Path, holder: Holder, tool: str | None, source: str
) -> None:
    _needs(tool, source)
    if os.geteuid() != 0:
        pytest.skip("the holder must belong to another user (root)")
    result = _as_nobody([str(holder.ports["tcp4"]), "--json", "--verbose"], *([tool] if tool else []))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows and all(r["pid"] is None and r["user"] == "root" for r in rows)
    assert {r["source"] for r in rows} == {source}, result.stderr
    assert result.stderr.count(SUDO_HINT) == 1, result.stderr


@pytest.mark.parametrize("selection", [["--pid", "PID"], ["--process", "NAME"]])
def test_without_root_an_owner_filter_says_what_it_cannot_see(holder: Holder, selection: list[str]) -> None:
    """As nobody, root's sockets show no PID, so `--pid N` / `--process NAME` cannot match them: the
    empty answer says so instead of looking like "that process holds nothing"."""
    _needs("ss", "ss")
    if os.geteuid() != 0:
        pytest.skip("the holder must belong to another user (root)")
    value = {"PID": str(holder.pid), "NAME": holder.name}[selection[1]]
    result = _as_nobody([str(holder.ports["tcp4"]), selection[0], value], "ss")
    assert (result.returncode, result.stdout) == (1, ""), result.stderr
    assert result.stderr.count(FILTERED_OUT_HINT) == 1, result.stderr
    assert SUDO_HINT in FILTERED_OUT_HINT  # it says how to see them
    as_root = run_cli(str(holder.ports["tcp4"]), selection[0], value)
    assert as_root.code == 0 and FILTERED_OUT_HINT not in as_root.stderr


def test_lsof_without_root_finds_nothing_so_proc_is_asked(tmp_path: Path, holder: Holder) -> None:
    """lsof shows a non-root user only their own processes' sockets: its empty answer is not trusted."""
    _needs("lsof", "lsof")
    if os.geteuid() != 0:
        pytest.skip("the holder must belong to another user (root)")
    result = _as_nobody([str(holder.ports["tcp4"]), "--json", "--verbose"], "lsof")
    assert result.returncode == 0, result.stderr
    assert {r["source"] for r in json.loads(result.stdout)} == {"proc"}
    assert "lsof: found nothing among your own processes; asking the next tool" in result.stderr
    assert result.stderr.count(SUDO_HINT) == 1
