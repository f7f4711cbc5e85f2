"""`portcheck kill PORT`: end the processes that hold a port, carefully.

It shows what it found and asks (y/N) on a terminal; a script must say --yes, and without a terminal
and without --yes it refuses instead of waiting for an answer nobody will type. It never signals
PID 0, 1 or 4, itself or its parent, and it signals only PIDs that still hold the port just before
the signal (a PID that let go in the meantime may belong to another program by now).

Signals go through the platform's plan (`kill -s TERM PID` on POSIX, `taskkill /PID n` on Windows)
and the Executor, like the query; only when this machine has no `kill` program does it call
os.kill itself. Whether a process ended is judged by the port: it ended when it no longer holds it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands import base as opt
from portcheck.commands import hosts as fleet_opt
from portcheck.core.errors import UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import ExitCode, Socket
from portcheck.core.portspec import parse_port_spec
from portcheck.core.strenum import StrEnum
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.core.portspec import PortSpec
    from portcheck.live.question import LiveQuestion
    from portcheck.platforms.base import Platform

EPILOG = """\
\b
Examples:
  portcheck kill 8080                 show who holds 8080, ask, then SIGTERM (SIGKILL after 5 s)
  portcheck kill 8080 --yes           no question: for scripts (without a terminal --yes is required)
  portcheck kill 3000 --listening -y  only the server, not processes with connections on 3000
  portcheck kill 5432 --process postgres --grace 30
  portcheck kill 9229 --signal INT    Ctrl-C for the program, then SIGKILL if it stays
  portcheck kill 8080 --host web1 --host web2   the same on each host over ssh, one confirmation

\b
Exit status: 0 the port is free afterwards, 1 something still holds it (or you answered no),
2 bad usage or no terminal to ask on without --yes, 3 the machine could not be inspected.
Never signalled: PID 0, 1 and 4, portcheck itself and its parent. Processes of other users need
root: run `sudo portcheck kill PORT`.
With --host: exit 0 when every host was inspected and the port is free on each, 1 when a host still
holds it, 3 when a host could not be inspected; never signalled there: PID 0, 1 and 4, and portcheck's
own ssh session (its sshd and the processes above it).
"""

SIGNALS = ("TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2")
FORCE_WAIT = 3.0
"""Seconds to wait for the port after SIGKILL (or taskkill /F) before calling the process stuck."""
POLL_INTERVAL = 0.2
NEVER_SIGNALLED = {
    0: "PID 0 is the kernel (Windows: System Idle Process)",
    1: "PID 1 is init (systemd, launchd): ending it takes the machine down",
    4: "PID 4 is the Windows kernel (System); stop the service that asked it for the port",
}


class Outcome(StrEnum):
    ENDED = "ended"
    GONE = "already gone"
    DENIED = "permission denied"
    REFUSED = "refused"
    SKIPPED = "skipped"
    STUCK = "still holds the port"
    FAILED = "could not be signalled"


class Sent(StrEnum):
    SENT = "sent"
    GONE = "gone"
    DENIED = "denied"
    NEEDS_FORCE = "needs force"
    FAILED = "failed"


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
    verbose: opt.VerboseOpt = False,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
) -> None:
    """End the processes that hold a port: shows them, asks (y/N), signals, reports each PID.

    The port is free afterwards when no socket on it is left but TIME_WAIT ones (closed connections
    the kernel keeps; they do not stop a server). --tcp, --udp, -4, -6 and --listening choose which
    sockets count; --pid and --process only narrow what is ended. With --host, the same on each
    host over ssh, after one confirmation that names the host of every process.
    """
    from portcheck.live.executor import LocalExecutor
    from portcheck.live.question import LiveQuestion
    from portcheck.platforms import current_os

    reporter = Reporter(quiet=quiet, verbose=verbose)
    spec = parse_port_spec(*ports)
    first_signal = parse_signal(signal_name)
    if not 0 <= grace < float("inf"):  # nan and inf too
        raise UsageError("--grace must be 0 or more seconds")
    opt.check_positive(timeout, "--timeout")
    scope = opt.port_scope(spec, tcp=tcp, udp=udp, ipv4=ipv4, ipv6=ipv6, listening=listening)
    chosen = replace(scope, pids=frozenset(pid) if pid else None, process=process)
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        from portcheck.commands.kill_hosts import Order, kill_hosts

        order = Order(spec, scope, chosen, first_signal, grace, timeout, matching(pid, process))
        raise typer.Exit(kill_hosts(fleet, order, yes=yes, reporter=reporter))
    question = LiveQuestion(spec, scope, current_os(), LocalExecutor(), timeout)
    rows = question.held()
    targets = [r for r in rows if chosen(r)]
    if question.last is not None:
        opt.report_answer(reporter, question.last)
    if not targets:
        sys.stdout.write(f"Nothing to end: no process{matching(pid, process)} holds port {spec}.\n")
        raise typer.Exit(_verdict(question, spec, reporter, held=rows))
    show_rows(targets)
    found = owners(targets)
    unowned = unowned_warning(targets)
    if unowned:
        reporter.warn(unowned)
    ending = Ending(question, spec, first_signal, grace)
    for owner_pid, name in found.items():
        reason = refusal(owner_pid)
        if reason:
            ending.settle(owner_pid, name, Outcome.REFUSED, reason)
    candidates = {p: n for p, n in found.items() if p not in ending.outcomes}
    if candidates and not yes and not confirm(pid_names(candidates), ending.describe_plan()):
        write_lines(ending.report_lines())
        reporter.error("nothing ended")
        raise typer.Exit(ExitCode.NO_MATCH)
    if candidates:
        ending.run(candidates)
    write_lines(ending.report_lines())
    raise typer.Exit(_verdict(question, spec, reporter))


def write_lines(lines: list[str]) -> None:
    sys.stdout.write("".join(line + "\n" for line in lines))


def parse_signal(text: str) -> str:
    name = text.strip().upper().removeprefix("SIG")
    if name not in SIGNALS:
        raise UsageError(
            f"unknown signal {text!r}; use a name: {', '.join(SIGNALS)} (numbers differ between systems)"
        )
    return name


def refusal(pid: int) -> str | None:
    """Why a PID is never signalled, or None."""
    if pid in NEVER_SIGNALLED:
        return NEVER_SIGNALLED[pid]
    if pid == os.getpid():
        return "that is portcheck itself"
    if pid == os.getppid():
        return "that is portcheck's parent (the shell or script that ran it)"
    return None


def matching(pids: Sequence[int] | None, process: str | None) -> str:
    parts = ([f"with PID {', '.join(map(str, pids))}"] if pids else []) + (
        [f"named like {process!r}"] if process else []
    )
    return (" " + " and ".join(parts)) if parts else ""


def show_rows(rows: list[Socket], hosts: Sequence[str] | None = None) -> None:
    """What will be ended, as a table. `hosts`: one host name per row (rows already in order)."""
    from portcheck.output.render import render_table, sort_rows

    terminal = opt.terminal_settings()
    shown = rows if hosts is not None else sort_rows(rows)
    render_table(shown, sys.stdout, width=terminal.width, colour=terminal.colour, hosts=hosts)
    sys.stdout.flush()


def owners(rows: list[Socket]) -> dict[int, str]:
    """PID -> process name, in table order."""
    from portcheck.output.render import sort_rows

    owners: dict[int, str] = {}
    for row in sort_rows(rows):
        if row.pid is not None:
            owners.setdefault(row.pid, row.process or "?")
    return owners


def confirm(names: str, plan: str) -> bool:
    """y/N on a terminal; without one, refuse (exit 2) rather than wait for an answer nobody types."""
    if not sys.stdin.isatty():
        raise UsageError(
            "not ending anything: there is no terminal to confirm on; "
            f"pass --yes to end {names} from a script"
        )
    try:
        return typer.confirm(f"End {names} with {plan}?", default=False, err=True)
    except typer.Abort:  # end of input (Ctrl-D) is a no
        sys.stderr.write("\n")
        return False


def unowned_warning(rows: list[Socket]) -> str | None:
    unowned = sum(1 for r in rows if r.pid is None)
    if not unowned:
        return None
    sockets = f"{unowned} socket shows" if unowned == 1 else f"{unowned} sockets show"
    return f"{sockets} no process: portcheck cannot end what it cannot name"


def pid_names(candidates: dict[int, str]) -> str:
    return ", ".join(f"PID {p} ({escape_controls(n)})" for p, n in candidates.items())


def _verdict(
    question: LiveQuestion, spec: PortSpec, reporter: Reporter, held: list[Socket] | None = None
) -> ExitCode:
    """Exit 0 when the port is free now; 1 (and who holds it, on stderr) when it is not. `held`: rows
    just read (no need to ask again)."""
    if held is None:
        held = question.held()
    if not held:
        sys.stdout.write(f"Port {spec} is free.\n")
        return ExitCode.MATCH
    from portcheck.live.question import describe_holders

    reporter.error(f"port {spec} is still in use: {describe_holders(held)}")
    return ExitCode.NO_MATCH


class Ending:
    """Signals candidates, waits for the port, escalates, and remembers each PID's outcome."""

    def __init__(
        self,
        question: LiveQuestion,
        spec: PortSpec,
        first_signal: str,
        grace: float,
        denied_advice: str | None = None,
    ) -> None:
        self.question = question
        self.spec = spec
        self.first_signal = first_signal
        self.grace = grace
        self.denied_advice = denied_advice or f"run `sudo portcheck kill {spec}`"
        """What to do about another user's process (remote hosts: log in as root)."""
        self.outcomes: dict[int, tuple[str, Outcome, str]] = {}

    def settle(self, pid: int, name: str, outcome: Outcome, detail: str = "") -> None:
        self.outcomes[pid] = (name, outcome, detail)

    def describe_plan(self) -> str:
        return self._platform().signal_description(self.first_signal, self.grace)

    def run(self, candidates: dict[int, str]) -> None:
        now = self._holders()
        pending: dict[int, str] = {}
        forced: dict[int, str] = {}
        for pid, name in candidates.items():
            if pid not in now:
                self.settle(pid, name, Outcome.SKIPPED, f"it no longer holds port {self.spec}")
            elif now[pid] != name:
                self.settle(pid, name, Outcome.SKIPPED, f"PID {pid} now belongs to {now[pid]!r}")
            else:
                sent, detail = self._send(pid, force=self.first_signal == "KILL")
                if sent is Sent.SENT:
                    (forced if self.first_signal == "KILL" else pending)[pid] = name
                elif sent is Sent.NEEDS_FORCE:
                    forced.update(self._force({pid: name}))
                else:
                    self._settle_failure(pid, name, sent, detail)
        released = self._wait(pending, self.grace)
        for pid, name in released.items():
            self.settle(pid, name, Outcome.ENDED, f"by {self._label(force=False)}")
        stayed = {p: n for p, n in pending.items() if p not in released}
        if stayed:
            forced.update(self._force(stayed))
        if forced:
            after = f" ({self._label(force=False)} was not enough for {self.grace:g} s)"
            released = self._wait(forced, FORCE_WAIT)
            for pid, name in forced.items():
                if pid in released:
                    extra = after if pid in stayed else ""
                    self.settle(pid, name, Outcome.ENDED, f"by {self._label(force=True)}{extra}")
                else:
                    self.settle(pid, name, Outcome.STUCK, f"after {self._label(force=True)}")

    def _force(self, targets: dict[int, str]) -> dict[int, str]:
        sent_to: dict[int, str] = {}
        for pid, name in targets.items():
            sent, detail = self._send(pid, force=True)
            if sent is Sent.SENT:
                sent_to[pid] = name
            else:
                self._settle_failure(pid, name, sent, detail)
        return sent_to

    def _settle_failure(self, pid: int, name: str, sent: Sent, detail: str) -> None:
        if sent is Sent.GONE:
            self.settle(pid, name, Outcome.GONE)
        elif sent is Sent.DENIED:
            self.settle(
                pid,
                name,
                Outcome.DENIED,
                f"it belongs to another user: {self.denied_advice}",
            )
        else:
            self.settle(pid, name, Outcome.FAILED, detail)

    def _holders(self) -> dict[int, str]:
        return {r.pid: r.process or "?" for r in self.question.held() if r.pid is not None}

    def _wait(self, targets: dict[int, str], seconds: float) -> dict[int, str]:
        """Poll the port until every target let go of it or `seconds` passed; the ones that did."""
        if not targets:
            return {}
        deadline = time.monotonic() + seconds
        while True:
            now = self._holders()
            released = {p: n for p, n in targets.items() if p not in now}
            if len(released) == len(targets) or time.monotonic() >= deadline:
                return released
            time.sleep(min(POLL_INTERVAL, max(deadline - time.monotonic(), 0)))

    def _platform(self) -> Platform:
        from portcheck.platforms import platform_for

        return platform_for(self.question.os_name)

    def _label(self, *, force: bool) -> str:
        return self._platform().signal_label(self.first_signal, force=force)

    def _send(self, pid: int, *, force: bool) -> tuple[Sent, str]:
        from portcheck.live.runner import Problem, ToolError

        system = self._platform()
        plan = system.signal_plan(pid, self.first_signal, force=force)
        executor = self.question.executor
        try:
            result = executor.run(plan.command.argv, timeout=self.question.timeout, env=plan.command.env)
        except ToolError as error:
            if error.problem is Problem.MISSING and executor.local and system.traits.posix:
                return _os_kill(pid, "KILL" if force else self.first_signal)
            return Sent.FAILED, str(error)
        said = (result.output + result.errors).decode("utf-8", "replace")
        if result.status == 0:
            return Sent.SENT, ""
        if result.status in plan.gone_status or any(w in said for w in plan.gone_words):
            return Sent.GONE, ""
        if any(w in said for w in plan.denied_words):
            return Sent.DENIED, ""
        if result.status in plan.needs_force_status:
            return Sent.NEEDS_FORCE, ""
        detail = next((line.strip() for line in said.splitlines() if line.strip()), "")
        if force and plan.forced_failure_is_denial:
            return Sent.DENIED, detail
        return Sent.FAILED, f"{plan.command}: exit status {result.status}" + (f": {detail}" if detail else "")

    def report_lines(self, host: str | None = None) -> list[str]:
        """`PID 4242 (python3): ended by SIGTERM`, `PID 1 (systemd): refused: PID 1 is init ...`;
        each line starts with `host: ` when given."""
        lead = f"{escape_controls(host)}: " if host is not None else ""
        lines = []
        for pid, (name, outcome, detail) in self.outcomes.items():
            joint = " " if outcome is Outcome.ENDED or outcome is Outcome.STUCK else ": "
            said = f"{joint}{escape_controls(detail)}" if detail else ""
            lines.append(f"{lead}PID {pid} ({escape_controls(name)}): {outcome}{said}")
        return lines


def _os_kill(pid: int, name: str) -> tuple[Sent, str]:
    """The signal without a `kill` program (a minimal container): this machine, this user."""
    import signal

    try:
        os.kill(pid, getattr(signal, f"SIG{name}"))
    except ProcessLookupError:
        return Sent.GONE, ""
    except PermissionError:
        return Sent.DENIED, ""
    except (OSError, AttributeError) as error:
        return Sent.FAILED, str(error)
    return Sent.SENT, ""
