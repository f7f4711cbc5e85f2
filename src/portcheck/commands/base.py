"""The typer app and what its commands share: option declarations, output and filter building.

Each command lives in its own module of this package and registers itself on `app` when imported.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from portcheck import __version__

# Re-exported: the commands use them as `opt.NAME`; they live in shared.py so that no typer is needed
# to use them (cli.py's fast path).
from portcheck.commands.shared import (
    DEFAULT_WATCH_INTERVAL as DEFAULT_WATCH_INTERVAL,
    MAX_PID as MAX_PID,
    MAX_SECONDS as MAX_SECONDS,
    MAX_WAIT as MAX_WAIT,
    OutputOptions as OutputOptions,
    Terminal as Terminal,
    check_exposure_column as check_exposure_column,
    check_pids as check_pids,
    check_positive as check_positive,
    check_seconds as check_seconds,
    emit as emit,
    exposure_column as exposure_column,
    port_scope as port_scope,
    report_answer as report_answer,
    show_processes as show_processes,
    silence_stdout as silence_stdout,
    terminal_settings as terminal_settings,
    write_lines as write_lines,
    write_rows as write_rows,
)
from portcheck.core.errors import UsageError
from portcheck.core.model import State
from portcheck.output.environment import environment

if TYPE_CHECKING:
    pass


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
