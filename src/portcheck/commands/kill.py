"""`portcheck kill PORT`: end the processes that hold a port, carefully.

It shows what it found and asks (y/N) on a terminal; a script must say --yes, and without a terminal
and without --yes it refuses instead of waiting for an answer nobody will type. The ending itself
(what is never signalled, the re-check before each signal, the escalation) is portcheck.live.kill;
with --host, commands/kill_hosts.py does the same on every host.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands import base as opt, hosts as fleet_opt
from portcheck.core.errors import UsageError
from portcheck.core.model import ExitCode, Socket
from portcheck.core.portspec import parse_port_spec
from portcheck.live.kill import SIGNALS, parse_signal
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.core.portspec import PortSpec
    from portcheck.live.kill import Ending
    from portcheck.live.question import LiveQuestion
    from portcheck.live.supervised import StopAction, Supervision

EPILOG = """\
\b
Examples:
  portcheck kill 8080                 show who holds 8080, ask, then SIGTERM (SIGKILL after 5 s)
  portcheck kill 8080 --yes           no question: for scripts (without a terminal --yes is required)
  portcheck kill 3000 --listening -y  only the server, not processes with connections on 3000
  portcheck kill 5432 --process postgres --grace 30
  portcheck kill 9229 --signal INT    Ctrl-C for the program, then SIGKILL if it stays
  portcheck kill 8080 --host web1 --host web2   the same on each host over ssh, one confirmation
  portcheck kill 8080 --stop-container          docker stop the container that holds (or publishes) 8080
  portcheck kill 80 --stop-service              systemctl stop nginx.service (sc.exe stop, launchctl bootout)

\b
Exit status: 0 the port is free afterwards, 1 something still holds it (or you answered no),
2 bad usage or no terminal to ask on without --yes, 3 the machine could not be inspected.
Never signalled: PID 0, 1 and 4, portcheck itself and its parent. Processes of other users need
root: run `sudo portcheck kill PORT`. A holder that a container or a service manager keeps running is
named before the question, with the right way to stop it; after a signal, a holder that comes back
within 2 s is reported with who started it again.
With --host: exit 0 when every host was inspected and the port is free on each, 1 when a host still
holds it, 3 when a host could not be inspected; never signalled there: PID 0, 1 and 4, and portcheck's
own ssh session (its sshd and the processes above it).
"""


@opt.app.command("kill", epilog=EPILOG)
def kill_command(
    ports: Annotated[
        list[str],
        typer.Argument(metavar="PORT...", help="Port(s): 8080, a range 8000-8100 or a list 80,443."),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask: end them (for scripts).")] = False,
    signal_name: Annotated[
        str,
        typer.Option(
            "--signal",
            "-s",
            help=f"First signal: {', '.join(SIGNALS)}. KILL follows after --grace if the port is "
            "still held. Windows: KILL means taskkill /F at once.",
            autocompletion=opt.complete(lambda: SIGNALS),
        ),
    ] = "TERM",
    grace: Annotated[
        float, typer.Option("--grace", help="Seconds to wait for the port after the first signal.")
    ] = 5.0,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    tcp: opt.TcpOpt = False,
    udp: opt.UdpOpt = False,
    ipv4: opt.Ipv4Opt = False,
    ipv6: opt.Ipv6Opt = False,
    listening: opt.ListeningOpt = False,
    pid: opt.PidOpt = None,
    process: opt.ProcessOpt = None,
    quiet: opt.QuietOpt = False,
    no_hints: opt.NoHintsOpt = False,
    verbose: opt.VerboseOpt = False,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
    stop_container: Annotated[
        bool,
        typer.Option(
            "--stop-container",
            help="A holder in a container, or a forwarder (docker-proxy) publishing a container's port: stop "
            "the container (docker stop NAME, podman stop NAME) instead of signalling the PID.",
        ),
    ] = False,
    stop_service: Annotated[
        bool,
        typer.Option(
            "--stop-service",
            help="A holder a service manager runs (a systemd unit, a Windows service, a launchd job): stop "
            "the service (systemctl stop, sc.exe stop, launchctl bootout) so it is not restarted.",
        ),
    ] = False,
    sudo: Annotated[bool, typer.Option("--sudo", hidden=True)] = False,
) -> None:
    """End the processes that hold a port: shows them, asks (y/N), signals, reports each PID.

    The port is free afterwards when no socket on it is left but TIME_WAIT ones (closed connections
    the kernel keeps; they do not stop a server). --tcp, --udp, -4, -6 and --listening choose which
    sockets count; --pid and --process only narrow what is ended. With --host, the same on each
    host over ssh, after one confirmation that names the host of every process.
    """
    from portcheck.live.executor import LocalExecutor
    from portcheck.live.kill import (
        Ending,
        Outcome,
        owners,
        process_lines,
        refusal,
        unowned_warning,
    )
    from portcheck.live.question import LiveQuestion
    from portcheck.platforms import current_os

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    if quiet:
        opt.silence_stdout()
    spec = parse_port_spec(*ports)
    if sudo:
        raise UsageError(
            f"kill has no --sudo (it looks at the port again and again, and sudo would ask each time): "
            f"run `sudo portcheck kill {spec}`"
        )
    first_signal = parse_signal(signal_name)
    opt.check_seconds(grace, "--grace")
    opt.check_positive(timeout, "--timeout")
    opt.check_pids(pid)
    scope = opt.port_scope(spec, tcp=tcp, udp=udp, ipv4=ipv4, ipv6=ipv6, listening=listening)
    chosen = scope._replace(pids=frozenset(pid) if pid else None, process=process)
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted and (stop_container or stop_service):
        raise UsageError(
            "--stop-container and --stop-service act on this machine only; on a host, run portcheck there "
            "(ssh HOST portcheck kill ...)"
        )
    if fleet.wanted:
        from portcheck.commands.kill_hosts import kill_hosts
        from portcheck.fleet.kill import Order

        order = Order(spec, scope, chosen, first_signal, grace, timeout, matching(pid, process))
        raise typer.Exit(kill_hosts(fleet, order, yes=yes, reporter=reporter))
    question = LiveQuestion(spec, scope, current_os(), LocalExecutor(), timeout)
    rows = question.held(enrich=True)
    targets = [r for r in rows if chosen(r)]
    if question.last is not None:
        question.last.hints = [kill_hint(h, spec) for h in question.last.hints]
        opt.report_answer(reporter, question.last)
    if not targets:
        sys.stdout.write(f"Nothing to end: no process{matching(pid, process)} holds port {spec}.\n")
        raise typer.Exit(_verdict(question, spec, reporter, held=rows))
    found = owners(targets)
    ending = Ending(question, spec, first_signal, grace)
    for owner_pid, name in found.items():
        reason = refusal(owner_pid)
        if reason:
            ending.settle(owner_pid, name, Outcome.REFUSED, reason)
    candidates = {p: n for p, n in found.items() if p not in ending.outcomes}
    ways = _Ways.of(question, candidates, targets, stop_container=stop_container, stop_service=stop_service)
    asking = bool(candidates) and not yes
    opt.show_processes(process_lines(targets), asking=asking)
    unowned = unowned_warning(targets)
    if unowned:
        reporter.warn(unowned)
    for line in ways.warnings(str(spec)):
        reporter.warn(line)
    if asking and not opt.confirm(*ways.confirmation(ending)):
        opt.write_lines(ending.report_lines())
        reporter.error("nothing ended")
        raise typer.Exit(ExitCode.NO_MATCH)
    if candidates:
        try:
            ways.stop(ending, grace)
            if ways.signalled:
                ending.run(ways.signalled)
        except KeyboardInterrupt:
            sys.stderr.write("\n")
            ending.interrupted()
            opt.write_lines(ending.report_lines())
            raise typer.Exit(INTERRUPTED) from None
    opt.write_lines(ending.report_lines())
    raise typer.Exit(_verdict(question, spec, reporter, back=ways.came_back(ending)))


class _Ways:
    """How each candidate is ended: a signal, or (with --stop-container / --stop-service) its
    container or service stopped; and who would start it again (portcheck.live.supervised)."""

    def __init__(
        self,
        question: LiveQuestion,
        candidates: dict[int, str],
        supervised: dict[int, Supervision],
        actions: list[StopAction],
        options: tuple[bool, bool],
    ) -> None:
        self.question = question
        self.candidates = candidates
        self.supervised = supervised
        self.actions = actions
        self.options = options
        stopped = {pid for action in actions for pid in action.pids}
        self.signalled = {p: n for p, n in candidates.items() if p not in stopped}

    @classmethod
    def of(
        cls,
        question: LiveQuestion,
        candidates: dict[int, str],
        targets: list[Socket],
        *,
        stop_container: bool,
        stop_service: bool,
    ) -> _Ways:
        from portcheck.live.supervised import assess, stop_actions
        from portcheck.platforms import platform_for

        answer = question.last
        if answer is None or not candidates:
            return cls(question, candidates, {}, [], (stop_container, stop_service))
        system = platform_for(question.os_name)
        supervised = assess(candidates, targets, answer.owners, system, question)
        actions = stop_actions(supervised, stop_container=stop_container, stop_service=stop_service)
        return cls(question, candidates, supervised, actions, (stop_container, stop_service))

    def warnings(self, spec: str) -> list[str]:
        from portcheck.live.supervised import advice

        stop_container, stop_service = self.options
        lines = advice(
            self.supervised.values(), spec, stop_container=stop_container, stop_service=stop_service
        )
        if stop_container and not any(e.container for e in self.supervised.values()):
            lines.append(
                f"--stop-container: no holder of port {spec} runs in a container (or forwards to one)"
            )
        if stop_service and not any(e.supervisor and e.supervisor.stop for e in self.supervised.values()):
            lines.append(f"--stop-service: no holder of port {spec} is a service portcheck can stop")
        return lines

    def confirmation(self, ending: Ending) -> tuple[str, str]:
        """(what, how) for `End WHAT with HOW?`."""
        from portcheck.live.kill import pid_names

        stops = ", ".join(f"{a.what} with `{a.shown}`" for a in self.actions)
        if not self.signalled:
            first, _, how = stops.rpartition(" with ")
            return first, how
        names = pid_names(self.signalled)
        return (f"{stops}, and {names}" if stops else names), ending.describe_plan()

    def stop(self, ending: Ending, grace: float) -> None:
        from portcheck.live.kill import Outcome
        from portcheck.live.supervised import run_stop

        for action in self.actions:
            stopped, said = run_stop(action, self.question, grace)
            for pid in action.pids:
                name = self.candidates[pid]
                if stopped:
                    ending.settle(pid, name, Outcome.ENDED, f"by `{action.shown}` ({action.what})")
                else:
                    ending.settle(pid, name, Outcome.FAILED, f"{action.what} {said}")

    def came_back(self, ending: Ending) -> list[str]:
        """After signals to supervised holders: who holds the port again, and who started it."""
        from portcheck.live.kill import Outcome
        from portcheck.live.supervised import watch_for_return, who_restarted
        from portcheck.platforms import platform_for

        ended = {p for p, (_, outcome, _) in ending.outcomes.items() if outcome is Outcome.ENDED}
        if not any(p in self.supervised for p in ended & set(self.signalled)):
            return []
        back = watch_for_return(self.question, set(self.candidates))
        answer = self.question.last
        if not back or answer is None:
            return []
        system = platform_for(self.question.os_name)
        privileged = self.question.executor.privileged
        return list(
            dict.fromkeys(
                f"PID {r.pid} ({r.process or '?'}), started again by "
                f"{who_restarted(r, answer.owners, system, privileged)}"
                for r in back
            )
        )


INTERRUPTED = 130
INTERRUPTED = 130
"""Ctrl-C: the shell's 128 + SIGINT, as for every other command (cli.main)."""


def kill_hint(hint: str, spec: PortSpec) -> str:
    """The query's advice to add --sudo, as it applies to kill (which has none: sudo runs all of it)."""
    from portcheck.live.hints import OWN_SOCKETS_HINT, SUDO_HINT

    advice = f"run `sudo portcheck kill {spec}` to see and end other users' processes"
    if hint == SUDO_HINT:
        return f"sockets of other users' processes show no owner: {advice}"
    if hint == OWN_SOCKETS_HINT:
        return f"lsof without root shows only your own processes' sockets: {advice}"
    return hint


def matching(pids: Sequence[int] | None, process: str | None) -> str:
    parts = ([f"with PID {', '.join(map(str, pids))}"] if pids else []) + (
        [f"named like {process!r}"] if process else []
    )
    return (" " + " and ".join(parts)) if parts else ""


def _verdict(
    question: LiveQuestion,
    spec: PortSpec,
    reporter: Reporter,
    held: list[Socket] | None = None,
    back: Sequence[str] = (),
) -> ExitCode:
    """Exit 0 when the port is free now; 1 (and who holds it, on stderr) when it is not. `held`: rows
    just read (no need to ask again); `back`: holders that came back after their PIDs ended, and who
    started them again."""
    if back:
        reporter.error(f"port {spec} is held again: {'; '.join(back)}")
        return ExitCode.NO_MATCH
    if held is None:
        held = question.held()
    if not held:
        sys.stdout.write(f"Port {spec} is free.\n")
        return ExitCode.MATCH
    from portcheck.live.question import describe_holders

    reporter.error(f"port {spec} is still in use: {describe_holders(held)}")
    return ExitCode.NO_MATCH
