"""Ending the processes that hold a port, carefully: the engine under `portcheck kill` (this machine)
and `kill --host` (portcheck.fleet.kill, each host over ssh).

It never signals PID 0, 1 or 4, nor (here) portcheck itself or its parent, and it signals only PIDs
that still hold the port just before the signal (a PID that let go in the meantime may belong to
another program by now). Signals go through the platform's SignalPlan (`kill -s TERM PID` on POSIX,
`taskkill /PID n` on Windows) and the question's Executor, like the query; only when this machine has
no `kill` program does it call os.kill itself. Whether a process ended is judged by the port: it
ended when it no longer holds it. It prints nothing: outcomes come back as lines for the command to
write.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from portcheck.core.errors import UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import Socket
from portcheck.core.strenum import StrEnum

if TYPE_CHECKING:
    from portcheck.core.portspec import PortSpec
    from portcheck.live.question import LiveQuestion
    from portcheck.platforms.base import Platform

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


def owners(rows: list[Socket]) -> dict[int, str]:
    """PID -> process name, in table order."""
    from portcheck.output.render import sort_rows

    owners: dict[int, str] = {}
    for row in sort_rows(rows):
        if row.pid is not None:
            owners.setdefault(row.pid, row.process or "?")
    return owners


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
