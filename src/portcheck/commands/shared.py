"""What the commands share that needs no typer: option checks, output building and writing, the
report of a query's answer. Kept apart from commands/base.py (the typer app and its option
declarations) so that the plain `portcheck PORT...` (commands/querying.py through cli.py's fast path)
runs without importing typer and click at all: on Python 3.9 that import is ~39 ms of a ~90 ms run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from portcheck.core.errors import UsageError
from portcheck.core.filters import RowFilter
from portcheck.core.model import ExitCode, Socket
from portcheck.core.portspec import PortSpec
from portcheck.output.environment import environment
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.live.query import Answer
    from portcheck.output.render import Table

DEFAULT_WATCH_INTERVAL = 2.0
"""Seconds between redraws of `--watch` given without a number (cli.route fills it in; watch(1)'s
default)."""

MAX_SECONDS = 3600.0
"""The longest --timeout (per tool), --interval, --grace and --watch: an hour. Beyond it a number is a
mistake (`--watch 8080`), and a time near 1e18 s would overflow the clock's own type."""
MAX_WAIT = 7 * 86400.0
"""`wait --timeout`: a week (0 waits for ever)."""
MAX_PID = 2**32 - 1
"""`--pid`: Windows PIDs are 32-bit; Linux's are at most 4,194,304."""


def check_positive(seconds: float, option: str, maximum: float = MAX_SECONDS) -> None:
    if not 0 < seconds <= maximum:  # nan too: it compares false with every deadline
        raise UsageError(f"{option} must be a positive number of seconds, at most {maximum:g}")


def check_seconds(seconds: float, option: str, maximum: float = MAX_SECONDS, zero: str = "") -> None:
    """0 to `maximum` seconds; `zero` says what 0 means, when it means something other than none."""
    if not 0 <= seconds <= maximum:
        meaning = f" ({zero})" if zero else ""
        raise UsageError(f"{option} must be 0{meaning} or more seconds, at most {maximum:g}")


def check_pids(pids: Sequence[int] | None) -> None:
    for pid in pids or ():
        if not 0 <= pid <= MAX_PID:
            raise UsageError(f"--pid {pid}: a PID is 0 to {MAX_PID}")


# A NamedTuple rather than a frozen dataclass: defining a dataclass costs every start-up ~0.5 ms on 3.9.
class OutputOptions(NamedTuple):
    format: str
    fields: tuple[str, ...] | None
    header: bool
    table_format: str
    quiet: bool = False
    """-q: nothing on stdout at all; the exit status is the answer."""
    wide: bool = False
    """--wide: the table gains CMDLINE and is never cut to the terminal's width."""

    @classmethod
    def build(
        cls,
        *,
        json_flag: bool,
        fmt: str | None,
        fields: str | None,
        no_header: bool,
        table_format: str,
        quiet: bool = False,
        wide: bool = False,
    ) -> OutputOptions:
        from portcheck.output.render import FORMATS, resolve_fields

        if json_flag and fmt is not None and fmt.lower() != "json":
            raise UsageError(f"--json and --format {fmt} ask for two formats: give one")
        if quiet and (json_flag or fmt is not None):
            raise UsageError(
                f"--quiet prints nothing on stdout, so {'--json' if json_flag else '--format'} would print "
                "nothing either: drop one (--no-hints keeps the output and silences the hints)"
            )
        chosen = "json" if json_flag else (fmt or "table").lower()
        if chosen not in FORMATS:
            raise UsageError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        words = [f for f in fields.split(",") if f.strip()] if fields else None
        field_list = resolve_fields(words, table=chosen == "table") if words else None
        if chosen == "table" and table_format != "simple":
            from tabulate import tabulate_formats  # tabulate ignores a name it does not know

            if table_format not in tabulate_formats:
                styles = ", ".join(sorted(tabulate_formats))
                raise UsageError(f"unknown table format {table_format!r}; tabulate knows: {styles}")
        if wide and (chosen != "table" or field_list):
            raise UsageError(
                "--wide adds the command line to the table; --fields chooses columns itself (add cmdline), "
                "and JSON and CSV carry every field"
            )
        return cls(chosen, field_list, not no_header, table_format, quiet, wide)


def port_scope(
    ports: PortSpec, *, tcp: bool, udp: bool, ipv4: bool, ipv6: bool, listening: bool = False
) -> RowFilter:
    """Which sockets on the ports count for `kill` and `wait` (local ports only, any state)."""
    from portcheck.api.sockets import selection

    return selection(ports=ports, tcp=tcp, udp=udp, ipv4=ipv4, ipv6=ipv6, listening=listening)


def check_exposure_column(exposure: bool, output: OutputOptions, elsewhere: bool) -> None:
    """--exposure is a column of the single-machine table; JSON and CSV keep the record's fields."""
    if exposure and (output.format != "table" or elsewhere):
        raise UsageError(
            "--exposure adds a column to this machine's table; for scripts, --exposed keeps the "
            "listeners other machines can reach"
        )


class Terminal(NamedTuple):
    width: int | None
    """Columns to fit the table into; None when stdout is not a terminal (scripts get every byte)."""
    colour: bool

    @property
    def tty(self) -> bool:
        return self.width is not None


def terminal_settings() -> Terminal:
    """Colour and width only for a person at a terminal: never in pipes, with NO_COLOR, or TERM=dumb."""
    env = environment()
    if not env.stdout_isatty:
        return Terminal(None, False)
    return Terminal(env.terminal_size().columns, env.colour)


def emit(
    rows: list[Socket],
    output: OutputOptions,
    *,
    exposure: bool = False,
    images: Callable[[Socket], str | None] | None = None,
) -> ExitCode:
    """Render rows to stdout and return the exit code the contract gives for them. `exposure` adds
    the EXPOSURE column to a table (--exposure); `images` gives a row's container image, for the
    table's `process → container (image)` (portcheck.live.enrich.Owners.image)."""
    from portcheck.output.render import Table, sort_rows

    ordered = sort_rows(rows)
    after = exposure_column(ordered) if exposure else ()
    shown = [images(r) for r in ordered] if images is not None else None
    write_rows(Table(ordered, after=after, images=shown) if exposure or shown else ordered, output)
    return ExitCode.MATCH if ordered else ExitCode.NO_MATCH


def exposure_column(rows: Sequence[Socket]) -> list[tuple[str, list[str]]]:
    """`--exposure`: each listener's reach (loopback, all, specific; ? when the address is unknown);
    empty for a connection, whose reach is its listener's."""
    from portcheck.core.exposure import exposure_of
    from portcheck.core.model import is_listening

    cells = []
    for row in rows:
        reach = exposure_of(row.local_address) if is_listening(row) else ""
        cells.append("?" if reach is None else str(reach))
    return [("exposure", cells)]


def write_rows(ordered: Sequence[Socket] | Table, output: OutputOptions) -> None:
    """Render rows to stdout as they are ordered (an empty table prints nothing). A Table carries a
    fleet query's hosts or `--watch`'s marks along (portcheck.output.render.Table)."""
    from portcheck.output.render import as_table, render

    if output.quiet:
        return
    if as_table(ordered).rows or output.format != "table":
        terminal = terminal_settings()
        render(
            ordered,
            output.format,
            sys.stdout,
            fields=output.fields,
            header=output.header,
            table_format=output.table_format,
            width=terminal.width,
            colour=terminal.colour,
            wide=output.wide,
            terminal=terminal.tty,
        )


def silence_stdout() -> None:
    """-q for a command that writes to stdout in many places (kill): everything it writes there goes
    nowhere; questions and errors go to stderr, so they are unaffected."""
    import os

    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the command)


def write_lines(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))


def show_processes(lines: list[str], *, asking: bool) -> None:
    """What `kill` will end, one line per process: on stderr when it is part of a question (stdout may
    be a file, and the person answering must see what they answer), else on stdout with the outcomes."""
    stream = sys.stderr if asking else sys.stdout
    stream.write("".join(line + "\n" for line in lines))
    stream.flush()


def report_answer(reporter: Reporter, answer: Answer, host: tuple[str, str] | None = None) -> None:
    """What the query learnt on the way, on stderr: tools that failed, which one answered (--verbose),
    lines it did not understand, and the hints. For a `host` (its label and OS) each line starts with
    its name, and the hints are left to the caller: one line for many hosts (hosts.answered_hosts)."""
    label, os_name = host if host is not None else ("", "")
    where = f"{label}: " if host is not None else ""
    for attempt in answer.tried:
        (reporter.info if attempt.routine else reporter.warn)(f"{where}{attempt}")
    who = f"{label} ({os_name}): " if host is not None else ""
    reporter.info(f"{who}answered by {answer.tool}: {'; '.join(answer.commands)}")
    reporter.notes(answer.notes, f"{where}{answer.tool}")
    if host is None:
        for hint in answer.hints:
            reporter.warn(hint)


DEFAULT_PARALLEL = 8  # portcheck.fleet.fleet.DEFAULT_PARALLEL, repeated so --help does not import the fleet
MAX_PARALLEL = 64
"""Each host asked at once costs a thread, an ssh client or two and their pipes (a few descriptors):
64 stays well inside the usual limit of 1024 open files."""


# A NamedTuple rather than a frozen dataclass: defining a dataclass costs every start-up ~0.5 ms on 3.9.
class HostOptions(NamedTuple):
    hosts: tuple[str, ...] = ()
    hosts_file: str | None = None
    parallel: int = DEFAULT_PARALLEL
    ssh_config: str | None = None

    @classmethod
    def build(
        cls, hosts: Sequence[str] | None, hosts_file: str | None, parallel: int, ssh_config: str | None
    ) -> HostOptions:
        built = cls(tuple(hosts or ()), hosts_file, parallel, ssh_config)
        if not built.wanted and (ssh_config is not None or parallel != DEFAULT_PARALLEL):
            raise UsageError("--parallel and --ssh-config go with --host or --hosts")
        if not 1 <= parallel <= MAX_PARALLEL:
            raise UsageError(
                f"--parallel must be at least 1 and at most {MAX_PARALLEL} (hosts asked at once)"
            )
        return built

    @property
    def wanted(self) -> bool:
        return bool(self.hosts) or self.hosts_file is not None


def fields_without_host(fields: str | None) -> str | None:
    """`--fields host,pid` in a fleet query: host is always the first field, so it is dropped here."""
    if fields is None:
        return None
    return ",".join(f for f in fields.split(",") if f.strip().lower() != "host")
