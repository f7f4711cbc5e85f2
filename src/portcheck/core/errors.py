"""The project's own exceptions. The CLI maps each to one line on stderr and an exit code; nothing else
should ever reach the user as a traceback."""

from __future__ import annotations

from portcheck.core.escape import escape_controls

EXCERPT_WIDTH = 60


def excerpt(text: str, width: int = EXCERPT_WIDTH) -> str:
    """A short, printable quote of a line, safe to show on a terminal."""
    shown = text.strip()
    if len(shown) > width:
        shown = shown[: width - 3] + "..."
    return escape_controls(shown)


def quote(text: str, width: int = EXCERPT_WIDTH) -> str:
    """An excerpt in quotes for a message. Not repr(): that would escape the escapes a second time and
    show `\\x1b` for an escape character."""
    return f"'{excerpt(text, width)}'"


class PortcheckError(Exception):
    """Base class: every error the CLI knows how to present in one line."""

    exit_code = 2


class UsageError(PortcheckError):
    """The user asked for something invalid (bad port spec, unknown format, conflicting options)."""

    exit_code = 2


class ParseError(PortcheckError):
    """Input that cannot be read as any supported format, with where and what."""

    exit_code = 2

    def __init__(self, message: str, line: int | None = None, text: str | None = None) -> None:
        self.message = message
        self.line = line
        self.text = text
        super().__init__(self.describe())

    def describe(self, source: str | None = None) -> str:
        """`<file>:<line>: <what>` as the CLI prints it (file omitted when unknown)."""
        where = [p for p in (source, None if self.line is None else str(self.line)) if p]
        detail = self.message
        if self.text:
            detail += f": {quote(self.text)}"
        return ":".join(where) + (": " if where else "") + detail


class InspectError(PortcheckError):
    """The machine could not be inspected: no usable tool, timeout, privilege refused."""

    exit_code = 3
