"""`portcheck info PORT`: what the number means, and what this machine (or, with --host, each of
those machines, over ssh) does with it."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands import base as opt
from portcheck.commands import hosts as fleet_opt
from portcheck.core.errors import InspectError, UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.model import ExitCode, Proto, Socket, State
from portcheck.live.runner import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from portcheck.fleet.fleet import HostResult
    from portcheck.fleet.remote import SSHExecutor
    from portcheck.info.portinfo import PortInfo, ProbedRange

EPILOG = """\
\b
Examples:
  portcheck info 60653            IANA range, registered names, this machine's ephemeral range
  portcheck info 5000             macOS AirPlay Receiver, Flask; is it in use right now?
  portcheck info 3389 --json      the same as one JSON object, for a script
  portcheck info 8080 --no-check  only what the number means; no native tool is run
  portcheck info 8080 --host web1 --host web2   each host's ranges and use of 8080, over ssh

\b
The machine's ranges: Linux /proc/sys/net/ipv4/ip_local_port_range and ip_local_reserved_ports;
macOS and FreeBSD sysctl net.inet.ip.portrange.first/last; Windows netsh int ipv4 show dynamicport
and show excludedportrange (the Hyper-V/WSL reservations that make a bind fail).
"""

LABEL_WIDTH = 14
TEXT_WIDTH = 100
"""Lines are wrapped here in pipes; on a terminal, at its width."""
MAX_USERS_SHOWN = 4


@opt.app.command("info", epilog=EPILOG)
def info_command(
    port: Annotated[str, typer.Argument(metavar="PORT", help="One port number, 0-65535.")],
    json_flag: Annotated[
        bool, typer.Option("--json", help="The report as one JSON object (its keys: see the README).")
    ] = False,
    no_check: Annotated[
        bool, typer.Option("--no-check", help="Do not ask the native tools whether the port is in use now.")
    ] = False,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
) -> None:
    """What a port number means: IANA range, registered services, well-known unofficial uses, whether it
    lies in this machine's ephemeral range (or a Windows excluded range), and whether it is in use.
    With --host: the meaning once, then each host's ranges and use of the port.

    Exit status: 0 with the report (with --host: from every host), 2 for a bad port, 3 when a host
    could not be asked (the others are still reported).
    """
    from portcheck.core.portspec import parse_port_spec
    from portcheck.info.portinfo import describe, to_json
    from portcheck.live.executor import LocalExecutor
    from portcheck.platforms import current_os

    spec = parse_port_spec(port)
    if len(spec.ports) != 1:
        raise UsageError(f"info takes one port number, not {port!r}")
    opt.check_positive(timeout, "--timeout")
    (number,) = spec.ports
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        raise typer.Exit(
            info_hosts(number, fleet, timeout=timeout, check_use=not no_check, as_json=json_flag)
        )
    try:
        os_name, os_error = current_os(), None
    except InspectError as error:
        os_name, os_error = None, str(error)
    info = describe(
        number,
        os_name=os_name,
        executor=LocalExecutor() if os_name is not None else None,
        timeout=timeout,
        check_use=not no_check,
        os_error=os_error,
    )
    if json_flag:
        import json

        sys.stdout.write(json.dumps(to_json(info), indent=2, ensure_ascii=False) + "\n")
    else:
        width = opt.terminal_settings().width or TEXT_WIDTH
        sys.stdout.write("\n".join(report_lines(info, width)) + "\n")
    raise typer.Exit(ExitCode.MATCH)


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
        iana.meaning,
    )
    section.add("Registered", *(_service_lines(info)) or [f"nothing registered with IANA on {port}"])
    known = [f"{'/'.join(u.protocols)}: {u.text}" for u in info.known]
    section.add("Known uses", *known or ["none that portcheck knows of"])


def _machine(info: PortInfo, section: _Section, label: str) -> None:
    """What one machine does with the port."""
    section.add(label, *_machine_lines(info))
    if info.in_use is not None or info.in_use_error is not None:
        section.add("In use", _in_use_line(info))


# --- many hosts (--host) ------------------------------------------------------------------------------


def info_hosts(
    port: int, options: fleet_opt.HostOptions, *, timeout: float, check_use: bool, as_json: bool
) -> ExitCode:
    """The meaning once, then every host's part (or why it could not be asked); a summary on stderr.
    Exit 0 when every host reported, 3 when one could not be asked."""
    from functools import partial

    from portcheck.fleet.fleet import summary_line
    from portcheck.info.portinfo import describe
    from portcheck.output.report import Reporter

    meaning = describe(port, os_name=None, executor=None, timeout=timeout, check_use=False)
    hosts = fleet_opt.fleet_for(options, timeout).run(partial(_on_host, port, timeout, check_use))
    if as_json:
        import json

        sys.stdout.write(json.dumps(hosts_json(meaning, hosts), indent=2, ensure_ascii=False) + "\n")
    else:
        width = opt.terminal_settings().width or TEXT_WIDTH
        sys.stdout.write("\n".join(hosts_report_lines(meaning, hosts, width)) + "\n")
    failed = any(h.failure is not None for h in hosts)
    reporter = Reporter()
    (reporter.error if failed else reporter.warn)(summary_line(hosts))
    return ExitCode.CANNOT_INSPECT if failed else ExitCode.MATCH


def _on_host(port: int, timeout: float, check_use: bool, executor: SSHExecutor) -> PortInfo:
    """The host's job: its ranges through its own probes, and the query for the port."""
    from portcheck.fleet.fleet import for_person
    from portcheck.info.portinfo import describe

    info = describe(port, os_name=executor.system.os, executor=executor, timeout=timeout, check_use=check_use)
    if info.in_use is not None:
        info.in_use = for_person(info.in_use, executor, timeout)
    return info


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
    from portcheck.info.portinfo import MACHINE_KEYS, machine_json, meaning_json

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
        head = f"{named} ({where})" if named else where
        lines.append(f"{head}: {description}" if description else head)
    return lines


def _machine_lines(info: PortInfo) -> list[str]:
    from portcheck.platforms import ProbeKind

    system, port = info.system, info.port
    lines: list[str] = []
    ephemeral = system.of(ProbeKind.EPHEMERAL)
    if ephemeral:
        shown = "; ".join(_ranges_text(ephemeral))
        lines.append(f"{system.os}: ephemeral ports {shown}")
    reserved = system.containing(ProbeKind.RESERVED, port)
    inside = [r for r in ephemeral if port in r.range]
    if reserved:
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
    from portcheck.platforms import ProbeKind

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
    shown = [_row_text(r, endpoint(r.local_address, r.local_port, r.family)) for r in rows]
    unique = list(dict.fromkeys(shown))
    more = len(unique) - MAX_USERS_SHOWN
    text = "; ".join(unique[:MAX_USERS_SHOWN])
    if more > 0:
        text += f"; and {more} more (portcheck {info.port} shows all)"
    return f"yes ({info.in_use.tool}): {text}"


def _row_text(row: Socket, local: str) -> str:
    if row.pid is not None:
        owner = f"by {escape_controls(row.process or '?')} (PID {row.pid})"
    elif row.state is State.TIME_WAIT:
        owner = "(a closed connection: no process)"
    else:
        owner = "(no process shown)"
    return f"{row.proto} {local} {row.state} {owner}"
