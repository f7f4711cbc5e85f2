"""`portcheck check PORT --expect listening|free`: a monitoring plugin (Nagios, Icinga, Naemon, Sensu).

Its contract is the plugin one, not the query's: one line on STDOUT (`STATUS: text | perfdata`) and
exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Everything that stops the check from deciding (bad
usage, a machine that cannot be inspected, a bug) is UNKNOWN, on stdout too, because that is where a
monitoring core reads the reason (the guidelines: invalid arguments are UNKNOWN).
"""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run; evaluated once at import they cost nothing there.

import sys
from typing import Annotated, Optional

import typer

from portcheck.commands import base as opt, hosts as fleet_opt
from portcheck.live.runner import DEFAULT_TIMEOUT

EPILOG = """\
\b
Examples:
  portcheck check 443 --process nginx            OK: nginx (PID 812) listens on tcp 0.0.0.0:443 | ...
  portcheck check 5432 --loopback                CRITICAL when postgres is reachable from outside
  portcheck check 8080 --expect free             CRITICAL while anything holds 8080
  portcheck check 443 -w 500 -c 1000             WARNING above 500 established connections
  portcheck check 22 --host web1 --host web2     the worst host first, then one line per host

\b
Exit status (the plugin contract, not the query's): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad
usage, or the machine could not be inspected). Ranges: 10 (above 10), 10: (below 10), ~:10,
10:20 (outside), @10:20 (inside).
"""


@opt.app.command("check", epilog=EPILOG)
def check_command(
    port: Annotated[str, typer.Argument(metavar="PORT", help="One port number, 0-65535.")],
    expect: Annotated[
        str, typer.Option("--expect", "-e", help="listening (a listener must be there) or free.")
    ] = "listening",
    process: Annotated[
        Optional[str], typer.Option("--process", help="The listener's name must contain this.")
    ] = None,
    user: Annotated[Optional[str], typer.Option("--user", help="The listener must run as this user.")] = None,
    exposed: Annotated[
        bool, typer.Option("--exposed", help="A listener must be reachable from other machines.")
    ] = False,
    loopback: Annotated[
        bool, typer.Option("--loopback", help="Every listener must be on loopback only.")
    ] = False,
    warning: Annotated[
        Optional[str], typer.Option("--warning", "-w", help="Range of established connections that is OK.")
    ] = None,
    critical: Annotated[
        Optional[str], typer.Option("--critical", "-c", help="Range beyond which it is CRITICAL.")
    ] = None,
    tcp: opt.TcpOpt = False,
    udp: opt.UdpOpt = False,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
) -> None:
    """A monitoring-plugin check: is PORT listening (by the right process, exposed or not, with how
    many connections) or free? One line STATUS: text | perfdata; exit 0 OK, 1 WARNING, 2 CRITICAL,
    3 UNKNOWN."""
    from portcheck.api.check import Expectation, check_hosts, fleet_output, run_check
    from portcheck.core.errors import PortcheckError
    from portcheck.output.plugin import PluginState

    try:
        opt.check_positive(timeout, "--timeout")
        wanted = Expectation.build(
            port,
            expect,
            process=process,
            user=user,
            exposed=exposed,
            loopback=loopback,
            warning=warning,
            critical=critical,
        )
        fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
        if fleet.wanted:
            checks = check_hosts(
                fleet.hosts,
                wanted,
                tcp=tcp,
                udp=udp,
                timeout=timeout,
                hosts_file=fleet.hosts_file,
                parallel=fleet.parallel,
                ssh_config=fleet.ssh_config,
            )
            state, text = fleet_output(checks, wanted.port)
        else:
            result = run_check(wanted, tcp=tcp, udp=udp, timeout=timeout)
            state, text = result.state, result.output()
    except PortcheckError as error:
        from portcheck.api.check import unknown_output

        state, text = PluginState.UNKNOWN, unknown_output(error)
    sys.stdout.write(text)
    raise typer.Exit(int(state))
