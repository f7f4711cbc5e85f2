"""What a port number means: its IANA range, the services registered on it, the well-known unofficial
uses, and what a machine does with it (its ephemeral range, Linux's reserved ports, Windows' excluded
ranges, and whether something uses it now). portcheck.meaning.report presents it, as text and as JSON.

The machine's ranges come from its platform's probes, run through an Executor like the query plans,
so the same code answers for this machine (LocalExecutor) or for an ssh host (`on_host`, the job
`info --host` gives the fleet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from portcheck.core.errors import InspectError
from portcheck.core.model import Proto
from portcheck.core.services import Service, services_for_port
from portcheck.live.executor import Executor
from portcheck.live.query import Answer, probe_lines
from portcheck.live.runner import ToolError
from portcheck.meaning.known_ports import KnownUse, known_uses
from portcheck.parsers.portranges import PortRange
from portcheck.platforms import platform_for
from portcheck.platforms.base import OS, ProbeKind

if TYPE_CHECKING:
    from portcheck.fleet.remote import SSHExecutor


class IanaRange(NamedTuple):
    name: str
    also_called: tuple[str, ...]
    first: int
    last: int
    meaning: str


IANA_RANGES = (
    IanaRange(
        "system",
        ("well-known",),
        0,
        1023,
        "assigned by IANA through IETF review; Linux and FreeBSD let only root bind them",
    ),
    IanaRange(
        "user",
        ("registered",),
        1024,
        49151,
        "registered with IANA on request, but any program may use them",
    ),
    IanaRange(
        "dynamic",
        ("private", "ephemeral"),
        49152,
        65535,
        "never registered: operating systems take client ports from here, so no service owns them",
    ),
)


def iana_range(port: int) -> IanaRange:
    return next(r for r in IANA_RANGES if r.first <= port <= r.last)


class ProbedRange(NamedTuple):
    kind: ProbeKind
    protos: tuple[Proto, ...]
    range: PortRange
    source: str


@dataclass
class SystemPorts:
    """The machine's own ranges, and which questions got an answer (an empty excluded-range table is
    an answer; a missing netsh is not)."""

    os: OS | None
    ranges: list[ProbedRange] = field(default_factory=list)
    answered: set[tuple[ProbeKind, Proto]] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)

    def of(self, kind: ProbeKind, proto: Proto | None = None) -> list[ProbedRange]:
        return [r for r in self.ranges if r.kind is kind and (proto is None or proto in r.protos)]

    def holds(self, kind: ProbeKind, port: int, proto: Proto) -> bool | None:
        """Is `port` in a range of this kind for `proto`? None when the machine did not say."""
        if (kind, proto) not in self.answered:
            return None
        return any(port in r.range for r in self.of(kind, proto))

    def containing(self, kind: ProbeKind, port: int) -> list[ProbedRange]:
        return [r for r in self.of(kind) if port in r.range]


def read_system_ports(os_name: OS, executor: Executor, timeout: float) -> SystemPorts:
    """Run every probe of the OS; a failing probe becomes a line in `errors`, never an exception."""
    found = SystemPorts(os_name)
    for probe in platform_for(os_name).probes():
        try:
            ranges = probe.read(probe_lines(probe, executor, timeout))
        except ToolError as error:
            found.errors.append(f"{probe.source}: {error.problem.value}" + _detail(error.detail))
            continue
        except OSError as error:
            found.errors.append(f"{probe.source}: {error.strerror or error}")
            continue
        except ValueError as error:
            found.errors.append(f"{probe.source}: unreadable output ({error})")
            continue
        found.ranges.extend(ProbedRange(probe.kind, probe.protos, r, probe.source) for r in ranges)
        found.answered.update((probe.kind, proto) for proto in probe.protos)
    return found


def _detail(detail: str) -> str:
    return f" ({detail})" if detail else ""


@dataclass
class PortInfo:
    port: int
    iana: IanaRange
    services: list[Service]
    known: list[KnownUse]
    system: SystemPorts
    in_use: Answer | None = None
    in_use_error: str | None = None
    """Why the live check could not answer (None when it answered or was not asked)."""


def describe(
    port: int,
    *,
    os_name: OS | None,
    executor: Executor | None,
    timeout: float,
    check_use: bool = True,
    os_error: str | None = None,
) -> PortInfo:
    """Everything `portcheck info` reports. `os_name` None: the OS is unknown (only IANA facts)."""
    system = SystemPorts(os_name)
    if os_error:
        system.errors.append(os_error)
    if os_name is not None and executor is not None:
        system = read_system_ports(os_name, executor, timeout)
    info = PortInfo(port, iana_range(port), services_for_port(port), known_uses(port), system)
    if check_use and os_name is not None:
        from portcheck.core.portspec import parse_port_spec
        from portcheck.live.query import inspect

        try:
            info.in_use = inspect(
                parse_port_spec(str(port)), platform=os_name, timeout=timeout, executor=executor
            )
        except InspectError as error:
            info.in_use_error = str(error)
    return info


def on_host(port: int, timeout: float, check_use: bool, executor: SSHExecutor) -> PortInfo:
    """The host's job: its ranges through its own probes, and the query for the port."""
    from portcheck.fleet.fleet import for_person

    info = describe(port, os_name=executor.system.os, executor=executor, timeout=timeout, check_use=check_use)
    if info.in_use is not None:
        info.in_use = for_person(info.in_use, executor, timeout)
    return info
