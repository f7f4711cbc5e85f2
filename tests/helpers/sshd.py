"""A private OpenSSH lab for the fleet tests and benchmarks/bench_fleet.py: several real sshd instances
on loopback ports, generated keys, and an ssh config (`ssh -F`) naming every host. Nothing outside a
temporary directory is read or written: ~/.ssh and /etc/ssh are never used (the config sets
IdentityAgent none, its own known_hosts and no global one).

Hosts in the config (each an alias of 127.0.0.1):
  srv0..srvN   key login to the Nth sshd, host key known
  refused      a port where nothing listens
  hang         a port that accepts connections and never speaks SSH
  wrongkey     srv0 with a key the server does not accept
  newkey       srv0 with an empty known_hosts (ssh asks yes/no), StrictHostKeyChecking ask
  pass0, pass1 srv0/srv1 with a key protected by a passphrase (ssh asks for it)
  password     the password sshd as a throw-away user (only when root can create one)
  relay0..N    srvN reached through a ProxyCommand that records how many logins run at once
  pid1         an sshd that is PID 1 of its own PID namespace, as in a container (only when this
               machine lets root create one): `kill --host pid1` on its port meets PID 1
  slow         a host that logs in and answers portcheck's OS probe, then never answers a tool: every
               other command hangs (until its ssh session goes), as a tool stuck on a dead NFS mount
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.helpers.locks import machine_lock
from tests.helpers.ports import free_port

if TYPE_CHECKING:
    from tests.conftest import Result

SSHD = Path("/usr/sbin/sshd")
PASSPHRASE = "correct horse battery staple"
PASSWORD = "pc-Fleet-test-9"
TEST_USER_PREFIX = "pcfleet-"
TEST_USER = f"{TEST_USER_PREFIX}{os.getpid()}"
"""One account per test process: labs of test runs side by side (several suites on one machine) must
not delete or re-password each other's user."""
PRIVSEP_DIR = Path("/run/sshd")

RELAY = r"""
import os, socket, sys, threading, time
logdir, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
mark = os.path.join(logdir, f"setup-{os.getpid()}")
open(mark, "w").close()
time.sleep(0.1)
count = sum(name.startswith("setup-") for name in os.listdir(logdir))
with open(os.path.join(logdir, "counts"), "a") as log:
    log.write(f"{count}\n")
os.unlink(mark)
peer = socket.create_connection((host, port))
def back():
    while data := peer.recv(65536):
        os.write(1, data)
    os._exit(0)
threading.Thread(target=back, daemon=True).start()
while data := os.read(0, 65536):
    peer.sendall(data)
peer.shutdown(socket.SHUT_WR)
threading.Event().wait()
"""


SUPERVISOR = r"""
# Runs the lab's sshd instances as a child subreaper: the per-connection processes sshd leaves behind
# become its children (not init's zombies), and on SIGTERM it ends every descendant, then itself.
import ctypes, os, signal, subprocess, sys
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
me = os.getpid()
UNSHARE = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"]
# A config given as pid1=PATH: that sshd is PID 1 of a new PID namespace. unshare blocks SIGTERM while
# it waits, so that one is stopped with SIGKILL (--kill-child then kills the sshd).
servers = [
    subprocess.Popen(
        [*UNSHARE, sys.argv[1], "-D", "-e", "-f", config[5:]]
        if config.startswith("pid1=")
        else [sys.argv[1], "-D", "-e", "-f", config]
    )
    for config in sys.argv[2:]
]
namespaced = {server for server, config in zip(servers, sys.argv[2:]) if config.startswith("pid1=")}

def descendants():
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    found, frontier = set(), {me}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found

def stop(signum, frame):
    for server in servers:
        server.kill() if server in namespaced else server.terminate()
    for server in servers:
        server.wait()
    for pid in descendants():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    while True:
        try:
            os.wait()
        except ChildProcessError:
            os._exit(0)

signal.signal(signal.SIGTERM, stop)
sys.stdout.write("ready\n")
sys.stdout.flush()
while True:
    try:
        os.wait()  # reaps the orphans; Popen.wait on a reaped server just reports it gone
    except ChildProcessError:
        signal.pause()
"""


def sshd_available() -> str | None:
    """Why the lab cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "the lab runs on Linux"
    if not SSHD.exists():
        return f"{SSHD} is not installed (.ci/run installs openssh-server)"
    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        return "the OpenSSH client is not installed"
    return None


def _keygen(path: Path, passphrase: str = "") -> Path:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", path.name, "-f", str(path)], check=True
    )
    return path


@dataclass
class Sshd:
    name: str
    port: int
    config: Path
    pid1: bool = False
    """Runs as PID 1 of its own PID namespace."""

    @property
    def launch(self) -> str:
        """How the supervisor is told to start it."""
        return f"pid1={self.config}" if self.pid1 else str(self.config)


def pid_namespaces_available() -> bool:
    """Can root here make a PID namespace with its own /proc (not in every sandbox)?"""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = ["unshare", "--pid", "--fork", "--mount-proc", "true"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


@dataclass
class Lab:
    root: Path
    config: Path
    servers: list[Sshd] = field(default_factory=list)
    supervisor: subprocess.Popen[bytes] | None = None
    password_user: str | None = None
    relay_log: Path | None = None
    hang_listener: socket.socket | None = None

    @property
    def pid1(self) -> Sshd | None:
        return next((s for s in self.servers if s.pid1), None)

    @property
    def user(self) -> str:
        return pwd.getpwuid(os.getuid()).pw_name

    def relay_counts(self) -> list[int]:
        assert self.relay_log is not None
        counts = self.relay_log / "counts"
        return [int(line) for line in counts.read_text().split()] if counts.exists() else []

    def reset_relay_counts(self) -> None:
        assert self.relay_log is not None
        (self.relay_log / "counts").unlink(missing_ok=True)

    def new_known_hosts(self) -> None:
        """Forget the host key `newkey` accepted, so the next login asks again."""
        (self.root / "known_hosts.new").write_text("")


def _wait_listening(port: int, supervisor: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if supervisor.poll() is not None:
            raise RuntimeError(f"sshd exited: {log.read_text(errors='replace')}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"sshd did not listen on {port}: {log.read_text(errors='replace')}")


SLOW = """\
#!/bin/sh
# ForceCommand of the `slow` host: the OS probe runs, every other command hangs. The loop writes a
# byte to stderr now and then, so it dies (SIGPIPE) once the ssh session that ran it is gone.
case "$SSH_ORIGINAL_COMMAND" in
  "uname -s && id -u") exec /bin/sh -c "$SSH_ORIGINAL_COMMAND" ;;
esac
while sleep 0.5; do printf ' ' >&2 || exit 0; done
"""


def _sshd_config(
    root: Path,
    name: str,
    host_key: Path,
    *,
    password: bool = False,
    pid1: bool = False,
    force_command: str | None = None,
) -> Sshd:
    port = free_port()
    config = root / f"sshd_{name}.conf"
    config.write_text(
        textwrap.dedent(
            f"""\
            Port {port}
            ListenAddress 127.0.0.1
            HostKey {host_key}
            PidFile none
            UsePAM no
            UseDNS no
            PermitRootLogin prohibit-password
            StrictModes no
            AuthorizedKeysFile {root}/authorized_keys
            PubkeyAuthentication {"no" if password else "yes"}
            PasswordAuthentication {"yes" if password else "no"}
            KbdInteractiveAuthentication no
            MaxStartups 100
            LogLevel ERROR
            SetEnv PYENV_REHASH_TIMEOUT=0
            """
        )
        + (f"ForceCommand {force_command}\n" if force_command else "")
    )
    return Sshd(name, port, config, pid1)


def _start(lab: Lab) -> None:
    """One supervisor process runs every sshd (see SUPERVISOR); ready when each port accepts."""
    log = lab.root / "sshd.log"
    (lab.root / "supervisor.py").write_text(SUPERVISOR)
    with open(log, "wb") as errors:
        lab.supervisor = subprocess.Popen(
            [
                sys.executable,
                str(lab.root / "supervisor.py"),
                str(SSHD),
                *(s.launch for s in lab.servers),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
    assert lab.supervisor.stdout is not None
    lab.supervisor.stdout.readline()  # "ready": the SIGTERM handler is in place
    for server in lab.servers:
        _wait_listening(server.port, lab.supervisor, log)


def processes_using(root: Path) -> list[int]:
    """PIDs whose command line names a file of the lab (sshd -f CONFIG, relays): none may outlive it."""
    marker = str(root).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def lab_commands(lab: Lab) -> list[bytes]:
    """Command lines (NUL-separated) of the processes that name this lab's ssh config: portcheck's
    ssh clients, masters and keepers (another test run on the machine has its own lab)."""
    marker = str(lab.config).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker in command:
                found.append(command)
    return found


def portcheck_ssh_left(lab: Lab) -> list[bytes]:
    """Command lines of ssh processes (masters, keepers) of portcheck runs against this lab."""
    return [command for command in lab_commands(lab) if b"portcheck-ssh-" in command]


def _stop(lab: Lab) -> None:
    if lab.supervisor is None:
        return
    lab.supervisor.terminate()
    try:
        lab.supervisor.wait(timeout=10)
    except subprocess.TimeoutExpired:
        lab.supervisor.kill()
        lab.supervisor.wait()
    left = processes_using(lab.root)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    if left:
        raise RuntimeError(f"processes outlived the ssh lab (now killed): {left}")


def _create_password_user() -> str | None:
    """A throw-away account for the password prompt (sshd without PAM checks /etc/shadow), when root
    can create one cleanly; `_remove_password_user` deletes it again."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("chpasswd"):
        return None
    with machine_lock("accounts"):  # useradd fails at once while another one holds /etc/passwd.lock
        for entry in pwd.getpwall():  # leftovers of killed runs: their process is gone
            owner = entry.pw_name[len(TEST_USER_PREFIX) :]
            if entry.pw_name.startswith(TEST_USER_PREFIX) and (owner == "test" or _gone(owner)):
                subprocess.run(["userdel", entry.pw_name], check=False, capture_output=True)
        made = subprocess.run(
            ["useradd", "--no-create-home", "--home-dir", "/", "--shell", "/bin/sh", TEST_USER],
            capture_output=True,
            check=False,
        )
        if made.returncode != 0:
            return None
        subprocess.run(["chpasswd"], input=f"{TEST_USER}:{PASSWORD}\n".encode(), check=True)
    return TEST_USER


def _gone(pid_text: str) -> bool:
    return pid_text.isdecimal() and not os.path.exists(f"/proc/{pid_text}")


def _remove_password_user(user: str) -> None:
    with machine_lock("accounts"):
        subprocess.run(["userdel", user], check=False, capture_output=True)


STALE_LOCK_SECONDS = 60
"""pyenv rehash gives up waiting for its lock after 60 s: a lock older than that has no owner left."""


def _clear_stale_rehash_lock() -> None:
    """The lab's hosts are this machine, so each ssh session runs root's shell start-up files; on these
    machines root's bashrc runs `pyenv init -`, whose `pyenv rehash` holds ~/.pyenv/shims/.pyenv-shim
    while it works. A session the tests end on purpose (a timeout, Ctrl-C, kill) can end it mid-rehash
    and leave the lock behind, and every later session then waited on it (60 s) past portcheck's 5 s
    timeout: a whole suite of ssh tests failed. The lab's sshd sets PYENV_REHASH_TIMEOUT=0 for its
    sessions (a held lock costs nothing), and a lock older than pyenv's own wait has no owner: removed."""
    import time

    lock = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "shims" / ".pyenv-shim"
    try:
        if time.time() - lock.stat().st_mtime > STALE_LOCK_SECONDS:
            lock.unlink()
    except OSError:
        pass  # no pyenv, no lock, or removed meanwhile


def _host_block(alias: str, port: int, **options: str) -> str:
    lines = [f"Host {alias}", f"  Port {port}", *(f"  {k} {v}" for k, v in options.items())]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def ssh_lab(root: Path, *, servers: int = 2, password: bool = True, pid1: bool = False) -> Iterator[Lab]:
    """Start the lab's sshd instances; stop every one of them (and remove the test user) at the end."""
    if os.geteuid() == 0 and not PRIVSEP_DIR.exists():
        # sshd as root insists on it; the openssh-server package has systemd create it at boot. Left in
        # place (/run is a tmpfs): removing it would break any other sshd started meanwhile.
        PRIVSEP_DIR.mkdir(mode=0o755, exist_ok=True)
    _clear_stale_rehash_lock()
    host_key = _keygen(root / "host_key")
    client_key = _keygen(root / "client_key")
    wrong_key = _keygen(root / "wrong_key")
    pass_key = _keygen(root / "pass_key", PASSPHRASE)
    (root / "authorized_keys").write_text(
        (root / "client_key.pub").read_text() + (root / "pass_key.pub").read_text()
    )
    lab = Lab(root, root / "ssh_config", relay_log=root / "relay")
    lab.relay_log.mkdir()  # type: ignore[union-attr]
    (root / "relay.py").write_text(RELAY)
    try:
        lab.servers = [_sshd_config(root, f"srv{i}", host_key) for i in range(servers)]
        if password:
            lab.password_user = _create_password_user()
            if lab.password_user is not None:
                lab.servers.append(_sshd_config(root, "password", host_key, password=True))
        if pid1 and pid_namespaces_available():
            lab.servers.append(_sshd_config(root, "pid1", host_key, pid1=True))
        slow = root / "slow.sh"
        slow.write_text(SLOW)
        slow.chmod(0o755)
        lab.servers.append(_sshd_config(root, "slow", host_key, force_command=str(slow)))
        _start(lab)
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(16)  # the kernel completes the handshake; nobody ever writes the SSH banner
        lab.hang_listener = hang
        _write_config(lab, host_key, client_key, wrong_key, pass_key)
        yield lab
    finally:
        try:
            if lab.hang_listener is not None:
                lab.hang_listener.close()
            _stop(lab)
        finally:
            if lab.password_user is not None:
                _remove_password_user(lab.password_user)


def _write_config(lab: Lab, host_key: Path, client_key: Path, wrong_key: Path, pass_key: Path) -> None:
    root = lab.root
    key_line = " ".join(host_key.with_suffix(".pub").read_text().split()[:2])
    ports = [s.port for s in lab.servers]
    (root / "known_hosts").write_text("".join(f"[127.0.0.1]:{p} {key_line}\n" for p in ports))
    lab.new_known_hosts()
    keyed = [s for s in lab.servers if s.name.startswith("srv")]
    blocks = [_host_block(s.name, s.port) for s in keyed]
    assert lab.hang_listener is not None
    blocks += [
        _host_block("refused", free_port()),
        _host_block("hang", lab.hang_listener.getsockname()[1]),
        _host_block("wrongkey", keyed[0].port, IdentityFile=str(wrong_key)),
        _host_block(
            "newkey",
            keyed[0].port,
            UserKnownHostsFile=str(root / "known_hosts.new"),
            StrictHostKeyChecking="ask",
        ),
    ]
    blocks += [_host_block(f"pass{i}", s.port, IdentityFile=str(pass_key)) for i, s in enumerate(keyed[:2])]
    relay = f"{sys.executable} {root / 'relay.py'} {lab.relay_log} %h %p"
    blocks += [_host_block(f"relay{i}", s.port, ProxyCommand=relay) for i, s in enumerate(keyed)]
    blocks += [_host_block(s.name, s.port) for s in lab.servers if s.pid1 or s.name == "slow"]
    password = next((s for s in lab.servers if s.name == "password"), None)
    if password is not None and lab.password_user is not None:
        blocks.append(
            _host_block(
                "password",
                password.port,
                User=lab.password_user,
                PubkeyAuthentication="no",
                PreferredAuthentications="password",
            )
        )
    defaults = textwrap.dedent(
        f"""\
        Host * !wrongkey !pass0 !pass1
          IdentityFile {client_key}
        Host *
          HostName 127.0.0.1
          User {lab.user}
          IdentitiesOnly yes
          IdentityAgent none
          UserKnownHostsFile {root / "known_hosts"}
          GlobalKnownHostsFile /dev/null
          StrictHostKeyChecking yes
          UpdateHostKeys no
          LogLevel ERROR
        """
    )
    # ssh takes the first value it finds for each option: the specific hosts come before `Host *`.
    # IdentityFile is the exception (every one given is tried), hence the negated block.
    lab.config.write_text("".join(blocks) + defaults)


# --- running portcheck against the lab ------------------------------------------------------------


def fleet(
    lab: Lab, *args: str, stdin: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> Result:
    """portcheck with the lab's ssh config, without a terminal (its own session, stdin not a tty)."""
    from tests.conftest import Result

    env = {**{k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "portcheck", *args, "--ssh-config", str(lab.config)],
        input=stdin.encode() if stdin is not None else None,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        env=env,
        timeout=timeout,
        start_new_session=True,
        check=False,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def interactive(lab: Lab, *args: str) -> Any:
    """portcheck on a pty of its own, as a person at a terminal runs it."""
    import pexpect

    return pexpect.spawn(
        sys.executable,
        ["-m", "portcheck", *args, "--ssh-config", str(lab.config)],
        timeout=30,
        env={**os.environ, "NO_COLOR": "1"},
        dimensions=(50, 250),  # a wide terminal: no cell is cut
        encoding="utf-8",
        codec_errors="replace",
    )
