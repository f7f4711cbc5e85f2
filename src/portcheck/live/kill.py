"""Ending the processes that hold a port, carefully: the engine under `portcheck kill` (this machine)
and `kill --host` (portcheck.fleet.kill, each host over ssh).

It never signals PID 0, 1 or 4, nor (here) portcheck itself or its parent, and it signals only PIDs
that still hold the port just before the signal (a PID that let go in the meantime may belong to
another program by now): the query is asked again, and then, for each PID, the kernel itself
(portcheck.live.ownership), because a tool's row can be forged by names other users choose. Signals
go through the platform's SignalPlan (`kill -s TERM PID` on POSIX, `taskkill /PID n` on Windows) and
the question's Executor, like the query; only when this machine has no `kill` program does it call
os.kill itself. SIGKILL follows only a signal that asks a program to exit (TERM, INT, QUIT). Whether a
process ended is judged by the port: it ended when it no longer holds it. It prints nothing: outcomes
come back as lines for the command to write.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from portcheck.core.errors import UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import Socket
from portcheck.core.strenum import StrEnum
from portcheck.parsers.ownership import Holding
from portcheck.platforms.base import TERMINATING_SIGNALS

if TYPE_CHECKING:
    from portcheck.core.portspec import PortSpec
    from portcheck.live.question import LiveQuestion
    from portcheck.platforms.base import Platform

SIGNALS = ("TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2")
SIGNAL_NUMBERS = {1: "HUP", 2: "INT", 3: "QUIT", 9: "KILL", 15: "TERM"}
"""The numbers POSIX fixes for kill(1) (`kill -9`); USR1 and USR2 differ (10/12 on Linux, 30/31 on
macOS and FreeBSD), so they are taken by name only."""
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
    NOT_HOLDING = "not signalled"
    STUCK = "still holds the port"
    FAILED = "could not be signalled"
    INTERRUPTED = "interrupted"


FOREIGN_PIDS_REFUSAL = (
    "the PIDs the tools print belong to another PID namespace than portcheck's (/proc is not this "
    "namespace's: `unshare --pid` without --mount-proc, or a container given the host's /proc), so "
    "the signal would reach whatever process has that number here; run portcheck where /proc matches"
)


class Sent(StrEnum):
    SENT = "sent"
    GONE = "gone"
    DENIED = "denied"
    NEEDS_FORCE = "needs force"
    FAILED = "failed"


def parse_signal(text: str) -> str:
    """A signal name (`TERM`, `sigterm`) or one of the numbers POSIX fixes (`9`), as its name."""
    word = text.strip()
    if word.isascii() and word.isdecimal():
        name = SIGNAL_NUMBERS.get(int(word))
        if name is None:
            fixed = ", ".join(f"{n} {s}" for n, s in SIGNAL_NUMBERS.items())
            raise UsageError(
                f"signal number {word} means different signals on different systems; numbers taken: "
                f"{fixed}; otherwise use a name: {', '.join(SIGNALS)}"
            )
        return name
    name = word.upper().removeprefix("SIG")
    if name not in SIGNALS:
        raise UsageError(f"unknown signal {text!r}; use a name: {', '.join(SIGNALS)} (or 1, 2, 3, 9, 15)")
    return name


def escalates(signal_name: str) -> bool:
    """Does SIGKILL follow when the port is still held after the grace?"""
    return signal_name in TERMINATING_SIGNALS and signal_name != "KILL"


def refusal(pid: int) -> str | None:
    """Why a PID is never signalled, or None."""
    if pid in NEVER_SIGNALLED:
        return NEVER_SIGNALLED[pid]
    if pid == os.getpid():
        return "that is portcheck itself"
    if pid == os.getppid():
        return "that is portcheck's parent (the shell or script that ran it)"
    return None


def owners(rows: list[Socket]) -> dict[int, str]:
    """PID -> process name, in table order."""
    from portcheck.output.render import sort_rows

    owners: dict[int, str] = {}
    for row in sort_rows(rows):
        if row.pid is not None:
            owners.setdefault(row.pid, row.process or "?")
    return owners


MAX_PORTS_NAMED = 8
"""Listening ports named per process in the confirmation; the rest are counted."""


def process_lines(rows: list[Socket], host: str | None = None) -> list[str]:
    """What `kill` asks about: one line per process, not per socket (`kill 8000-9200` on a busy server
    would otherwise list every connection): `PID 812 (nginx, user www): listening on 80/tcp,
    443/tcp; 37 connections`. Each line starts with `host: ` when given."""
    from portcheck.core.model import is_listening
    from portcheck.output.render import sort_rows

    lead = f"{escape_controls(host)}: " if host is not None else ""
    mine: dict[int, list[Socket]] = {}
    for row in sort_rows(rows):
        if row.pid is not None:
            mine.setdefault(row.pid, []).append(row)
    lines = []
    for pid, its in mine.items():
        first = its[0]
        user = f", user {escape_controls(first.user)}" if first.user else ""
        ports = list(dict.fromkeys(f"{r.local_port}/{r.proto}" for r in its if is_listening(r)))
        connections = sum(1 for r in its if not is_listening(r))
        parts = []
        if ports:
            more = len(ports) - MAX_PORTS_NAMED
            parts.append(
                "listening on "
                + ", ".join(ports[:MAX_PORTS_NAMED])
                + (f" and {more} more" if more > 0 else "")
            )
        if connections:
            parts.append(f"{connections} connection{'s' if connections != 1 else ''}")
        name = escape_controls(first.process or "?")
        keeper = next((r for r in its if r.container or r.service), None)
        if keeper is not None:
            what = f"container {keeper.container}" if keeper.container else f"service {keeper.service}"
            user += f", {escape_controls(what)}"
        lines.append(f"{lead}PID {pid} ({name}{user}): " + "; ".join(parts))
    return lines


def unowned_warning(rows: list[Socket]) -> str | None:
    unowned = sum(1 for r in rows if r.pid is None)
    if not unowned:
        return None
    sockets = f"{unowned} socket shows" if unowned == 1 else f"{unowned} sockets show"
    return f"{sockets} no process: portcheck cannot end what it cannot name"


def pid_names(candidates: dict[int, str]) -> str:
    return ", ".join(f"PID {p} ({escape_controls(n)})" for p, n in candidates.items())


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
        self.candidates: dict[int, str] = {}
        self.sent: dict[int, str] = {}
        """PID -> the last signal sent to it (as outcomes name it), for a report after Ctrl-C."""

    def settle(self, pid: int, name: str, outcome: Outcome, detail: str = "") -> None:
        self.outcomes[pid] = (name, outcome, detail)

    def describe_plan(self) -> str:
        return self._platform().signal_description(self.first_signal, self.grace)

    def run(self, candidates: dict[int, str]) -> None:
        self.candidates = dict(candidates)
        now = self._holders()
        pending: dict[int, str] = {}
        forced: dict[int, str] = {}
        for pid, name in candidates.items():
            if pid not in now:
                self.settle(pid, name, Outcome.SKIPPED, f"it no longer holds port {self.spec}")
            elif now[pid] != name:
                self.settle(pid, name, Outcome.SKIPPED, f"PID {pid} now belongs to {now[pid]!r}")
            elif self._verified(pid, name):
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
        if stayed and not escalates(self.first_signal):
            reason = (
                f"{self._label(force=False)} does not ask a program to exit, so nothing stronger followed"
            )
            for pid, name in stayed.items():
                self.settle(pid, name, Outcome.STUCK, f"after {self._label(force=False)} ({reason})")
            stayed = {}
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
            if not self._verified(pid, name, signalled=pid in self.sent):
                continue
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

    def _verified(self, pid: int, name: str, *, signalled: bool = False) -> bool:
        """The kernel's own word, just before a signal, that PID holds a socket on the port; a PID that
        fails is settled (and never signalled). `signalled`: the first signal went out already, so a
        PID that holds nothing now (or is gone) let go of the port: it ended, though the tool still
        listed it (a tool lags, or shows a process that has not been reaped)."""
        from portcheck.live.ownership import check_holder

        proof = check_holder(self.question, pid)
        if proof.holding is Holding.HOLDS:
            return True
        if signalled and proof.holding in (Holding.NOT_HELD, Holding.GONE):
            self.settle(pid, name, Outcome.ENDED, f"by {self.sent[pid]}")
        elif proof.holding is Holding.GONE:
            self.settle(pid, name, Outcome.GONE)
        elif proof.holding is Holding.NOT_HELD:
            detail = f"PID {pid} does not hold port {self.spec} (checked: {proof.evidence})"
            self.settle(pid, name, Outcome.NOT_HOLDING, detail)
        elif proof.holding is Holding.UNREADABLE:
            detail = f"its sockets cannot be looked into ({proof.evidence}): {self.denied_advice}"
            self.settle(pid, name, Outcome.DENIED, detail)
        elif proof.holding is Holding.FOREIGN_PIDS:
            self.settle(pid, name, Outcome.REFUSED, FOREIGN_PIDS_REFUSAL)
        else:
            detail = f"cannot check that it holds port {self.spec}: {proof.evidence}"
            self.settle(pid, name, Outcome.FAILED, detail)
        return False

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
        """Send and remember it (set before, so that a Ctrl-C while it goes out still reports it)."""
        previous = self.sent.get(pid)
        self.sent[pid] = self._label(force=force)
        sent, detail = self._deliver(pid, force=force)
        if sent is not Sent.SENT:
            if previous is None:
                del self.sent[pid]
            else:
                self.sent[pid] = previous
        return sent, detail

    def _deliver(self, pid: int, *, force: bool) -> tuple[Sent, str]:
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

    def interrupted(self) -> None:
        """Ctrl-C during the run: settle every candidate not settled yet, saying what it was sent."""
        for pid, name in self.candidates.items():
            if pid in self.outcomes:
                continue
            if pid in self.sent:
                detail = f"{self.sent[pid]} sent; stopped before it let go of port {self.spec}"
                if escalates(self.first_signal) and self.sent[pid] == self._label(force=False):
                    detail += f", so no {self._label(force=True)} followed"
            else:
                detail = "not signalled"
            self.settle(pid, name, Outcome.INTERRUPTED, detail)

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
