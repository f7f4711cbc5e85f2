"""`portcheck [PORT...]`: who uses these ports on this machine, from the OS's own tools."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run (~1 ms per command); evaluated once at import they cost nothing there.

from typing import Annotated, Optional

import typer

from portcheck.commands import base as opt
from portcheck.commands import hosts as fleet_opt
from portcheck.core.errors import UsageError, quote
from portcheck.core.filters import RowFilter
from portcheck.core.portspec import PortSpec
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.environment import environment
from portcheck.output.report import Reporter

EPILOG = """\
\b
Examples:
  portcheck 8080                  who listens on 8080, and the connections on it
  portcheck 80,443 8000-8100      several ports and a range
  portcheck ssh                   a service name: its IANA port (22)
  portcheck --pid 1234            every socket of PID 1234
  portcheck 8080 -W               with each process's full command line (container, service beside it)
  portcheck                       every listening socket (TCP LISTEN, bound UDP)
  portcheck 53 --udp --json       UDP only, as JSON for a script
  portcheck 5432 --remote         also connections to a remote port 5432 (clients)
  portcheck --exposed --exposure  listeners other machines can reach, and how (all/specific)
  portcheck 22 --sudo             see other users' processes (asks for the sudo password)
  portcheck 8080 -q && echo busy  nothing printed, only the exit status: 0 in use, 1 free
  portcheck 5432 --hosts db.txt   the same question to every host in db.txt, over ssh
  portcheck 8080 --watch          redraw every 2 s until Ctrl-C; new rows +, gone rows -
  portcheck --watch=0.5 -l        every listener, twice a second

\b
Tools, first that works: Linux ss, netstat, lsof, /proc; macOS lsof, netstat;
Windows netstat -ano + tasklist; FreeBSD sockstat, netstat. --verbose says which.
"""


@opt.app.command("query", epilog=EPILOG)
def query_command(
    ports: Annotated[
        Optional[list[str]],
        typer.Argument(
            help="Ports: 8080, :8080, a range 8000-8100, a list 80,443, or a service name (ssh). None: every "
            "listener (with --pid, --process or --state: every socket of theirs)."
        ),
    ] = None,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    sudo: Annotated[
        bool, typer.Option("--sudo", help="Run the tools through sudo to see every user's processes.")
    ] = False,
    remote: opt.RemoteOpt = False,
    exposed: opt.ExposedOpt = False,
    exposure: opt.ExposureOpt = False,
    tcp: opt.TcpOpt = False,
    udp: opt.UdpOpt = False,
    ipv4: opt.Ipv4Opt = False,
    ipv6: opt.Ipv6Opt = False,
    listening: opt.ListeningOpt = False,
    state: opt.StateOpt = None,
    pid: opt.PidOpt = None,
    process: opt.ProcessOpt = None,
    json_flag: opt.JsonOpt = False,
    fmt: opt.FormatOpt = None,
    fields: opt.FieldsOpt = None,
    no_header: opt.NoHeaderOpt = False,
    table_format: opt.TableFormatOpt = "simple",
    wide: opt.WideOpt = False,
    quiet: opt.QuietOpt = False,
    no_hints: opt.NoHintsOpt = False,
    verbose: opt.VerboseOpt = False,
    watch: Annotated[
        Optional[float],
        typer.Option(
            "--watch",
            "-w",
            metavar="[SECONDS]",
            help="Redraw the table every SECONDS (default 2) until Ctrl-C, marking new rows + and gone "
            "rows -. Put it after the ports (or write --watch=SECONDS).",
        ),
    ] = None,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
    no_bind: Annotated[
        bool,
        typer.Option(
            "--no-bind",
            help="When no tool lists a socket on a port, do not try to bind it (the bind test).",
        ),
    ] = False,
) -> None:
    """Who uses these ports? PID, process, user and state, from ss, lsof or netstat.

    Exit status: 0 something uses a port, 1 nothing does (TIME_WAIT rows alone do not count), 2 bad
    usage, 3 the machine could not be inspected (no usable tool, timeout, sudo refused). When no tool
    lists a port, portcheck tries to bind it: a port that cannot be bound is in use (0).
    """
    from portcheck.api.sockets import ask as ask_api
    from portcheck.api.sockets import port_spec, selection
    from portcheck.live.query import Answer, local_executor

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    spec = port_spec(ports) if ports else None
    opt.check_positive(timeout, "--timeout")
    opt.check_pids(pid)
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        if sudo:
            raise UsageError("--sudo runs tools on this machine; with --host, log in as root (root@host)")
        if watch is not None:
            raise UsageError("--watch follows this machine only; it cannot be combined with --host")
        fields = fleet_opt.fields_without_host(fields)
    if quiet and watch is not None:
        raise UsageError("--watch draws a table and --quiet prints nothing: give one")
    output = opt.OutputOptions.build(
        json_flag=json_flag,
        fmt=fmt,
        fields=fields,
        no_header=no_header,
        table_format=table_format,
        quiet=quiet,
        wide=wide,
    )
    opt.check_exposure_column(exposure, output, fleet.wanted or watch is not None)
    row_filter = selection(
        ports=spec,
        remote=remote,
        tcp=tcp,
        udp=udp,
        ipv4=ipv4,
        ipv6=ipv6,
        # Without a port the question is "who listens?", unless it names an owner or a state.
        listening=listening or (spec is None and not (pid or process or state)),
        states=state,
        pids=pid,
        process=process,
        exposed=exposed,
    )
    if fleet.wanted:
        from portcheck.fleet.fleet import Request

        request = Request(spec, timeout, row_filter)
        raise typer.Exit(fleet_opt.query_hosts(fleet, request, output, reporter))
    # One executor for every look: with --watch --sudo, sudo's password is asked once, not per refresh.
    executor = local_executor(sudo, keep_password=watch is not None)

    def ask() -> Answer:
        return ask_api(spec, row_filter, sudo=sudo, timeout=timeout, executor=executor)

    if watch is not None:
        from portcheck.commands import watch as watching

        watching.check_interval(watch)
        watching.check_format(output)
        selected = ", ".join(selection_words(row_filter, default_listening=True))
        title = "portcheck " + (" ".join(ports) if ports else f"({selected or 'every listener'})")
        nothing = nothing_line(spec, row_filter)
        watching.watch(ask, watch, output=output, reporter=reporter, title=title, nothing=nothing)
    answer = ask()
    opt.report_answer(reporter, answer)
    opt.emit(answer.rows, output, exposure=exposure, images=answer.owners.image)
    from portcheck.commands.verdict import local_verdict

    shown = not quiet and (environment().stderr_isatty or verbose)
    said = nothing_line(spec, row_filter) if shown else None
    code = local_verdict(answer, spec, row_filter, reporter, bind=not no_bind, timeout=timeout, nothing=said)
    raise typer.Exit(code)


def nothing_line(spec: Optional[PortSpec], row_filter: RowFilter) -> str:
    """`nothing uses port 8002`, or which selection found nothing (`nothing on port 8002 matches: udp`)."""
    narrowed = selection_words(row_filter, default_listening=spec is None)
    if spec is None:
        return f"no socket matches: {', '.join(narrowed)}" if narrowed else "no listening sockets"
    if narrowed:
        return f"nothing on port {spec} matches: {', '.join(narrowed)}"
    return f"nothing uses port {spec}"


def selection_words(row_filter: RowFilter, *, default_listening: bool = False) -> list[str]:
    """The options that narrowed the rows, as a person reads them (`udp`, `IPv6`, `PID 5`)."""
    words = sorted(p.value for p in row_filter.protos or ())
    words += sorted({"ipv4": "IPv4", "ipv6": "IPv6"}[f.value] for f in row_filter.families or ())
    if row_filter.listening and not default_listening:
        words.append("listening")
    words += sorted(str(s) for s in row_filter.states or ())
    words += [f"PID {p}" for p in sorted(row_filter.pids or ())]
    if row_filter.process is not None:
        words.append(f"process like {quote(row_filter.process)}")
    return words
