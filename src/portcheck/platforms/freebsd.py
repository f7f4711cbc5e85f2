"""FreeBSD: sockstat first (in the base system; it names processes), then `netstat -anW`, which never
does. Who a process is: one `sh` script running `ps -o pid=,lstart=,command=` and reading the pid files
rc.d scripts leave in /var/run, so a daemon's rc.d name costs no second command."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from portcheck.platforms.base import (
    OS,
    POSIX_ENV,
    PS_ENV,
    BsdPlatform,
    Command,
    OwnerProbe,
    OwnershipCheck,
    Question,
    Step,
    Supervisor,
    Traits,
    family_digit,
    filterable,
    protos,
    rows_of,
)

if TYPE_CHECKING:
    from portcheck.core.owners import ProcessFacts

OWNERS_SCRIPT = (
    '/bin/ps -ww -o pid=,lstart=,command= -p "$1"; echo "rc.d pidfiles:"; '
    'for f in /var/run/*.pid; do p=; read -r p _ < "$f"; echo "$p ${f##*/}"; done 2>/dev/null; '
    'echo "rc.d scripts:"; for f in /etc/rc.d/* /usr/local/etc/rc.d/*; do echo "${f##*/}"; done; exit 0'
)
"""Run as `sh -c OWNERS_SCRIPT sh PID,PID,...` (a fixed script; its one argument is PIDs, ints, joined by
commas): ps for the PIDs, then the first word of every pid file in /var/run (as rc.subr reads it) with
the file's name, then the names of the rc.d scripts (portcheck.parsers.owners.bsd.read_freebsd_reply
reads all three). ps by its absolute path and the rest shell builtins: no PATH is consulted, so through
`--sudo` nothing a user planted runs as root."""


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
        from portcheck.parsers.owners.bsd import read_freebsd_reply

        argv = ("sh", "-c", OWNERS_SCRIPT, "sh", ",".join(map(str, pids)))
        return (OwnerProbe(Command(argv, PS_ENV), read_freebsd_reply),)

    def supervisor(self, facts: ProcessFacts, *, privileged: bool) -> Supervisor | None:
        """An rc.d service: `service NAME stop` (its script ends the daemon through the same pid file).
        rc.d restarts nothing by itself (daemon(8) -r may, unseen here): the restart policy stays unknown."""
        name = facts.service
        if not name:
            return None
        stop = Command(("service", name, "stop"), POSIX_ENV)
        return Supervisor("rc.d", name, stop, " ".join(stop.argv))

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        """sockstat (in the base system; lsof is a package) for the port, filtered to PID's rows."""
        select = ["-P", ",".join(p.value for p in protos(question))]
        if question.ports is not None:
            select += ["-p", str(question.ports)]
        argv = ("sockstat", f"-{family_digit(question, both='46')}s", *select)
        return OwnershipCheck(Command(argv, POSIX_ENV), rows_of("sockstat"), " ".join(argv))


PLATFORM = FreeBSD()
