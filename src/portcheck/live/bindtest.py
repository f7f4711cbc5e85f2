"""The ground truth when the tools list nothing: try to bind the port.

Every tool reads the kernel's socket tables, and some sockets are in none of them (on Linux a socket
that is bound but not listening), some tools cannot see everything (lsof without root, a tool inside a
container), and Windows reserves whole port ranges that no netstat lists. So when the live query finds
no row for a port, portcheck binds it itself: TCP and UDP as asked, on the IPv4 and the IPv6 wildcard
(IPV6_V6ONLY on, so each family is tested on its own), SO_REUSEADDR off (what a server without it
would meet), closed at once and never listening, so no client can ever reach it. What the bind says:

- it succeeds: the port is free;
- EADDRINUSE: something the tools did not show holds it; the port is in use (exit 0, said on stderr);
- denied: on POSIX a privileged port as non-root (cannot test; exit 1 stands), on Windows WSAEACCES
  (10013), the port is unusable: the Windows excluded port ranges (Hyper-V, WSL, Docker) say whether
  it lies in one.

A port with only TIME_WAIT rows is free by portcheck's rule (portcheck.live.verdict); for it the bind
test says whether a server without SO_REUSEADDR (and one with it) could bind it now.

What the error numbers mean on each OS and what to advise is the platform's BindAdvice. Only ever on
this machine: never for `parse`, never over `--host`. `binder` is the seam the tests use to play an
error this machine would not produce (Windows' WSAEACCES on Linux).
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, NamedTuple

from portcheck.core.filters import RowFilter
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.strenum import StrEnum
from portcheck.live.executor import Executor
from portcheck.platforms.base import BindAdvice, Platform, ProbeKind

if TYPE_CHECKING:
    from portcheck.parsers.portranges import PortRange

MAX_PORTS_TESTED = 1024
"""A spec with more ports than this that no tool listed is not bind-tested (4 binds per port)."""
MAX_FINDINGS_SAID = 10
"""Ports named one line each; the rest are counted in one more line."""
UNAVAILABLE = frozenset({errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL, errno.EPROTONOSUPPORT})
"""A family this machine does not have (IPv6 switched off): nothing to test there."""
WINDOWS_NAMES = {10013: "WSAEACCES", 10048: "WSAEADDRINUSE"}
WILDCARDS = {Family.IPV4: "0.0.0.0", Family.IPV6: "::"}

Binder = Callable[[Proto, Family, int, bool], "int | None"]
"""Bind (proto, family wildcard, port, SO_REUSEADDR?) and close: the error number, or None."""


def try_bind(proto: Proto, family: Family, port: int, reuse: bool = False) -> int | None:
    """One bind of the wildcard address, closed at once (never listening). socket is imported here:
    most runs list every port they ask about and bind none, and its import is 2-3 ms of start-up."""
    import socket

    kind = socket.SOCK_STREAM if proto is Proto.TCP else socket.SOCK_DGRAM
    address_family = socket.AF_INET if family is Family.IPV4 else socket.AF_INET6
    try:
        probe = socket.socket(address_family, kind)
    except OSError as error:
        return _number(error)
    with probe:
        try:
            if family is Family.IPV6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if reuse:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((WILDCARDS[family], port))
        except OSError as error:
            return _number(error)
    return None


def _number(error: OSError) -> int:
    """Windows' own number (10048) where it has one, else errno."""
    return getattr(error, "winerror", None) or error.errno or 0


def error_name(number: int) -> str:
    if number in WINDOWS_NAMES:
        return f"{WINDOWS_NAMES[number]} {number}"
    return errno.errorcode.get(number, str(number))


class Kind(StrEnum):
    FREE = "free"
    HIDDEN = "held by something unlisted"
    UNUSABLE = "cannot be bound"
    UNTESTABLE = "cannot test"
    TIME_WAIT = "only TIME_WAIT"


class Finding(NamedTuple):
    port: int
    kind: Kind
    message: str

    @property
    def in_use(self) -> bool:
        """A port the tools did not list but that cannot be bound is not free (exit 0)."""
        return self.kind is Kind.HIDDEN or self.kind is Kind.UNUSABLE


class _Bind(NamedTuple):
    proto: Proto
    family: Family
    error: int | None

    def address(self, port: int) -> str:
        return f"[::]:{port}" if self.family is Family.IPV6 else f"0.0.0.0:{port}"

    def where(self, port: int) -> str:
        return f"{self.address(port)} ({self.proto})"


def bind_test(
    ports: Iterable[int],
    rows: Sequence[Socket],
    scope: RowFilter,
    system: Platform,
    executor: Executor,
    timeout: float,
    binder: Binder = try_bind,
) -> list[Finding]:
    """One finding per port of `ports` for which `rows` (what the query listed) hold nothing: no row at
    all, or TIME_WAIT rows only. [] when there are more than MAX_PORTS_TESTED such ports."""
    listed: dict[int, list[Socket]] = {}
    for row in rows:
        if row.local_port is not None:
            listed.setdefault(row.local_port, []).append(row)
    protos = [p for p in (Proto.TCP, Proto.UDP) if scope.protos is None or p in scope.protos]
    families = [f for f in (Family.IPV4, Family.IPV6) if scope.families is None or f in scope.families]
    unlisted = [p for p in ports if p != 0 and not listed.get(p)]  # port 0 means "any port"
    waiting = [p for p in ports if listed.get(p) and all(r.state is State.TIME_WAIT for r in listed[p])]
    if len(unlisted) + len(waiting) > MAX_PORTS_TESTED:
        return []
    advice = system.bind_advice
    findings: list[Finding] = []
    excluded: Callable[[int, Proto], PortRange | None] = _ExcludedRanges(system, executor, timeout)
    for port in unlisted:
        binds = [_Bind(p, f, binder(p, f, port, False)) for p in protos for f in families]
        findings.append(_finding(port, binds, advice, excluded))
    for port in waiting:
        if Proto.TCP in protos:
            findings.append(_time_wait_finding(port, listed[port], families, binder))
    return findings


def _finding(
    port: int,
    binds: list[_Bind],
    advice: BindAdvice,
    excluded: Callable[[int, Proto], PortRange | None],
) -> Finding:
    tested = [b for b in binds if b.error not in UNAVAILABLE]
    if not tested:
        return Finding(
            port, Kind.UNTESTABLE, f"port {port}: the bind test could not run (no IPv4 or IPv6 here)"
        )
    taken = next((b for b in tested if b.error in advice.in_use), None)
    if taken is not None:
        where = taken.where(port)
        return Finding(
            port,
            Kind.HIDDEN,
            f"port {port}: no tool lists a socket on it, but binding {where} fails with "
            f"{error_name(taken.error or 0)}: something the tools did not show holds it; "
            f"{advice.hidden_reasons}",
        )
    denied = next((b for b in tested if b.error in advice.denied), None)
    if denied is not None:
        error = error_name(denied.error or 0)
        if advice.excluded_ranges:
            found = excluded(port, denied.proto)
            if found is not None:
                who = (
                    "an administrator excluded it"
                    if found.administered
                    else "Hyper-V, WSL or Docker reserved it"
                )
                return Finding(
                    port,
                    Kind.UNUSABLE,
                    f"port {port} is in an excluded port range, {found} ({error}): {who} and nothing may "
                    f"bind it; see `netsh int ipv4 show excludedportrange protocol={denied.proto}`",
                )
        kind = Kind.UNUSABLE if advice.denied_holds else Kind.UNTESTABLE
        return Finding(port, kind, advice.denied_text.format(port=port, error=error))
    failed = next((b for b in tested if b.error is not None), None)
    if failed is not None:
        where = failed.where(port)
        return Finding(
            port, Kind.UNTESTABLE, f"port {port}: binding {where} failed ({error_name(failed.error or 0)})"
        )
    wheres = " and ".join(dict.fromkeys(b.address(port) for b in tested))
    protos = " and ".join(dict.fromkeys(b.proto.value for b in tested))
    return Finding(port, Kind.FREE, f"binding {wheres} ({protos}) succeeded")


def _time_wait_finding(port: int, rows: list[Socket], families: list[Family], binder: Binder) -> Finding:
    """TIME_WAIT sockets stop a bind without SO_REUSEADDR (Linux: and one with it, when the server
    that made them did not set it): say which servers could start on the port now."""
    wanted = [f for f in families if any(r.family is f for r in rows)] or families
    plain = [binder(Proto.TCP, f, port, False) for f in wanted]
    start = f"port {port} has only TIME_WAIT rows (free: no process holds it)"
    if all(e is None or e in UNAVAILABLE for e in plain):
        return Finding(port, Kind.TIME_WAIT, f"{start}; even a server without SO_REUSEADDR could bind it now")
    reused = [binder(Proto.TCP, f, port, True) for f in wanted]
    if all(e is None or e in UNAVAILABLE for e in reused):
        return Finding(
            port,
            Kind.TIME_WAIT,
            f"{start}; a server that sets SO_REUSEADDR (most do) can bind it now, one without it only "
            "once they expire",
        )
    return Finding(
        port,
        Kind.TIME_WAIT,
        f"{start}; but no server can bind it until they expire, not even with SO_REUSEADDR (the server "
        "that made them did not set it)",
    )


class _ExcludedRanges:
    """The OS's excluded port ranges (Windows netsh), asked at most once per protocol, only when a
    bind was denied: the range holding the port, or None."""

    def __init__(self, system: Platform, executor: Executor, timeout: float) -> None:
        self.system = system
        self.executor = executor
        self.timeout = timeout
        self.known: dict[Proto, list[PortRange]] = {}

    def __call__(self, port: int, proto: Proto) -> PortRange | None:
        if proto not in self.known:
            self.known[proto] = self._read(proto)
        return next((r for r in self.known[proto] if port in r), None)

    def _read(self, proto: Proto) -> list[PortRange]:
        from portcheck.core.errors import ParseError
        from portcheck.live.query import probe_lines
        from portcheck.live.runner import ToolError

        found: list[PortRange] = []
        for probe in self.system.probes():
            if probe.kind is not ProbeKind.EXCLUDED or proto not in probe.protos:
                continue
            try:
                found += probe.read(probe_lines(probe, self.executor, self.timeout))
            except (ToolError, OSError, ValueError, ParseError):
                continue
        return found


def summary_lines(findings: Sequence[Finding]) -> tuple[list[str], str | None]:
    """The findings as lines for stderr: one per port that is not simply free (at most
    MAX_FINDINGS_SAID, then a count); and what binding the free ports said, to follow "nothing uses
    port P" (None when no port was free)."""
    others = [f for f in findings if f.kind is not Kind.FREE]
    free = [f for f in findings if f.kind is Kind.FREE]
    lines = [f.message for f in others[:MAX_FINDINGS_SAID]]
    if len(others) > MAX_FINDINGS_SAID:
        lines.append(f"and {len(others) - MAX_FINDINGS_SAID} more ports the tools did not list")
    if len(free) > 1:
        return lines, f"binding each of the {len(free)} ports succeeded"
    return lines, free[0].message if free else None
