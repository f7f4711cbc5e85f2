"""The plans: for each OS, which native commands answer "who uses this port?", in which order, with
which exact argv, environment, parser and text encoding. This is the ONE place where OS differences
live; the query engine (portcheck.live.query) only walks a plan, so the same plans can run on this machine
or, later, on a remote host through another executor.

Every tool is asked for exactly what is needed: numeric output (no DNS or service lookups), full
command names, untruncated columns, the port filter at the source where the tool has one (so the cost
does not grow with the machine's socket count), and `LC_ALL=C` so POSIX tools never print localised
words. Windows tools are decoded with the console's OEM code page.

Plans are NamedTuples (cheap to define at start-up, immutable, comparable in tests).

The OS is sys.platform's. Tests point it elsewhere with the environment variable PORTCHECK_PLATFORM,
read here and nowhere else (it is not a user-facing option: on a real machine the plan must match the
machine).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

from portcheck.core.errors import InspectError
from portcheck.core.model import Family, Proto
from portcheck.core.portspec import PortSpec
from portcheck.core.strenum import StrEnum
from portcheck.parsers import portranges
from portcheck.parsers.portranges import PortRange

PLATFORM_VARIABLE = "PORTCHECK_PLATFORM"
LOCAL_WINDOWS = sys.platform == "win32"  # a plain bool, so the type checker keeps both branches
"""This machine (not the plan's OS) is Windows: no ptys, no Unix sockets, no process sessions. The
process-spawning code (runner, ssh, prompts) asks this rather than sys.platform."""
POSIX_ENV: Mapping[str, str] = {"LC_ALL": "C"}
MAX_SOURCE_FILTER_RANGES = 64
"""Beyond this many separate ranges a filter expression gets unwieldy; filter in Python instead."""


class OS(StrEnum):
    LINUX = "linux"
    MACOS = "macos"
    WINDOWS = "windows"
    FREEBSD = "freebsd"


class Traits(NamedTuple):
    """What an OS is like beyond its plan, for the code that would otherwise test OS names."""

    posix: bool
    """Signals by name, sudo, numeric uids, `sh` on a remote host: every OS here but Windows."""
    getent: bool
    """`getent passwd` names the uids its tools print (macOS has no getent; Windows no uids)."""


TRAITS: Mapping[OS, Traits] = MappingProxyType(
    {
        OS.LINUX: Traits(posix=True, getent=True),
        OS.MACOS: Traits(posix=True, getent=False),
        OS.WINDOWS: Traits(posix=False, getent=False),
        OS.FREEBSD: Traits(posix=True, getent=True),
    }
)


class Encoding(StrEnum):
    DETECT = "detect"
    """Let decode.py decide (UTF-8 on every POSIX tool with LC_ALL=C)."""
    OEM = "oem"
    """The Windows console's OEM code page (cp437, cp850, cp866...)."""


class Command(NamedTuple):
    argv: tuple[str, ...]
    env: Mapping[str, str] = MappingProxyType({})

    @property
    def tool(self) -> str:
        return os.path.basename(self.argv[0])

    def __str__(self) -> str:
        return " ".join(self.argv)


class Step(NamedTuple):
    """One way of answering. Its commands all run (FreeBSD asks sockstat twice) and their rows combine."""

    tool: str
    """How messages name the step: `ss`, `netstat`, `lsof`, `/proc`."""
    parser: str
    """The format name in portcheck.parsers (also the rows' `source`)."""
    commands: tuple[Command, ...] = ()
    no_match_status: frozenset[int] = frozenset()
    """Non-zero exit statuses that mean "answered: nothing matched" (lsof exits 1 then)."""
    encoding: Encoding = Encoding.DETECT
    pid_names: Command | None = None
    """A command whose output maps PIDs to process names (Windows: one tasklist call for all PIDs)."""
    sees_all: bool = True
    """False when the tool shows only the caller's own processes' sockets (lsof without root): an empty
    answer then proves nothing, and the next step is asked too."""
    shows_owners: bool = True
    """False when the tool never names processes (FreeBSD netstat): no privilege would change that."""
    local_only: bool = False
    """The step runs inside portcheck (the /proc reader), so it exists only on the local machine."""


class Question(NamedTuple):
    """What the plan must find: built from the command line, then turned into each tool's filters."""

    ports: PortSpec | None = None
    match_remote: bool = False
    protos: frozenset[Proto] | None = None
    families: frozenset[Family] | None = None

    @property
    def listing(self) -> bool:
        """No port: every listening socket on the machine."""
        return self.ports is None

    def only_family(self, family: Family) -> bool:
        return self.families is not None and self.families == {family}


def current_os() -> OS:
    """The OS whose plan to use: sys.platform, unless a test set PORTCHECK_PLATFORM."""
    forced = os.environ.get(PLATFORM_VARIABLE)
    if forced:
        try:
            return OS(forced.lower())
        except ValueError:
            raise InspectError(f"{PLATFORM_VARIABLE}={forced!r} is not one of: {', '.join(OS)}") from None
    platform = sys.platform
    if platform.startswith("linux"):
        return OS.LINUX
    if platform == "darwin":
        return OS.MACOS
    if platform in ("win32", "cygwin"):
        return OS.WINDOWS
    if platform.startswith("freebsd"):
        return OS.FREEBSD
    raise InspectError(f"no plan for this OS ({platform}); `portcheck parse` reads saved tool output")


def is_forced() -> bool:
    """True when tests pointed the platform elsewhere: the machine's own facts (code page, elevation)
    then do not describe the plan's OS."""
    return bool(os.environ.get(PLATFORM_VARIABLE))


def oem_encoding() -> str | None:
    """The console's OEM code page on real Windows (what netstat and tasklist print in), else None."""
    if not LOCAL_WINDOWS or is_forced():
        return None
    import ctypes

    return f"cp{ctypes.windll.kernel32.GetOEMCP()}"  # type: ignore[attr-defined]


def is_elevated() -> bool:
    """Root on POSIX; an elevated (administrator) token on Windows. False under a forced platform: the
    plan then simulates another machine, whose privileges are not this process's."""
    if is_forced():
        return False
    if LOCAL_WINDOWS:
        import ctypes

        try:
            return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
        except OSError:
            return False
    return os.geteuid() == 0


# --- filters at the source -------------------------------------------------------------------------


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


def _filterable(ports: PortSpec) -> bool:
    return len(ports.ranges) <= MAX_SOURCE_FILTER_RANGES


def _lsof_selectors(question: Question) -> list[list[str]]:
    """One argv tail per lsof run. `-i` takes `[46][proto][:ports]` where ports is a comma list with
    ranges; lsof matches either end of a connection (the parser keeps the local side unless
    --remote). Its `-sTCP:LISTEN` drops UDP files, so the listing asks TCP and UDP in two runs."""
    family = "4" if question.only_family(Family.IPV4) else "6" if question.only_family(Family.IPV6) else ""
    protos = _protos(question)
    if question.ports is None:
        return [[f"-i{family}TCP", "-sTCP:LISTEN"] if p is Proto.TCP else [f"-i{family}UDP"] for p in protos]
    ports = f":{question.ports}" if _filterable(question.ports) else ""
    proto = protos[0].value.upper() if len(protos) == 1 else ""
    return [[f"-i{family}{proto}{ports}"]]


def _protos(question: Question) -> list[Proto]:
    return [p for p in (Proto.TCP, Proto.UDP) if question.protos is None or p in question.protos]


def _proto_letters(question: Question) -> str:
    """`tu`, `t` or `u`: the selection letters ss and Linux netstat share."""
    return "".join(p.value[0] for p in _protos(question))


def _family_flags(question: Question) -> list[str]:
    if question.only_family(Family.IPV4):
        return ["-4"]
    if question.only_family(Family.IPV6):
        return ["-6"]
    return []


# --- the plans -------------------------------------------------------------------------------------


def _lsof_step(question: Question, privileged: bool) -> Step:
    base = ("lsof", "+c", "0", "-nP", "-w")
    return Step(
        "lsof",
        "lsof",
        tuple(Command((*base, *tail), POSIX_ENV) for tail in _lsof_selectors(question)),
        no_match_status=frozenset({1}),
        sees_all=privileged,
    )


def linux_plan(question: Question, privileged: bool) -> tuple[Step, ...]:
    mode = "l" if question.listing else "a"
    ss_argv = ["ss", f"-{_proto_letters(question)}n{mode}peH", *_family_flags(question)]
    if question.ports is not None and _filterable(question.ports):
        ss_argv.append(ss_filter(question.ports, question.match_remote))
    netstat_argv = ("netstat", f"-{_proto_letters(question)}n{mode}peW")
    return (
        Step("ss", "ss", (Command(tuple(ss_argv), POSIX_ENV),)),
        Step("netstat", "netstat-linux", (Command(netstat_argv, POSIX_ENV),)),
        _lsof_step(question, privileged),
        Step("/proc", "proc", local_only=True),
    )


def macos_plan(question: Question, privileged: bool) -> tuple[Step, ...]:
    return (
        _lsof_step(question, privileged),
        Step("netstat", "netstat-bsd", (Command(("netstat", "-anvW"), POSIX_ENV),)),
    )


def _windows_protocol(question: Question) -> tuple[str, ...]:
    """`netstat -p` takes one protocol of one family (TCP, TCPv6, UDP, UDPv6), so only then."""
    protos = _protos(question)
    if len(protos) != 1 or question.families is None or len(question.families) != 1:
        return ()
    return ("-p", protos[0].value.upper() + ("v6" if question.only_family(Family.IPV6) else ""))


def windows_plan(question: Question, elevated: bool) -> tuple[Step, ...]:
    """netstat prints every socket (its `-p` cannot filter ports, and findstr would match `:80` inside
    `:8042` and in remote addresses), so ports are filtered in Python. PIDs get their names from ONE
    tasklist call. `-b` (each socket's executable, and the service inside svchost) needs an elevated
    token, so it is asked only when portcheck runs elevated."""
    select = _windows_protocol(question)
    tasklist = Command(("tasklist", "/fo", "csv", "/nh"))
    variants = ("-anob", "-ano") if elevated else ("-ano",)
    return tuple(
        Step(
            "netstat",
            "netstat-windows",
            (Command(("netstat", flags, *select)),),
            encoding=Encoding.OEM,
            pid_names=tasklist,
        )
        for flags in variants
    )


def freebsd_plan(question: Question, privileged: bool) -> tuple[Step, ...]:
    protos = ",".join(p.value for p in _protos(question))
    family = "4" if question.only_family(Family.IPV4) else "6" if question.only_family(Family.IPV6) else "46"
    select = ["-P", protos]
    if question.ports is not None and _filterable(question.ports):
        select += ["-p", str(question.ports)]
    # -l listening, -c connected; -s adds the TCP state (without it only the peer hints at one).
    kinds = ("l",) if question.listing else ("l", "c")
    sockstat = tuple(Command(("sockstat", f"-{family}{kind}s", *select), POSIX_ENV) for kind in kinds)
    return (
        Step("sockstat", "sockstat", sockstat),
        Step("netstat", "netstat-bsd", (Command(("netstat", "-anW"), POSIX_ENV),), shows_owners=False),
    )


def plan_for(os_name: OS, question: Question, *, privileged: bool) -> tuple[Step, ...]:
    """The ordered steps for an OS. `privileged`: running as root / elevated (or through sudo)."""
    if os_name is OS.LINUX:
        return linux_plan(question, privileged)
    if os_name is OS.MACOS:
        return macos_plan(question, privileged)
    if os_name is OS.WINDOWS:
        return windows_plan(question, privileged)
    return freebsd_plan(question, privileged)


# --- probes: what the OS says about its port ranges (`portcheck info`) ------------------------------


class ProbeKind(StrEnum):
    EPHEMERAL = "ephemeral"
    """The range the OS picks client ports from (and ports for a bind to port 0)."""
    RESERVED = "reserved"
    """Linux ip_local_reserved_ports: never handed out as ephemeral ports, free for a server."""
    EXCLUDED = "excluded"
    """Windows excluded port ranges: nobody may bind them (Hyper-V, WSL, Docker, an administrator)."""


class Probe(NamedTuple):
    """One question about the OS, as data: the command that answers it and the reader of its output
    (portcheck.parsers.portranges), so it runs through any Executor (this machine, sudo, later ssh)."""

    kind: ProbeKind
    protos: tuple[Proto, ...]
    command: Command
    read: Callable[[Iterable[str]], list[PortRange]]
    files: tuple[str, ...] = ()
    """The command only prints these files: a local executor reads them itself (no process)."""
    encoding: Encoding = Encoding.DETECT

    @property
    def source(self) -> str:
        """How reports name where the answer came from."""
        return " ".join(self.files) if self.files else str(self.command)


BOTH_PROTOS = (Proto.TCP, Proto.UDP)
LINUX_PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
LINUX_RESERVED_PORTS = "/proc/sys/net/ipv4/ip_local_reserved_ports"
BSD_RANGE_SYSCTLS = ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last")


def _file_probe(kind: ProbeKind, path: str, read: Callable[[Iterable[str]], list[PortRange]]) -> Probe:
    return Probe(kind, BOTH_PROTOS, Command(("cat", path), POSIX_ENV), read, files=(path,))


def port_probes(os_name: OS) -> tuple[Probe, ...]:
    """The probes for an OS. Linux and the BSDs use one range for TCP and UDP (IPv4 and IPv6 alike);
    Windows keeps one per protocol, and the IPv4 ones are asked (IPv6 uses the same by default)."""
    if os_name is OS.LINUX:
        return (
            _file_probe(ProbeKind.EPHEMERAL, LINUX_PORT_RANGE, portranges.two_numbers),
            _file_probe(ProbeKind.RESERVED, LINUX_RESERVED_PORTS, portranges.port_list),
        )
    if os_name is OS.WINDOWS:
        netsh = ("netsh", "int", "ipv4", "show")
        return (
            *(
                Probe(
                    ProbeKind.EPHEMERAL,
                    (proto,),
                    Command((*netsh, "dynamicport", proto.value)),
                    portranges.netsh_dynamic_port,
                    encoding=Encoding.OEM,
                )
                for proto in BOTH_PROTOS
            ),
            *(
                Probe(
                    ProbeKind.EXCLUDED,
                    (proto,),
                    Command((*netsh, "excludedportrange", f"protocol={proto.value}")),
                    portranges.netsh_excluded_ranges,
                    encoding=Encoding.OEM,
                )
                for proto in BOTH_PROTOS
            ),
        )
    command = Command(("sysctl", "-n", *BSD_RANGE_SYSCTLS), POSIX_ENV)
    return (Probe(ProbeKind.EPHEMERAL, BOTH_PROTOS, command, portranges.two_numbers),)


# --- ending a process (`portcheck kill`) --------------------------------------------------------------


class SignalPlan(NamedTuple):
    """How to end one process on an OS, and how to read the answer of the command that does it."""

    command: Command
    gone_status: frozenset[int] = frozenset()
    """Exit statuses that mean "no such process" (taskkill: 128)."""
    gone_words: tuple[str, ...] = ()
    """Words in the output that mean "no such process" (POSIX kill exits 1 for every failure)."""
    denied_words: tuple[str, ...] = ()
    needs_force_status: frozenset[int] = frozenset()
    """Statuses of a polite request that only a forced one can follow (taskkill without /F on a
    console program: "can only be terminated forcefully"): escalate at once, without the grace."""
    forced_failure_is_denial: bool = False
    """A forced request that fails was refused (taskkill /F on another user's or a protected
    process), not an error of the tool."""


def signal_label(os_name: OS, signal_name: str, *, force: bool) -> str:
    """How an outcome names what was sent: `SIGTERM`, `SIGKILL`, `taskkill`, `taskkill /F`."""
    if not TRAITS[os_name].posix:
        return "taskkill /F" if force or signal_name == "KILL" else "taskkill"
    return "SIGKILL" if force else f"SIG{signal_name}"


def signal_description(os_name: OS, signal_name: str, grace: float) -> str:
    """The whole escalation, as the confirmation question names it."""
    if not TRAITS[os_name].posix:
        return "taskkill /F" if signal_name == "KILL" else "taskkill (then /F after the grace)"
    if signal_name == "KILL":
        return "SIGKILL"
    return f"SIG{signal_name} (SIGKILL after {grace:g} s)"


def signal_plan(os_name: OS, pid: int, signal_name: str, *, force: bool) -> SignalPlan:
    """`kill -s TERM PID` on POSIX (KILL when forced); on Windows `taskkill /PID n` asks the program to
    close, `/F` ends it. Signal names, not numbers: USR1 is 10 on Linux and 30 on macOS."""
    if os_name is OS.WINDOWS:
        forced = force or signal_name == "KILL"
        argv = ("taskkill", "/PID", str(pid), *(("/F",) if forced else ()))
        return SignalPlan(
            Command(argv),
            gone_status=frozenset({128}),
            needs_force_status=frozenset() if forced else frozenset({1}),
            forced_failure_is_denial=True,
        )
    return SignalPlan(
        Command(("kill", "-s", "KILL" if force else signal_name, str(pid)), POSIX_ENV),
        gone_words=("No such process",),
        denied_words=("not permitted",),
    )
