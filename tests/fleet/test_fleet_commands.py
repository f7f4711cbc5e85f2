"""`portcheck info --host` and `portcheck kill --host` for real, through the sshd lab (tests/helpers/sshd.py,
the session's `lab` fixture): every host is this same machine, so each must report this machine's
/proc ranges, and a process the test starts is ended through an sshd. Hosts that refuse sit beside the
good ones; PID 1 (an sshd that is PID 1 of its own namespace, as in a container) and portcheck's own ssh
session are refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import pytest

from portcheck.fleet.kill import SESSION_CHAIN, SESSION_REFUSAL
from portcheck.live.runner import ToolRun
from tests.helpers.cli import listener
from tests.helpers.sshd import Lab, fleet, interactive, portcheck_ssh_left

LINUX_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def summary(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


# --- info --host ----------------------------------------------------------------------------------------


def test_info_json_reports_each_hosts_ranges_and_use(lab: Lab) -> None:
    first, last = (int(w) for w in LINUX_RANGE.read_text().split())
    with listener("pc-info-fleet") as child:
        result = fleet(lab, "info", str(child.port), "--host", "srv0", "--host", "refused", "--host", "srv1",
                       "--json")  # fmt: skip
    assert result.code == 3, result.stderr  # one host could not be asked; the others are reported
    report = result.json()
    assert isinstance(report, dict)
    assert list(report) == ["port", "iana_range", "services", "known_uses", "hosts"]
    assert report["port"] == child.port
    hosts = report["hosts"]
    assert [h["host"] for h in hosts] == ["srv0", "refused", "srv1"]
    for host in (hosts[0], hosts[2]):
        assert list(host) == ["host", "error", "system", "in_use", "in_use_error"]
        assert host["error"] is None
        system = host["system"]
        assert system["os"] == "linux"
        assert [(r["first"], r["last"], r["source"]) for r in system["ephemeral"]] == [
            (first, last, str(LINUX_RANGE))
        ]
        in_range = first <= child.port <= last
        assert system["in_ephemeral_range"] == {"tcp": in_range, "udp": in_range}
        assert system["errors"] == []
        assert host["in_use"]["tool"] == "ss"
        assert [(r["pid"], r["process"], r["state"]) for r in host["in_use"]["rows"]] == [
            (child.pid, "pc-info-fleet", "LISTEN")
        ]
    refused = hosts[1]
    assert refused["error"]["reason"] == "connection refused"
    assert "Connection refused" in refused["error"]["detail"]
    assert (refused["system"], refused["in_use"], refused["in_use_error"]) == (None, None, None)
    assert summary(result.stderr) == "portcheck: 3 hosts: 2 answered, 1 failed: connection refused (refused)"


def test_info_text_prints_the_meaning_once_then_each_host(lab: Lab) -> None:
    first, last = LINUX_RANGE.read_text().split()
    result = fleet(lab, "info", "3389", "--no-check", "--host", "srv0", "--host", "srv1", "--host", "refused")
    assert result.code == 3, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Port 3389"
    assert sum(line.startswith("IANA range") for line in lines) == 1
    assert sum(line.startswith("Registered") for line in lines) == 1
    hosts = [line for line in lines if line.startswith("Host ")]
    assert hosts == ["Host          srv0 (linux)", "Host          srv1 (linux)", "Host          refused"]
    machine = [line for line in lines if line.startswith("Machine ")]
    assert machine == [f"Machine       linux: ephemeral ports {first}-{last} for tcp and udp"] * 2
    assert not any(line.startswith("In use") for line in lines)  # --no-check
    failed = lines[lines.index("Host          refused") + 1]
    assert failed.startswith("Failed        connection refused: ")
    everyone = fleet(lab, "info", "3389", "--no-check", "--host", "srv2")
    assert everyone.code == 0, everyone.stderr
    assert summary(everyone.stderr) == "portcheck: 1 host: 1 answered"


# --- kill --host --------------------------------------------------------------------------------------


def test_kill_ends_a_listener_through_sshd_and_the_port_is_free(lab: Lab) -> None:
    with listener("pc-fleet-kill") as child:
        result = fleet(lab, "kill", str(child.port), "--host", "srv0", "--yes")
        assert result.code == 0, result.stderr
        assert child.process.wait(timeout=5) == -15  # SIGTERM
    found, *rest = result.stdout.splitlines()
    assert found == f"srv0: PID {child.pid} (pc-fleet-kill, user root): listening on {child.port}/tcp"
    assert rest == [
        f"srv0: PID {child.pid} (pc-fleet-kill): ended by SIGTERM",
        f"srv0: port {child.port} is free.",
    ]
    assert summary(result.stderr) == f"portcheck: 1 host: 1 answered (port {child.port} free on 1)"
    assert fleet(lab, str(child.port), "--host", "srv0").code == 1
    assert portcheck_ssh_left(lab) == []  # masters and the keepers of the kept-open connections


def test_kill_goes_on_beside_a_failed_host_and_exits_3(lab: Lab) -> None:
    with listener("pc-fleet-mixed", flags="ignore-term") as child:
        result = fleet(
            lab, "kill", str(child.port), "--host", "refused", "--host", "srv1", "-y", "--grace", "0.3"
        )
        assert result.code == 3, result.stderr
        assert child.process.wait(timeout=5) == -9  # SIGTERM ignored: SIGKILL after the grace
    assert f"srv1: PID {child.pid} (pc-fleet-mixed): ended by SIGKILL (SIGTERM was not enough for 0.3 s)" in (
        result.stdout
    )
    assert "portcheck: refused: connection refused: " in result.stderr
    assert summary(result.stderr) == (
        f"portcheck: 2 hosts: 1 answered (port {child.port} free on 1), "
        "1 failed: connection refused (refused)"
    )


def test_kill_without_a_terminal_needs_yes(lab: Lab) -> None:
    with listener("pc-fleet-spared") as child:
        result = fleet(lab, "kill", str(child.port), "--host", "srv2")
        assert result.code == 2
        assert child.alive()
    assert f"pass --yes to end PID {child.pid} (pc-fleet-spared) on srv2 from a script" in result.stderr
    # what would have been ended: with the question, on the terminal's stream
    assert (
        f"srv2: PID {child.pid} (pc-fleet-spared, user root): listening on {child.port}/tcp" in result.stderr
    )
    assert result.stdout == ""
    assert portcheck_ssh_left(lab) == []


@pytest.mark.parametrize("answer", ["y", "ctrl-c"])
def test_kill_asks_once_over_one_login_kept_open(lab: Lab, answer: str) -> None:
    """relay0 counts the logins: the query, the wait for the answer, the re-check and the signal all
    go over one."""
    import pexpect

    lab.reset_relay_counts()
    with listener("pc-fleet-asked") as child:
        session = interactive(lab, "kill", str(child.port), "--host", "relay0")
        session.expect(
            rf"End PID {child.pid} \(pc-fleet-asked\) on relay0 with SIGTERM \(SIGKILL after 5 s\)\? \[y/N\]"
        )
        waiting = portcheck_ssh_left(lab)
        assert any(b"ControlMaster=yes" in c for c in waiting)  # the master waits with us,
        assert any(c.rstrip(b"\0").endswith(b" cat") for c in waiting)  # held by its idle keeper session
        if answer == "y":
            session.sendline("y")
        else:
            session.sendintr()
        session.expect(pexpect.EOF)
        session.close()
        if answer == "y":
            assert session.exitstatus == 0, session.before
            assert f"relay0: PID {child.pid} (pc-fleet-asked): ended by SIGTERM" in session.before
            assert child.process.wait(timeout=5) == -15
        else:
            assert session.exitstatus == 1, session.before
            assert "nothing ended" in session.before
            assert child.alive()
    assert lab.relay_counts() == [1]
    assert portcheck_ssh_left(lab) == []


def test_kill_refuses_pid_1(lab: Lab) -> None:
    """An sshd that is PID 1 of its PID namespace (a container's): its port is held by PID 1."""
    if lab.pid1 is None:
        pytest.skip("this machine cannot make a PID namespace for the pid1 sshd")
    result = fleet(lab, "kill", str(lab.pid1.port), "--host", "pid1", "--yes", "--listening")
    assert result.code == 1, result.stderr
    assert (
        "pid1: PID 1 (sshd): refused: PID 1 is init (systemd, launchd): ending it takes the machine down"
        in (result.stdout)
    )
    assert f"pid1: port {lab.pid1.port} is still in use: PID 1 (sshd)" in result.stderr
    after = fleet(lab, str(lab.pid1.port), "--host", "pid1", "--listening", "--json")
    assert after.code == 0, after.stderr  # the host still answers, and PID 1 still listens
    assert {(row["host"], row["pid"]) for row in after.json()} == {("pid1", 1)}


def test_kill_never_ends_its_own_ssh_session(lab: Lab) -> None:
    """`kill SSH-PORT --host H`: the listening sshd and the sshd serving portcheck's connection hold the
    port; both carry portcheck's own session, so both are refused and the host stays reachable."""
    port = lab.servers[3].port
    result = fleet(lab, "kill", str(port), "--host", "srv3", "--yes")
    assert result.code == 1, result.stderr
    refused = [line for line in result.stdout.splitlines() if line.endswith(f"refused: {SESSION_REFUSAL}")]
    assert len(refused) >= 2  # the listener and this session's sshd
    assert "ended" not in result.stdout
    after = fleet(lab, str(port), "--host", "srv3", "--listening", "--json")
    assert after.code == 0, after.stderr  # the host still answers, and its sshd still listens
    assert after.json() and {row["local_port"] for row in after.json()} == {port}


def test_session_chain_climbs_from_the_shell_to_its_parents(tmp_path: Path) -> None:
    """The fixed shell line kill runs on a host: here its sh is this test's child, so the chain is the
    sh, this process, then this process's parents; the same without ps (the /proc fallback)."""
    chain = [int(w) for w in subprocess.run(["sh", "-c", SESSION_CHAIN], capture_output=True).stdout.split()]
    assert chain[1] == os.getpid()
    assert 1 not in chain
    if os.getppid() != 1:
        assert chain[2] == os.getppid()
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("sh", "sed", "tr"):
        found = shutil.which(tool)
        assert found is not None
        (bare / tool).symlink_to(found)
    without_ps = subprocess.run(
        [str(bare / "sh"), "-c", SESSION_CHAIN], capture_output=True, env={"PATH": str(bare)}
    ).stdout.split()
    assert [int(w) for w in without_ps][1:] == chain[1:]


class WindowsHost:
    """An SSHExecutor's stand-in for a Windows host: netstat -ano and tasklist as they print."""

    local = False
    privileged = False
    user = None

    def __init__(self) -> None:
        from portcheck.fleet.remote import RemoteSystem, Shell
        from portcheck.platforms.base import OS

        self.system = RemoteSystem(OS.WINDOWS, Shell.CMD, privileged=False)
        self.commands: list[str] = []

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        outputs = {
            "netstat": "\r\nActive Connections\r\n\r\n"
            "  Proto  Local Address          Foreign Address        State           PID\r\n"
            "  TCP    0.0.0.0:22             0.0.0.0:0              LISTENING       3120\r\n"
            "  TCP    10.0.0.5:22            10.0.0.9:50122         ESTABLISHED     5400\r\n"
            "  TCP    10.0.0.5:22            10.0.0.7:61001         ESTABLISHED     6100\r\n",
            "tasklist": '"sshd.exe","3120","Services","0","7,160 K"\r\n'
            '"sshd.exe","5400","Services","0","8,020 K"\r\n'
            '"tunnel.exe","6100","Console","1","5,000 K"\r\n',
        }
        self.commands.append(argv[0])
        if argv[0] not in outputs:  # the owner probes (PowerShell, then wmic): absent on this host
            return ToolRun(tuple(argv), 1, b"", f"'{argv[0]}' is not recognized".encode(), 0.0)
        return ToolRun(tuple(argv), 0, outputs[argv[0]].encode(), b"", 0.0)

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        return {}  # netstat -ano prints no users


def test_on_windows_every_sshd_is_spared() -> None:
    """No shell line finds the session there: sshd.exe processes are refused by name, others are not."""
    from portcheck.commands.base import port_scope
    from portcheck.core.portspec import parse_port_spec
    from portcheck.fleet.kill import Order, plan_host, survey
    from portcheck.fleet.ssh import Target
    from portcheck.output.report import Reporter

    spec = parse_port_spec("22")
    scope = port_scope(spec, tcp=False, udp=False, ipv4=False, ipv6=False)
    order = Order(spec, scope, scope, "TERM", 5.0, 5.0, "")
    host = WindowsHost()
    found = survey(order, host)  # type: ignore[arg-type]
    assert host.commands[:2] == ["netstat", "tasklist"]
    assert "sh" not in host.commands  # no `sh -c` on Windows
    assert found.guarded == {3120: SESSION_REFUSAL, 5400: SESSION_REFUSAL}
    plan = plan_host(Target("win1", "win1"), found, order, Reporter())
    assert plan.candidates == {6100: "tunnel.exe"}
    assert plan.ending.describe_plan() == "taskkill (then /F after the grace)"
    assert plan.ending.report_lines("win1") == [
        f"win1: PID 3120 (sshd.exe): refused: {SESSION_REFUSAL}",
        f"win1: PID 5400 (sshd.exe): refused: {SESSION_REFUSAL}",
    ]
