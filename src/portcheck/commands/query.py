"""`portcheck [PORT...]`: who uses these ports on this machine, from the OS's own tools."""

from __future__ import annotations

from typing import Annotated

import typer

from portcheck.commands import base as opt
from portcheck.errors import UsageError
from portcheck.portspec import parse_port_spec
from portcheck.report import Reporter
from portcheck.runner import DEFAULT_TIMEOUT

EPILOG = """\
\b
Examples:
  portcheck 8080                  who listens on 8080, and the connections on it
  portcheck 80,443 8000-8100      several ports and a range
  portcheck                       every listening socket (TCP LISTEN, bound UDP)
  portcheck 53 --udp --json       UDP only, as JSON for a script
  portcheck 5432 --remote         also connections to a remote port 5432 (clients)
  portcheck 22 --sudo             see other users' processes (asks for the sudo password)
  portcheck 8080 -q && echo busy  the exit status alone: 0 in use, 1 free, 3 cannot tell

\b
Tools, first that works: Linux ss, netstat, lsof, /proc; macOS lsof, netstat;
Windows netstat -ano + tasklist; FreeBSD sockstat, netstat. --verbose says which.
"""


@opt.app.command("query", epilog=EPILOG)
def query_command(
    ports: Annotated[
        list[str] | None,
        typer.Argument(help="Ports: 8080, a range 8000-8100 or a list 80,443. None: every listener."),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds each native tool may take before the next is tried.")
    ] = DEFAULT_TIMEOUT,
    sudo: Annotated[
        bool, typer.Option("--sudo", help="Run the tools through sudo to see every user's processes.")
    ] = False,
    remote: opt.RemoteOpt = False,
    tcp: opt.TcpOpt = False,
    udp: opt.UdpOpt = False,
    ipv4: opt.Ipv4Opt = False,
    ipv6: opt.Ipv6Opt = False,
    listening: opt.ListeningOpt = False,
    state: opt.StateOpt = None,
    pid: opt.PidOpt = None,
    process: opt.ProcessOpt = None,
    json_flag: opt.JsonOpt = False,
    fmt: opt.FormatOpt = "table",
    fields: opt.FieldsOpt = None,
    no_header: opt.NoHeaderOpt = False,
    table_format: opt.TableFormatOpt = "simple",
    quiet: opt.QuietOpt = False,
    verbose: opt.VerboseOpt = False,
) -> None:
    """Who uses these ports? PID, process, user and state, from ss, lsof or netstat.

    Exit status: 0 something uses a port, 1 nothing does, 2 bad usage, 3 the machine could not be
    inspected (no usable tool, timeout, sudo refused).
    """
    from portcheck.query import inspect

    reporter = Reporter(quiet=quiet, verbose=verbose)
    spec = parse_port_spec(*ports) if ports else None
    if not 0 < timeout < float("inf"):  # nan and inf too: an infinite timeout could hang for ever
        raise UsageError("--timeout must be a positive number of seconds")
    output = opt.OutputOptions.build(
        json_flag=json_flag, fmt=fmt, fields=fields, no_header=no_header, table_format=table_format
    )
    row_filter = opt.build_filter(
        ports=spec,
        remote=remote,
        tcp=tcp,
        udp=udp,
        ipv4=ipv4,
        ipv6=ipv6,
        listening=listening or spec is None,
        states=state,
        pids=pid,
        process=process,
    )
    answer = inspect(
        spec,
        timeout=timeout,
        sudo=sudo,
        match_remote=remote,
        protos=row_filter.protos,
        families=row_filter.families,
        row_filter=row_filter,
    )
    for attempt in answer.tried:
        if attempt.routine:
            reporter.info(str(attempt))
        else:
            reporter.warn(str(attempt))
    shown = "; ".join(answer.commands) if answer.commands else "reading /proc/net and /proc/*/fd"
    reporter.info(f"answered by {answer.tool}: {shown}")
    reporter.notes(answer.notes, answer.tool)
    for hint in answer.hints:
        reporter.warn(hint)
    raise typer.Exit(opt.emit(answer.rows, output))
