"""Linux: ss first (its own port filter, process names, uids), then net-tools netstat, lsof, and finally
/proc read by portcheck itself, for a container that has none of the tools."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from portcheck.core.model import Family, Socket
from portcheck.core.portspec import PortSpec
from portcheck.platforms.base import (
    BOTH_PROTOS,
    OS,
    POSIX_BIND_ADVICE,
    POSIX_ENV,
    Command,
    OwnerProbe,
    OwnershipCheck,
    PosixPlatform,
    Probe,
    ProbeKind,
    Question,
    RangeReader,
    Step,
    Supervisor,
    Traits,
    container_cli,
    filterable,
    lsof_step,
    protos,
)

if TYPE_CHECKING:
    from portcheck.core.owners import ProcessFacts

PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
BINDV6ONLY = "/proc/sys/net/ipv6/bindv6only"
DUAL_STACK_HINT = (
    "{tool} output does not say whether an IPv6 socket on [::] also takes IPv4 (dual_stack is null, and "
    "-4 does not show it); on this machine it does unless its program set IPV6_V6ONLY "
    "(net.ipv6.bindv6only={value}, the default); `ss -tlnpe` shows each socket's v6only"
)
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


OWNERS_SCRIPT = (
    'echo "clk $(getconf CLK_TCK 2>/dev/null || echo 100)"; grep "^btime " /proc/stat; '
    'for p; do for f in stat cgroup cmdline; do echo "$f $p"; '
    'dd if="/proc/$p/$f" bs=4096 count=8 2>/dev/null | od -An -v -tx1; done; done; exit 0'
)
"""Run as `sh -c OWNERS_SCRIPT sh PID...` on an ssh host (a fixed script; the PIDs, ints, are its
arguments): ONE command for every PID of the answer. For each PID and file it prints `FILE PID`, then
the file's first 32 KiB as hex (`od`), so no byte a process chose (its name in stat, its arguments,
a cgroup directory's name) can pose as a line of the reply; portcheck.parsers.owners.linux.read_reply
reads it. POSIX sh, dd and od (busybox has them); getconf where present (else USER_HZ 100). On this
machine portcheck reads the same files itself (portcheck.live.procfs.owner_facts)."""
RESOLVED_STUB = frozenset({"127.0.0.53", "127.0.0.54"})
RESOLVED_HINT = (
    "systemd-resolved listens on {address}:53 (its local DNS stub): a DNS server, Pi-hole or container that "
    "binds port 53 on every address fails while it does; set DNSStubListener=no in "
    "/etc/systemd/resolved.conf, then `systemctl restart systemd-resolved`"
)


def read_restart(lines: Iterable[str]) -> tuple[str | None, int | None]:
    """`systemctl show --property=Restart --property=MainPID UNIT`: (`always`, 812); None where unsaid."""
    restart = main = None
    for line in lines:
        key, _, value = line.strip().partition("=")
        if key == "Restart" and value:
            restart = value
        elif key == "MainPID" and value.isdecimal():
            main = int(value)
    return restart, main


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

    container_runtimes = (container_cli("docker"), container_cli("podman"))
    forwarders = MappingProxyType(
        {
            "docker-proxy": "docker",
            "rootlesskit": "docker",
            "rootlessport": "podman",
            "rootlessport-ch": "podman",  # rootlessport-child, as the kernel cuts names (15 bytes)
            "pasta": "podman",
            "pasta.avx2": "podman",
            "slirp4netns": "podman",
        }
    )
    orphan_forwarders = frozenset({"docker-proxy"})

    def owner_probes(self, pids: Sequence[int], orphans: Sequence[int] = ()) -> tuple[OwnerProbe, ...]:
        """/proc: read in-process here, ONE script on an ssh host."""
        from portcheck.parsers.owners.linux import read_reply

        command = Command(("sh", "-c", OWNERS_SCRIPT, "sh", *map(str, pids)), POSIX_ENV)
        return (OwnerProbe(command, read_reply, in_process=True),)

    def supervisor(self, facts: ProcessFacts, *, privileged: bool) -> Supervisor | None:
        """A systemd service (from the cgroup path): `systemctl stop UNIT`; a user's own unit (below
        `user@UID.service`) through that user's manager. systemd restarts a unit when its MAIN process
        dies and its Restart= says so: both are asked (`systemctl show`)."""
        from portcheck.core.cgroups import user_manager

        unit = facts.service
        if not unit or not unit.endswith(".service"):
            return None
        uid = user_manager(facts.cgroup or "")
        manager: tuple[str, ...] = ()
        if uid is not None:
            manager = ("--user", f"--machine={uid}@") if privileged else ("--user",)
        stop = Command(("systemctl", *manager, "stop", unit), POSIX_ENV)
        show = ("systemctl", *manager, "show", "--property=Restart", "--property=MainPID", unit)
        return Supervisor(
            "systemd",
            unit,
            stop,
            " ".join(stop.argv),
            Command(show, POSIX_ENV),
            read_restart,
        )

    def cause_hints(self, rows: Sequence[Socket]) -> list[str]:
        """systemd-resolved's stub on 127.0.0.53:53 (127.0.0.54, its proxy-only one, since systemd 251)."""
        stubs = sorted(
            {
                r.local_address
                for r in rows
                if r.local_port == 53
                and r.local_address in RESOLVED_STUB
                and r.remote_port is None
                and (r.process or "").startswith("systemd-resolve")  # comm: 15 bytes of systemd-resolved
            }
        )
        return [RESOLVED_HINT.format(address=", ".join(stubs))] if stubs else []

    def local_hints(self, rows: Sequence[Socket]) -> list[str]:
        """netstat, lsof and /proc print nothing about IPV6_V6ONLY (only ss does): for their IPv6
        wildcard rows, what this machine's default (net.ipv6.bindv6only) makes of a socket whose
        program did not choose. A default, not the socket's own setting: the rows stay null."""
        unknown = [r for r in rows if r.dual_stack is None and r.local_address == "::"]
        if not unknown:
            return []
        try:
            with open(BINDV6ONLY, encoding="ascii") as setting:
                value = setting.read().strip()
        except OSError:
            return []
        if value != "0":
            return []
        return [DUAL_STACK_HINT.format(tool=unknown[0].source, value=value)]

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
