"""Linux: ss first (its own port filter, process names, uids), then net-tools netstat, lsof, and finally
/proc read by portcheck itself, for a container that has none of the tools."""

from __future__ import annotations

from portcheck.core.model import Family
from portcheck.core.portspec import PortSpec
from portcheck.platforms.base import (
    BOTH_PROTOS,
    OS,
    POSIX_ENV,
    Command,
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
    """`-6` for IPv6 only. Never `-4`: it hides the IPv6 sockets that take IPv4 too (dual-stack, `*:80`),
    which `-4` must show; the rows are filtered by family after parsing."""
    if question.only_family(Family.IPV6):
        return ["-6"]
    return []


def _file_probe(kind: ProbeKind, path: str, read: RangeReader) -> Probe:
    return Probe(kind, BOTH_PROTOS, Command(("cat", path), POSIX_ENV), read, files=(path,))


class Linux(PosixPlatform):
    os = OS.LINUX
    traits = Traits(posix=True, getent=True)
    unames = ("Linux",)

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


PLATFORM = Linux()
