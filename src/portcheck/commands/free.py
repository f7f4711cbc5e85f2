"""`portcheck free`: ports a new server can take on this machine now and keep (the rules:
portcheck.meaning.freeports)."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run; evaluated once at import they cost nothing there.

import sys
from typing import Annotated, Optional

import typer

from portcheck.commands import base as opt
from portcheck.core.model import ExitCode
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.report import Reporter

EPILOG = """\
\b
Examples:
  portcheck free                       one free TCP port for a server, e.g. 18437
  portcheck free --count 3 --json      three, with the IANA names of any registered one
  portcheck free --range 8000-8999     one in a range of your choice
  PORT=$(portcheck free) && ./server --port "$PORT"

\b
Left out: this machine's ephemeral range (outgoing connections take those), Linux's reserved
ports (set aside for a server an administrator had in mind), Windows' excluded ranges (Hyper-V,
WSL, Docker); IANA-registered ports come last. Each port is bound once (then closed) to prove it
is free now. Exit status: 0 found them all, 1 found fewer (those are printed), 2 bad usage.
"""


@opt.app.command("free", epilog=EPILOG)
def free_command(
    count: Annotated[int, typer.Option("--count", "-n", help="How many ports (1-1000).")] = 1,
    port_range: Annotated[
        Optional[str], typer.Option("--range", help="Only ports in FIRST-LAST (default 1024-65535).")
    ] = None,
    udp: Annotated[bool, typer.Option("--udp", "-u", help="Free for UDP instead of TCP.")] = False,
    json_flag: Annotated[
        bool, typer.Option("--json", help="A JSON array of {port, proto, registered}.")
    ] = False,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    quiet: opt.QuietOpt = False,
    no_hints: opt.NoHintsOpt = False,
    verbose: opt.VerboseOpt = False,
) -> None:
    """Ports free now and safe for a server: outside the ephemeral range, reserved and excluded
    ports, not IANA-registered when possible, verified by binding."""
    from portcheck.api.ports import free_ports
    from portcheck.meaning.freeports import DEFAULT_FIRST, parse_range

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    opt.check_positive(timeout, "--timeout")
    wanted = parse_range(port_range) if port_range else None
    first, last = (wanted.first, wanted.last) if wanted else (DEFAULT_FIRST, 65535)
    found = free_ports(count, first=first, last=last, udp=udp, timeout=timeout)
    for why, avoided in found.avoided:
        reporter.info(f"left out {avoided}: {why}")
    for warning in found.warnings:
        reporter.warn(warning)
    if quiet:
        pass  # the exit status alone (like grep -q)
    elif json_flag:
        import json

        records = [
            {"port": p.port, "proto": p.proto.value, "registered": list(p.registered)} for p in found.ports
        ]
        sys.stdout.write(json.dumps(records) + "\n")
    else:
        sys.stdout.write("".join(f"{p.port}\n" for p in found.ports))
    for port in found.ports:
        if port.registered:
            reporter.warn(
                f"{port.port} is registered with IANA for {', '.join(port.registered)}: "
                "no unregistered port was left in the range"
            )
    if len(found.ports) < count:
        where = f" in {first}-{last}" if wanted else ""
        reporter.error(f"only {len(found.ports)} of {count} ports{where} are free and safe for a server")
        raise typer.Exit(ExitCode.NO_MATCH)
    raise typer.Exit(ExitCode.MATCH)
