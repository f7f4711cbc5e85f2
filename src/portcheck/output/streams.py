"""stdout when its reader leaves early: `portcheck 80 --json | head -1`.

The write that meets the closed pipe raises BrokenPipeError inside a command. Left alone, it reaches
click, whose handler exits 1 whatever the command found, so a script reading one line of a match
would be told "free". Here the error stops at the file under stdout's buffers: the rest of the output
is dropped, the command ends as it would have and exits with the code of the work done (0 when rows
matched). A command that would print for ever (`--watch`) asks `reader_gone()` and stops.
"""

from __future__ import annotations

import io
import sys
from typing import TextIO


class _ReaderAwareFile(io.FileIO):
    """stdout's file descriptor: a write to a pipe whose reader has gone is dropped, not raised."""

    gone = False

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        size = len(memoryview(data))
        if _ReaderAwareFile.gone:
            return size
        try:
            written: int = super().write(data)
        except BrokenPipeError:
            _ReaderAwareFile.gone = True
            return size
        return written


def reader_gone() -> bool:
    """True once a write to stdout met a pipe nobody reads any more."""
    return _ReaderAwareFile.gone


def guard_stdout() -> TextIO | None:
    """Put the reader-aware file under a new sys.stdout with the same encoding, error handler and
    buffering; returns the stream it replaced (None when there was nothing to do: a terminal, which
    cannot be a broken pipe, or a stream with no file descriptor, as in tests)."""
    current = sys.stdout
    if not isinstance(current, io.TextIOWrapper):
        return None
    try:
        fd = current.fileno()
        if current.isatty():
            return None
    except (OSError, ValueError):
        return None
    current.flush()
    _ReaderAwareFile.gone = False
    raw = _ReaderAwareFile(fd, "wb", closefd=False)
    sys.stdout = io.TextIOWrapper(
        io.BufferedWriter(raw),
        encoding=current.encoding,
        errors=current.errors,
        newline=None,  # writes "\n" as os.linesep, as the interpreter's own stdout does
        line_buffering=current.line_buffering,
        write_through=current.write_through,
    )
    return current
