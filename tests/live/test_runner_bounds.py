"""The runner's bounds and its clean ends, against real processes: stderr kept as a head and a tail
(a flood costs neither disk nor memory), a large stdout read in place (memory near the cap, not twice
it), sudo's pty bounded like a pipe, every running tool ended when a fleet stops, and a hanging tool
ended by Ctrl-C and SIGTERM (`timeout 2 portcheck PORT`). Measured figures are printed (`-s`)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from portcheck.live import runner
from portcheck.live.runner import Problem, ToolError, run
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, ROOT
from tests.helpers.live import fake_tool, script

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_memory  # benchmarks/bench_memory.py: its VmHWM wrapper

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc and POSIX groups")

MIB = 2**20
LSOF_ROWS = (FIXTURES / "live" / "macos-lsof-i.txt").read_text()


def portcheck(directory: Path, *args: str, **popen: object) -> subprocess.Popen[bytes]:
    """`portcheck ARGS` with the macOS plan and only the fake tools of `directory` on PATH."""
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    env.update({"PATH": str(directory), PLATFORM_VARIABLE: "macos"})
    return subprocess.Popen(
        [sys.executable, "-m", "portcheck", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **popen,  # type: ignore[arg-type]
    )


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as status:
            return status.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def gone_soon(pid: int) -> bool:
    for _ in range(100):
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


# --- stderr: head and tail ------------------------------------------------------------------------


def test_stderr_keeps_its_head_and_tail_and_says_what_was_dropped() -> None:
    flood = "echo first >&2; head -c 50000000 /dev/zero | tr '\\0' y >&2; echo >&2; echo last >&2; echo out"
    result = run(["sh", "-c", flood], timeout=60)
    assert result.output == b"out\n"
    assert result.errors.startswith(b"first\nyyy")
    assert result.errors.endswith(b"yyy\nlast\n")
    assert result.errors_dropped == 50_000_000 + 12 - runner.STDERR_HEAD - runner.STDERR_TAIL
    assert f"[portcheck: {result.errors_dropped} bytes of stderr dropped here]".encode() in result.errors
    assert len(result.errors) < runner.STDERR_HEAD + runner.STDERR_TAIL + 100
    assert result.error_line() == "first"


def _children(pid: int) -> list[int]:
    """The processes `pid` started, in every thread of it (the runner may start tools from any)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += map(int, (task / "children").read_text().split())
        except OSError:
            continue
    return found


class Sampler(threading.Thread):
    """Watches a running portcheck: the largest total size of the regular files it holds open for
    writing (disk it fills, deleted temporary files included) and the bytes its tools (its children)
    wrote (/proc/PID/io wchar)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.disk = 0
        self.written: dict[int, int] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            total = 0
            fds = Path(f"/proc/{self.pid}/fd")
            for fd in fds.iterdir() if fds.exists() else ():
                try:
                    info = os.stat(fd)
                    flags = Path(f"/proc/{self.pid}/fdinfo/{fd.name}").read_text().split("flags:")[1]
                except (OSError, IndexError):
                    continue
                if stat.S_ISREG(info.st_mode) and int(flags.split()[0], 8) & (os.O_WRONLY | os.O_RDWR):
                    total += info.st_size  # a file it writes (the loader's libraries are read only)
            self.disk = max(self.disk, total)
            for child in _children(self.pid):
                try:
                    io_lines = Path(f"/proc/{child}/io").read_text().splitlines()
                except OSError:
                    continue
                wchar = int(next(line for line in io_lines if line.startswith("wchar:")).split()[1])
                self.written[child] = max(self.written.get(child, 0), wchar)
            time.sleep(0.05)


def test_a_stderr_flood_until_the_timeout_costs_no_disk(tmp_path: Path) -> None:
    """lsof runs `yes >&2` until the 2 s timeout (GBs through the pipe): portcheck holds no file (the
    stderr temporary file of before grew to 3.3 GB), its TMPDIR stays empty, and netstat answers."""
    tools = tmp_path / "bin"
    tools.mkdir()
    yes = Path("/usr/bin/yes") if Path("/usr/bin/yes").exists() else Path("/bin/yes")
    (tools / "lsof").write_text(f"#!/bin/sh\nexec {yes} 'lsof: flood' >&2\n")
    (tools / "lsof").chmod(0o755)
    fake_tool(tools, "netstat", output=FIXTURES / "live" / "macos-netstat-anvW.txt")
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    env.update({"PATH": str(tools), PLATFORM_VARIABLE: "macos", "TMPDIR": str(temp)})
    child = subprocess.Popen(
        [sys.executable, "-m", "portcheck", "8080", "--timeout", "2", "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    sampler = Sampler(child.pid)
    sampler.start()
    stdout, stderr = child.communicate(timeout=60)
    sampler.done.set()
    sampler.join()
    flooded = max(sampler.written.values(), default=0)
    print(f"\nstderr flood: the tool wrote {flooded / MIB:.0f} MiB; portcheck held {sampler.disk} B of files")
    assert child.returncode == 0, stderr
    assert b'"source": "netstat-bsd"' in stdout
    assert stderr.decode().splitlines()[0] == "portcheck: lsof: timed out (no answer within 2 s; killed)"
    assert flooded > 10 * MIB  # the flood was real
    assert sampler.disk == 0
    assert list(temp.iterdir()) == []


# --- a large stdout: memory near the cap ----------------------------------------------------------


@pytest.mark.slow
def test_a_255_mib_answer_costs_about_its_size_in_memory(tmp_path: Path) -> None:
    """lsof prints 255 MiB (just under the 256 MiB cap) of rows on other ports and one on 8080. The
    buffer is read in place: the peak (VmHWM, bench_memory's wrapper) is the
    answer's size plus the interpreter, not twice the answer (541 MB before)."""
    header, *rows = LSOF_ROWS.splitlines(keepends=True)
    other = "".join(r.replace(":8080", ":9") for r in rows if ":8080" in r)
    block = other * (MIB // len(other) + 1)
    size = 255 * MIB
    script(
        tmp_path,
        "lsof",
        f"""
        out = sys.stdout.buffer
        out.write({header!r}.encode())
        block = {block!r}.encode()[: {MIB}]
        block = block[: block.rindex(b"\\n") + 1]
        written = len({header!r})
        while written + len(block) <= {size}:
            out.write(block)
            written += len(block)
        out.write({rows[1]!r}.encode())
        """,
    )
    peak_file = tmp_path / "peak"
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    env.update({"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos", "PORTCHECK_PEAK_FILE": str(peak_file)})
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", bench_memory._WRAPPER, "8080", "--json", "--timeout", "120"],
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
    )
    peak = int(peak_file.read_text())
    print(f"\n255 MiB answer: peak RSS {peak / MIB:.0f} MiB in {time.monotonic() - started:.1f} s")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b'"local_port": 8080') == 1
    assert peak < 255 * MIB + 120 * MIB, f"{peak / MIB:.0f} MiB"


# --- sudo's pty -----------------------------------------------------------------------------------

FAKE_SUDO = """\
import os, sys
args = sys.argv[1:]
while args and args[0] != "--":
    args.pop(0)
args.pop(0)
tty = open("/dev/tty", "w")
tty.write(PROMPT)
tty.flush()
open("/dev/tty").readline()
os.execv(args[0], args)
"""


def test_output_through_sudos_pty_is_bounded_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool run through sudo on a terminal prints without end: it is stopped at the cap, as on a pipe."""
    from portcheck.live.sudo import PROMPT, SudoExecutor

    system = tmp_path / "system"
    system.mkdir()
    sudo = system / "sudo"
    sudo.write_text(f"#!{sys.executable}\nPROMPT = {PROMPT!r}\n" + FAKE_SUDO)
    sudo.chmod(0o755)
    script(system, "flood", "while True: sys.stdout.write('y' * 65536)\n")
    monkeypatch.setattr(runner, "SYSTEM_DIRS", (str(system),))
    monkeypatch.setattr(runner, "MAX_OUTPUT", 4 * MIB)
    executor = SudoExecutor(ask=lambda prompt: "password", terminal=True)
    with pytest.raises(ToolError) as caught:
        executor.run(["flood"], timeout=60)
    assert caught.value.problem is Problem.UNREADABLE
    assert (
        str(caught.value)
        == "flood: printed output portcheck cannot read (more than 4 MiB of output; stopped)"
    )


# --- interruption ---------------------------------------------------------------------------------


def test_stopping_ends_the_running_tools_and_refuses_new_ones(tmp_path: Path) -> None:
    """What a fleet does on Ctrl-C: the tools its worker threads run end at once (their whole group),
    new runs are refused while it stops, and runs work again afterwards (for the cleanup)."""
    pidfile = tmp_path / "grandchild.pid"
    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            run(["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"], timeout=60)
        except BaseException as error:
            outcome.append(error)

    thread = threading.Thread(target=worker)
    thread.start()
    deadline = time.monotonic() + 30
    while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.02)
    grandchild = int(pidfile.read_text())
    with runner.stopping():
        thread.join(timeout=10)
        assert not thread.is_alive()
        with pytest.raises(ToolError) as refused:
            run(["true"])
        assert refused.value.problem is Problem.INTERRUPTED
    assert isinstance(outcome[0], ToolError) and outcome[0].problem is Problem.INTERRUPTED
    assert gone_soon(grandchild)
    assert run(["true"]).status == 0


@pytest.fixture
def hanging_lsof(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A fake lsof that records its PID and hangs (and a grandchild that does too)."""
    pidfile = tmp_path / "lsof.pid"
    script(
        tmp_path,
        "lsof",
        f"""
        child = os.fork()
        if child == 0:
            time.sleep(120)
            os._exit(0)
        open({str(pidfile)!r} + ".tmp", "w").write(f"{{os.getpid()}} {{child}}")
        os.rename({str(pidfile)!r} + ".tmp", {str(pidfile)!r})
        time.sleep(120)
        """,
    )
    yield tmp_path, pidfile
    if pidfile.exists():
        for pid in map(int, pidfile.read_text().split()):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def _wait_for_file(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert path.exists(), "the tool never started"


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["INT", "TERM"]
)
def test_a_signal_ends_portcheck_and_its_hanging_tool(
    hanging_lsof: tuple[Path, Path], signum: int, code: int
) -> None:
    tools, pidfile = hanging_lsof
    child = portcheck(tools, "8080", "--timeout", "60")
    _wait_for_file(pidfile)
    started = time.monotonic()
    child.send_signal(signum)
    _, stderr = child.communicate(timeout=30)
    took = time.monotonic() - started
    print(
        f"\n{signal.Signals(signum).name} during a hanging tool: exit {child.returncode} after {took:.3f} s"
    )
    assert child.returncode == code, stderr
    assert b"Traceback" not in stderr
    assert took < 3
    assert all(gone_soon(pid) for pid in map(int, pidfile.read_text().split()))


def test_timeout_2_portcheck_leaves_no_tool_running(hanging_lsof: tuple[Path, Path]) -> None:
    """coreutils' timeout sends SIGTERM to portcheck only; the tool, in its own session, never gets it."""
    tools, pidfile = hanging_lsof
    env = {k: v for k, v in os.environ.items() if k != "PORTCHECK_DEBUG"}
    env.update({"PATH": str(tools), PLATFORM_VARIABLE: "macos"})
    timeout = "/usr/bin/timeout" if Path("/usr/bin/timeout").exists() else "timeout"
    result = subprocess.run(
        [timeout, "2", sys.executable, "-m", "portcheck", "8080", "--timeout", "60"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 124  # timeout's own status: it had to stop portcheck
    assert b"Traceback" not in result.stderr
    assert all(gone_soon(pid) for pid in map(int, pidfile.read_text().split()))
