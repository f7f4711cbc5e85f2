"""The command line: options, commands and exit codes. No parsing of tool output happens here.

`portcheck PORT...` is the main job; typer has no notion of a default command, so `main()` routes any
argument list that does not start with a command name to the `query` command.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from portcheck import __version__
from portcheck.errors import ParseError, PortcheckError, UsageError
from portcheck.filters import RowFilter
from portcheck.model import ExitCode, Family, Proto, Socket, State
from portcheck.portspec import PortSpec, parse_port_spec
from portcheck.report import Reporter

app = typer.Typer(
    name="portcheck",
    help="What is using this port? One table from ss, lsof and netstat on Linux, macOS, Windows, FreeBSD.",
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Options shared by the live query and `parse`, declared once.
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="table, json, ndjson or csv.")]
FieldsOpt = Annotated[
    str | None, typer.Option("--fields", help="Comma-separated fields to show, e.g. local_port,pid,process.")
]
NoHeaderOpt = Annotated[bool, typer.Option("--no-header", help="Omit the header row (table and csv).")]
TableFormatOpt = Annotated[
    str, typer.Option("--table-format", help="Any tabulate style: simple, github, grid, plain, ...")
]
TcpOpt = Annotated[bool, typer.Option("--tcp", "-t", help="TCP sockets only.")]
UdpOpt = Annotated[bool, typer.Option("--udp", "-u", help="UDP sockets only.")]
Ipv4Opt = Annotated[bool, typer.Option("-4", help="IPv4 only.")]
Ipv6Opt = Annotated[bool, typer.Option("-6", help="IPv6 only.")]
ListeningOpt = Annotated[bool, typer.Option("--listening", "-l", help="Listening TCP and bound UDP only.")]
StateOpt = Annotated[list[str] | None, typer.Option("--state", help="Only this state (repeatable).")]
PidOpt = Annotated[list[int] | None, typer.Option("--pid", help="Only this PID (repeatable).")]
ProcessOpt = Annotated[str | None, typer.Option("--process", help="Only processes whose name contains this.")]
RemoteOpt = Annotated[
    bool, typer.Option("--remote", help="Also match rows whose remote port is the port (clients).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No hints or warnings on stderr.")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Say which tool and encoding were used.")]


@dataclass(frozen=True)
class OutputOptions:
    format: str
    fields: tuple[str, ...] | None
    header: bool
    table_format: str

    @classmethod
    def build(
        cls, *, json_flag: bool, fmt: str, fields: str | None, no_header: bool, table_format: str
    ) -> OutputOptions:
        from portcheck.render import FORMATS, check_fields

        chosen = "json" if json_flag else fmt.lower()
        if chosen not in FORMATS:
            raise UsageError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
        field_list = tuple(f.strip() for f in fields.split(",") if f.strip()) if fields else None
        if field_list:
            check_fields(field_list)
        return cls(chosen, field_list, not no_header, table_format)


def build_filter(
    *,
    ports: PortSpec | None,
    remote: bool,
    tcp: bool,
    udp: bool,
    ipv4: bool,
    ipv6: bool,
    listening: bool,
    states: Sequence[str] | None,
    pids: Sequence[int] | None,
    process: str | None,
) -> RowFilter:
    from portcheck.states import lookup_state

    protos = frozenset(p for p, on in ((Proto.TCP, tcp), (Proto.UDP, udp)) if on) or None
    families = frozenset(f for f, on in ((Family.IPV4, ipv4), (Family.IPV6, ipv6)) if on) or None
    wanted_states: set[State] = set()
    for word in states or ():
        state = lookup_state(word)
        if state is None:
            names = ", ".join(s.value for s in State)
            raise UsageError(f"unknown state {word!r}; states are: {names}")
        wanted_states.add(state)
    return RowFilter(
        ports=ports,
        match_remote=remote,
        protos=protos,
        families=families,
        listening=listening,
        states=frozenset(wanted_states) or None,
        pids=frozenset(pids) if pids else None,
        process=process,
    )


def emit(rows: list[Socket], output: OutputOptions) -> ExitCode:
    """Render rows to stdout and return the exit code the contract gives for them."""
    from portcheck.render import render, sort_rows

    ordered = sort_rows(rows)
    if ordered or output.format != "table":
        render(
            ordered,
            output.format,
            sys.stdout,
            fields=output.fields,
            header=output.header,
            table_format=output.table_format,
        )
    return ExitCode.MATCH if ordered else ExitCode.NO_MATCH


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


@app.command("parse")
def parse_command(
    files: Annotated[
        list[str] | None,
        typer.Argument(
            help="Files of saved output; - or nothing reads stdin. Several files are combined "
            "(e.g. a netstat -ano and a tasklist from the same machine)."
        ),
    ] = None,
    from_format: Annotated[
        str | None,
        typer.Option("--from", help="Force the format instead of detecting it (ss, netstat, ...)."),
    ] = None,
    port: Annotated[
        list[str] | None, typer.Option("--port", "-p", help="Only these local ports: N, A-B, A,B.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 if any line is not understood.")] = False,
    remote: RemoteOpt = False,
    tcp: TcpOpt = False,
    udp: UdpOpt = False,
    ipv4: Ipv4Opt = False,
    ipv6: Ipv6Opt = False,
    listening: ListeningOpt = False,
    state: StateOpt = None,
    pid: PidOpt = None,
    process: ProcessOpt = None,
    json_flag: JsonOpt = False,
    fmt: FormatOpt = "table",
    fields: FieldsOpt = None,
    no_header: NoHeaderOpt = False,
    table_format: TableFormatOpt = "simple",
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Read pasted or saved output of ss, netstat, lsof, /proc/net/tcp (any OS) and show the table.

    Examples:
      ss -tunap | portcheck parse
      portcheck parse customer-netstat.txt --port 60653
      portcheck parse netstat-ano.txt tasklist.txt --json
    """
    from portcheck import parsers
    from portcheck.offline import parse_stream
    from portcheck.parsers.common import ParseContext, ParseNotes

    reporter = Reporter(quiet=quiet, verbose=verbose)
    ports = parse_port_spec(*port) if port else None
    output = OutputOptions.build(
        json_flag=json_flag, fmt=fmt, fields=fields, no_header=no_header, table_format=table_format
    )
    row_filter = build_filter(
        ports=ports,
        remote=remote,
        tcp=tcp,
        udp=udp,
        ipv4=ipv4,
        ipv6=ipv6,
        listening=listening,
        states=state,
        pids=pid,
        process=process,
    )
    forced = parsers.resolve(from_format) if from_format else None
    # A process name may come from a tasklist read after the rows (`parse netstat.txt tasklist.txt`):
    # --process is checked once the names are filled in.
    first_filter = replace(row_filter, process=None)
    notes = ParseNotes()
    rows: list[Socket] = []
    any_text = False
    for name in files or ["-"]:
        label = "<stdin>" if name == "-" else name
        ctx = ParseContext(ports.ports if ports else None, match_remote=remote)
        try:
            with _open_input(name) as stream:
                parsed = parse_stream(stream, ctx, forced)
                if parsed.format is None:
                    continue
                any_text = True
                reporter.info(f"{label}: read as {parsed.encoding}, format {parsed.format}")
                rows.extend(row for row in parsed.rows if first_filter(row))
        except ParseError as error:
            raise UsageError(error.describe(label)) from error
        reporter.notes(ctx.notes, label if len(files or ()) > 1 else None)
        notes.merge(ctx.notes)
    if notes.pid_names:
        rows = [
            r._replace(process=notes.pid_names.get(r.pid)) if r.process is None and r.pid is not None else r
            for r in rows
        ]
    if row_filter.process is not None:
        rows = [r for r in rows if row_filter(r)]
    if strict and notes.skipped:
        raise UsageError(f"{notes.skipped} lines not understood (--strict)")
    if not any_text:
        reporter.warn("the input is empty: nothing to parse")
        raise typer.Exit(ExitCode.NO_MATCH)
    raise typer.Exit(emit(rows, output))


def _open_input(name: str) -> BinaryIO:
    if name == "-":
        return os.fdopen(os.dup(sys.stdin.fileno()), "rb")
    path = Path(name)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory") from None
    except PermissionError:
        raise UsageError(f"{name}: permission denied") from None


_GROUP_OPTIONS = frozenset({"--version", "--help", "-h", "--install-completion", "--show-completion"})


def route(argv: list[str]) -> list[str]:
    """`portcheck 80 --json` -> `portcheck query 80 --json`; command names and `--help` pass through."""
    commands = {c.name for c in app.registered_commands}
    if "query" not in commands:
        return argv
    if not argv:
        return ["query"]
    if argv[0] in commands or argv[0] in _GROUP_OPTIONS:
        return argv
    return ["query", *argv]


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and a contract exit code for every failure."""
    args = route(list(sys.argv[1:] if argv is None else argv))
    try:
        # With standalone_mode off, click returns a typer.Exit's code instead of exiting.
        code = app(args=args, prog_name="portcheck", standalone_mode=False)
    except PortcheckError as error:
        Reporter().error(str(error))
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("\n")
        sys.exit(130)
    except BrokenPipeError:
        # `portcheck ... | head`: the reader left; that is not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(ExitCode.MATCH)
    except Exception as error:  # the last line of defence: never show a traceback
        usage = _usage_error_message(error)
        if usage is not None:
            Reporter().error(usage)
            sys.exit(ExitCode.USAGE)
        if os.environ.get("PORTCHECK_DEBUG"):
            raise
        Reporter().error(
            f"internal error: {type(error).__name__}: {error}. Please report this at "
            "https://github.com/portcheck/portcheck/issues (PORTCHECK_DEBUG=1 shows the traceback)."
        )
        sys.exit(ExitCode.CANNOT_INSPECT)
    sys.exit(code if isinstance(code, int) else ExitCode.MATCH)


def _usage_error_message(error: Exception) -> str | None:
    """Click's usage errors (unknown option, missing argument), reduced to one line."""
    exit_code = getattr(error, "exit_code", None)
    format_message = getattr(error, "format_message", None)
    if exit_code == 2 and callable(format_message):
        return f"{format_message()} (see portcheck --help)"
    return None
