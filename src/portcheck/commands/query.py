"""`portcheck [PORT...]`: who uses these ports on this machine, from the OS's own tools."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run (~1 ms per command); evaluated once at import they cost nothing there.

from typing import Annotated, Optional

import typer

from portcheck.commands import base as opt, hosts as fleet_opt
from portcheck.live.runner import DEFAULT_TIMEOUT

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
    from portcheck.commands.querying import answer_query

    raise typer.Exit(
        answer_query(
            ports,
            timeout=timeout,
            sudo=sudo,
            remote=remote,
            exposed=exposed,
            exposure=exposure,
            tcp=tcp,
            udp=udp,
            ipv4=ipv4,
            ipv6=ipv6,
            listening=listening,
            state=state,
            pid=pid,
            process=process,
            json_flag=json_flag,
            fmt=fmt,
            fields=fields,
            no_header=no_header,
            table_format=table_format,
            wide=wide,
            quiet=quiet,
            no_hints=no_hints,
            verbose=verbose,
            watch=watch,
            host=host,
            hosts_file=hosts_file,
            parallel=parallel,
            ssh_config=ssh_config,
            no_bind=no_bind,
        )
    )
