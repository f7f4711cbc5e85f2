"""`portcheck [PORT...] --watch [SECONDS]`: the query's table, refreshed until Ctrl-C.

On a terminal the screen is cleared and the table redrawn in place (ANSI, like watch(1)); in a pipe
each refresh is printed after a `--- timestamp ---` line, so a log of the changes can be kept. Rows that
are new since the last refresh are marked `+`; rows gone since then are shown once more, marked `-`.
Ctrl-C ends the watch with exit status 0: it is the normal way to stop; so does a reader of the pipe that
leaves (`| head -20`).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence

import typer

from portcheck.commands.base import OutputOptions, report_answer, write_rows
from portcheck.core.errors import InspectError, UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import ExitCode, Socket
from portcheck.live.query import Answer
from portcheck.output.render import Table
from portcheck.output.report import Reporter
from portcheck.output.streams import reader_gone

MAX_INTERVAL = 3600.0
"""`portcheck --watch 8080` almost surely meant port 8080: an interval above an hour is refused."""
MIN_INTERVAL = 0.1
_CLEAR = "\x1b[H\x1b[2J"


def check_interval(seconds: float) -> None:
    if not MIN_INTERVAL <= seconds <= MAX_INTERVAL:
        hint = (
            f"; to watch port {seconds:g} write `portcheck {seconds:g} --watch`"
            if MAX_INTERVAL < seconds <= 65535 and seconds.is_integer()
            else ""
        )
        raise UsageError(
            f"--watch {seconds:g}: the refresh interval is in seconds, "
            f"{MIN_INTERVAL:g} to {MAX_INTERVAL:g}{hint}"
        )


def check_format(output: OutputOptions) -> None:
    if output.format != "table":
        raise UsageError("--watch redraws a table; for scripts use `portcheck wait`, or run --json in a loop")


def mark_changes(previous: Sequence[Socket] | None, current: Sequence[Socket]) -> list[tuple[str, Socket]]:
    """Rows with their marks, in table order: `+` new, `-` gone (shown this once), ` ` unchanged. The
    first refresh has nothing to compare with, so nothing is marked."""
    from portcheck.output.render import sort_rows

    if previous is None:
        return [(" ", row) for row in sort_rows(current)]
    before, now = set(previous), set(current)
    gone = [row for row in previous if row not in now]
    marks = {row: "-" for row in gone} | {row: " " if row in before else "+" for row in current}
    return [(marks[row], row) for row in sort_rows([*current, *gone])]


def watch(
    ask: Callable[[], Answer],
    interval: float,
    *,
    output: OutputOptions,
    reporter: Reporter,
    title: str,
    nothing: str,
) -> None:
    """Refresh until Ctrl-C, then exit 0. A refresh that fails after the first is shown and retried: a
    tool that timed out once should not end the watch. The first one failing is exit 3, as without it."""
    in_place = sys.stdout.isatty() and os.environ.get("TERM") != "dumb"
    previous: list[Socket] | None = None
    try:
        while True:
            started = time.monotonic()
            problem = ""
            try:
                answer = ask()
                rows = answer.rows
                if previous is None:
                    report_answer(reporter, answer)
            except InspectError as error:
                if previous is None:
                    raise
                rows, problem = previous, f"refresh failed: {escape_controls(str(error))}"
            marked = mark_changes(previous, rows)
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            if in_place:
                sys.stdout.write(f"{_CLEAR}Every {interval:g} s: {title}    {stamp}    (Ctrl-C to stop)\n\n")
            else:
                sys.stdout.write(f"--- {stamp} ---\n")
            if problem:
                sys.stdout.write(problem + "\n")
            if marked:
                table = Table([row for _, row in marked], marks=[mark for mark, _ in marked])
                write_rows(table, output)
            else:
                sys.stdout.write(nothing + "\n")
            sys.stdout.flush()
            if reader_gone():  # `portcheck 80 --watch | head -20`: nobody reads the next refresh
                raise typer.Exit(ExitCode.MATCH)
            previous = list(rows)
            time.sleep(max(interval - (time.monotonic() - started), 0))
    except KeyboardInterrupt:
        if in_place:
            sys.stdout.write("\n")
        raise typer.Exit(ExitCode.MATCH) from None
