"""The typer app and what its commands share: option declarations, output and filter building.

Each command lives in its own module of this package and registers itself on `app` when imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple, Optional

import typer
from typer.core import TyperGroup

from portcheck import __version__
from portcheck.core.errors import UsageError
from portcheck.core.filters import RowFilter
from portcheck.core.model import ExitCode, Socket, State
from portcheck.core.portspec import PortSpec
from portcheck.output.environment import environment
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.live.query import Answer
    from portcheck.output.render import Table


class QueryByDefault(TyperGroup):
    """The group that makes `query` the default command for shell completion too: cli.route() rewrites
    `portcheck 80 --js` to `portcheck query 80 --js` before running, but completion parses the words
    itself, so here an argument that names no command resolves to `query` (whose options then
    complete: `portcheck 8080 --js<TAB>` -> `--json`)."""

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        query = self.commands.get("query")
        if args and query is not None and args[0] not in self.commands and not args[0].startswith("-"):
            return "query", query, args
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: Any) -> list[str]:
        """In help and completion, alphabetically: the order must not depend on which command
        modules something imported first (typer lists them in the order they were registered)."""
        return sorted(self.commands)


DEFAULT_WATCH_INTERVAL = 2.0
"""Seconds between redraws of `--watch` given without a number (cli.route fills it in; watch(1)'s
default)."""

app = typer.Typer(
    name="portcheck",
    cls=QueryByDefault,
    help="What is using this port? One table from ss, lsof and netstat on Linux, macOS, Windows, FreeBSD.",
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def resolve_annotations() -> None:
    """Give typer the annotations of every registered command as objects, not strings.

    typer reads each option from its parameter's `Annotated[...]` metadata. On Python 3.10+ it
    evaluates string annotations (`from __future__ import annotations`) itself; on 3.9 it passes them
    to `typing.get_type_hints`, which drops the metadata, so `--json` would become `--json-flag`.
    Evaluated here once, with the metadata kept, every command reads the same on every version."""
    if sys.version_info >= (3, 10):
        return
    from typing import get_type_hints

    callbacks = [info.callback for info in app.registered_commands]
    if app.registered_callback is not None:
        callbacks.append(app.registered_callback.callback)
    for callback in callbacks:
        if callback is not None and any(isinstance(a, str) for a in callback.__annotations__.values()):
            callback.__annotations__ = get_type_hints(callback, include_extras=True)


# Options shared by the live query and `parse`, declared once.
def complete(values: Callable[[], Sequence[str]]) -> Callable[[str], list[str]]:
    """Shell completion of an option's values (typer's `autocompletion`): the words that start with
    what was typed, compared without case and offered in lower case when that is what was typed
    (`--state fin` -> `fin_wait1`; every such option takes any case). `values` is called only while
    completing, so a normal run never imports what it needs (tabulate's styles, the parser registry)."""

    def complete(incomplete: str) -> list[str]:
        typed = incomplete.lower()
        found = [value for value in values() if value.lower().startswith(typed)]
        return [value.lower() for value in found] if incomplete and incomplete == typed else found

    return complete


def _formats() -> Sequence[str]:
    from portcheck.output.render import FORMATS

    return FORMATS


def _states() -> Sequence[str]:
    return [state.value for state in State]


def _table_styles() -> Sequence[str]:
    from tabulate import tabulate_formats

    return sorted(tabulate_formats)


JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
FormatOpt = Annotated[
    Optional[str],
    typer.Option(
        "--format",
        "-f",
        help="table (the default), json, ndjson or csv.",
        show_default=False,
        autocompletion=complete(_formats),
    ),
]
FieldsOpt = Annotated[
    Optional[str],
    typer.Option(
        "--fields",
        help="Comma-separated fields to show, e.g. local_port,pid,process; the table's header words "
        "(PID, LOCAL, PORT) work too.",
    ),
]
NoHeaderOpt = Annotated[bool, typer.Option("--no-header", help="Omit the header row (table and csv).")]
TableFormatOpt = Annotated[
    str,
    typer.Option(
        "--table-format",
        help="Any tabulate style: simple, github, grid, plain, ...",
        autocompletion=complete(_table_styles),
    ),
]
TcpOpt = Annotated[bool, typer.Option("--tcp", "-t", help="TCP sockets only.")]
UdpOpt = Annotated[bool, typer.Option("--udp", "-u", help="UDP sockets only.")]
Ipv4Opt = Annotated[bool, typer.Option("-4", help="IPv4 only.")]
Ipv6Opt = Annotated[bool, typer.Option("-6", help="IPv6 only.")]
ListeningOpt = Annotated[bool, typer.Option("--listening", "-l", help="Listening TCP and bound UDP only.")]
StateOpt = Annotated[
    Optional[list[str]],
    typer.Option("--state", help="Only this state (repeatable).", autocompletion=complete(_states)),
]
PidOpt = Annotated[Optional[list[int]], typer.Option("--pid", help="Only this PID (repeatable).")]
ProcessOpt = Annotated[
    Optional[str], typer.Option("--process", help="Only processes whose name contains this.")
]
ExposedOpt = Annotated[
    bool,
    typer.Option("--exposed", help="Only listeners reachable from other machines (not loopback-only)."),
]
ExposureOpt = Annotated[
    bool,
    typer.Option(
        "--exposure", help="Add an EXPOSURE column: loopback, all (interfaces) or specific (addresses)."
    ),
]
RemoteOpt = Annotated[
    bool, typer.Option("--remote", help="Also match rows whose remote port is the port (clients).")
]
ToolTimeoutOpt = Annotated[
    float, typer.Option("--timeout", help="Seconds each native tool may take before the next is tried.")
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        help="Print nothing on stdout, and no hints: only the exit status answers (like grep -q). The "
        "error that explains a failing status still goes to stderr.",
    ),
]
NoHintsOpt = Annotated[
    bool, typer.Option("--no-hints", help="No hints or warnings on stderr; the output stays as it is.")
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say which tool and encoding were used.")]
WideOpt = Annotated[
    bool,
    typer.Option(
        "--wide", "-W", help="Add each process's full command line to the table, and cut no column to fit."
    ),
]


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


def confirm(names: str, plan: str) -> bool:
    """y/N on a terminal; without one, refuse (exit 2) rather than wait for an answer nobody types."""
    if not environment().stdin_isatty:  # False too when stdin is closed (`<&-`)
        raise UsageError(
            "not ending anything: there is no terminal to confirm on; "
            f"pass --yes to end {names} from a script"
        )
    import contextlib

    try:
        # click writes the prompt to stderr but its last space through input(), to stdout: all of the
        # question goes to the terminal when stdout is a file.
        with contextlib.redirect_stdout(sys.stderr):
            return typer.confirm(f"End {names} with {plan}?", default=False, err=True)
    except typer.Abort:  # end of input (Ctrl-D) is a no
        sys.stderr.write("\n")
        return False


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


def _version(value: bool) -> None:
    if value:
        typer.echo(f"portcheck {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """What is using this port? `portcheck PORT` answers; `portcheck parse FILE` reads saved output."""
