"""`kill` signals only the socket's real holder: before every signal the kernel's own view must show
that the PID holds a socket on the port (portcheck.live.ownership), whatever a tool printed.

Linux for real: a cgroup whose name forges an owner in `ss -e` (the attack of issue 11), a fake `ss`
that prints a forged owner (the defence holds even when a parser is fooled), portcheck inside a PID
namespace with the host's /proc (the PIDs it sees are not the ones kill(2) reaches), the remote
script run on this machine, and a process whose descriptors cannot be read. macOS, Windows and
FreeBSD through fake tools that answer the listing with a forged owner and the fresh per-PID check
with the truth, checking the argv of that check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from portcheck.core.filters import RowFilter
from portcheck.core.model import Family, Proto
from portcheck.core.portspec import parse_port_spec
from portcheck.live.executor import LocalExecutor
from portcheck.live.ownership import check_holder
from portcheck.live.question import LiveQuestion
from portcheck.parsers.ownership import Holding
from portcheck.platforms import PLATFORM_VARIABLE
from portcheck.platforms.base import OS
from tests.conftest import ROOT, run_cli
from tests.helpers.cli import listener, stateful_script
from tests.helpers.live import fake_tool, macos_kill_as_nobody, recorded_argv, run_as_nobody

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux processes")


@contextmanager
def bystander(name: str = "pc-bystander") -> Iterator[subprocess.Popen[bytes]]:
    """A process that holds no socket at all: it must survive every test here."""
    child = subprocess.Popen([name, "-c", "import time; time.sleep(120)"], executable=sys.executable)
    try:
        yield child
    finally:
        child.kill()
        child.wait(timeout=10)


def _cgroup2_root() -> Path | None:
    with open("/proc/self/mounts") as mounts:
        for line in mounts:
            fields = line.split()
            if len(fields) > 2 and fields[2] == "cgroup2":
                return Path(fields[1])
    return None


IN_CGROUP = r"""
import socket, sys, time
open(sys.argv[1] + "/cgroup.procs", "w").write("0")  # this process joins the cgroup, then opens the socket
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
print(server.getsockname()[1], flush=True)
time.sleep(120)
"""


@LINUX
def test_a_cgroup_named_like_an_owner_cannot_get_a_bystander_signalled() -> None:
    """Issue 11's attack as root: a cgroup directory named `x users:(("nginx",pid=B,fd=3))` with a real
    listener inside; ss -e prints that name after the real owner. The bystander B must survive."""
    root = _cgroup2_root()
    if root is None or os.geteuid() != 0 or not os.access(root, os.W_OK):
        pytest.skip("needs root and a writable cgroup2 hierarchy")
    with bystander() as innocent:
        group = root / f'x users:(("nginx",pid={innocent.pid},fd=3))'
        try:
            group.mkdir()
        except OSError as error:
            pytest.skip(f"cannot create the cgroup here: {error}")
        try:
            child = subprocess.Popen(
                [sys.executable, "-c", IN_CGROUP, str(group)], stdout=subprocess.PIPE, text=True
            )
            assert child.stdout is not None
            port = int(child.stdout.readline())
            time.sleep(0.05)
            shown = subprocess.run(
                ["ss", "-tnlpeH", f"sport = :{port}"], capture_output=True, text=True
            ).stdout
            if f"pid={innocent.pid}" not in shown:
                child.kill()
                pytest.skip(f"ss here prints no cgroup path: {shown!r}")
            result = run_cli("kill", str(port), "--yes")
            assert child.wait(timeout=10) == -15  # the real holder was ended
            assert innocent.poll() is None, "the bystander was signalled"
        finally:
            if child.poll() is None:
                child.kill()
            child.wait(timeout=10)
            group.rmdir()
    # Both layers hold: the ss parser reads owners only from the `users:` column, so the forged one is
    # not even listed; were it listed, the kernel check would refuse it (the fake-ss test below).
    forged = f"PID {innocent.pid} (nginx)"
    assert forged not in result.stdout or (
        f"{forged}: not signalled: PID {innocent.pid} does not hold port {port}" in result.stdout
    )
    assert any(
        line.startswith(f"PID {child.pid} (") and line.endswith("ended by SIGTERM")
        for line in result.stdout.splitlines()
    )


FORGING_SS = r"""
import os, sys
port, real, forged = os.environ["PC_PORT"], os.environ["PC_REAL"], os.environ["PC_FORGED"]
owners = '("nginx",pid=%s,fd=3)' % forged
try:
    alive = open("/proc/%s/stat" % real).read().rsplit(") ", 1)[1][0] not in "ZX"  # a zombie holds nothing
except OSError:
    alive = False
if alive:
    owners += ',("pc-real",pid=%s,fd=3)' % real
print("LISTEN 0 128 127.0.0.1:%s 0.0.0.0:* users:(%s) ino:1 sk:1 <->" % (port, owners))
"""


@LINUX
def test_a_tool_fooled_into_naming_a_bystander_cannot_get_it_signalled(tmp_path: Path) -> None:
    """A fake ss prints a forged owner beside the real one, as a fooled parser would read it: the
    check against /proc stops the forged PID, and the real holder is still ended."""
    stateful_script(tmp_path, "ss", FORGING_SS)
    (tmp_path / "kill").symlink_to(shutil.which("kill") or "/bin/kill")
    with bystander() as innocent, listener("pc-real") as real:
        env = {
            "PATH": str(tmp_path),
            "PC_PORT": str(real.port),
            "PC_REAL": str(real.pid),
            "PC_FORGED": str(innocent.pid),
        }
        result = run_cli("kill", str(real.port), "--yes", env=env)
        assert real.process.wait(timeout=10) == -15
        assert innocent.poll() is None, "the bystander was signalled"
    assert (
        f"PID {innocent.pid} (nginx): not signalled: PID {innocent.pid} does not hold port {real.port} "
        in (result.stdout)
    )
    assert f"(checked: /proc/{innocent.pid}/fd)" in result.stdout
    assert f"PID {real.pid} (pc-real): ended by SIGTERM" in result.stdout
    assert result.code == 1  # the fake ss still lists the forged owner: not free as far as it says


NAMESPACE_SCRIPT = r"""
echo $(({host_pid} - 1)) > /proc/sys/kernel/ns_last_pid || exit 90
sleep 120 &
innocent=$!
[ "$innocent" = {host_pid} ] || {{ kill $innocent; exit 91; }}
"$PC_PYTHON" -m portcheck kill {port} --yes
echo "exit $?"
kill -0 $innocent && echo "bystander alive"
kill $innocent
"""


@LINUX
def test_a_pid_namespace_with_the_hosts_proc_is_refused() -> None:
    """portcheck inside `unshare --pid --fork` with the host's /proc: ss names the listener by its host
    PID H, but kill(2) there reaches the namespace's own PID H, here a bystander made to have it."""
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare and root")
    with listener("pc-host-side") as holder:
        script = NAMESPACE_SCRIPT.format(host_pid=holder.pid, port=holder.port)
        env = {**os.environ, "PC_PYTHON": sys.executable, "PYTHONPATH": str(ROOT / "src")}
        done = subprocess.run(
            [unshare, "--pid", "--fork", "sh", "-c", script],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        if done.returncode in (90, 91):
            pytest.skip(f"cannot place a process at PID {holder.pid} in a new PID namespace here")
        assert holder.alive()
    assert "bystander alive" in done.stdout, done.stdout + done.stderr
    assert f"PID {holder.pid} (pc-host-side): refused: the PIDs the tools print belong to another PID " in (
        done.stdout
    )
    assert "exit 1" in done.stdout


class ScriptOnThisMachine(LocalExecutor):
    """Runs commands here but says it is not local: the remote path (the fixed script, read from its
    reply) on this very machine, without ssh."""

    local = False


def _question(port: int, executor: LocalExecutor, *, listening: bool = False) -> LiveQuestion:
    from portcheck.commands.base import port_scope

    spec = parse_port_spec(str(port))
    scope = port_scope(spec, tcp=False, udp=False, ipv4=False, ipv6=False, listening=listening)
    return LiveQuestion(spec, scope, OS.LINUX, executor, 10)


@LINUX
@pytest.mark.parametrize("executor", [LocalExecutor(), ScriptOnThisMachine()], ids=["in-process", "script"])
def test_the_check_itself_on_real_processes(executor: LocalExecutor) -> None:
    with listener("pc-checked", flags="udp") as holder, bystander() as innocent:
        question = _question(holder.port, executor)
        assert check_holder(question, holder.pid).holding is Holding.HOLDS
        assert check_holder(question, innocent.pid).holding is Holding.NOT_HELD
        listening_udp = question.scope._replace(
            protos=frozenset({Proto.UDP}), families=frozenset({Family.IPV4})
        )
        question.scope = listening_udp
        assert check_holder(question, holder.pid).holding is Holding.HOLDS  # its UDP socket
        question.scope = listening_udp._replace(families=frozenset({Family.IPV6}))
        assert check_holder(question, holder.pid).holding is Holding.NOT_HELD  # it has no IPv6 socket
        elsewhere = _question(holder.port + 1 if holder.port < 65535 else 1, executor)
        assert check_holder(elsewhere, holder.pid).holding is Holding.NOT_HELD
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert check_holder(question, gone.pid).holding is Holding.GONE


HOLDS_A_FILE = r"""
import sys, time
handle = open(sys.argv[1], "w")  # a descriptor whose link target is this hostile name
print("open", flush=True)
time.sleep(120)
"""


@LINUX
@pytest.mark.parametrize("executor", [LocalExecutor(), ScriptOnThisMachine()], ids=["in-process", "script"])
def test_a_file_named_like_the_checks_output_proves_nothing(tmp_path: Path, executor: LocalExecutor) -> None:
    """A bystander holds open a file whose name, printed raw, would read as the script's own line for
    the listener's socket inode (and as `ls -l`'s `-> socket:[INODE]`): it is not a socket, so it
    is never printed, and the bystander does not hold the port."""
    with listener("pc-target") as holder:
        inode = next(
            os.stat(entry.path).st_ino
            for entry in os.scandir(f"/proc/{holder.pid}/fd")
            if os.readlink(entry.path).startswith("socket:[")
        )
        # the target, printed raw, would hold the lines `...x -> socket:[INODE]` and `    INODE /proc/1/fd/3`
        name = tmp_path / f"x -> socket:[{inode}]\n    {inode} " / "proc" / "1" / "fd" / "3"
        name.parent.mkdir(parents=True)
        forger = subprocess.Popen(
            [sys.executable, "-c", HOLDS_A_FILE, str(name)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert forger.stdout is not None and forger.stdout.readline() == "open\n"
            question = _question(holder.port, executor)
            assert check_holder(question, forger.pid).holding is Holding.NOT_HELD
            assert check_holder(question, holder.pid).holding is Holding.HOLDS
        finally:
            forger.kill()
            forger.wait(timeout=10)


@LINUX
def test_another_users_descriptors_are_unreadable_and_nothing_is_signalled() -> None:
    """As the user nobody, /proc/PID/fd of root's listener cannot be read: the check says so (and
    kill then reports "permission denied"), it never guesses."""
    code = (
        "import sys\nfrom portcheck.live.procfs import holder_evidence\n"
        "from portcheck.core.filters import RowFilter\nfrom portcheck.core.portspec import parse_port_spec\n"
        "print(holder_evidence(int(sys.argv[1]), RowFilter(ports=parse_port_spec(sys.argv[2]))).unreadable)"
    )
    with listener("pc-roots-own") as holder:
        done = run_as_nobody("-c", code, str(holder.pid), str(holder.port))
    assert done.stdout.strip() == "True", done.stderr


# --- other OSes: the listing forges an owner, the fresh per-PID check tells the truth ---------------------

LSOF_LISTING = (
    "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME\n"
    "nginx 928 root 3u IPv4 0x1 0t0 TCP *:8080 (LISTEN)\n"
    "python3 4242 alice 5u IPv4 0x2 0t0 TCP 127.0.0.1:8080 (LISTEN)\n"
)
LSOF_OF_4242 = "".join(line for line in LSOF_LISTING.splitlines(keepends=True) if "nginx" not in line)
LSOF_UNTIL_KILLED = f"""
import json, os, sys
here = os.path.dirname(__file__)
with open(os.path.join(here, "argv.log"), "a") as log:
    log.write(json.dumps(["lsof", *sys.argv[1:]]) + "\\n")
with open(os.path.join(here, "argv.log")) as log:
    killed = '"kill"' in log.read()
listing = {LSOF_LISTING!r}
if killed:  # the fake kill was called: 4242 let go, as python3 does on TERM
    listing = "".join(line for line in listing.splitlines(keepends=True) if "4242" not in line)
if "928" in sys.argv:
    listing = ""
elif "4242" in sys.argv:
    listing = "".join(line for line in listing.splitlines(keepends=True) if "nginx" not in line)
sys.stdout.write(listing)
"""


def test_macos_a_fresh_lsof_of_that_pid_decides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The listing names PID 928 and 4242; `lsof -a -p 928` shows nothing: 928 is never signalled. As
    root that means "does not hold the port"; without root (a forced platform runs as one) lsof sees
    only your own processes, so it means "cannot tell", and kill says to use sudo."""
    stateful_script(tmp_path, "lsof", LSOF_UNTIL_KILLED)
    fake_tool(tmp_path, "kill")
    monkeypatch.setenv("PATH", str(tmp_path))
    as_root = LiveQuestion(parse_port_spec("8080"), RowFilter(ports=parse_port_spec("8080")), OS.MACOS,
                           LocalExecutor(privileged=True), 10)  # fmt: skip
    assert check_holder(as_root, 928) == (Holding.NOT_HELD, "lsof -a -p 928 -i:8080")
    assert check_holder(as_root, 4242).holding is Holding.HOLDS
    result = run_cli("kill", "8080", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert "PID 928 (nginx): permission denied: its sockets cannot be looked into (without root lsof" in (
        result.stdout
    )
    calls = recorded_argv(tmp_path)
    base = ["lsof", "+c", "0", "-nP", "-w"]
    assert [*base, "-a", "-p", "928", "-i:8080"] in calls
    assert [*base, "-a", "-p", "4242", "-i:8080"] in calls
    assert ["kill", "-s", "TERM", "4242"] in calls
    assert not any(argv[0] == "kill" and "928" in argv for argv in calls)
    assert "PID 4242 (python3): ended by SIGTERM" in result.stdout, result.stdout  # the port let go


WINDOWS_LISTING = """
  Proto  Local Address          Foreign Address        State           PID
  TCP    0.0.0.0:3000           0.0.0.0:0              LISTENING       4242
"""
WINDOWS_TRUTH = """
  Proto  Local Address          Foreign Address        State           PID
  TCP    0.0.0.0:3000           0.0.0.0:0              LISTENING       5151
"""
WINDOWS_NETSTAT = f"""
import os
calls = os.path.join(os.path.dirname(__file__), "calls")
with open(calls, "a") as log:
    log.write("x")
asked = os.path.getsize(calls)
print({WINDOWS_LISTING!r} if asked <= 2 else {WINDOWS_TRUTH!r})  # the listing, the re-check; then the truth
"""


def test_windows_a_fresh_netstat_decides(tmp_path: Path) -> None:
    """netstat -ano named PID 4242 when asked first (and again at the re-check); the fresh netstat
    just before taskkill shows the port held by PID 5151: nothing is ended."""
    stateful_script(tmp_path, "netstat", WINDOWS_NETSTAT)
    fake_tool(tmp_path, "tasklist", output='"node.exe","4242","Console","1","50,000 K"\r\n')
    fake_tool(tmp_path, "taskkill")
    result = run_cli("kill", "3000", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "windows"})
    assert "PID 4242 (node.exe): not signalled: PID 4242 does not hold port 3000 (checked: netstat -ano)" in (
        result.stdout
    )
    assert not [argv for argv in recorded_argv(tmp_path) if argv[0] == "taskkill"]


SOCKSTAT_LISTING = """USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS
www      nginx      1202  6  tcp4   *:80                  *:*
"""


def test_freebsd_sockstat_filtered_by_pid_decides(tmp_path: Path) -> None:
    """sockstat -46ls lists PID 1202 on port 80; the check (sockstat -46s -P tcp,udp -p 80) does not."""
    fake_tool(
        tmp_path, "sockstat", output=SOCKSTAT_LISTING, when={"-46s": SOCKSTAT_LISTING.splitlines()[0] + "\n"}
    )
    fake_tool(tmp_path, "kill")
    result = run_cli("kill", "80", "--yes", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "freebsd"})
    assert "PID 1202 (nginx): not signalled: PID 1202 does not hold port 80" in result.stdout
    calls = recorded_argv(tmp_path)
    assert ["sockstat", "-46s", "-P", "tcp,udp", "-p", "80"] in calls
    assert not [argv for argv in calls if argv[0] == "kill"]


def test_the_linux_reply_counts_only_lines_the_script_writes() -> None:
    """The reader takes `INODE /proc/PID/fd/N` lines (digits and portcheck's own path) and nothing
    that merely mentions an inode: no file name another program chose is ever trusted."""
    from portcheck.core.filters import RowFilter
    from portcheck.parsers.ownership import decide, read_linux_reply

    table = [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0 "
        "100 0 0 10 0",
    ]
    scope = RowFilter(ports=parse_port_spec("8080"))

    def holding(*lines: str) -> Holding:
        return decide(read_linux_reply(["NSpid:\t7", *lines, "tables", *table], scope), scope)

    assert holding("    999 /proc/4242/fd/3") is Holding.HOLDS
    assert holding("lrwx------ 1 root root 64 Jan 1 00:00 3 -> socket:[999]") is Holding.NOT_HELD
    assert holding("socket:[999]", "999 /tmp/x", "999 /proc/4242/fd/3 x") is Holding.NOT_HELD
    assert holding("    998 /proc/4242/fd/3") is Holding.NOT_HELD
    assert holding("pid gone") is Holding.GONE and holding("fd unreadable") is Holding.UNREADABLE
    nested = decide(
        read_linux_reply(["NSpid:\t8346\t3", "    999 /proc/4242/fd/3", "tables", *table], scope), scope
    )
    assert nested is Holding.FOREIGN_PIDS


LSOF_AS_NOBODY = """#!/bin/sh
# lsof without root: the listing (netstat would name the PID the same way), and nothing for `-p PID`
case " $* " in *" -p "*) exit 1;; esac
echo "COMMAND PID USER FD TYPE DEVICE SIZE/OFF NODE NAME"
echo "python3 $PC_PID root 3u IPv4 0x1 0t0 TCP 127.0.0.1:$PC_PORT (LISTEN)"
"""


@LINUX
def test_macos_lsof_without_root_cannot_tell_and_says_why() -> None:
    """Without root lsof sees only your own processes: its silence about another user's PID is not
    proof that it holds nothing, so the outcome is "permission denied" with sudo's advice."""
    with listener("pc-roots-too") as holder:
        done = macos_kill_as_nobody(LSOF_AS_NOBODY, holder.pid, holder.port, with_kill=False)
        assert holder.alive()
    assert (
        f"PID {holder.pid} (python3): permission denied: its sockets cannot be looked into (without root "
        f"lsof sees only your own processes): run `sudo portcheck kill {holder.port}`"
    ) in done.stdout, done.stderr
