"""`portcheck info PORT`: what the number means, and what this machine (or, with --host, each of
those machines, over ssh) does with it."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from portcheck.commands import base as opt, hosts as fleet_opt
from portcheck.core.escape import escape_json_text
from portcheck.core.model import ExitCode
from portcheck.live.runner import DEFAULT_TIMEOUT

EPILOG = """\
\b
Examples:
  portcheck info 60653            IANA range, registered names, this machine's ephemeral range
  portcheck info 5000             macOS AirPlay Receiver, Flask; is it in use right now?
  portcheck info 3389 --json      the same as one JSON object, for a script
  portcheck info 8080 --no-check  only what the number means; no native tool is run
  portcheck info 8080 --host web1 --host web2   each host's ranges and use of 8080, over ssh

\b
The machine's ranges: Linux /proc/sys/net/ipv4/ip_local_port_range and ip_local_reserved_ports;
macOS and FreeBSD sysctl net.inet.ip.portrange.first/last; Windows netsh int ipv4 show dynamicport
and show excludedportrange (the Hyper-V/WSL reservations that make a bind fail).
"""

TEXT_WIDTH = 100
"""Lines are wrapped here in pipes; on a terminal, at its width."""


@opt.app.command("info", epilog=EPILOG)
def info_command(
    port: Annotated[str, typer.Argument(metavar="PORT", help="One port number, 0-65535.")],
    json_flag: Annotated[
        bool, typer.Option("--json", help="The report as one JSON object (its keys: see the README).")
    ] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not ask the native tools whether the port is in use now.")
    ] = False,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
) -> None:
    """What a port number means: IANA range, registered services, well-known unofficial uses, whether it
    lies in this machine's ephemeral range (or a Windows excluded range), and whether it is in use.
    With --host: the meaning once, then each host's ranges and use of the port.

    Exit status: 0 with the report (with --host: from every host), 2 for a bad port, 3 when a host
    could not be asked (the others are still reported).
    """
    from portcheck.api.ports import describe_port, one_port
    from portcheck.meaning.report import report_lines, to_json

    number = one_port(port)
    opt.check_positive(timeout, "--timeout")
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        raise typer.Exit(
            info_hosts(number, fleet, timeout=timeout, check_use=not no_check, as_json=json_flag)
        )
    info = describe_port(number, check_use=not no_check, timeout=timeout)
    if json_flag:
        import json

        sys.stdout.write(escape_json_text(json.dumps(to_json(info), indent=2, ensure_ascii=False)) + "\n")
    else:
        width = opt.terminal_settings().width or TEXT_WIDTH
        sys.stdout.write("\n".join(report_lines(info, width)) + "\n")
    raise typer.Exit(ExitCode.MATCH)


# --- many hosts (--host) ------------------------------------------------------------------------------


def info_hosts(
    port: int, options: fleet_opt.HostOptions, *, timeout: float, check_use: bool, as_json: bool
) -> ExitCode:
    """The meaning once, then every host's part (or why it could not be asked); a summary on stderr.
    Exit 0 when every host reported, 3 when one could not be asked."""
    from functools import partial

    from portcheck.fleet.fleet import summary_line
    from portcheck.meaning.portinfo import describe, on_host
    from portcheck.meaning.report import hosts_json, hosts_report_lines
    from portcheck.output.report import Reporter

    meaning = describe(port, os_name=None, executor=None, timeout=timeout, check_use=False)
    hosts = fleet_opt.fleet_for(options, timeout).run(partial(on_host, port, timeout, check_use))
    if as_json:
        import json

        sys.stdout.write(
            escape_json_text(json.dumps(hosts_json(meaning, hosts), indent=2, ensure_ascii=False)) + "\n"
        )
    else:
        width = opt.terminal_settings().width or TEXT_WIDTH
        sys.stdout.write("\n".join(hosts_report_lines(meaning, hosts, width)) + "\n")
    failed = any(h.failure is not None for h in hosts)
    reporter = Reporter()
    (reporter.error if failed else reporter.warn)(summary_line(hosts))
    return ExitCode.CANNOT_INSPECT if failed else ExitCode.MATCH
