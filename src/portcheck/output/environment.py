"""The process's side of a run: its standard streams, whether each is a terminal, the terminal's size,
whether to colour, and the clock (httpie's `Environment`).

Commands ask `environment()` instead of calling `sys.stdout.isatty()`, `shutil.get_terminal_size()` or
`time.sleep()` themselves, so a test can run the whole CLI in this process with streams in memory, a
terminal of any size, and a clock that does not wait (`portcheck.cli.run(args, Environment(...))`).

The streams an Environment is built with are installed as `sys.stdin`, `sys.stdout` and `sys.stderr` for
the length of a run (`Environment.installed`), as click's own test runner does: click, typer and every
layer below the commands (the reporter, ssh's prompts) then write where the commands write, and a
stream the run itself replaces (`kill -q` silences stdout) is seen by all of them. The default
Environment is the real process, whose streams are already in place.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import BinaryIO, TextIO


class Environment:
    """What a run may know about the process it runs in. Everything left out is the real process's.
    (A plain class: a dataclass would cost every `portcheck PORT` a few hundred microseconds to define.)"""

    def __init__(
        self,
        *,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
        stderr: TextIO | None = None,
        stdin_isatty: bool | None = None,
        stdout_isatty: bool | None = None,
        stderr_isatty: bool | None = None,
        terminal_size: tuple[int, int] | None = None,
        environ: Mapping[str, str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
        process: bool = False,
    ) -> None:
        self._streams = (stdin, stdout, stderr)
        self._ttys = (stdin_isatty, stdout_isatty, stderr_isatty)
        self._size = terminal_size
        self._environ = environ
        self.monotonic = monotonic
        """Seconds that only go forward: deadlines and intervals (`wait`, `--watch`)."""
        self.sleep = sleep
        self.now = now
        """Seconds since the epoch: the time a person reads (`--watch`'s stamp)."""
        self._process = process

    @classmethod
    def from_process(cls) -> Environment:
        """This process as it is: its streams, its terminal, its environment variables, its clock."""
        return cls(process=True)

    # The streams are sys.stdin/stdout/stderr during a run (see the module docstring): read live, so a
    # stream replaced during the run (a closed stderr turned into /dev/null) is the one used.
    @property
    def stdin(self) -> TextIO | None:
        return sys.stdin

    @property
    def stdout(self) -> TextIO:
        return sys.stdout

    @property
    def stderr(self) -> TextIO:
        return sys.stderr

    @property
    def environ(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    @property
    def stdin_isatty(self) -> bool:
        return self._isatty(0, sys.stdin)

    @property
    def stdout_isatty(self) -> bool:
        return self._isatty(1, sys.stdout)

    @property
    def stderr_isatty(self) -> bool:
        return self._isatty(2, sys.stderr)

    def _isatty(self, which: int, stream: TextIO | None) -> bool:
        given = self._ttys[which]
        if given is not None:
            return given
        if stream is None:  # closed (`portcheck ... <&-`)
            return False
        try:
            return stream.isatty()
        except (OSError, ValueError):
            return False

    def terminal_size(self) -> os.terminal_size:
        """Columns and lines for a table: COLUMNS and LINES when exported, else the terminal's."""
        if self._size is not None:
            return os.terminal_size(self._size)
        import shutil

        return shutil.get_terminal_size()

    def screen_size(self) -> os.terminal_size:
        """The size of the terminal stdout is on, asked of the terminal itself (a redrawn screen must
        fit exactly, and COLUMNS and LINES in the environment may be stale exports); the table's size
        when stdout is no terminal."""
        if self._size is not None:
            return os.terminal_size(self._size)
        try:
            return os.get_terminal_size(sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            return self.terminal_size()

    @property
    def colour(self) -> bool:
        """Colour only for a person at a terminal: never in a pipe, with NO_COLOR set to anything but
        the empty string (no-color.org), or with TERM=dumb."""
        environ = self.environ
        return self.stdout_isatty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"

    @property
    def dumb_terminal(self) -> bool:
        """TERM=dumb: a terminal that cannot move the cursor or clear the screen."""
        return self.environ.get("TERM") == "dumb"

    def open_stdin(self) -> BinaryIO | None:
        """Standard input's bytes as a stream of its own (closing it leaves stdin open); None when stdin
        is closed."""
        stream = sys.stdin
        if stream is None:
            return None
        try:
            fd = stream.fileno()
        except (OSError, ValueError, AttributeError):  # a stream in memory (tests)
            import io

            buffer = getattr(stream, "buffer", None)
            data = buffer.read() if buffer is not None else stream.read().encode("utf-8")
            return io.BytesIO(data)
        return os.fdopen(os.dup(fd), "rb")

    @contextmanager
    def installed(self) -> Iterator[Environment]:
        """The run's streams as sys.stdin/stdout/stderr, and this as `environment()`, until the block
        ends; then the previous ones again, whatever the run replaced them with (a closed stderr
        turned into /dev/null, `kill -q`'s silenced stdout)."""
        global _current
        previous = (sys.stdin, sys.stdout, sys.stderr)
        before = _current
        if not self._process:
            sys.stdin, sys.stdout, sys.stderr = self._streams  # None: closed, as a process may have them
        _current = self
        try:
            yield self
        finally:
            _current = before
            sys.stdin, sys.stdout, sys.stderr = previous


_current: Environment | None = None


def environment() -> Environment:
    """The Environment of the run in progress; the real process's outside a run (the Python API)."""
    global _current
    if _current is None:
        _current = Environment.from_process()
    return _current
