"""Everything portcheck says to a person goes through here, to stderr: stdout carries only data."""

from __future__ import annotations

import sys
from typing import TextIO

from portcheck.core.errors import quote
from portcheck.core.escape import escape_controls
from portcheck.core.parsing import ParseNotes

MAX_STATE_WORDS = 5
"""Unknown state words named one per line; a hostile paste with a new word on every row gets one more
line for the rest, not a line per row."""


class Reporter:
    def __init__(self, *, quiet: bool = False, verbose: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self.verbose = verbose
        self._stream = stream
        self._said: set[str] = set()

    @property
    def stream(self) -> TextIO:
        return self._stream or sys.stderr

    def _write(self, message: str) -> None:
        self.stream.write(f"portcheck: {escape_controls(message)}\n")
        self.stream.flush()

    def warn(self, message: str) -> None:
        """A warning or hint: once per message, silenced by --quiet and --no-hints."""
        if self.quiet or message in self._said:
            return
        self._said.add(message)
        self._write(message)

    def info(self, message: str) -> None:
        """Detail for --verbose: which tool answered, which encoding was read."""
        if self.verbose and not self.quiet:
            self._write(message)

    def status(self, message: str) -> None:
        """What the answer is, in words, for a person at a terminal (the caller decides when)."""
        self._write(message)

    def error(self, message: str) -> None:
        """The one line that explains a failing exit code; printed even with --quiet."""
        self._write(message)

    def notes(self, notes: ParseNotes, source: str | None = None) -> None:
        where = f"{source}: " if source else ""
        if notes.skipped and notes.first_skipped:
            line, text = notes.first_skipped
            plural = "line" if notes.skipped == 1 else "lines"
            self.warn(f"{where}{notes.skipped} {plural} not understood, first at line {line}: {quote(text)}")
        words = list(notes.unknown_states.items())
        for word, count in words[:MAX_STATE_WORDS]:
            rows = "row" if count == 1 else "rows"
            self.warn(
                f"{where}unknown state word {quote(word, 40)} ({count} {rows}): shown as LISTEN when the "
                "peer is a wildcard, else UNKNOWN"
            )
        if len(words) > MAX_STATE_WORDS:
            rest = sum(count for _, count in words[MAX_STATE_WORDS:])
            self.warn(f"{where}{len(words) - MAX_STATE_WORDS} more unknown state words ({rest} rows)")
        for message in notes.messages:
            self.warn(f"{where}{message}")
