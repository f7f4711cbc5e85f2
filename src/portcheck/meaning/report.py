"""Both presentations of `portcheck info`: the text report a person reads and the JSON object scripts
read (a documented contract: README "portcheck info" lists every key), for one machine or, with
--host, the meaning once and then each host's part.

Everything shown may come from another machine (a process name, a host label, a probe's error): the
text report escapes it; JSON keeps exact values, as the JSON encoder escapes control characters itself.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from portcheck.core.escape import escape_controls
from portcheck.core.model import Proto, Socket, State, as_record
from portcheck.live.verdict import port_in_use
from portcheck.meaning.portinfo import PortInfo, ProbedRange, SystemPorts
from portcheck.meaning.records import (
    MachineRecord,
    MeaningRecord,
    PortReport,
    RangeRecord,
)
from portcheck.platforms.base import ProbeKind

if TYPE_CHECKING:
    from portcheck.fleet.fleet import HostResult

LABEL_WIDTH = 14
MAX_USERS_SHOWN = 4
ANY_PORT = 'port 0 means "any port": a program that binds it gets a free port the OS chooses'
RESERVED = "Reserved"
"""IANA's description of a number it keeps back (0, 1024, 49151): registered to no service."""


# --- the text report ----------------------------------------------------------------------------------


def report_lines(info: PortInfo, width: int) -> list[str]:
    lines = [f"Port {info.port}", ""]
    section = _Section(lines, width)
    _meaning(info, section)
    _machine(info, section, "This machine")
    return lines


def _meaning(info: PortInfo, section: _Section) -> None:
    """What the number means: the same for every machine."""
    port = info.port
    iana = info.iana
    section.add(
        "IANA range",
        f"{iana.name} ports ({', '.join(iana.also_called)}), {iana.first}-{iana.last}",
        ANY_PORT if port == 0 else iana.meaning,
    )
    section.add("Registered", *(_service_lines(info)) or [f"nothing registered with IANA on {port}"])
    known = [f"{'/'.join(u.protocols)}: {u.text}" for u in info.known]
    section.add("Known uses", *known or ["none that portcheck knows of"])


def _machine(info: PortInfo, section: _Section, label: str) -> None:
    """What one machine does with the port."""
    section.add(label, *_machine_lines(info))
    if info.in_use is not None or info.in_use_error is not None:
        section.add("In use", _in_use_line(info))


def hosts_report_lines(meaning: PortInfo, hosts: Sequence[HostResult[PortInfo]], width: int) -> list[str]:
    lines = [f"Port {meaning.port}", ""]
    section = _Section(lines, width)
    _meaning(meaning, section)
    for host in hosts:
        lines.append("")
        label = escape_controls(host.target.label)
        if host.value is None:
            section.add("Host", label)
            section.add("Failed", escape_controls(str(host.failure)))
            continue
        section.add("Host", f"{label} ({host.os})")
        _machine(host.value, section, "Machine")
    return lines


def hosts_json(meaning: PortInfo, hosts: Sequence[HostResult[PortInfo]]) -> dict[str, object]:
    """`info --host --json`: the meaning's keys once, then `hosts`, one object per host in the order
    named: `host`, `error` (null, or `reason` and `detail`), and the machine keys of `info --json`
    (null for a host that failed)."""
    entries: list[dict[str, object]] = []
    for host in hosts:
        entry: dict[str, object] = {"host": host.target.label, "error": None}
        if host.value is not None:
            entry.update(machine_json(host.value))
        else:
            assert host.failure is not None
            entry["error"] = {"reason": host.failure.reason.value, "detail": host.failure.detail}
            entry.update(dict.fromkeys(MACHINE_KEYS))
        entries.append(entry)
    return {**meaning_json(meaning), "hosts": entries}


class _Section:
    """`Label         value`, with continuation lines indented under the value and wrapped."""

    def __init__(self, lines: list[str], width: int) -> None:
        self.lines = lines
        self.width = max(width, 60)

    def add(self, label: str, *values: str) -> None:
        indent = " " * LABEL_WIDTH
        for i, value in enumerate(values):
            first = label.ljust(LABEL_WIDTH) if i == 0 else indent
            self.lines.extend(
                textwrap.wrap(
                    value,
                    self.width,
                    initial_indent=first,
                    subsequent_indent=indent + "  ",
                    break_on_hyphens=False,
                )
                or [first.rstrip()]
            )


def _service_lines(info: PortInfo) -> list[str]:
    """Services with the same protocols, ports and description on one line (http, www, www-http)."""
    grouped: dict[tuple[tuple[str, ...], int, int, str], list[str]] = {}
    for service in info.services:
        key = (service.protocols, service.first_port, service.last_port, service.description)
        grouped.setdefault(key, []).append(service.name)
    lines = []
    for (protocols, first, last, description), names in grouped.items():
        where = ", ".join(protocols) + ("" if first == last else f"; ports {first}-{last}")
        named = ", ".join(n for n in names if n)
        if not named and description == RESERVED:
            lines.append(f"reserved by IANA ({where}): kept back and assigned to no service")
            continue
        head = f"{named} ({where})" if named else where
        lines.append(f"{head}: {description}" if description else head)
    return lines


def _machine_lines(info: PortInfo) -> list[str]:
    system, port = info.system, info.port
    lines: list[str] = []
    ephemeral = system.of(ProbeKind.EPHEMERAL)
    if ephemeral:
        shown = "; ".join(_ranges_text(ephemeral))
        lines.append(f"{system.os}: ephemeral ports {shown}")
    reserved = system.containing(ProbeKind.RESERVED, port)
    inside = [r for r in ephemeral if port in r.range]
    if port == 0 and ephemeral:
        lines.append(f"a bind to port 0 gets a free port from the ephemeral range ({ephemeral[0].range})")
    elif reserved:
        lines.append(
            f"{port} is reserved ({reserved[0].source}: {reserved[0].range}): the kernel never hands it "
            "out as an ephemeral port, so a server can count on it"
        )
    elif inside:
        protos = _protos_text(p for r in inside for p in r.protos)
        lines.append(
            f"{port} is INSIDE the ephemeral range ({protos}): an outbound connection may take it at any "
            "moment, so a server should not use it"
        )
    elif ephemeral:
        lines.append(f"{port} is outside the ephemeral range: outbound connections do not take it")
    lines.extend(_excluded_lines(info))
    lines.extend(f"could not read {escape_controls(error)}" for error in system.errors)
    return lines or ["nothing known about this machine's port ranges"]


def _excluded_lines(info: PortInfo) -> list[str]:
    system, port = info.system, info.port
    if not any(kind is ProbeKind.EXCLUDED for kind, _ in system.answered):
        return []
    lines = []
    for probed in system.containing(ProbeKind.EXCLUDED, port):
        star = ", administered *" if probed.range.administered else ""
        lines.append(
            f"{port}/{_protos_text(probed.protos)} is in an excluded port range, {probed.range}{star}: "
            "binding it fails (access denied, WSAEACCES) although nothing listens; Hyper-V, WSL 2 and "
            f"Docker reserve such ranges ({probed.source})"
        )
    if not lines:
        count = len(system.of(ProbeKind.EXCLUDED))
        lines.append(f"{port} is in none of the {count} excluded port ranges")
    return lines


def _ranges_text(probed: Sequence[ProbedRange]) -> list[str]:
    """`32768-60999 for tcp and udp (source)`, one entry per distinct range."""
    by_range: dict[tuple[int, int], list[ProbedRange]] = {}
    for item in probed:
        by_range.setdefault((item.range.first, item.range.last), []).append(item)
    texts = []
    for items in by_range.values():
        protos = _protos_text(p for item in items for p in item.protos)
        sources = "; ".join(dict.fromkeys(item.source for item in items))
        texts.append(f"{items[0].range} for {protos} ({sources})")
    return texts


def _protos_text(protos: Iterable[Proto]) -> str:
    present = set(protos)
    unique = [p.value for p in Proto if p in present]
    return " and ".join(unique)


def _in_use_line(info: PortInfo) -> str:
    from portcheck.output.render import endpoint, sort_rows

    if info.in_use is None:
        return f"could not tell: {escape_controls(info.in_use_error or '')}"
    rows = sort_rows(info.in_use.rows)
    if not rows:
        return f"no ({info.in_use.tool}): nothing uses {info.port} now"
    if not port_in_use(rows):
        return (
            f"no ({info.in_use.tool}): only TIME_WAIT rows (closed connections: no process holds {info.port})"
        )
    shown = [_row_text(r, endpoint(r.local_address, r.local_port, r.family, r.dual_stack)) for r in rows]
    unique = list(dict.fromkeys(shown))
    more = len(unique) - MAX_USERS_SHOWN
    text = "; ".join(unique[:MAX_USERS_SHOWN])
    if more > 0:
        text += f"; and {more} more (portcheck {info.port} shows all)"
    return f"yes ({info.in_use.tool}): {text}"


def _row_text(row: Socket, local: str) -> str:
    """`tcp 0.0.0.0:80 LISTEN by nginx (PID 1)`. A UDP socket without a peer has no state worth naming
    (its state word is NONE): it is `bound by` its process. A forwarder (docker-proxy, kubectl) says
    where the real server runs."""
    from portcheck.live.hints import FORWARDERS

    unbound_state = row.state is State.NONE
    state = "" if unbound_state else f" {row.state}"
    if row.pid is not None:
        verb = "bound by" if unbound_state else "by"
        owner = f"{verb} {escape_controls(row.process or '?')} (PID {row.pid})"
        forwards_to = FORWARDERS.get((row.process or "").lower())
        if forwards_to:
            owner += f", which forwards it to {forwards_to}"
    elif row.state is State.TIME_WAIT:
        owner = "(a closed connection: no process)"
    else:
        owner = "bound (no process shown)" if unbound_state else "(no process shown)"
    return f"{row.proto} {local}{state} {owner}"


# --- the JSON contract --------------------------------------------------------------------------------


def _range_json(probed: ProbedRange) -> RangeRecord:
    record: RangeRecord = {
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


def to_json(info: PortInfo) -> PortReport:
    """The `portcheck info --json` object (README "portcheck info" documents every key)."""
    return PortReport(**meaning_json(info), **machine_json(info))


def meaning_json(info: PortInfo) -> MeaningRecord:
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


def machine_json(info: PortInfo) -> MachineRecord:
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
        else {"tool": info.in_use.tool, "rows": [as_record(r) for r in info.in_use.rows]},
        "in_use_error": info.in_use_error,
    }
