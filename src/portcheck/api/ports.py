"""`portcheck.meaning` and `portcheck.free_ports`: what a port number means on a machine, and ports a new
server can take."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portcheck.core.errors import InspectError, UsageError
from portcheck.core.model import Proto
from portcheck.live.runner import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from portcheck.meaning.freeports import FreePorts
    from portcheck.meaning.portinfo import PortInfo
    from portcheck.meaning.records import PortReport


def one_port(port: int | str) -> int:
    """One port number, validated as the CLI does."""
    from portcheck.api.sockets import port_spec

    spec = port_spec(port)
    if spec is None or len(spec.ports) != 1:
        raise UsageError(f"info takes one port number, not {port!r}")
    (number,) = spec.ports
    return number


def describe_port(port: int, *, check_use: bool = True, timeout: float = DEFAULT_TIMEOUT) -> PortInfo:
    """Everything `portcheck info PORT` reports about this machine (the text report and --json are
    both drawn from it)."""
    from portcheck.live.executor import LocalExecutor
    from portcheck.meaning.portinfo import describe
    from portcheck.platforms import current_os

    try:
        os_name, os_error = current_os(), None
    except InspectError as error:
        os_name, os_error = None, str(error)
    return describe(
        port,
        os_name=os_name,
        executor=LocalExecutor() if os_name is not None else None,
        timeout=timeout,
        check_use=check_use,
        os_error=os_error,
    )


def info(
    port: int | str,
    *,
    check_use: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    host: str | None = None,
    ssh_config: str | None = None,
) -> PortReport:
    """What `portcheck info PORT --json` prints, as a dict typed by `PortReport`: the IANA range,
    registered services, known uses, the machine's port ranges and whether the port is in use now
    (`check_use=False` runs no tool for that). `host` asks that machine over ssh (no prompts).
    A probe that fails is reported inside (`system.errors`, `in_use_error`), not raised."""
    from portcheck.meaning.report import to_json

    number = one_port(port)
    if host is None:
        return to_json(describe_port(number, check_use=check_use, timeout=timeout))
    from functools import partial

    from portcheck.api.sockets import on_one_host
    from portcheck.meaning.portinfo import on_host

    return to_json(on_one_host(host, timeout, partial(on_host, number, timeout, check_use), ssh_config))


def free_ports(
    count: int = 1,
    *,
    first: int = 1024,
    last: int = 65535,
    udp: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
) -> FreePorts:
    """Up to `count` ports between `first` and `last` that a server can take on this machine now and
    keep: outside the ephemeral range, Linux's reserved ports and Windows' excluded ranges, not
    registered with IANA when possible, and bound once (then closed) to prove it. `.ports` holds
    them (fewer than `count` when the range has no more), `.avoided` the ranges left out."""
    from portcheck.live.executor import LocalExecutor
    from portcheck.meaning.freeports import find_free
    from portcheck.meaning.portinfo import SystemPorts, read_system_ports
    from portcheck.parsers.portranges import PortRange
    from portcheck.platforms import current_os

    if not 1 <= first <= last <= 65535:
        raise UsageError(f"invalid range {first}-{last}: ports 1-65535, the first not above the last")
    try:
        os_name = current_os()
    except InspectError as error:
        system = SystemPorts(None, errors=[str(error)])
    else:
        system = read_system_ports(os_name, LocalExecutor(), timeout)
    proto = Proto.UDP if udp else Proto.TCP
    return find_free(system, count=count, wanted=PortRange(first, last), proto=proto)
