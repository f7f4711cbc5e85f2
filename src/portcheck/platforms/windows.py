"""Windows: `netstat -ano` (plus `-b` when elevated) with ONE `tasklist /svc` call naming every PID and
the services it hosts; port ranges from netsh; processes ended with taskkill. Both tools print in the
console's OEM code page. Who a process is: ONE PowerShell Get-CimInstance Win32_Process (wmic where
PowerShell is absent); HTTP.sys behind PID 4 from `netsh http show servicestate view=requestq`."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING

from portcheck.core.model import Family
from portcheck.platforms.base import (
    BOTH_PROTOS,
    OS,
    PASTE_BACK,
    TERMINATING_SIGNALS,
    BindAdvice,
    ClipboardReader,
    Command,
    ContainerRuntime,
    Encoding,
    Instruction,
    KernelOwners,
    NameLookup,
    OwnerProbe,
    OwnershipCheck,
    Platform,
    Probe,
    ProbeKind,
    Question,
    SignalPlan,
    Step,
    Supervisor,
    Traits,
    protos,
    rows_of,
)

if TYPE_CHECKING:
    from portcheck.core.owners import PortOwner, ProcessFacts


def _tasklist_services(lines: Iterable[str]) -> dict[int, str]:
    from portcheck.parsers.owners.windows import read_tasklist_services

    return read_tasklist_services(lines)


TASKLIST = NameLookup(Command(("tasklist", "/svc", "/fo", "csv", "/nh")), "tasklist", _tasklist_services)
"""`/svc` puts the services each process hosts where the session and memory columns were: the names
stay (image, PID first), and svchost.exe's services come with them in the same call."""
CIM_SCRIPT = (
    "$ErrorActionPreference='SilentlyContinue';"
    "try{{[Console]::OutputEncoding=New-Object Text.UTF8Encoding $false}}catch{{}};"
    "$c=[Globalization.CultureInfo]::InvariantCulture;"
    "$i=@({ids});$o=@({orphans});"
    '$f=(@($i|%{{"ProcessId=$_"}})+@($o|%{{"ParentProcessId=$_"}})) -join \' OR \';'
    "@(Get-CimInstance Win32_Process -Filter $f|%{{[pscustomobject]@{{ProcessId=$_.ProcessId;"
    "ParentProcessId=$_.ParentProcessId;Name=$_.Name;CommandLine=$_.CommandLine;"
    "Started=$(if($_.CreationDate){{$_.CreationDate.ToUniversalTime().ToString("
    "\"yyyy-MM-dd'T'HH:mm:ss'Z'\",$c)}})}}}})|ConvertTo-Json -Compress"
)
"""Win32_Process for the PIDs (and the children of `orphans`), printed as JSON in UTF-8 with the start
in UTC written in the invariant culture (a German or Finnish Windows writes times its own way);
portcheck.parsers.owners.windows.read_cim reads it. Sent as -EncodedCommand (base64 of UTF-16LE): its
alphabet passes cmd.exe, which an ssh host's shell may be, and no quoting is involved."""
WMIC_FIELDS = "CommandLine,CreationDate,Name,ParentProcessId,ProcessId"
VANISHED_PID_HINT = (
    "PID {pid} holds port {port} in netstat's table, but no process has that PID: Windows keeps showing "
    "the PID of the process that opened a socket after it exits, and a process it started, which "
    "inherited the socket, holds it now ({children})"
)
HTTP_SYS = KernelOwners(
    frozenset({4}),
    "HTTP.sys",
    Command(("netsh", "http", "show", "servicestate", "view=requestq")),
    lambda lines: _http_owners(lines),
    Encoding.OEM,
)


def _http_owners(lines: Iterable[str]) -> list[PortOwner]:
    from portcheck.parsers.owners.windows import read_http_owners

    return read_http_owners(lines)


def _encoded(script: str) -> str:
    return base64.b64encode(script.encode("utf-16-le")).decode("ascii")


_NETSH = ("netsh", "int", "ipv4", "show")


def _protocol(question: Question) -> tuple[str, ...]:
    """`netstat -p` takes one protocol of one family (TCP, TCPv6, UDP, UDPv6), so only then."""
    wanted = protos(question)
    if len(wanted) != 1 or question.families is None or len(question.families) != 1:
        return ()
    return ("-p", wanted[0].value.upper() + ("v6" if question.only_family(Family.IPV6) else ""))


CLIPBOARD_SCRIPT = "[Console]::OutputEncoding = [Text.Encoding]::UTF8; Get-Clipboard -Raw"
"""Get-Clipboard's text as UTF-8 (a pipe otherwise gets the OEM code page, which loses most characters)."""


def _powershell(question: Question) -> tuple[str, ...]:
    """Get-NetTCPConnection and Get-NetUDPEndpoint tables with every column portcheck reads (AutoSize:
    none cut off), and Get-Process naming their OwningProcess PIDs (portcheck joins them)."""
    ranges = question.ports.ranges if question.ports is not None else ()
    if len(ranges) == 1 and ranges[0][0] == ranges[0][1]:
        port = f" -LocalPort {ranges[0][0]}"
    elif ranges:  # an array of ports: `(@(80) + (8000..8100))`
        port = " -LocalPort (" + " + ".join(f"@({a})" if a == b else f"({a}..{b})" for a, b in ranges) + ")"
    else:
        port = ""
    tcp = f"Get-NetTCPConnection{port or ' -State Listen'}"
    udp = f"Get-NetUDPEndpoint{port}"
    quiet = " -ErrorAction SilentlyContinue"
    return (
        f"{tcp} | Format-Table -AutoSize LocalAddress,LocalPort,RemoteAddress,RemotePort,State,OwningProcess",
        f"{udp} | Format-Table -AutoSize LocalAddress,LocalPort,OwningProcess",
        f"Get-Process -Id (@(({tcp}{quiet}).OwningProcess) + @(({udp}{quiet}).OwningProcess))",
    )


class Windows(Platform):
    os = OS.WINDOWS
    traits = Traits(posix=False, getent=False)
    uname_prefixes = ("MINGW", "MSYS", "CYGWIN")
    """A POSIX shell on Windows (Git for Windows, Cygwin's sshd): Windows' own netstat answers."""
    ver_banner = b"Windows"
    clipboard = (
        ClipboardReader(
            Command(
                ("powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand", _encoded(CLIPBOARD_SCRIPT))
            )
        ),
    )
    clipboard_install = "Windows PowerShell 5.1 or later (Get-Clipboard)"
    bind_advice = BindAdvice(
        in_use=frozenset({10048}),  # WSAEADDRINUSE
        denied=frozenset({10013}),  # WSAEACCES
        denied_holds=True,
        denied_text=(
            "binding port {port} is forbidden ({error}): another program bound it exclusively "
            "(SO_EXCLUSIVEADDRUSE), or it is reserved"
        ),
        hidden_reasons=(
            "an HTTP.sys URL reservation (`netsh http show urlacl`), a service's exclusive bind, or "
            "a port forwarded into WSL or a Hyper-V VM"
        ),
        excluded_ranges=True,
    )

    container_runtimes = (
        ContainerRuntime(
            "docker",
            Command(("docker", "ps", "--no-trunc", "--size=false", "--format", "json")),
            ("docker", "stop"),
        ),
    )
    """Docker Desktop's CLI (23 and later: `--format json`, no template braces, which cmd.exe refuses;
    `--size=false`, or the JSON would make it measure every container's disk use)."""
    forwarders = MappingProxyType(
        {
            "com.docker.backend.exe": "docker",
            "com.docker.proxy.exe": "docker",
            "vpnkit.exe": "docker",
            "wslrelay.exe": "docker",
        }
    )
    kernel_owners = HTTP_SYS
    vanished_pid_hint = VANISHED_PID_HINT

    def owner_probes(self, pids: Sequence[int], orphans: Sequence[int] = ()) -> tuple[OwnerProbe, ...]:
        """PowerShell's Get-CimInstance; wmic (deprecated, but the one on old machines) without it."""
        from portcheck.parsers.owners.windows import read_cim, read_wmic

        script = CIM_SCRIPT.format(ids=",".join(map(str, pids)), orphans=",".join(map(str, orphans)))
        powershell = ("powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand", _encoded(script))
        where = " or ".join([*(f"ProcessId={p}" for p in pids), *(f"ParentProcessId={p}" for p in orphans)])
        wmic = ("wmic", "process", "where", where, "get", WMIC_FIELDS, "/value")
        return (OwnerProbe(Command(powershell), read_cim), OwnerProbe(Command(wmic), read_wmic))

    def supervisor(self, facts: ProcessFacts, *, privileged: bool) -> Supervisor | None:
        """The services a process hosts (`tasklist /svc`): `sc.exe stop NAME` (sc.exe, not sc: in
        PowerShell `sc` is Set-Content). A svchost.exe hosting several services is not stopped by
        portcheck: which of them holds the port, only `netstat -b` (elevated) says."""
        if not facts.service:
            return None
        names = facts.service.split(", ")
        manager = "the Windows service manager"
        if len(names) > 1:
            advice = (
                f"it hosts several services ({facts.service}): stop the one that holds the port, "
                "`sc.exe stop NAME` (`netstat -anob` as administrator names it)"
            )
            return Supervisor(manager, facts.service, None, advice)
        stop = Command(("sc.exe", "stop", names[0]))
        return Supervisor(
            manager, names[0], stop, f"sc.exe stop {names[0]} (PowerShell: Stop-Service {names[0]})"
        )

    def plan(self, question: Question, *, privileged: bool) -> tuple[Step, ...]:
        """netstat prints every socket (its `-p` cannot filter ports, and findstr would match `:80`
        inside `:8042` and in remote addresses), so ports are filtered in Python. `-b` (each socket's
        executable, and the service inside svchost) needs an elevated token, so it is asked only when
        portcheck runs elevated."""
        select = _protocol(question)
        variants = ("-anob", "-ano") if privileged else ("-ano",)
        return tuple(
            Step(
                "netstat",
                "netstat-windows",
                (Command(("netstat", flags, *select)),),
                encoding=Encoding.OEM,
                pid_names=TASKLIST,
            )
            for flags in variants
        )

    def ask(self, question: Question) -> tuple[Instruction, ...]:
        """netstat -anob and the tasklist that names its PIDs, into one file (an elevated Command
        Prompt: -b needs it); or PowerShell's tables and the Get-Process that names their PIDs."""
        netstat = self.plan(question, privileged=True)[0].commands[0]
        file = '"%USERPROFILE%\\Desktop\\portcheck.txt"'
        command_prompt = Instruction(
            "Please run these in a Command Prompt opened as administrator (Start, type cmd, right-click "
            "Command Prompt, Run as administrator):",
            (f"{netstat} > {file}", f"{TASKLIST.command} >> {file}"),
            "and attach the file portcheck.txt from your Desktop to your reply.",
        )
        return (
            command_prompt,
            Instruction("Or in PowerShell opened as administrator:", _powershell(question), PASTE_BACK),
        )

    def probes(self) -> tuple[Probe, ...]:
        """One range per protocol; the IPv4 ones are asked (IPv6 uses the same by default)."""
        from portcheck.parsers import portranges  # only `info` asks: a query does not pay for it

        return (
            *(
                Probe(
                    ProbeKind.EPHEMERAL,
                    (proto,),
                    Command((*_NETSH, "dynamicport", proto.value)),
                    portranges.netsh_dynamic_port,
                    encoding=Encoding.OEM,
                )
                for proto in BOTH_PROTOS
            ),
            *(
                Probe(
                    ProbeKind.EXCLUDED,
                    (proto,),
                    Command((*_NETSH, "excludedportrange", f"protocol={proto.value}")),
                    portranges.netsh_excluded_ranges,
                    encoding=Encoding.OEM,
                )
                for proto in BOTH_PROTOS
            ),
        )

    def signal_plan(self, pid: int, signal_name: str, *, force: bool) -> SignalPlan:
        """`taskkill /PID n` asks the program to close, `/F` ends it."""
        forced = force or signal_name == "KILL"
        argv = ("taskkill", "/PID", str(pid), *(("/F",) if forced else ()))
        return SignalPlan(
            Command(argv),
            gone_status=frozenset({128}),
            needs_force_status=frozenset() if forced else frozenset({1}),
            forced_failure_is_denial=True,
        )

    def signal_label(self, signal_name: str, *, force: bool) -> str:
        return "taskkill /F" if force or signal_name == "KILL" else "taskkill"

    def signal_description(self, signal_name: str, grace: float) -> str:
        if signal_name == "KILL":
            return "taskkill /F"
        if signal_name not in TERMINATING_SIGNALS:
            return "taskkill (no /F after it)"
        return "taskkill (then /F after the grace)"

    def ownership_check(self, pid: int, question: Question) -> OwnershipCheck:
        """A fresh `netstat -ano`: PIDs and ports straight from the kernel's tables, no names at all."""
        argv = ("netstat", "-ano", *_protocol(question))
        return OwnershipCheck(
            Command(argv), rows_of("netstat-windows"), " ".join(argv), encoding=Encoding.OEM
        )


PLATFORM = Windows()
