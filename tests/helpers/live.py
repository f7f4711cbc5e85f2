"""Helpers for the live tests: a child process that holds real sockets under a known name, a PATH
that shows portcheck only chosen tools, fake native tools that print recorded output and record
their argv, and a way to run portcheck as an unprivileged user."""

from __future__ import annotations

import json
import os
import pwd
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import typer

from portcheck.core.model import FIELDS
from tests.helpers.ports import BIND_UDP_SOURCE

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"

_HOLDER = r"""
import ctypes, json, socket, sys
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)  # PR_SET_NAME: what comm, ss and lsof show
tcp4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp4.bind(("127.0.0.1", 0)); tcp4.listen()
tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
tcp6.bind(("::1", 0)); tcp6.listen()
client = socket.create_connection(tcp4.getsockname())
server, _ = tcp4.accept()
udp4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); bind_udp(udp4, "127.0.0.1")
udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); bind_udp(udp6, "::1")
print(json.dumps({
    "tcp4": tcp4.getsockname()[1], "tcp6": tcp6.getsockname()[1], "client": client.getsockname()[1],
    "udp4": udp4.getsockname()[1], "udp6": udp6.getsockname()[1],
}), flush=True)
sys.stdin.read()
"""
_HOLDER = BIND_UDP_SOURCE + _HOLDER


@dataclass
class Holder:
    pid: int
    name: str
    user: str
    ports: dict[str, int]
    cmdline: str = ""
    """Its arguments as a shell would need them (shlex.join), what `cmdline` must show."""
    started: str | None = None
    """When it started, as procps' `ps -o lstart` says (TZ=UTC), in ISO 8601: what `started` must show."""

    def expected(self, *, remote: bool = False) -> list[dict[str, object]]:
        """The rows every backend must report for the holder's local ports (client side with --remote)."""
        p = self.ports
        owner = (self.pid, self.name, self.user, None, self.cmdline, self.started)  # dual_stack: null
        rows: list[tuple[object, ...]] = [
            ("tcp", "ipv4", "127.0.0.1", p["tcp4"], None, None, "LISTEN", *owner),
            ("tcp", "ipv4", "127.0.0.1", p["tcp4"], "127.0.0.1", p["client"], "ESTABLISHED", *owner),
            ("tcp", "ipv6", "::1", p["tcp6"], None, None, "LISTEN", *owner),
            ("udp", "ipv4", "127.0.0.1", p["udp4"], None, None, "NONE", *owner),
            ("udp", "ipv6", "::1", p["udp6"], None, None, "NONE", *owner),
        ]
        if remote:
            rows.append(
                ("tcp", "ipv4", "127.0.0.1", p["client"], "127.0.0.1", p["tcp4"], "ESTABLISHED", *owner)
            )
        return records(None, *rows)

    def strangers_left_out(self, rows: list[dict[str, object]]) -> list[dict[str, object]]:
        """The rows, less those of other processes on an address the holder does not use. Its TCP ports
        on 127.0.0.1 and ::1 are picked apart, so another suite's socket may have 127.0.0.1:P while
        the holder has ::1:P; a socket of the holder's that a tool gives to no PID or to another one is
        still missing from what is left."""
        held = {(r["local_address"], r["local_port"]) for r in self.expected(remote=True)}
        held |= {(r["remote_address"], r["remote_port"]) for r in self.expected(remote=True)}
        return [r for r in rows if r["pid"] == self.pid or (r["local_address"], r["local_port"]) in held]

    @property
    def port_args(self) -> list[str]:
        p = self.ports
        return [str(p["tcp4"]), f"{p['tcp6']},{p['udp4']}", str(p["udp6"])]


_BEFORE_SOURCE = FIELDS[: FIELDS.index("source")]


def records(source: str | None, *rows: tuple[object, ...]) -> list[dict[str, object]]:
    """JSON records from tuples in contract field order up to `user`, then `source` (None: left out),
    then the fields added after it: the tuple's further values in their order, null past its end."""
    added = FIELDS[len(_BEFORE_SOURCE) + 1 :]
    own = {"source": source} if source is not None else {}
    width = len(_BEFORE_SOURCE)
    return [
        {**dict(zip(_BEFORE_SOURCE, row)), **own, **dict.fromkeys(added), **dict(zip(added, row[width:]))}
        for row in rows
    ]


def own_name(prefix: str) -> str:
    """`prefix` (its first ten characters) and this process's id in hex: at most 15 characters, all of
    which a comm keeps. Tests that look for their holder by name (`--process`) then find only their own,
    not the one of another pytest-xdist worker or of another suite running on the machine."""
    return f"{prefix[:10]}-{os.getpid() & 0xFFFF:04x}"


def ps_started(pid: int) -> str | None:
    """PID's start as procps' ps prints it (`lstart`, in UTC), in ISO 8601: an independent reading of
    /proc/PID/stat and the boot time, to hold portcheck's `started` against."""
    import time

    done = subprocess.run(
        ["ps", "-o", "lstart=", "-p", str(pid)],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(done.stdout.strip(), "%a %b %d %H:%M:%S %Y"))


@contextmanager
def socket_holder(name: str = "pc-holder") -> Iterator[Holder]:
    """A child process named `name` holding TCP and UDP sockets on IPv4 and IPv6 loopback: two
    listeners, an established pair and two bound UDP sockets, all on ports the kernel chose."""
    # argv[0] is the name too: netstat names a process by its command line, ss and lsof by its comm.
    child = subprocess.Popen(
        [name, "-c", _HOLDER, name],
        executable=sys.executable,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ports = json.loads(child.stdout.readline())
        user = pwd.getpwuid(os.getuid()).pw_name
        cmdline = shlex.join([name, "-c", _HOLDER, name])
        yield Holder(child.pid, name, user, ports, cmdline, ps_started(child.pid))
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)


def only_tools(directory: Path, *tools: str) -> str:
    """A PATH holding symlinks to just these real tools: every other backend is hidden."""
    directory.mkdir(parents=True, exist_ok=True)
    for tool in tools:
        real = shutil.which(tool)
        assert real is not None, f"{tool} is not installed"
        (directory / tool).symlink_to(real)
    return str(directory)


def _bytes(output: Path | str | bytes) -> bytes:
    if isinstance(output, Path):
        return output.read_bytes()
    return output.encode() if isinstance(output, str) else output


def fake_tool(
    directory: Path,
    name: str,
    *,
    output: Path | str | bytes = b"",
    when: dict[str, Path | str | bytes] | None = None,
    status: int = 0,
    stderr: str = "",
    hang: bool = False,
) -> Path:
    """An executable `name` that appends its argv (JSON) to `<directory>/argv.log`, then prints
    `output` (a recorded fixture file or literal text), or `when[token]` for the first token of its
    argv that `when` has, and exits with `status`; or hangs."""
    directory.mkdir(parents=True, exist_ok=True)
    choices = {token: directory / f"{name}.{i}.out" for i, token in enumerate(when or {})}
    for token, path in choices.items():
        path.write_bytes(_bytes((when or {})[token]))
    default = directory / f"{name}.out"
    default.write_bytes(_bytes(output))
    table = {token: str(path) for token, path in choices.items()}
    script = directory / name
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""\
            import json, os, sys, time
            with open({str(directory / "argv.log")!r}, "a") as log:
                log.write(json.dumps([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
            if {hang!r}:
                time.sleep(60)
            table = {table!r}
            chosen = next((table[a] for a in sys.argv[1:] if a in table), {str(default)!r})
            sys.stdout.buffer.write(open(chosen, "rb").read())
            sys.stderr.write({stderr!r})
            sys.exit({status})
            """
        )
    )
    script.chmod(0o755)
    return script


def script(directory: Path, name: str, body: str) -> Path:
    """An executable Python script `name` running `body` (with os, sys, time, signal imported)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(f"#!{sys.executable}\nimport os, signal, sys, time\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def recorded_argv(directory: Path) -> list[list[str]]:
    log = directory / "argv.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def unprivileged_python() -> tuple[list[str], dict[str, str]] | None:
    """argv prefix and environment that run `-m portcheck` as the user nobody, or None when this
    machine cannot (not root, no setpriv, or the interpreter/packages unreadable for nobody)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    prefix = [setpriv, f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]
    packages = str(Path(typer.__file__).resolve().parent.parent)
    env = {"PYTHONPATH": os.pathsep.join([str(SRC), packages]), "HOME": "/", "PYTHONDONTWRITEBYTECODE": "1"}
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for python in (sys.executable, shutil.which(version), f"/usr/bin/{version}"):
        if not python:
            continue
        probe = subprocess.run(
            [*prefix, python, "-c", "import portcheck.cli, pexpect, tabulate"],
            env={**os.environ, **env},
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return [*prefix, python], env
    return None


def run_as_nobody(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python ARGS` as the user nobody (skips the test where this machine cannot), text captured."""
    import pytest

    runner = unprivileged_python()
    if runner is None:
        pytest.skip("cannot run Python as the user nobody here (not root, or files unreadable)")
    prefix, base = runner
    return subprocess.run(
        [*prefix, *args],
        env={**os.environ, **base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def macos_kill_as_nobody(
    lsof: str, pid: int, port: int, *, with_kill: bool
) -> subprocess.CompletedProcess[str]:
    """`portcheck kill PORT --yes` as the user nobody with the macOS plan: `lsof` is the shell script
    `lsof` (it gets PC_PID and PC_PORT), in a directory nobody can read; `with_kill`: /bin/kill beside it."""
    import tempfile

    from portcheck.platforms import PLATFORM_VARIABLE

    with tempfile.TemporaryDirectory(prefix="portcheck-bin-") as directory:
        os.chmod(directory, 0o755)
        script = Path(directory) / "lsof"
        script.write_text(lsof)
        script.chmod(0o755)
        if with_kill:
            (Path(directory) / "kill").symlink_to("/bin/kill")
        env = {"PATH": directory, PLATFORM_VARIABLE: "macos", "PC_PID": str(pid), "PC_PORT": str(port)}
        return run_as_nobody("-m", "portcheck", "kill", str(port), "--yes", env=env)
