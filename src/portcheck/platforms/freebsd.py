"""FreeBSD: sockstat first (in the base system; it names processes), then `netstat -anW`, which never
does. Who a process is: one `ps -o pid=,lstart=,command=` (no rc.d name: rc.d keeps no PID -> script
map that one command could read)."""

from __future__ import annotations

from collections.abc import Sequence

from portcheck.platforms.base import (
    OS,
    POSIX_ENV,
    PS_ARGV,
    PS_ENV,
    BsdPlatform,
    Command,
    OwnerProbe,
    OwnershipCheck,
    Question,
    Step,
    Traits,
    family_digit,
    filterable,
    protos,
    rows_of,
)


class FreeBSD(BsdPlatform):
    os = OS.FREEBSD
    traits = Traits(posix=True, getent=True)
    unames = ("FreeBSD",)

    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        select = ["-P", ",".join(p.value for p in protos(question))]
        if question.ports is not None and filterable(question.ports):
            select += ["-p", str(question.ports)]
        family = family_digit(question, both="46")
        # -l listening, -c connected; -s adds the TCP state (without it only the peer hints at one).
        kinds = ("l",) if question.listing else ("l", "c")
        sockstat = tuple(Command(("sockstat", f"-{family}{kind}s", *select), POSIX_ENV) for kind in kinds)
        return (
            Step("sockstat", "sockstat", sockstat),
            Step("netstat", "netstat-bsd", (Command(("netstat", "-anW"), POSIX_ENV),), shows_owners=False),
        )

    def owner_probes(self, pids: Sequence[int], orphans: Sequence[int] = ()) -> tuple[OwnerProbe, ...]:
        from portcheck.parsers.owners.bsd import read_ps

        return (OwnerProbe(Command((*PS_ARGV, ",".join(map(str, pids))), PS_ENV), read_ps),)

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        """sockstat (in the base system; lsof is a package) for the port, filtered to PID's rows."""
        select = ["-P", ",".join(p.value for p in protos(question))]
        if question.ports is not None:
            select += ["-p", str(question.ports)]
        argv = ("sockstat", f"-{family_digit(question, both='46')}s", *select)
        return OwnershipCheck(Command(argv, POSIX_ENV), rows_of("sockstat"), " ".join(argv))


PLATFORM = FreeBSD()
