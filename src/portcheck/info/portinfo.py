"""What a port number means: its IANA range, the services registered on it, the well-known unofficial
uses, and what THIS machine does with it (its ephemeral range, Linux's reserved ports, Windows'
excluded ranges). `portcheck info` prints it; the JSON form (`to_json`) is a documented contract.

The machine's ranges come from the probes in platforms.py, run through an Executor like the query
plans, so the same code answers for this machine or (later) for a remote one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from portcheck.core.errors import InspectError, ParseError
from portcheck.core.model import FIELDS, Proto, Socket
from portcheck.core.services import Service, services_for_port
from portcheck.info.known_ports import KnownUse, known_uses
from portcheck.live.executor import Executor
from portcheck.live.query import Answer, output_lines
from portcheck.live.runner import Problem, ToolError
from portcheck.parsers.portranges import PortRange
from portcheck.platforms import OS, Probe, ProbeKind, port_probes


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
    for probe in port_probes(os_name):
        try:
            ranges = probe.read(_probe_lines(probe, executor, timeout))
        except ToolError as error:
            found.errors.append(f"{probe.source}: {error.problem.value}" + _detail(error.detail))
            continue
        except OSError as error:
            found.errors.append(f"{probe.source}: {error.strerror or error}")
            continue
        except ValueError as error:
            found.errors.append(f"{probe.source}: unreadable output ({error})")
            continue
        except ParseError as error:  # binary output
            found.errors.append(f"{probe.source}: unreadable output ({error.describe()})")
            continue
        found.ranges.extend(ProbedRange(probe.kind, probe.protos, r, probe.source) for r in ranges)
        found.answered.update((probe.kind, proto) for proto in probe.protos)
    return found


def _detail(detail: str) -> str:
    return f" ({detail})" if detail else ""


def _probe_lines(probe: Probe, executor: Executor, timeout: float) -> Iterator[str]:
    if probe.files and executor.local:
        return iter([line for path in probe.files for line in Path(path).read_text().splitlines()])
    result = executor.run(probe.command.argv, timeout=timeout, env=probe.command.env or None)
    if result.status != 0:
        complaint = result.error_line()
        raise ToolError(
            probe.command.tool, Problem.FAILED, f"exit status {result.status}" + _colon(complaint)
        )
    return output_lines(result.output, probe.encoding, executor)


def _colon(text: str) -> str:
    return f": {text}" if text else ""


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


# --- the JSON contract --------------------------------------------------------------------------------


def _range_json(probed: ProbedRange) -> dict[str, object]:
    record: dict[str, object] = {
        "protocols": [p.value for p in probed.protos],
        "first": probed.range.first,
        "last": probed.range.last,
    }
    if probed.kind is ProbeKind.EXCLUDED:
        record["administered"] = probed.range.administered
    record["source"] = probed.source
    return record


def _per_proto(system: SystemPorts, kind: ProbeKind, port: int) -> dict[str, bool | None]:
    return {proto.value: system.holds(kind, port, proto) for proto in Proto}


def _row_json(row: Socket) -> dict[str, object]:
    return dict(zip(FIELDS, row))


def to_json(info: PortInfo) -> dict[str, object]:
    """The `portcheck info --json` object (README "portcheck info" documents every key)."""
    return {**meaning_json(info), **machine_json(info)}


def meaning_json(info: PortInfo) -> dict[str, object]:
    """What the number means, the same on every machine: the part `info --host` prints once."""
    return {
        "port": info.port,
        "iana_range": {
            "name": info.iana.name,
            "also_called": list(info.iana.also_called),
            "first": info.iana.first,
            "last": info.iana.last,
        },
        "services": [
            {
                "name": s.name,
                "protocols": list(s.protocols),
                "first_port": s.first_port,
                "last_port": s.last_port,
                "description": s.description,
            }
            for s in info.services
        ],
        "known_uses": [
            {"protocols": list(u.protocols), "first_port": u.first, "last_port": u.last, "text": u.text}
            for u in info.known
        ],
    }


MACHINE_KEYS = ("system", "in_use", "in_use_error")


def machine_json(info: PortInfo) -> dict[str, object]:
    """What one machine does with the port: `system`, `in_use`, `in_use_error` (MACHINE_KEYS)."""
    system = info.system
    return {
        "system": {
            "os": system.os.value if system.os else None,
            "ephemeral": [_range_json(r) for r in system.of(ProbeKind.EPHEMERAL)],
            "reserved": [_range_json(r) for r in system.of(ProbeKind.RESERVED)],
            "excluded": [_range_json(r) for r in system.of(ProbeKind.EXCLUDED)],
            "in_ephemeral_range": _per_proto(system, ProbeKind.EPHEMERAL, info.port),
            "in_reserved_ports": _per_proto(system, ProbeKind.RESERVED, info.port),
            "in_excluded_range": _per_proto(system, ProbeKind.EXCLUDED, info.port),
            "errors": list(system.errors),
        },
        "in_use": None
        if info.in_use is None
        else {"tool": info.in_use.tool, "rows": [_row_json(r) for r in info.in_use.rows]},
        "in_use_error": info.in_use_error,
    }
