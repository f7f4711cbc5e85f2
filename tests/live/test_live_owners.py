"""Who holds the port on macOS, Windows and FreeBSD (issue 16): the real CLI and runner with fake tools on
PATH printing replies written from the tools' documentation (tests/fixtures/live/README.md) and
recording their argv. Each OS must fill cmdline, started, service and container with ONE extra command
for the processes (plus a container runtime's `ps` only when a row needs it), and say the causes it
can see (AirPlay Receiver, HTTP.sys, a socket inherited from a dead parent)."""

from __future__ import annotations

import base64
import json
import sys
from pathlib import Path

import pytest

from portcheck.platforms import PLATFORM_VARIABLE
from portcheck.platforms.freebsd import OWNERS_SCRIPT as FREEBSD_SCRIPT
from portcheck.platforms.macos import OWNERS_SCRIPT as MACOS_SCRIPT
from tests.conftest import FIXTURES, Result, run_cli
from tests.helpers.live import fake_tool, recorded_argv

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX scripts")

LIVE = FIXTURES / "live"
PROBES = LIVE / "owners"
"""Replies of the owner probes (ps, docker ps, PowerShell, wmic, netsh): tool output, not a paste format."""
TEMPLATE = "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.Ports}}"


def run_on(platform: str, bin_dir: Path, *args: str) -> Result:
    bin_dir.mkdir(parents=True, exist_ok=True)
    return run_cli(*args, env={"PATH": str(bin_dir), PLATFORM_VARIABLE: platform})


def by_pid(result: Result) -> dict[int, dict[str, object]]:
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    return {int(r["pid"]): r for r in rows if r["pid"] is not None}


def env_logging(directory: Path, name: str, output: Path) -> None:
    """A fake tool that also writes the LC_ALL and TZ it was given (`NAME-env.json`): ps's lstart words
    and zone depend on them."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / f"{name}-env.json"
    script = directory / name
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(directory / 'argv.log')!r}, 'a').write(json.dumps([{name!r}, *sys.argv[1:]]) + '\\n')\n"
        f"json.dump({{k: os.environ.get(k) for k in ('LC_ALL', 'TZ')}}, open({str(log)!r}, 'w'))\n"
        f"sys.stdout.write(open({str(output)!r}).read())\n"
    )
    script.chmod(0o755)


# --- macOS: one sh script (/bin/ps and /bin/launchctl list), docker ps for Docker Desktop's rows ------


def macos_tools(directory: Path, lsof: str = "macos-lsof-i.txt") -> None:
    """The owner probe is a fixed `sh -c` script calling /bin/ps and /bin/launchctl by their paths: a
    fake `sh` on PATH stands for all of it, printing what the script prints."""
    fake_tool(directory, "lsof", output=LIVE / lsof)
    env_logging(directory, "sh", PROBES / "macos-owners-script.txt")
    fake_tool(directory, "docker", output=PROBES / "docker-ps-template.txt")


def test_macos_fills_every_owner_field(tmp_path: Path) -> None:
    macos_tools(tmp_path)
    owners = by_pid(run_on("macos", tmp_path, "5432,8080", "--json"))
    python = owners[52311]
    assert python["cmdline"] == (
        "/Library/Frameworks/Python.framework/Versions/3.12/Resources/Python.app/Contents/MacOS/Python "
        "-m http.server 8080"
    )
    assert python["started"] == "2026-12-04T16:46:39Z"
    assert python["service"] == "com.example.devserver"  # its launchd job
    assert python["container"] is None
    backend = owners[1873]
    assert backend["container"] == "pg"  # Docker Desktop's forwarder: the container publishing 5432
    assert backend["service"] is None  # an app the user opened (`application.` label), not a job
    assert backend["started"] == "2026-12-03T09:12:01Z"
    assert recorded_argv(tmp_path) == [
        ["lsof", "+c", "0", "-nP", "-w", "-i:5432,8080"],
        ["sh", "-c", MACOS_SCRIPT, "sh", "1873,52311"],
        ["docker", "ps", "--no-trunc", "--format", TEMPLATE],
    ]
    assert json.loads((tmp_path / "sh-env.json").read_text()) == {"LC_ALL": "C", "TZ": "UTC0"}
    assert MACOS_SCRIPT.startswith('/bin/ps -ww -o pid=,lstart=,command= -p "$1"; ')


def test_macos_table_names_the_container_and_the_job(tmp_path: Path) -> None:
    macos_tools(tmp_path)
    result = run_on("macos", tmp_path, "5432,8080", "-l")
    assert result.code == 0, result.stderr
    assert "com.docker.backend → pg (postgres:16)" in result.stdout
    assert "Python (com.example.devserver)" in result.stdout
    assert (
        "com.docker.backend (PID 1873) only forwards port 5432: the server runs in docker container pg "
        "(postgres:16)" in result.stderr
    )
    assert "the real server runs in a Docker Desktop" not in result.stderr  # the vague hint gave way


def test_macos_airplay_receiver_is_named(tmp_path: Path) -> None:
    macos_tools(tmp_path, lsof="macos-lsof-controlcenter.txt")
    result = run_on("macos", tmp_path, "5000,7000", "--json")
    owners = by_pid(result)
    assert owners[512]["service"] == "com.apple.controlcenter"
    assert (
        "ControlCenter on port 5000 and 7000 is macOS's AirPlay Receiver (macOS 12 and later): turn it off "
        "in System Settings → General → AirDrop & Handoff → AirPlay Receiver" in result.stderr
    )
    assert "docker" not in [argv[0] for argv in recorded_argv(tmp_path)]  # no row needs a container


def test_macos_without_the_probe_tools_the_fields_stay_null_quietly(tmp_path: Path) -> None:
    fake_tool(tmp_path, "lsof", output=LIVE / "macos-lsof-i.txt")  # no sh, no docker
    result = run_on("macos", tmp_path, "8080", "--json")
    assert all(r["cmdline"] is None and r["started"] is None for r in by_pid(result).values())
    assert "unavailable" not in result.stderr


def test_binary_owner_replies_cost_their_facts_not_the_answer(tmp_path: Path) -> None:
    """A probe that answers with binary bytes (a broken ps, a hostile docker): the rows still come,
    with one warning per probe, never the parse error of a pasted binary file (exit 2)."""
    macos_tools(tmp_path)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01\x02binary\x00" * 64)
    fake_tool(tmp_path, "sh", output=junk)
    fake_tool(tmp_path, "docker", output=junk)
    result = run_on("macos", tmp_path, "5432,8080", "--json")
    owners = by_pid(result)
    assert set(owners) == {1873, 52311}
    assert all(r["cmdline"] is None and r["container"] is None for r in owners.values())
    assert "command lines and start times unavailable (sh: binary data, not text" in result.stderr
    assert "container names unavailable (docker: binary data, not text" in result.stderr


# --- FreeBSD: one sh script (/bin/ps, then the pid files rc.d leaves in /var/run) ----------------------


def test_freebsd_fills_cmdline_started_and_the_rc_d_name_from_one_script(tmp_path: Path) -> None:
    fake_tool(
        tmp_path,
        "sockstat",
        when={"-46ls": LIVE / "freebsd-sockstat-46ls.txt", "-46cs": LIVE / "freebsd-sockstat-46cs.txt"},
    )
    env_logging(tmp_path, "sh", PROBES / "freebsd-owners-script.txt")
    owners = by_pid(run_on("freebsd", tmp_path, "22", "--json"))
    assert (owners[745]["cmdline"], owners[745]["started"]) == ("/usr/sbin/sshd", "2026-11-30T08:00:01Z")
    assert owners[745]["service"] == "sshd"  # /var/run/sshd.pid and /etc/rc.d/sshd
    assert (owners[2207]["cmdline"], owners[2207]["service"]) == ("sshd: alice [priv] (sshd)", None)
    assert recorded_argv(tmp_path)[2:] == [["sh", "-c", FREEBSD_SCRIPT, "sh", "745,2207"]]
    assert json.loads((tmp_path / "sh-env.json").read_text()) == {"LC_ALL": "C", "TZ": "UTC0"}
    table = run_on("freebsd", tmp_path, "22", "-l").stdout
    assert "sshd (sshd)" in table


# --- Windows: tasklist /svc, one PowerShell (or wmic), netsh http for PID 4 ----------------------------


def windows_tools(
    directory: Path, *, powershell: Path | None = PROBES / "windows-powershell-cim.json"
) -> None:
    fake_tool(directory, "netstat", output=LIVE / "windows-netstat-ano.txt")
    fake_tool(directory, "tasklist", output=LIVE / "windows-tasklist-svc-csv-nh.txt")
    if powershell is not None:
        fake_tool(directory, "powershell", output=powershell)
    fake_tool(directory, "netsh", output=PROBES / "windows-netsh-http-servicestate-requestq.txt")


def encoded_script(argv: list[str]) -> str:
    assert argv[:4] == ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"]
    return base64.b64decode(argv[4]).decode("utf-16-le")


def test_windows_fills_cmdline_started_and_services(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    owners = by_pid(run_on("windows", tmp_path, "135,3000,8042,5353", "--json"))
    assert owners[7212]["cmdline"] == '"C:\\Program Files\\nodejs\\node.exe" server.js --port 8042'
    assert owners[7212]["started"] == "2026-12-04T16:46:39Z"
    assert owners[1040]["service"] == "RpcEptMapper, RpcSs"  # from the same tasklist that names it
    assert owners[2288]["service"] == "CryptSvc, Dnscache, LanmanWorkstation, NlaSvc, TermService"
    assert owners[7212]["service"] is None  # N/A
    argvs = recorded_argv(tmp_path)
    assert [argv[0] for argv in argvs] == ["netstat", "tasklist", "powershell"]  # no netsh: no PID 4
    assert argvs[1] == ["tasklist", "/svc", "/fo", "csv", "/nh"]
    script = encoded_script(argvs[2])
    assert "$i=@(1040,9900,7212,2288);$o=@();" in script
    assert "Get-CimInstance Win32_Process -Filter $f" in script


def test_windows_table_shows_the_services_beside_svchost(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    result = run_on("windows", tmp_path, "135")
    assert result.code == 0, result.stderr
    assert "svchost.exe (RpcEptMapper, RpcSs)" in result.stdout


def test_windows_without_powershell_asks_wmic(tmp_path: Path) -> None:
    windows_tools(tmp_path, powershell=None)
    fake_tool(tmp_path, "wmic", output=PROBES / "windows-wmic-process-value.txt")
    owners = by_pid(run_on("windows", tmp_path, "8042", "--json", "--remote"))
    assert owners[7212]["started"] == "2026-12-04T16:46:39Z"  # 17:46:39 at UTC+60 minutes
    assert owners[8120]["started"] == "2026-12-04T13:41:05Z"  # 08:41:05 at UTC-300 minutes
    assert owners[8120]["cmdline"] is None  # wmic prints no command line it may not read
    wmic = recorded_argv(tmp_path)[-1]
    assert wmic == [
        "wmic",
        "process",
        "where",
        "ProcessId=7212 or ProcessId=8120",
        "get",
        "CommandLine,CreationDate,Name,ParentProcessId,ProcessId",
        "/value",
    ]


def test_windows_pid_4_is_the_http_sys_url_owner(tmp_path: Path) -> None:
    windows_tools(tmp_path)
    result = run_on("windows", tmp_path, "80", "--json")
    rows = result.json()
    assert isinstance(rows, list) and {(r["pid"], r["service"]) for r in rows} == {(4, "HTTP.sys")}
    assert recorded_argv(tmp_path)[-1] == ["netsh", "http", "show", "servicestate", "view=requestq"]
    assert "powershell" not in [argv[0] for argv in recorded_argv(tmp_path)]  # PID 4 has no command line
    assert (
        "port 80 is HTTP.sys's (PID 4, System, holds it for other programs): HTTP://*:80/ registered by "
        "PID 5544 (w3wp.exe)" in result.stderr
    )


def test_windows_a_pid_without_a_process_names_the_child_that_inherited_the_socket(tmp_path: Path) -> None:
    fake_tool(tmp_path, "netstat", output=LIVE / "windows-netstat-ano-inherited.txt")
    fake_tool(tmp_path, "tasklist", output=LIVE / "windows-tasklist-svc-inherited.txt")
    fake_tool(tmp_path, "powershell", output=PROBES / "windows-powershell-cim-inherited.json")
    fake_tool(tmp_path, "docker", output=PROBES / "windows-docker-ps-format-json.txt")
    result = run_on("windows", tmp_path, "3001,5432", "--json")
    owners = by_pid(result)
    assert owners[4242]["process"] is None and owners[4242]["cmdline"] is None
    assert owners[3336]["container"] == "pg"  # Docker Desktop's backend publishes 5432 for pg
    assert (
        "PID 4242 holds port 3001 in netstat's table, but no process has that PID: Windows keeps showing "
        "the PID of the process that opened a socket after it exits, and a process it started, which "
        "inherited the socket, holds it now (PID 5000 (node.exe))" in result.stderr
    )
    argvs = recorded_argv(tmp_path)
    assert "$i=@(3336,4242);$o=@(4242);" in encoded_script(argvs[2])
    assert argvs[3] == ["docker", "ps", "--no-trunc", "--size=false", "--format", "json"]
