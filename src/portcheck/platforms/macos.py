"""macOS: lsof first (the only tool that names processes), then `netstat -anvW` (its -v adds the PID)."""

from __future__ import annotations

from portcheck.platforms.base import (
    OS,
    POSIX_ENV,
    BsdPlatform,
    Command,
    OwnershipCheck,
    Question,
    Step,
    Traits,
    lsof_ownership,
    lsof_step,
)


class MacOS(BsdPlatform):
    os = OS.MACOS
    traits = Traits(posix=True, getent=False)
    unames = ("Darwin",)

    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        return (
            lsof_step(question, privileged),
            Step("netstat", "netstat-bsd", (Command(("netstat", "-anvW"), POSIX_ENV),)),
        )

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        return lsof_ownership(pid, question)


PLATFORM = MacOS()
