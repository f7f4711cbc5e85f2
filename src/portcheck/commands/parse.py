"""`portcheck parse`: the table from pasted or saved output of any supported tool."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run (~1 ms per command); evaluated once at import they cost nothing there.

import gc
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO, Optional

import typer

from portcheck.commands.base import (
    ExposedOpt,
    ExposureOpt,
    FieldsOpt,
    FormatOpt,
    Ipv4Opt,
    Ipv6Opt,
    JsonOpt,
    ListeningOpt,
    NoHeaderOpt,
    NoHintsOpt,
    OutputOptions,
    PidOpt,
    ProcessOpt,
    QuietOpt,
    RemoteOpt,
    StateOpt,
    TableFormatOpt,
    TcpOpt,
    UdpOpt,
    VerboseOpt,
    app,
    check_exposure_column,
    check_pids,
    complete,
    emit,
)
from portcheck.core.errors import ParseError, UsageError
from portcheck.core.filters import RowFilter
from portcheck.core.model import Socket
from portcheck.core.parsing import PidNames
from portcheck.core.portspec import PortSpec, parse_port_spec
from portcheck.output.environment import environment
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.api.sockets import ParseResult

EPILOG = """\
\b
Examples:
  ss -tunap | portcheck parse                      a paste on stdin, format detected
  portcheck parse customer-netstat.txt --port 60653
  portcheck parse netstat-ano.txt tasklist.txt --json   Windows PIDs named from the tasklist
  pbpaste | portcheck parse --from lsof --strict   force the format; exit 2 on any odd line
  portcheck parse --clipboard                      what the customer's mail said, copied

\b
Formats: ss, netstat (Linux, macOS, FreeBSD, OpenBSD, NetBSD, Solaris, Windows -ano/-anob,
localised), lsof (table and -F), sockstat, fstat, fuser, /proc/net/tcp*, PowerShell
Get-NetTCPConnection, tasklist. Exit status: 0 rows matched, 1 none (or empty input), 2 unreadable
input or bad usage, 3 the input is a refusal instead of an answer (`netstat -b` run without
administrator rights: that machine was not inspected).
"""


def _format_names() -> list[str]:
    from portcheck import parsers

    return [*parsers.FORMATS, *parsers.ALIASES]


@app.command("parse", epilog=EPILOG)
def parse_command(
    files: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Files of saved output; - or nothing reads stdin. Several files are combined "
            "(e.g. a netstat -ano and a tasklist from the same machine)."
        ),
    ] = None,
    from_format: Annotated[
        Optional[str],
        typer.Option(
            "--from",
            help="Force the format instead of detecting it (ss, netstat, ...).",
            autocompletion=complete(_format_names),
        ),
    ] = None,
    port: Annotated[
        Optional[list[str]], typer.Option("--port", "-p", help="Only these local ports: N, A-B, A,B.")
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 2 if any line is not understood.")] = False,
    clipboard: Annotated[
        bool,
        typer.Option(
            "--clipboard",
            help="Read the clipboard (pbpaste, Get-Clipboard, wl-paste, xclip or xsel) instead of files.",
        ),
    ] = False,
    remote: RemoteOpt = False,
    exposed: ExposedOpt = False,
    exposure: ExposureOpt = False,
    tcp: TcpOpt = False,
    udp: UdpOpt = False,
    ipv4: Ipv4Opt = False,
    ipv6: Ipv6Opt = False,
    listening: ListeningOpt = False,
    state: StateOpt = None,
    pid: PidOpt = None,
    process: ProcessOpt = None,
    json_flag: JsonOpt = False,
    fmt: FormatOpt = None,
    fields: FieldsOpt = None,
    no_header: NoHeaderOpt = False,
    table_format: TableFormatOpt = "simple",
    quiet: QuietOpt = False,
    no_hints: NoHintsOpt = False,
    verbose: VerboseOpt = False,
) -> None:
    """Read pasted or saved output of ss, netstat, lsof, /proc/net/tcp (any OS) and show the table.

    Exit status: 0 rows matched, 1 none, 2 unreadable input or bad usage, 3 the input is a tool's
    refusal (netstat -b without administrator rights).
    """
    from portcheck import parsers
    from portcheck.api.sockets import selection

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    ports = parse_port_spec(*port) if port else None
    output = OutputOptions.build(
        json_flag=json_flag,
        fmt=fmt,
        fields=fields,
        no_header=no_header,
        table_format=table_format,
        quiet=quiet,
    )
    check_exposure_column(exposure, output, False)
    check_pids(pid)
    row_filter = selection(
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
        exposed=exposed,
    )
    forced = parsers.resolve(from_format) if from_format else None
    pasted = _clipboard(files) if clipboard else None
    with _without_cycle_collection():
        rows, any_text = _read(
            files or ["-"], forced, ports, remote, row_filter, reporter, strict=strict, clipboard=pasted
        )
        if not any_text:
            reporter.warn("the input is empty: nothing to parse")
            raise typer.Exit(emit([], output))  # `[]` for --json: a script reads "nothing", not an error
        _hint_owners(rows, reporter)
        raise typer.Exit(emit(rows, output, exposure=exposure))


def _clipboard(files: Optional[list[str]]) -> bytes:
    """The clipboard's text, read with this OS's tool (its platform says which)."""
    from portcheck.live.clipboard import read_clipboard
    from portcheck.platforms import current_os, platform_for

    if files:
        raise UsageError("--clipboard reads the clipboard: give it no file names")
    return read_clipboard(platform_for(current_os()))


def _hint_owners(rows: list[Socket], reporter: Reporter) -> None:
    """Rows without a process, in a format whose tool names owners when run as root: say which
    command to run on the machine the text came from (never --sudo: that runs tools here)."""
    from portcheck.core.model import State
    from portcheck.parsers.common import owner_hint

    sources = {
        r.source for r in rows if r.pid is None and r.process is None and r.state is not State.TIME_WAIT
    }
    for source in sorted(sources):
        hint = owner_hint(source)
        if hint is not None:
            reporter.warn(hint)


def _read(
    files: list[str],
    forced: Optional[tuple[str, ...]],
    ports: Optional[PortSpec],
    remote: bool,
    row_filter: RowFilter,
    reporter: Reporter,
    *,
    strict: bool,
    clipboard: Optional[bytes] = None,
) -> tuple[list[Socket], bool]:
    """The rows of every input (portcheck.api.sockets.read_input), PID names from a tasklist in any
    of them filled in, and whether any input held text at all. Each input's notes go to stderr as it
    is read. `clipboard`: the clipboard's text, read instead of the files."""
    from portcheck.api.sockets import name_pids, read_input

    # A process name may come from a tasklist read after the rows (`parse netstat.txt tasklist.txt`):
    # --process is checked once the names are filled in.
    first_filter = row_filter._replace(process=None)
    keep = None if first_filter.is_trivial else first_filter.__call__
    pid_names = PidNames()  # shared by every input: a row of one names its PID for the tasklist of another
    rows: list[Socket] = []
    any_text = False
    for name in files if clipboard is None else [CLIPBOARD]:
        label = "<stdin>" if name == "-" else name
        if name == "-" and clipboard is None and environment().stdin_isatty:
            reporter.warn(
                "reading from the terminal: paste the output, then press Ctrl-D (Windows: Ctrl-Z, Enter)"
            )
        try:
            with _open_input(name) if clipboard is None else io.BytesIO(clipboard) as stream:
                parsed = read_input(
                    stream,
                    forced=forced,
                    ports=ports,
                    remote=remote,
                    strict=strict,
                    keep=keep,
                    pid_names=pid_names,
                )
        except ParseError as error:
            raise UsageError(error.describe(label)) from error
        except OSError as error:  # a disk error, a device that cannot be read
            raise UsageError(f"{label}: cannot read: {error.strerror or error}") from None
        if parsed.format is None:
            continue
        any_text = True
        _say_what_was_read(label, parsed, reporter)
        rows.extend(parsed.rows)
        reporter.notes(parsed.notes, label if len(files) > 1 else None)
        if parsed.other_format is not None:
            reporter.warn(
                f"{label}: the lines not understood look like {parsed.other_format} output that could not "
                "be told apart from the rest: give each tool's output its own file "
                "(portcheck parse a.txt b.txt)"
            )
    rows = name_pids(rows, pid_names)
    if row_filter.process is not None:
        rows = [r for r in rows if row_filter(r)]
    return rows, any_text


def _say_what_was_read(label: str, parsed: "ParseResult", reporter: Reporter) -> None:
    """--verbose: the encoding and format, and for a paste of several tools which lines were read as
    which format."""
    formats = parsed.formats
    if len(parsed.sections) <= 1 and len(formats) <= 1:
        reporter.info(f"{label}: read as {parsed.encoding}, format {parsed.format}")
        return
    reporter.info(f"{label}: read as {parsed.encoding}, formats {', '.join(formats) or 'none'}")
    for section in parsed.sections:
        if section.last is None:
            lines = f"lines {section.first} to the end"
        elif section.first == section.last:
            lines = f"line {section.first}"
        else:
            lines = f"lines {section.first}-{section.last}"
        if section.format is None and section.how:
            reporter.info(f"{label}: {lines}: {section.how}")
            continue
        how = f" ({section.how})" if section.how else ""
        reporter.info(f"{label}: {lines}: {section.format or 'no format (not understood)'}{how}")


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """No cyclic garbage collection while a dump is read and written: its rows are 100,000 tuples that
    reference nothing cyclic, yet each time the collector runs it walks every one of them (a tenth of
    the time of a large parse). The command ends right after, and the collector is back on for anyone
    calling it in-process."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


CLIPBOARD = "<clipboard>"
"""How messages name the clipboard's text."""


def _open_input(name: str) -> BinaryIO:
    if name == "-":
        stdin = environment().open_stdin()
        if stdin is None:
            raise UsageError("standard input is closed: give a file name, or pipe the tool's output in")
        return stdin
    path = Path(name)
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file{_port_instead(name)}") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory") from None
    except PermissionError:
        raise UsageError(f"{name}: permission denied") from None


def _port_instead(name: str) -> str:
    """`portcheck parse netstat.txt 8080`: the 8080 was meant as the port."""
    if not _PORT_LIKE.fullmatch(name):
        return ""
    try:
        spec = parse_port_spec(name)
    except UsageError:
        return ""
    return f" (to keep only port {spec}, write --port {name})"


_PORT_LIKE = re.compile(r":?[0-9][0-9,:-]*")
