"""`portcheck [PORT...] --watch [SECONDS]`: the query's table, refreshed until Ctrl-C.

On a terminal the screen is cleared and the table redrawn in place (ANSI, like watch(1)); in a pipe
each refresh is printed after a `--- timestamp ---` line, so a log of the changes can be kept. Rows that
are new since the last refresh are marked `+`; rows gone since then are shown once more, marked `-`.
Ctrl-C ends the watch with exit status 0: it is the normal way to stop; so does a reader of the pipe that
leaves (`| head -20`).
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Sequence

import typer

from portcheck.commands.base import OutputOptions, report_answer, terminal_settings, write_rows
from portcheck.core.errors import InspectError, UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import ExitCode, Socket
from portcheck.live.query import Answer
from portcheck.output.environment import environment
from portcheck.output.render import Table, cut_line, default_columns, render_table, visible_width
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
    """Rows with their marks, in table order: `+` new, `-` gone (shown this once), ` ` unchanged. Rows
    are matched as `portcheck diff` matches them (portcheck.core.changes: socket and process name,
    not PID). The first refresh has nothing to compare with, so nothing is marked."""
    from portcheck.core.changes import compare
    from portcheck.output.render import sort_rows

    if previous is None:
        return [(" ", row) for row in sort_rows(current)]
    changes = compare(previous, current)
    marks = {id(row): "+" for row in changes.added}
    marks.update((id(row), "-") for row in changes.removed)
    return [(marks.get(id(row), " "), row) for row in sort_rows([*current, *changes.removed])]


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
    env = environment()
    in_place = env.stdout_isatty and not env.dumb_terminal
    previous: list[Socket] | None = None
    try:
        while True:
            started = env.monotonic()
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
            stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(env.now()))
            if in_place:
                heading = [f"Every {interval:g} s: {title}", stamp, "(Ctrl-C to stop)"]
                sys.stdout.write(_CLEAR + screen(heading, problem, marked, nothing, output))
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
            env.sleep(max(interval - (env.monotonic() - started), 0))
    except KeyboardInterrupt:
        if in_place:
            sys.stdout.write("\n")
        raise typer.Exit(ExitCode.MATCH) from None


DROPPED_FIRST = ("user", "remote", "process", "proto")
"""Columns a frame too narrow for the table leaves out, in this order: the local address, the state
and the PID stay (they answer "who holds it?"); only then are lines cut at the edge."""


def screen(
    heading: list[str], problem: str, marked: list[tuple[str, Socket]], nothing: str, output: OutputOptions
) -> str:
    """One frame for the terminal, never taller or wider than it, so that the heading (its last parts
    left out where they do not fit) and the table's header stay in view: a frame that scrolled would
    push them off the top. Rows that do not fit are counted in a last `… +N more rows` line; columns
    that do not fit are left out (DROPPED_FIRST), unless --fields chose them; a line still too wide
    (a long IPv6 address) is cut with `…`."""
    size = environment().screen_size()
    width, height = max(size.columns, 20), max(size.lines, 5)
    parts = list(heading)
    while len(parts) > 1 and len("    ".join(parts)) > width:  # what a narrow terminal can spare
        parts.pop()
    lines = ["    ".join(parts), ""] + ([problem] if problem else [])
    room = height - len(lines) - 1  # the cursor's line: a newline written there would scroll
    if marked:
        lines += _fitted_table(marked, output, width, room)
    else:
        lines.append(nothing)
    return "".join(cut_line(line, width) + "\n" for line in lines[: height - 1])


def _fitted_table(
    marked: list[tuple[str, Socket]], output: OutputOptions, width: int, room: int
) -> list[str]:
    rows = [row for _, row in marked]
    marks = [mark for mark, _ in marked]
    columns = list(output.fields) if output.fields else default_columns(rows)
    colour = terminal_settings().colour

    def draw(count: int) -> list[str]:
        out = io.StringIO()
        table = Table(rows[:count], marks=marks[:count])
        render_table(
            table,
            out,
            fields=columns,
            header=output.header,
            table_format=output.table_format,
            width=width,
            colour=colour,
        )
        return out.getvalue().splitlines()

    lines = draw(len(rows))
    for column in DROPPED_FIRST if output.fields is None else ():
        if max(map(visible_width, lines), default=0) <= width:
            break
        if column in columns:
            columns.remove(column)
            lines = draw(len(rows))
    shown = len(rows)
    while shown > 0 and len(lines) + (shown < len(rows)) > room:
        shown -= max(1, len(lines) + 1 - room)  # a style with rules between rows loses more lines per row
        shown = max(shown, 0)
        lines = draw(shown)
    if shown < len(rows):
        lines.append(f"… +{len(rows) - shown} more rows")
    return lines
