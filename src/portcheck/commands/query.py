"""`portcheck [PORT...]`: who uses these ports on this machine, from the OS's own tools."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run (~1 ms per command); evaluated once at import they cost nothing there.

from typing import Annotated, Optional

import typer

from portcheck.commands import base as opt
from portcheck.commands import hosts as fleet_opt
from portcheck.core.errors import UsageError
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.report import Reporter

EPILOG = """\
\b
Examples:
  portcheck 8080                  who listens on 8080, and the connections on it
  portcheck 80,443 8000-8100      several ports and a range
  portcheck                       every listening socket (TCP LISTEN, bound UDP)
  portcheck 53 --udp --json       UDP only, as JSON for a script
  portcheck 5432 --remote         also connections to a remote port 5432 (clients)
  portcheck --exposed --exposure  listeners other machines can reach, and how (all/specific)
  portcheck 22 --sudo             see other users' processes (asks for the sudo password)
  portcheck 8080 -q && echo busy  the exit status alone: 0 in use, 1 free, 3 cannot tell
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
        typer.Argument(help="Ports: 8080, a range 8000-8100 or a list 80,443. None: every listener."),
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
    fmt: opt.FormatOpt = "table",
    fields: opt.FieldsOpt = None,
    no_header: opt.NoHeaderOpt = False,
    table_format: opt.TableFormatOpt = "simple",
    quiet: opt.QuietOpt = False,
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
) -> None:
    """Who uses these ports? PID, process, user and state, from ss, lsof or netstat.

    Exit status: 0 something uses a port, 1 nothing does, 2 bad usage, 3 the machine could not be
    inspected (no usable tool, timeout, sudo refused).
    """
    from portcheck.api.sockets import ask as ask_api
    from portcheck.api.sockets import port_spec, selection
    from portcheck.live.query import Answer

    reporter = Reporter(quiet=quiet, verbose=verbose)
    spec = port_spec(ports) if ports else None
    opt.check_positive(timeout, "--timeout")
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        if sudo:
            raise UsageError("--sudo runs tools on this machine; with --host, log in as root (root@host)")
        if watch is not None:
            raise UsageError("--watch follows this machine only; it cannot be combined with --host")
        fields = fleet_opt.fields_without_host(fields)
    output = opt.OutputOptions.build(
        json_flag=json_flag, fmt=fmt, fields=fields, no_header=no_header, table_format=table_format
    )
    opt.check_exposure_column(exposure, output, fleet.wanted or watch is not None)
    row_filter = selection(
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
        exposed=exposed,
    )
    if fleet.wanted:
        from portcheck.fleet.fleet import Request

        request = Request(spec, timeout, row_filter)
        raise typer.Exit(fleet_opt.query_hosts(fleet, request, output, reporter))

    def ask() -> Answer:
        return ask_api(spec, row_filter, sudo=sudo, timeout=timeout)

    if watch is not None:
        from portcheck.commands import watch as watching

        watching.check_interval(watch)
        watching.check_format(output)
        title = "portcheck " + (" ".join(ports) if ports else "(every listener)")
        nothing = f"nothing uses port {spec}" if spec else "no listening sockets"
        watching.watch(ask, watch, output=output, reporter=reporter, title=title, nothing=nothing)
    answer = ask()
    opt.report_answer(reporter, answer)
    raise typer.Exit(opt.emit(answer.rows, output, exposure=exposure))
