"""Windows: `netstat -ano` (plus `-b` when elevated) with ONE tasklist call naming every PID; port
ranges from netsh; processes ended with taskkill. Both tools print in the console's OEM code page."""

from __future__ import annotations

from portcheck.core.model import Family
from portcheck.platforms.base import (
    BOTH_PROTOS,
    OS,
    TERMINATING_SIGNALS,
    BindAdvice,
    Command,
    Encoding,
    NameLookup,
    OwnershipCheck,
    Platform,
    Probe,
    ProbeKind,
    Question,
    SignalPlan,
    Step,
    Traits,
    protos,
    rows_of,
)

TASKLIST = NameLookup(Command(("tasklist", "/fo", "csv", "/nh")), "tasklist")
_NETSH = ("netsh", "int", "ipv4", "show")


def _protocol(question: Question) -> tuple[str, ...]:
    """`netstat -p` takes one protocol of one family (TCP, TCPv6, UDP, UDPv6), so only then."""
    wanted = protos(question)
    if len(wanted) != 1 or question.families is None or len(question.families) != 1:
        return ()
    return ("-p", wanted[0].value.upper() + ("v6" if question.only_family(Family.IPV6) else ""))


class Windows(Platform):
    os = OS.WINDOWS
    traits = Traits(posix=False, getent=False)
    uname_prefixes = ("MINGW", "MSYS", "CYGWIN")
    """A POSIX shell on Windows (Git for Windows, Cygwin's sshd): Windows' own netstat answers."""
    ver_banner = b"Windows"
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
