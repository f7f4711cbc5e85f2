"""What every platform module is made of: the plan's vocabulary (Command, Step, Question), the port-range
probes, the way a process is ended (SignalPlan), what an OS is like (Traits), and the `Platform` each
OS module defines one of. Also the pieces several OSes share: lsof's step, the protocol and family
letters the tools take, POSIX signals.

Plans are NamedTuples (cheap to define at start-up, immutable, comparable in tests).

Every tool is asked for exactly what is needed: numeric output (no DNS or service lookups), full
command names, untruncated columns, the port filter at the source where the tool has one (so the cost
does not grow with the machine's socket count), and `LC_ALL=C` so POSIX tools never print localised
words.
"""

from __future__ import annotations

import errno
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from portcheck.core.model import Family, Proto, Socket
from portcheck.core.portspec import PortSpec
from portcheck.core.strenum import StrEnum

if TYPE_CHECKING:
    from portcheck.core.filters import RowFilter
    from portcheck.core.owners import PortOwner, ProcessFacts
    from portcheck.parsers.ownership import Holding
    from portcheck.parsers.portranges import PortRange

POSIX_ENV: Mapping[str, str] = MappingProxyType({"LC_ALL": "C"})
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


class Encoding(StrEnum):
    DETECT = "detect"
    """Let portcheck.core.decode decide (UTF-8 on every POSIX tool with LC_ALL=C)."""
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


class NameLookup(NamedTuple):
    """A command whose output maps PIDs to process names, and the format (in portcheck.parsers) that
    reads it into ParseNotes.pid_names: Windows asks ONE tasklist for every PID netstat printed."""

    command: Command
    parser: str
    services: ServiceReader | None = None
    """Reads the same output for the services each PID hosts (`tasklist /svc`), for `service`."""


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
    pid_names: NameLookup | None = None
    """Names for the PIDs the rows show without one (Windows netstat -ano: tasklist)."""
    sees_all: bool = True
    """False when the tool shows only the caller's own processes' sockets (lsof without root): an empty
    answer then proves nothing, and the next step is asked too."""
    shows_owners: bool = True
    """False when the tool never names processes (FreeBSD netstat): no privilege would change that."""
    local_only: bool = False
    """The step has no commands: a reader inside portcheck answers it (portcheck.live.query's
    IN_PROCESS_READERS, by `parser`), so it exists only on the local machine."""


class Question(NamedTuple):
    """What the plan must find: built from the command line, then turned into each tool's filters."""

    ports: PortSpec | None = None
    match_remote: bool = False
    protos: frozenset[Proto] | None = None
    families: frozenset[Family] | None = None
    every_socket: bool = False
    """No port, but every socket rather than the listeners (`portcheck --pid N`: all of that PID's)."""

    @property
    def listing(self) -> bool:
        """No port: every listening socket on the machine."""
        return self.ports is None and not self.every_socket

    def only_family(self, family: Family) -> bool:
        return self.families is not None and self.families == {family}


# --- probes: what the OS says about its port ranges (`portcheck info`) ------------------------------


class ProbeKind(StrEnum):
    EPHEMERAL = "ephemeral"
    """The range the OS picks client ports from (and ports for a bind to port 0)."""
    RESERVED = "reserved"
    """Linux ip_local_reserved_ports: never handed out as ephemeral ports, free for a server."""
    EXCLUDED = "excluded"
    """Windows excluded port ranges: nobody may bind them (Hyper-V, WSL, Docker, an administrator)."""


RangeReader = Callable[[Iterable[str]], "list[PortRange]"]
"""A reader of a probe's output (portcheck.parsers.portranges)."""


class Probe(NamedTuple):
    """One question about the OS, as data: the command that answers it and the reader of its output
    (portcheck.parsers.portranges), so it runs through any Executor (this machine, sudo, an ssh host)."""

    kind: ProbeKind
    protos: tuple[Proto, ...]
    command: Command
    read: RangeReader
    files: tuple[str, ...] = ()
    """The command only prints these files: a local executor reads them itself (no process)."""
    encoding: Encoding = Encoding.DETECT

    @property
    def source(self) -> str:
        """How reports name where the answer came from."""
        return " ".join(self.files) if self.files else str(self.command)


BOTH_PROTOS = (Proto.TCP, Proto.UDP)
BSD_RANGE_SYSCTLS = ("net.inet.ip.portrange.first", "net.inet.ip.portrange.last")


# --- ending a process (`portcheck kill`) --------------------------------------------------------------

TERMINATING_SIGNALS = frozenset({"TERM", "INT", "QUIT", "KILL"})
"""Signals that ask a program to exit: only after these does SIGKILL (taskkill /F) follow when the port
is still held. HUP, USR1 and USR2 usually ask a server to reload or reopen its logs."""


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


OwnershipReader = Callable[[Iterable[str], int, "RowFilter"], "Holding"]
"""Reads an ownership check's reply for (PID, scope): portcheck.parsers.ownership's Holding."""


class OwnershipCheck(NamedTuple):
    """How `kill` proves, just before each signal, that PID holds a socket on the port: one command
    whose reply shows it from the kernel's own view (never a listing where another program's name
    could pose as the owner), and the reader of that reply (portcheck.parsers.ownership)."""

    command: Command
    read: OwnershipReader
    evidence: str
    """What was consulted, for the message when PID fails: `/proc/928/fd`, `lsof -a -p 928 -i:80`."""
    in_process: bool = False
    """On this machine portcheck reads the same files itself (portcheck.live.procfs), no process."""
    encoding: Encoding = Encoding.DETECT
    no_match_status: frozenset[int] = frozenset()
    """Exit statuses that mean "nothing matched" (lsof's 1): PID holds nothing there."""
    sees_all: bool = True
    """False when, without root, the command sees only the caller's own processes (lsof): its
    "nothing" about another user's PID then means "cannot tell", not "does not hold"."""


class BindAdvice(NamedTuple):
    """What a failed bind means on an OS, for the bind test (portcheck.live.bindtest): the error
    numbers a socket's bind() fails with there, and what to tell the person."""

    in_use: frozenset[int]
    """The port is taken: EADDRINUSE (Windows: WSAEADDRINUSE, 10048)."""
    denied: frozenset[int]
    """Binding it is not allowed: EACCES (Windows: WSAEACCES, 10013)."""
    denied_holds: bool
    """A denied bind means the port is unusable (Windows: an excluded range or another program's
    exclusive bind), not that portcheck lacks a privilege (POSIX ports below 1024)."""
    denied_text: str
    """The finding for a denied bind; `{port}` and `{error}` are filled in."""
    hidden_reasons: str
    """What on this OS holds a port that no tool lists."""
    excluded_ranges: bool = False
    """A denied bind may be an excluded port range: the EXCLUDED probes say which."""


# --- who the process behind a socket is (`cmdline`, `started`, `service`, `container`) -------------------

OwnerReader = Callable[[Iterable[str]], "dict[int, ProcessFacts]"]
"""Reads an owner probe's reply (portcheck.parsers.owners): PID -> what the OS says of it."""
ServiceReader = Callable[[Iterable[str]], "dict[int, str]"]


class OwnerProbe(NamedTuple):
    """ONE command that tells, for all the PIDs of an answer at once, each process's command line,
    start time and supervisor (portcheck.live.enrich runs it through the Executor, so an ssh host is
    asked the same way). A platform may offer alternatives, tried in order while the tool is missing
    (Windows: PowerShell, then wmic)."""

    command: Command
    read: OwnerReader
    in_process: bool = False
    """On this machine portcheck reads the same files itself (Linux /proc): no process at all."""
    encoding: Encoding = Encoding.DETECT


class ContainerRuntime(NamedTuple):
    """A container runtime's CLI: how it lists running containers (portcheck.parsers.owners.containers
    reads the reply) and how one is stopped (`kill --stop-container`)."""

    name: str
    """`docker`, `podman`: what cgroup paths and forwarders name (portcheck.core.cgroups)."""
    listing: Command
    stop: tuple[str, ...]
    """The argv before the container's name and options: `docker stop`."""


class KernelOwners(NamedTuple):
    """For a PID that stands for the kernel (Windows PID 4, System), the command that says which
    process asked the kernel for a port (HTTP.sys's request queues), and its reader."""

    pids: frozenset[int]
    service: str
    """The `service` of such a row whose port the reply names (`HTTP.sys`)."""
    command: Command
    read: Callable[[Iterable[str]], list[PortOwner]]
    encoding: Encoding = Encoding.DETECT


class Supervisor(NamedTuple):
    """Who keeps a process running, and the right way to stop it for good (`kill --stop-service`)."""

    kind: str
    """How people call it: `systemd`, `launchd`, `the Windows service manager`."""
    name: str
    """The unit, label or service (as the record's `service` shows it)."""
    stop: Command | None
    """What `--stop-service` runs; None when portcheck will not (a svchost hosting several services)."""
    advice: str
    """The command a person would type, or why there is none (shown in kill's warnings)."""
    restart_check: Command | None = None
    """Asks whether it restarts the process when it dies (systemd's Restart=); None: cannot tell."""
    read_restart: Callable[[Iterable[str]], tuple[str | None, int | None]] | None = None
    """(restart policy, main PID) from that reply: (`always`, 812), (`no`, 812); None where unsaid."""


PS_ENV = MappingProxyType({**POSIX_ENV, "TZ": "UTC0"})
"""ps prints `lstart` in the time zone TZ names (UTC0: POSIX's spelling, no zone files needed), in the
C locale's words."""
_TAB_TEMPLATE = "\t".join(("{{.ID}}", "{{.Names}}", "{{.Image}}", "{{.Ports}}"))
"""The four fields portcheck.parsers.owners.containers reads, tab-separated (a real tab: no shell
stands between portcheck and the CLI locally, and ssh's quoting keeps it)."""


def container_cli(name: str) -> ContainerRuntime:
    """`docker` or `podman`: both list running containers with the same template and `--no-trunc`."""
    listing = Command((name, "ps", "--no-trunc", "--format", _TAB_TEMPLATE), POSIX_ENV)
    return ContainerRuntime(name, listing, (name, "stop"))


# --- the clipboard (`portcheck parse --clipboard`) -------------------------------------------------


class ClipboardReader(NamedTuple):
    """A tool that prints the clipboard's text, and the session it needs."""

    command: Command
    session: tuple[str, ...] = ()
    """Environment variables of which one must be set for the tool to reach a clipboard (a Wayland or X
    session); empty when the OS has one clipboard for every program."""


UNIX_DESKTOP_CLIPBOARD = (
    ClipboardReader(Command(("wl-paste", "--no-newline", "--type", "text")), ("WAYLAND_DISPLAY",)),
    ClipboardReader(Command(("xclip", "-selection", "clipboard", "-out")), ("DISPLAY",)),
    ClipboardReader(Command(("xsel", "--clipboard", "--output")), ("DISPLAY",)),
)
"""Linux's and FreeBSD's desktops: wl-clipboard under Wayland, else xclip or xsel under X11 (or
XWayland); whichever is installed and has its session, in that order."""
UNIX_DESKTOP_INSTALL = "wl-clipboard (Wayland), or xclip or xsel (X11)"


# --- what to ask a customer to run (`portcheck ask`) ---------------------------------------------


class Instruction(NamedTuple):
    """Commands for a person to run on their machine and send back: where to type them, the lines,
    and what to do with what they print."""

    where: str
    lines: tuple[str, ...]
    then: str


PASTE_BACK = "and paste everything it prints into your reply."


# --- the platform ---------------------------------------------------------------------------------------


class Platform(ABC):
    """Everything portcheck knows about one OS. Each module of this package defines one, and the
    registry (portcheck.platforms.platform_for) maps the OS to it; nothing outside this package tests
    which OS it is talking to: it asks the platform."""

    os: ClassVar[OS]
    traits: ClassVar[Traits]
    unames: ClassVar[tuple[str, ...]] = ()
    """What `uname -s` prints there: how a remote host's POSIX shell says which OS it runs."""
    uname_prefixes: ClassVar[tuple[str, ...]] = ()
    """The same, for names that carry a version (`MINGW64_NT-10.0-19045`): the start, in capitals."""
    ver_banner: ClassVar[bytes | None] = None
    """What `cmd /c ver` prints there: how a remote host whose shell is cmd.exe says which OS it runs."""

    @abstractmethod
    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        """The ordered steps; `privileged`: running as root / elevated (or through sudo)."""

    @abstractmethod
    def probes(self) -> tuple[Probe, ...]:
        """What the OS says about its port ranges, for `portcheck info`."""

    @abstractmethod
    def signal_plan(self, pid: int, signal_name: str, *, force: bool) -> SignalPlan:
        """How to send `signal_name` (a POSIX name: TERM, INT, KILL...) to `pid`; KILL when `force`."""

    @abstractmethod
    def signal_label(self, signal_name: str, *, force: bool) -> str:
        """How an outcome names what was sent: `SIGTERM`, `SIGKILL`, `taskkill`, `taskkill /F`."""

    @abstractmethod
    def signal_description(self, signal_name: str, grace: float) -> str:
        """The whole escalation, as the confirmation question names it."""

    @abstractmethod
    def ask(self, question: Question) -> tuple[Instruction, ...]:
        """What to ask a person to run there so that `portcheck parse` reads the answer best: the
        commands of the plan's first step, as a person types them (alternatives after the first)."""

    @abstractmethod
    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        """How to prove that `pid` holds a socket on `question.ports` just before signalling it."""

    bind_advice: ClassVar[BindAdvice]

    def local_hints(self, rows: Sequence[Socket]) -> list[str]:
        """What this machine's own settings add to the rows of a local query (a remote host's are not
        read): nothing, unless the OS says otherwise."""
        return []

    clipboard: ClassVar[tuple[ClipboardReader, ...]] = UNIX_DESKTOP_CLIPBOARD
    """How `portcheck parse --clipboard` reads the clipboard: the first reader that is installed and
    has its session."""
    clipboard_install: ClassVar[str] = UNIX_DESKTOP_INSTALL
    """What to install when no reader is there."""

    container_runtimes: ClassVar[tuple[ContainerRuntime, ...]] = ()
    forwarders: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Process names (lower case) that hold a port for a container (docker-proxy, Docker Desktop), and
    the runtime that knows which container publishes it."""
    orphan_forwarders: ClassVar[frozenset[str]] = frozenset()
    """Forwarders that outlive their container (docker-proxy): one no container publishes is said."""
    kernel_owners: ClassVar[KernelOwners | None] = None
    vanished_pid_hint: ClassVar[str | None] = None
    """Said when a row's PID belongs to no process (`{pid}`, `{port}`, `{children}` filled in), where
    the OS has a reason for it (Windows keeps a dead creator's PID on an inherited socket)."""

    def owner_probes(self, pids: Sequence[int], orphans: Sequence[int] = ()) -> tuple[OwnerProbe, ...]:
        """The probe (or alternatives) that tells about these PIDs; `orphans`: PIDs no process seems to
        have (no name), whose children are asked for too where the OS says why that happens."""
        return ()

    def supervisor(self, facts: ProcessFacts, *, privileged: bool) -> Supervisor | None:
        """Who restarts this process and how to stop it for good; None when nothing supervises it (or
        this OS cannot tell)."""
        return None

    def cause_hints(self, rows: Sequence[Socket]) -> list[str]:
        """What a row means on this OS when the program is a well-known cause of a taken port
        (AirPlay Receiver, systemd-resolved's stub): said for local and remote rows alike."""
        return []

    def answers_uname(self, name: str) -> bool:
        if name in self.unames:
            return True
        return bool(self.uname_prefixes) and name.upper().startswith(self.uname_prefixes)


POSIX_BIND_ADVICE = BindAdvice(
    in_use=frozenset({errno.EADDRINUSE}),
    denied=frozenset({errno.EACCES}),
    denied_holds=False,
    denied_text="cannot test port {port}: binding it needs root ({error}; a privileged port)",
    hidden_reasons=(
        "a socket bound but not listening (a server between bind() and listen(), a client that bound "
        "before connecting), which no socket table lists, or one the tools could not see without root "
        "(try --sudo)"
    ),
)


class PosixPlatform(Platform):
    """`kill -s TERM PID` (KILL when forced): signal names, not numbers, since USR1 is 10 on Linux and
    30 on macOS."""

    def ask(self, question: Question) -> tuple[Instruction, ...]:
        """The first step's commands through sudo: only root sees every process's sockets."""
        import shlex

        commands = self.plan(question, privileged=True)[0].commands
        lines = tuple(shlex.join(("sudo", *command.argv)) for command in commands)
        where = (
            f"Please run {'this' if len(lines) == 1 else 'these'} in a terminal on that machine (sudo asks "
            "for your password: only root sees every program):"
        )
        return (Instruction(where, lines, PASTE_BACK),)

    bind_advice = POSIX_BIND_ADVICE

    def signal_plan(self, pid: int, signal_name: str, *, force: bool) -> SignalPlan:
        return SignalPlan(
            Command(("kill", "-s", "KILL" if force else signal_name, str(pid)), POSIX_ENV),
            gone_words=("No such process",),
            denied_words=("not permitted",),
        )

    def signal_label(self, signal_name: str, *, force: bool) -> str:
        return "SIGKILL" if force else f"SIG{signal_name}"

    def signal_description(self, signal_name: str, grace: float) -> str:
        if signal_name == "KILL":
            return "SIGKILL"
        if signal_name not in TERMINATING_SIGNALS:
            return f"SIG{signal_name} (no SIGKILL after it: SIG{signal_name} does not ask a program to exit)"
        return f"SIG{signal_name} (SIGKILL after {grace:g} s)"


class BsdPlatform(PosixPlatform):
    """macOS and FreeBSD: POSIX signals, and one ephemeral range for TCP and UDP, IPv4 and IPv6 alike,
    from the BSD sysctls."""

    def probes(self) -> tuple[Probe, ...]:
        from portcheck.parsers.portranges import two_numbers

        command = Command(("sysctl", "-n", *BSD_RANGE_SYSCTLS), POSIX_ENV)
        return (Probe(ProbeKind.EPHEMERAL, BOTH_PROTOS, command, two_numbers),)


# --- pieces several plans share -------------------------------------------------------------------------


def filterable(ports: PortSpec) -> bool:
    return len(ports.ranges) <= MAX_SOURCE_FILTER_RANGES


def protos(question: Question) -> list[Proto]:
    return [p for p in (Proto.TCP, Proto.UDP) if question.protos is None or p in question.protos]


def family_digit(question: Question, both: str = "") -> str:
    """`4` or `6` when the question wants one family (lsof's `-i4`, sockstat's `-4`), else `both`."""
    if question.only_family(Family.IPV4):
        return "4"
    if question.only_family(Family.IPV6):
        return "6"
    return both


def _lsof_selectors(question: Question) -> list[list[str]]:
    """One argv tail per lsof run. `-i` takes `[46][proto][:ports]` where ports is a comma list with
    ranges; lsof matches either end of a connection (the parser keeps the local side unless
    --remote). Its `-sTCP:LISTEN` drops UDP files, so the listing asks TCP and UDP in two runs."""
    family = family_digit(question)
    wanted = protos(question)
    if question.listing:
        return [[f"-i{family}TCP", "-sTCP:LISTEN"] if p is Proto.TCP else [f"-i{family}UDP"] for p in wanted]
    if question.ports is None:
        return [[f"-i{family}{wanted[0].value.upper() if len(wanted) == 1 else ''}"]]
    ports = f":{question.ports}" if filterable(question.ports) else ""
    proto = wanted[0].value.upper() if len(wanted) == 1 else ""
    return [[f"-i{family}{proto}{ports}"]]


def rows_of(parser: str) -> OwnershipReader:
    """An ownership reader that parses a tool's reply as format `parser` and looks for PID's row."""
    from functools import partial

    from portcheck.parsers.ownership import rows_name_pid

    return partial(rows_name_pid, parser)


def lsof_ownership(pid: int, question: Question) -> OwnershipCheck:
    """`lsof -a -p PID -i:PORTS`: -a ANDs the selections, so lsof prints only PID's own internet files
    on the ports; another process's name can never stand in a row of it. Exit 1: none."""
    ports = f":{question.ports}" if question.ports is not None else ""
    wanted = protos(question)
    proto = wanted[0].value.upper() if len(wanted) == 1 else ""
    selector = f"-i{family_digit(question)}{proto}{ports}"
    argv = ("lsof", "+c", "0", "-nP", "-w", "-a", "-p", str(pid), selector)
    return OwnershipCheck(
        Command(argv, POSIX_ENV),
        rows_of("lsof"),
        f"lsof -a -p {pid} {selector}",
        no_match_status=frozenset({1}),
        sees_all=False,
    )


def lsof_step(question: Question, privileged: bool) -> Step:
    base = ("lsof", "+c", "0", "-nP", "-w")
    return Step(
        "lsof",
        "lsof",
        tuple(Command((*base, *tail), POSIX_ENV) for tail in _lsof_selectors(question)),
        no_match_status=frozenset({1}),
        sees_all=privileged,
    )
