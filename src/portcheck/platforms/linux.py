"""Linux: ss first (its own port filter, process names, uids), then net-tools netstat, lsof, and finally
/proc read by portcheck itself, for a container that has none of the tools."""

from __future__ import annotations

from portcheck.core.model import Family
from portcheck.core.portspec import PortSpec
from portcheck.platforms.base import (
    BOTH_PROTOS,
    OS,
    POSIX_BIND_ADVICE,
    POSIX_ENV,
    Command,
    OwnershipCheck,
    PosixPlatform,
    Probe,
    ProbeKind,
    Question,
    RangeReader,
    Step,
    Traits,
    filterable,
    lsof_step,
    protos,
)

PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
RESERVED_PORTS = "/proc/sys/net/ipv4/ip_local_reserved_ports"
OWNERSHIP_SCRIPT = (
    'p=$1; grep "^NSpid:" /proc/self/status 2>/dev/null; '
    'if [ ! -d "/proc/$p" ]; then echo "pid gone"; '
    'elif ! ls "/proc/$p/fd" >/dev/null 2>&1; then echo "fd unreadable"; '
    'else for f in "/proc/$p"/fd/*; do [ -S "$f" ] && echo "$f"; done | xargs ls -iLd /dev/null 2>/dev/null; '
    "fi; "
    "echo tables; cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null; exit 0"
)
"""Run as `sh -c OWNERSHIP_SCRIPT sh PID` on a remote Linux host (a fixed script; the PID, an int, is
its one argument): kill's ownership check there (portcheck.parsers.ownership.read_linux_reply reads
it). It prints grep's own NSpid line (is /proc of this PID namespace?), then one `INODE PATH` line per
socket descriptor of PID: `[ -S ]` picks the sockets and `ls -iL` prints their inodes next to the
paths the script named itself (digits only; /dev/null keeps ls from listing the working directory when
there are none), so no file name another program chose is ever printed; then the
kernel's socket tables. POSIX sh, grep, ls and cat: busybox has them too. On this machine portcheck
reads the same files itself (portcheck.live.procfs.holder_evidence)."""


def ss_filter(ports: PortSpec, match_remote: bool) -> str:
    """`( sport >= :8000 and sport <= :8100 ) or sport = :80`; with --remote the dport side too."""
    sides = ("sport", "dport") if match_remote else ("sport",)
    parts = []
    for low, high in ports.ranges:
        for side in sides:
            if low == high:
                parts.append(f"{side} = :{low}")
            else:
                parts.append(f"( {side} >= :{low} and {side} <= :{high} )")
    return " or ".join(parts)


def _proto_letters(question: Question) -> str:
    """`tu`, `t` or `u`: the selection letters ss and net-tools netstat share."""
    return "".join(p.value[0] for p in protos(question))


def _family_flags(question: Question) -> list[str]:
    if question.only_family(Family.IPV4):
        return ["-4"]
    if question.only_family(Family.IPV6):
        return ["-6"]
    return []


def _file_probe(kind: ProbeKind, path: str, read: RangeReader) -> Probe:
    return Probe(kind, BOTH_PROTOS, Command(("cat", path), POSIX_ENV), read, files=(path,))


class Linux(PosixPlatform):
    os = OS.LINUX
    traits = Traits(posix=True, getent=True)
    unames = ("Linux",)
    bind_advice = POSIX_BIND_ADVICE._replace(
        hidden_reasons=(
            "most likely a socket bound but not listening (a server between bind() and listen(), a "
            "client that bound before connecting), which the kernel's socket tables do not list"
        )
    )

    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        mode = "l" if question.listing else "a"
        ss_argv = ["ss", f"-{_proto_letters(question)}n{mode}peH", *_family_flags(question)]
        if question.ports is not None and filterable(question.ports):
            ss_argv.append(ss_filter(question.ports, question.match_remote))
        netstat_argv = ("netstat", f"-{_proto_letters(question)}n{mode}peW")
        return (
            Step("ss", "ss", (Command(tuple(ss_argv), POSIX_ENV),)),
            Step("netstat", "netstat-linux", (Command(netstat_argv, POSIX_ENV),)),
            lsof_step(question, privileged),
            Step("/proc", "proc", local_only=True),
        )

    def probes(self) -> tuple[Probe, ...]:
        """One range for TCP and UDP, IPv4 and IPv6 alike; the reserved ports beside it."""
        from portcheck.parsers import portranges  # only `info` asks: a query does not pay for it

        return (
            _file_probe(ProbeKind.EPHEMERAL, PORT_RANGE, portranges.two_numbers),
            _file_probe(ProbeKind.RESERVED, RESERVED_PORTS, portranges.port_list),
        )

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        """The kernel's view: PID's socket descriptors (/proc/PID/fd) against the sockets on the port
        (/proc/net), and whether /proc counts PIDs the way kill(2) here does (NSpid)."""
        from portcheck.parsers.ownership import decide, read_linux_reply

        command = Command(("sh", "-c", OWNERSHIP_SCRIPT, "sh", str(pid)), POSIX_ENV)
        return OwnershipCheck(
            command,
            lambda lines, _pid, scope: decide(read_linux_reply(lines, scope), scope),
            f"/proc/{pid}/fd",
            in_process=True,
        )


PLATFORM = Linux()
