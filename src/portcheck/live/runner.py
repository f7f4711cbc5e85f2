"""Run a native tool: argv lists only (never a shell), stdout and stderr kept apart and both bounded, a
timeout that kills the whole process group, and errors that name the tool.

Bounds (SECURITY.md): stdout is read into one growing buffer of at most MAX_OUTPUT bytes (a tool that
prints more is stopped), and handed to the parser in place, never copied; of stderr only the first and
last few KiB are kept, with a line that says how much was dropped, so a tool (or a remote host) that
floods stderr costs neither memory nor disk.

The child runs in a session of its own, so the terminal's Ctrl-C does not reach it and a timeout can
end everything it started: after a timeout, on interruption (Ctrl-C, SIGTERM), and also once it has
exited, so nothing it left behind outlives the run (a helper still holding the pipe would otherwise
keep portcheck waiting for the timeout and the answer would be lost). On POSIX the pipes are read with
a selector in the calling thread; Windows has no select() on pipes, so a thread reads there (and
stderr is part of stdout, as its tools print nothing useful apart). A fleet query runs tools in worker
threads: `stopping()` ends every tool running and refuses new ones, so an interrupted fleet stops at
once instead of walking each host's plan to the end.

The runner knows nothing about parsing: it returns bytes.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any, BinaryIO, NamedTuple, Union

from portcheck.core.errors import InspectError
from portcheck.core.strenum import StrEnum
from portcheck.platforms import LOCAL_WINDOWS

DEFAULT_TIMEOUT = 5.0
MAX_OUTPUT = 256 * 1024 * 1024
"""Bytes of output a tool may print: ss on a server with a million sockets prints about 200 MB. A tool
printing more is broken (or hostile) and is stopped, so memory stays bounded (`yes` would fill
600 MB in the default 5 s timeout)."""
STDERR_HEAD = 4096
STDERR_TAIL = 4096
"""Bytes of stderr kept from its start (a tool's complaint comes first) and from its end (ssh's reason
for failing comes last, after any banner); what lies between is counted, not kept."""
_READ_SIZE = 65536
_POLL = 0.1
"""Seconds between looks at whether the run was interrupted, or the tool exited while something it
left behind holds its pipes; idle waits only (output wakes the reader at once)."""
_LEFT_BEHIND_GRACE = 0.1
"""How long after the tool exited its pipes may stay open before its process group is ended: a tool
that daemonises a helper (`ssh -f`) has it leave the group and close the pipes within microseconds."""

Output = Union[bytes, bytearray]
"""A tool's stdout: a bytearray as read (up to MAX_OUTPUT: converting it to bytes would copy it)."""


class Problem(StrEnum):
    MISSING = "not installed"
    TIMEOUT = "timed out"
    FAILED = "failed"
    DENIED = "permission denied"
    UNREADABLE = "printed output portcheck cannot read"
    INTERRUPTED = "interrupted"


class ToolError(InspectError):
    """A tool that could not give an answer; the plan moves on to its next tool."""

    def __init__(self, tool: str, problem: Problem, detail: str = "") -> None:
        self.tool = tool
        self.problem = problem
        self.detail = detail
        super().__init__(f"{tool}: {problem.value}" + (f" ({detail})" if detail else ""))


# A NamedTuple rather than a frozen dataclass: defining a dataclass costs every start-up ~0.5 ms on 3.9.
class ToolRun(NamedTuple):
    argv: tuple[str, ...]
    status: int
    """Exit status; negative for a signal, as subprocess reports it."""
    output: Output
    errors: bytes
    """stderr's first and last few KiB, with a line between them saying how much was dropped (POSIX;
    on Windows stderr is part of output)."""
    seconds: float
    errors_dropped: int = 0
    """Bytes of stderr dropped between the kept head and tail."""

    @property
    def tool(self) -> str:
        return os.path.basename(self.argv[0])

    def error_line(self) -> str:
        """The first non-blank line of stderr, for a one-line report."""
        for line in self.errors.decode("utf-8", "replace").splitlines():
            if line.strip():
                return line.strip()
        return ""


def output_stream(output: Output) -> BinaryIO:
    """A tool's output as a binary stream read in place: io.BytesIO would copy a bytearray, which at
    the cap is another 256 MiB."""
    return io.BufferedReader(_InPlace(output), buffer_size=_READ_SIZE)


class _InPlace(io.RawIOBase):
    def __init__(self, data: Output) -> None:
        self._view = memoryview(data)
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        count = min(len(buffer), len(self._view) - self._at)
        buffer[:count] = self._view[self._at : self._at + count]
        self._at += count
        return count


class _Timeout(Exception):
    pass


class _TooMuch(Exception):
    pass


class _Interrupted(Exception):
    pass


class HeadAndTail:
    """The first `head` and last `tail` bytes of a stream, and a count of the bytes between them."""

    def __init__(self, head: int = STDERR_HEAD, tail: int = STDERR_TAIL) -> None:
        self.head = head
        self.tail = tail
        self.first = bytearray()
        self.last = bytearray()
        self.dropped = 0

    def add(self, data: bytes) -> None:
        room = self.head - len(self.first)
        if room > 0:
            self.first += data[:room]
            data = data[room:]
        self.last += data
        excess = len(self.last) - self.tail
        if excess > 0:
            del self.last[:excess]
            self.dropped += excess

    def value(self) -> bytes:
        if not self.dropped:
            return bytes(self.first + self.last)
        said = f"\n[portcheck: {self.dropped} bytes of stderr dropped here]\n".encode()
        return bytes(self.first) + said + bytes(self.last)


# --- interruption ----------------------------------------------------------------------------------

_running: set[subprocess.Popen[bytes]] = set()
_running_lock = threading.Lock()
_stopping = threading.Event()


@contextlib.contextmanager
def stopping() -> Iterator[None]:
    """While the block runs, every tool running now (in any thread) is ended and a run that starts
    raises ToolError(INTERRUPTED): worker threads finish at once. After it, runs work again (the
    cleanup that follows an interruption, `ssh -O exit`, needs them)."""
    _stopping.set()
    with _running_lock:
        running = list(_running)
    for child in running:
        _end_group(child)
    try:
        yield
    finally:
        _stopping.clear()


def _end_group(child: subprocess.Popen[bytes]) -> None:
    """End the child and everything it started (a hung `lsof` may have forked helpers). A process
    group keeps its number while any member lives, so this reaches no other program's group; once the
    last member is gone the call finds nothing (the number comes back only after the PIDs wrap)."""
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        if LOCAL_WINDOWS:
            if child.poll() is None:
                child.kill()
        else:
            os.killpg(child.pid, signal.SIGKILL)


# --- running ---------------------------------------------------------------------------------------


def which(name: str, *, system_only: bool = False) -> str | None:
    """The absolute path of a tool. `system_only` ignores PATH and looks only in system directories,
    so a `--sudo` run can never pick up a binary planted in a user-writable directory."""
    if os.path.isabs(name):
        return name if os.access(name, os.X_OK) else None
    if system_only:
        return shutil.which(name, path=os.pathsep.join(SYSTEM_DIRS))
    return shutil.which(name)


SYSTEM_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def run(
    argv: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    leaves_daemon: bool = False,
) -> ToolRun:
    """Run argv to completion and return its output; raise ToolError if it is missing or times out.

    A non-zero exit is returned, not raised: some tools (lsof with no match) exit 1 with a valid answer,
    so the caller decides.

    `leaves_daemon`: the tool starts a background process on purpose (`ssh -f`, the ControlMaster,
    whose ProxyCommand stays in the tool's process group and keeps its stderr): after a normal exit
    the group is left alone, and the pipes are read only for what they hold by then.
    """
    if not argv:
        raise ValueError("empty argv")
    tool = os.path.basename(argv[0])
    path = which(argv[0])
    if path is None:
        raise ToolError(tool, Problem.MISSING)
    full_env = None if env is None else {**os.environ, **env}
    started = time.perf_counter()
    child = _start(tool, [path, *argv[1:]], full_env)
    finished = False
    try:
        output, errors, status = _collect(
            child, time.monotonic() + timeout, MAX_OUTPUT, end_group=not leaves_daemon
        )
        finished = True
    except _Timeout:
        raise ToolError(tool, Problem.TIMEOUT, f"no answer within {timeout:g} s; killed") from None
    except _TooMuch:
        detail = f"more than {MAX_OUTPUT // 2**20} MiB of output; stopped"
        raise ToolError(tool, Problem.UNREADABLE, detail) from None
    except _Interrupted:
        raise ToolError(tool, Problem.INTERRUPTED) from None
    finally:  # also Ctrl-C: the child is in its own session, so the terminal's SIGINT never reached it
        if not (finished and leaves_daemon):
            _end_group(child)
        _forget(child)
    return ToolRun(tuple(argv), status, output, errors.value(), time.perf_counter() - started, errors.dropped)


def _start(tool: str, argv: list[str], env: dict[str, str] | None) -> subprocess.Popen[bytes]:
    kwargs: dict[str, Any] = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "env": env}
    if LOCAL_WINDOWS:
        kwargs["stderr"] = subprocess.STDOUT
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        kwargs["stderr"] = subprocess.PIPE
        kwargs["start_new_session"] = True
    if _stopping.is_set():
        raise ToolError(tool, Problem.INTERRUPTED)
    try:
        child = subprocess.Popen(list(argv), **kwargs)
    except PermissionError as error:
        raise ToolError(tool, Problem.DENIED, str(error)) from None
    except OSError as error:
        raise ToolError(tool, Problem.FAILED, error.strerror or str(error)) from None
    with _running_lock:  # stopping() sets its flag before it looks: one of the two sees the other
        _running.add(child)
        interrupted = _stopping.is_set()
    if interrupted:
        _end_group(child)
        _forget(child)
        raise ToolError(tool, Problem.INTERRUPTED)
    return child


def _forget(child: subprocess.Popen[bytes]) -> None:
    with _running_lock:
        _running.discard(child)
    for pipe in (child.stdout, child.stderr):
        if pipe is not None:
            pipe.close()
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=5)  # killed: at once (a tool still in the kernel may take a moment)


def _collect(
    child: subprocess.Popen[bytes], deadline: float, limit: int, *, end_group: bool
) -> tuple[bytearray, HeadAndTail, int]:
    """stdout (at most `limit` bytes, else _TooMuch), stderr's head and tail, and the exit status, by
    the monotonic `deadline` (else _Timeout: a child that closed its stdout but runs on, too)."""
    output = bytearray()
    errors = HeadAndTail()

    def keep(data: bytes) -> None:
        output.extend(data)
        if len(output) > limit:
            raise _TooMuch

    assert child.stdout is not None
    sinks: dict[IO[bytes], Callable[[bytes], None]] = {child.stdout: keep}
    if child.stderr is not None:
        sinks[child.stderr] = errors.add
    if LOCAL_WINDOWS:
        _read_in_thread(child.stdout, keep, deadline)
    else:
        _read_with_selector(child, sinks, deadline, end_group=end_group)
    try:
        status = child.wait(timeout=max(deadline - time.monotonic(), 0.0))
    except subprocess.TimeoutExpired:
        raise _Timeout from None
    if _stopping.is_set():  # ended by stopping() (its pipes closed as it died): not an answer
        raise _Interrupted
    return output, errors, status


def _read_with_selector(
    child: subprocess.Popen[bytes],
    sinks: dict[IO[bytes], Callable[[bytes], None]],
    deadline: float,
    *,
    end_group: bool,
) -> None:
    """Until EOF on every pipe; or, once the tool has exited and something it left holds a pipe, what
    the pipes already hold (all the tool wrote: its writes completed before it exited), after ending
    its process group (`end_group`)."""
    import selectors

    exited_at: float | None = None
    with selectors.DefaultSelector() as selector:
        for pipe in sinks:
            os.set_blocking(pipe.fileno(), False)
            selector.register(pipe, selectors.EVENT_READ)
        while selector.get_map():
            if _stopping.is_set():
                raise _Interrupted
            now = time.monotonic()
            if now >= deadline:
                raise _Timeout
            for key, _ in selector.select(min(deadline - now, _POLL)):
                if not _read_once(key.fileobj, sinks):  # type: ignore[arg-type]
                    selector.unregister(key.fileobj)
            if child.poll() is None:
                continue
            exited_at = exited_at or time.monotonic()
            if time.monotonic() - exited_at >= _LEFT_BEHIND_GRACE:
                if end_group:
                    _end_group(child)
                for key in list(selector.get_map().values()):
                    _read_available(key.fileobj, sinks, deadline)  # type: ignore[arg-type]
                return


def _read_once(pipe: IO[bytes], sinks: dict[IO[bytes], Callable[[bytes], None]]) -> bool:
    """One read of what a ready pipe holds; False at EOF."""
    try:
        data = os.read(pipe.fileno(), _READ_SIZE)
    except BlockingIOError:
        return True
    if not data:
        return False
    sinks[pipe](data)
    return True


def _read_available(
    pipe: IO[bytes], sinks: dict[IO[bytes], Callable[[bytes], None]], deadline: float
) -> None:
    """Everything a pipe holds now, without waiting for more (bounded by the deadline and the sinks)."""
    while time.monotonic() < deadline:
        try:
            data = os.read(pipe.fileno(), _READ_SIZE)
        except BlockingIOError:
            return
        if not data:
            return
        sinks[pipe](data)


def _read_in_thread(pipe: IO[bytes], keep: Callable[[bytes], None], deadline: float) -> None:
    """Windows: a thread reads the pipe (select() takes sockets only there) into a queue."""
    from queue import Empty, Queue

    chunks: Queue[bytes | None] = Queue()

    def read() -> None:
        while True:
            try:
                data = os.read(pipe.fileno(), _READ_SIZE)
            except OSError:
                data = b""
            chunks.put(data or None)
            if not data:
                return

    threading.Thread(target=read, daemon=True).start()
    while True:
        if _stopping.is_set():
            raise _Interrupted
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise _Timeout
        try:
            data = chunks.get(timeout=min(remaining, _POLL))
        except Empty:
            continue
        if data is None:
            return
        keep(data)
