"""Run a native tool: argv lists only (never a shell), a timeout that kills the whole process group,
stdout and stderr kept apart, and errors that name the tool.

Plain runs use pexpect's PopenSpawn: pipes, no pty, so no 0.1 s close delays, and it works on Windows.
PopenSpawn merges stderr into stdout, which would feed a tool's complaints (`RTNETLINK answers: ...`)
to the parser as rows; `_Spawn` therefore repeats its small constructor with stderr sent to a temporary
file, and with the child in a new session so a timeout can kill the child's own children too.
The runner knows nothing about parsing: it returns bytes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import IO, Any

from portcheck.core.errors import InspectError
from portcheck.core.strenum import StrEnum
from portcheck.platforms import LOCAL_WINDOWS

DEFAULT_TIMEOUT = 5.0
MAX_OUTPUT = 256 * 1024 * 1024
"""Bytes of output a tool may print: ss on a server with a million sockets prints about 200 MB. A tool
printing more is broken (or hostile) and is stopped, so memory stays bounded (`yes` would fill
600 MB in the default 5 s timeout)."""
_READ_SIZE = 65536
_STDERR_KEPT = 8192


class Problem(StrEnum):
    MISSING = "not installed"
    TIMEOUT = "timed out"
    FAILED = "failed"
    DENIED = "permission denied"
    UNREADABLE = "printed output portcheck cannot read"


class ToolError(InspectError):
    """A tool that could not give an answer; the plan moves on to its next tool."""

    def __init__(self, tool: str, problem: Problem, detail: str = "") -> None:
        self.tool = tool
        self.problem = problem
        self.detail = detail
        super().__init__(f"{tool}: {problem.value}" + (f" ({detail})" if detail else ""))


@dataclass(frozen=True)
class ToolRun:
    argv: tuple[str, ...]
    status: int
    """Exit status; negative for a signal, as subprocess reports it."""
    output: bytes
    errors: bytes
    """The first few KiB of stderr, for messages (POSIX; on Windows stderr is part of output)."""
    seconds: float

    @property
    def tool(self) -> str:
        return os.path.basename(self.argv[0])

    def error_line(self) -> str:
        """The first non-blank line of stderr, for a one-line report."""
        for line in self.errors.decode("utf-8", "replace").splitlines():
            if line.strip():
                return line.strip()
        return ""


class _Timeout(Exception):
    pass


class _TooMuch(Exception):
    pass


@cache
def _spawn_class() -> Any:
    """The PopenSpawn subclass, built on first use: importing pexpect costs a few milliseconds that
    `portcheck parse` and `--help` never need."""
    from queue import Empty, Queue

    from pexpect.popen_spawn import PopenSpawn

    class _Spawn(PopenSpawn):  # type: ignore[misc]
        """PopenSpawn with stderr kept apart and the child in its own session (see module docstring)."""

        def __init__(
            self, argv: Sequence[str], timeout: float, env: Mapping[str, str] | None, stderr: IO[bytes]
        ):
            PopenSpawn.__bases__[0].__init__(self, timeout=timeout, maxread=_READ_SIZE)
            self.crlf = os.linesep.encode("ascii")
            kwargs: dict[str, Any] = {
                "bufsize": 0,
                "stdin": subprocess.DEVNULL,
                "stdout": subprocess.PIPE,
                "env": dict(env) if env is not None else None,
            }
            if LOCAL_WINDOWS:
                kwargs["stderr"] = subprocess.STDOUT
                kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
            else:
                kwargs["stderr"] = stderr
                kwargs["start_new_session"] = True
            self.proc = subprocess.Popen(list(argv), **kwargs)
            self.pid = self.proc.pid
            self.closed = False
            self._buf = self.string_type()
            self._read_queue: Queue[bytes | None] = Queue()
            self._read_thread = threading.Thread(target=self._read_incoming, daemon=True)
            self._read_thread.start()

        def _read_incoming(self) -> None:
            """Move output from the pipe to the queue in large reads (pexpect's thread reads 1 KiB)."""
            assert self.proc.stdout is not None
            fileno = self.proc.stdout.fileno()
            while True:
                try:
                    data = os.read(fileno, _READ_SIZE)
                except OSError:
                    data = b""
                self._read_queue.put(data or None)
                if not data:
                    return

        def collect(self, deadline: float, limit: int) -> tuple[bytes, int]:
            """Everything the child prints until EOF, and its exit status. Raises _Timeout when the
            monotonic `deadline` passes first (a child that closed its stdout but runs on, too) and
            _TooMuch beyond `limit` bytes; the caller kills the child then."""
            chunks: list[bytes] = []
            size = 0
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Timeout
                try:
                    data = self._read_queue.get(timeout=remaining)
                except Empty:
                    raise _Timeout from None
                if data is None:
                    break
                chunks.append(data)
                size += len(data)
                if size > limit:
                    raise _TooMuch
            try:
                status: int = self.proc.wait(timeout=max(deadline - time.monotonic(), 0.0))
            except subprocess.TimeoutExpired:
                raise _Timeout from None
            return b"".join(chunks), status

        def kill_group(self) -> None:
            """End the child and everything it started (a hung `lsof` may have forked helpers)."""
            try:
                if LOCAL_WINDOWS:
                    self.proc.kill()
                else:
                    os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()

    return _Spawn


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
    argv: Sequence[str], *, timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None
) -> ToolRun:
    """Run argv to completion and return its output; raise ToolError if it is missing or times out.

    A non-zero exit is returned, not raised: some tools (lsof with no match) exit 1 with a valid answer,
    so the caller decides.
    """
    if not argv:
        raise ValueError("empty argv")
    tool = os.path.basename(argv[0])
    path = which(argv[0])
    if path is None:
        raise ToolError(tool, Problem.MISSING)
    import tempfile  # only runs pay for it (tempfile imports random)

    full_env = None if env is None else {**os.environ, **env}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as stderr:
        try:
            child = _spawn_class()([path, *argv[1:]], timeout, full_env, stderr)
        except PermissionError as error:
            raise ToolError(tool, Problem.DENIED, str(error)) from None
        except OSError as error:
            raise ToolError(tool, Problem.FAILED, error.strerror or str(error)) from None
        try:
            output, status = child.collect(time.monotonic() + timeout, MAX_OUTPUT)
        except _Timeout:
            child.kill_group()
            raise ToolError(tool, Problem.TIMEOUT, f"no answer within {timeout:g} s; killed") from None
        except _TooMuch:
            child.kill_group()
            detail = f"more than {MAX_OUTPUT // 2**20} MiB of output; stopped"
            raise ToolError(tool, Problem.UNREADABLE, detail) from None
        except BaseException:  # Ctrl-C: the child is in its own session, so the terminal's SIGINT
            child.kill_group()  # never reached it; do not leave it running
            raise
        stderr.seek(0)
        errors = stderr.read(_STDERR_KEPT)
    return ToolRun(tuple(argv), status, output, errors, time.perf_counter() - started)
