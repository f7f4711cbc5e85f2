"""`portcheck wait PORT --listening|--free`: for scripts that start or stop a server and must wait for
it. Polls the live query; says nothing on stdout (unless --json) and one line on stderr at timeout."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands import base as opt
from portcheck.core.errors import PortcheckError, UsageError
from portcheck.core.model import ExitCode, Socket, is_listening
from portcheck.core.portspec import PortSpec, parse_port_spec
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.environment import environment
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.live.question import LiveQuestion

EPILOG = """\
\b
Examples:
  ./server & portcheck wait 8080 --listening && curl localhost:8080/health
  portcheck wait 5432 --listening --timeout 60    give a database a minute to start
  kill "$pid"; portcheck wait 8080 --free         wait until the old server let go of the port
  portcheck wait 53 --udp --listening --json      the listening rows as JSON once it is up

\b
Exit status: 0 the condition holds, 1 the timeout passed, 2 bad usage, 3 the machine could not be
inspected. With several ports, every one of them must be listening (or free).
"""


@opt.app.command("wait", epilog=EPILOG)
def wait_command(
    ports: Annotated[
        list[str],
        typer.Argument(metavar="PORT...", help="Port(s): 8080, a range 8000-8100 or a list 80,443."),
    ],
    listening: Annotated[
        bool, typer.Option("--listening", "-l", help="Wait until every port has a listener.")
    ] = False,
    free: Annotated[
        bool, typer.Option("--free", help="Wait until no socket holds the ports (TIME_WAIT aside).")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", help="Give up after this many seconds (exit 1); 0 waits forever.")
    ] = 30.0,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between two looks.")] = 0.5,
    tcp: opt.TcpOpt = False,
    udp: opt.UdpOpt = False,
    ipv4: opt.Ipv4Opt = False,
    ipv6: opt.Ipv6Opt = False,
    json_flag: Annotated[
        bool, typer.Option("--json", help="Print the rows of the last look as JSON (the listeners).")
    ] = False,
    quiet: opt.QuietOpt = False,
    no_hints: opt.NoHintsOpt = False,
    verbose: opt.VerboseOpt = False,
) -> None:
    """Wait until a port is listening (a server is up) or free (it is gone); quiet, for scripts."""
    from portcheck.live.executor import LocalExecutor
    from portcheck.live.question import LiveQuestion
    from portcheck.live.verdict import holds_port
    from portcheck.platforms import current_os

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    if quiet and json_flag:
        raise UsageError("--quiet prints nothing on stdout, so --json would print nothing either: drop one")
    spec = parse_port_spec(*ports)
    if listening and free:
        raise UsageError("--listening and --free contradict each other: wait for one of them")
    if not listening and not free:
        raise UsageError("say what to wait for: --listening (a server is up) or --free (it is gone)")
    opt.check_seconds(timeout, "--timeout", opt.MAX_WAIT, zero="forever")
    opt.check_positive(interval, "--interval")
    scope = opt.port_scope(spec, tcp=tcp, udp=udp, ipv4=ipv4, ipv6=ipv6)
    question = LiveQuestion(spec, scope, current_os(), LocalExecutor(), DEFAULT_TIMEOUT)
    clock = environment()
    deadline = clock.monotonic() + timeout if timeout else None
    while True:
        rows = question.ask()
        relevant = [r for r in rows if is_listening(r)] if listening else [r for r in rows if holds_port(r)]
        done = _all_listening(spec, relevant) if listening else not relevant
        if done or (deadline is not None and clock.monotonic() >= deadline):
            break
        pause = interval if deadline is None else min(interval, max(deadline - clock.monotonic(), 0))
        clock.sleep(pause)
    if question.last is not None and verbose:
        opt.report_answer(reporter, question.last)
    if json_flag:
        from portcheck.output.render import render_json, sort_rows

        render_json(sort_rows(relevant), sys.stdout)
    if done:
        raise typer.Exit(ExitCode.MATCH)
    seen = _seen_instead(question, rows, relevant) if listening else ""
    reporter.warn(f"timed out after {timeout:g} s: " + _still(spec, relevant, listening) + seen)
    raise typer.Exit(ExitCode.NO_MATCH)


def _seen_instead(question: LiveQuestion, rows: list[Socket], listeners: list[Socket]) -> str:
    """`; seen instead: udp 0.0.0.0:5353 (avahi-daemon, PID 612)`: what was on the ports that the
    question did not count (connections, or a listener of the protocol or family it left out)."""
    from portcheck.live.question import describe_sockets

    seen = [r for r in rows if r not in listeners]
    scope = question.scope
    left_out: list[Socket] = []
    if scope.protos is not None or scope.families is not None:
        question.scope = scope._replace(protos=None, families=None)
        try:
            left_out = [r for r in question.ask() if not scope(r)]
        except PortcheckError:
            pass
        finally:
            question.scope = scope
    said = f"; seen: {describe_sockets(seen)}" if seen else ""
    if left_out:
        options = []
        if scope.protos is not None and any(r.proto not in scope.protos for r in left_out):
            options += [f"--{p}" for p in sorted(scope.protos)]
        if scope.families is not None and any(r.family not in scope.families for r in left_out):
            options += [f"-{f.value[-1]}" for f in sorted(scope.families)]
        said += f"; left out by {' '.join(options)}: {describe_sockets(left_out)}"
    return said


def _all_listening(spec: PortSpec, rows: list[Socket]) -> bool:
    return spec.ports <= {r.local_port for r in rows}


def _still(spec: PortSpec, rows: list[Socket], listening: bool) -> str:
    if listening:
        missing = sorted(spec.ports - {r.local_port for r in rows if r.local_port is not None})
        shown = ",".join(map(str, missing[:10])) + (",..." if len(missing) > 10 else "")
        return f"nothing listens on port {shown}"
    from portcheck.live.question import describe_holders

    return f"port {spec} is still in use: {describe_holders(rows)}"
