"""`portcheck.check` / `portcheck check`: an assertion about a port, in the monitoring-plugin contract
(portcheck.output.plugin): OK, WARNING, CRITICAL or UNKNOWN, one line of text and performance data.

The rows come from the same live query as `portcheck PORT` (every socket on the port, any state);
what "free" means is the one rule of every command (portcheck.live.verdict.holds_port: a TIME_WAIT
row holds nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from portcheck.core.errors import PortcheckError, UsageError
from portcheck.core.escape import escape_controls
from portcheck.core.exposure import Exposure, exposure_of
from portcheck.core.model import Socket, State, is_listening
from portcheck.core.strenum import StrEnum
from portcheck.core.thresholds import Threshold, parse_threshold
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.live.verdict import holds_port
from portcheck.output.plugin import Perf, PluginState, plugin_output, worst

MAX_NAMED = 3
"""Owners and addresses named in the text at most; the rest are counted."""


class Expect(StrEnum):
    LISTENING = "listening"
    FREE = "free"


@dataclass(frozen=True)
class Expectation:
    """What `check` asserts, validated."""

    port: int
    expect: Expect
    process: str | None = None
    user: str | None = None
    exposure: Exposure | None = None
    """LOOPBACK: every listener must be loopback-only; ALL: one must be reachable from other machines."""
    warning: Threshold | None = None
    critical: Threshold | None = None

    @classmethod
    def build(
        cls,
        port: int | str,
        expect: str,
        *,
        process: str | None = None,
        user: str | None = None,
        exposed: bool = False,
        loopback: bool = False,
        warning: str | None = None,
        critical: str | None = None,
    ) -> Expectation:
        from portcheck.api.ports import one_port

        number = one_port(port)
        try:
            wanted = Expect(expect.lower())
        except ValueError:
            raise UsageError(f"--expect {expect!r}: expected listening or free") from None
        if exposed and loopback:
            raise UsageError("--exposed and --loopback contradict each other: choose one")
        if wanted is Expect.FREE and (exposed or loopback or warning or critical):
            raise UsageError("--exposed, --loopback, --warning and --critical go with --expect listening")
        exposure = Exposure.LOOPBACK if loopback else Exposure.ALL if exposed else None
        return cls(
            number,
            wanted,
            process,
            user,
            exposure,
            parse_threshold(warning) if warning else None,
            parse_threshold(critical) if critical else None,
        )

    def owns(self, row: Socket) -> bool:
        """--process (a part of the name, any case, as the query's --process) and --user (exact)."""
        if self.process is not None and (
            row.process is None or self.process.casefold() not in row.process.casefold()
        ):
            return False
        return self.user is None or row.user == self.user


@dataclass
class CheckResult:
    state: PluginState
    summary: str
    perf: list[Perf] = field(default_factory=list)
    rows: list[Socket] = field(default_factory=list)
    """Every socket on the port that was looked at."""

    @property
    def ok(self) -> bool:
        return self.state is PluginState.OK

    def output(self) -> str:
        """The plugin output: `STATE: summary | perfdata` and a newline."""
        return plugin_output(self.state, self.summary, self.perf)


def evaluate(rows: Sequence[Socket], wanted: Expectation) -> CheckResult:
    """The verdict on the sockets of the port (pure: the rows are given)."""
    on_port = [r for r in rows if r.local_port == wanted.port]
    listeners = [r for r in on_port if is_listening(r) and wanted.owns(r)]
    connections = sum(1 for r in on_port if r.state is State.ESTABLISHED)
    limits = wanted.warning.text if wanted.warning else "", wanted.critical.text if wanted.critical else ""
    perf = [
        Perf("listeners", len(listeners), min=0),
        Perf("connections", connections, warn=limits[0], crit=limits[1], min=0),
    ]
    if wanted.expect is Expect.FREE:
        return CheckResult(*_free_verdict(on_port, wanted), perf, list(on_port))
    return CheckResult(*_listening_verdict(on_port, listeners, connections, wanted), perf, list(on_port))


def _free_verdict(on_port: list[Socket], wanted: Expectation) -> tuple[PluginState, str]:
    holders = [r for r in on_port if holds_port(r) and wanted.owns(r)]
    if holders:
        return PluginState.CRITICAL, f"port {wanted.port} is in use: {_describe(holders)}"
    waiting = sum(1 for r in on_port if r.state is State.TIME_WAIT)
    closing = (
        f" ({waiting} TIME_WAIT connection{'s' if waiting != 1 else ''}, which hold nothing)"
        if waiting
        else ""
    )
    whose = f" of {_owner_words(wanted)}" if wanted.process or wanted.user else ""
    return PluginState.OK, f"port {wanted.port} is free{whose}{closing}"


def _listening_verdict(
    on_port: list[Socket], listeners: list[Socket], connections: int, wanted: Expectation
) -> tuple[PluginState, str]:
    if not listeners:
        others = [r for r in on_port if is_listening(r)]
        who = f"no {_owner_words(wanted)}" if wanted.process or wanted.user else "nothing"
        text = f"{who} listens on port {wanted.port}"
        if others:
            text += f" (it is held by {_owners(others)})"
        return PluginState.CRITICAL, text
    listening = _describe(listeners)
    if wanted.exposure is Exposure.LOOPBACK:
        open_to_all = [r for r in listeners if exposure_of(r.local_address) is not Exposure.LOOPBACK]
        if open_to_all:
            return (
                PluginState.CRITICAL,
                f"reachable from other machines, expected loopback only: {_describe(open_to_all)}",
            )
    if wanted.exposure is Exposure.ALL and all(
        exposure_of(r.local_address) is Exposure.LOOPBACK for r in listeners
    ):
        return PluginState.CRITICAL, f"only this machine can connect (loopback): {listening}"
    for state, limit in ((PluginState.CRITICAL, wanted.critical), (PluginState.WARNING, wanted.warning)):
        if limit is not None and limit.alerts(connections):
            return state, f"{connections} connections (outside {limit.text}): {listening}"
    return PluginState.OK, listening


def _owner_words(wanted: Expectation) -> str:
    """`process named like 'nginx'`, `process of user 'www'`, or both."""
    named = f" named like {wanted.process!r}" if wanted.process else ""
    of_user = f" of user {wanted.user!r}" if wanted.user else ""
    return f"process{named}{of_user}"


def _owners(rows: Sequence[Socket]) -> str:
    """`nginx (PID 812, 813), sshd (PID 1)` or `a process portcheck cannot see (no PID shown)`."""
    pids: dict[str, list[str]] = {}
    for row in rows:
        name = escape_controls(row.process) if row.process else "?"
        if row.pid is None:
            pids.setdefault("a process not shown (no PID: run as root to see it)", [])
        else:
            pids.setdefault(name, []).append(str(row.pid))
    shown = [
        f"{name} (PID {', '.join(dict.fromkeys(numbers))})" if numbers else name
        for name, numbers in pids.items()
    ]
    return _limited(shown)


def _limited(items: Sequence[str]) -> str:
    unique = list(dict.fromkeys(items))
    more = len(unique) - MAX_NAMED
    return ", ".join(unique[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


def _describe(rows: Sequence[Socket]) -> str:
    """`nginx (PID 812) listens on tcp 0.0.0.0:443`, or `... holds tcp 127.0.0.1:8080 (ESTABLISHED)`."""
    from portcheck.output.render import endpoint, sort_rows

    ordered = sort_rows(rows)
    owners = _owners(ordered)
    if all(is_listening(r) for r in ordered):
        places = _limited([f"{r.proto} {endpoint(r.local_address, r.local_port, r.family)}" for r in ordered])
        verb = "listens" if len({r.pid for r in ordered}) == 1 else "listen"
        return f"{owners} {verb} on {escape_controls(places)}"
    places = _limited(
        [f"{r.proto} {endpoint(r.local_address, r.local_port, r.family)} ({r.state})" for r in ordered]
    )
    return f"{owners}: {escape_controls(places)}"


def check(
    port: int | str,
    *,
    expect: str = "listening",
    process: str | None = None,
    user: str | None = None,
    exposed: bool = False,
    loopback: bool = False,
    tcp: bool = False,
    udp: bool = False,
    warning: str | None = None,
    critical: str | None = None,
    host: str | None = None,
    ssh_config: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CheckResult:
    """Assert that `port` is listening (optionally by a process named like `process`, of `user`,
    reachable from other machines with `exposed`, or only from this one with `loopback`, with its
    established connections inside the `warning`/`critical` ranges of the plugin syntax) or free.
    The result's `state` is the plugin state; `output()` is the plugin line. Raises UsageError for a
    bad argument, InspectError when the machine cannot be inspected (the CLI says UNKNOWN)."""
    wanted = Expectation.build(
        port,
        expect,
        process=process,
        user=user,
        exposed=exposed,
        loopback=loopback,
        warning=warning,
        critical=critical,
    )
    return run_check(wanted, tcp=tcp, udp=udp, host=host, ssh_config=ssh_config, timeout=timeout)


def run_check(
    wanted: Expectation,
    *,
    tcp: bool = False,
    udp: bool = False,
    host: str | None = None,
    ssh_config: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> CheckResult:
    """The live query for the port (every socket on it, any state), judged."""
    from portcheck.api.sockets import ask, port_spec, selection

    spec = port_spec(wanted.port)
    scope = selection(ports=spec, tcp=tcp, udp=udp)
    return evaluate(ask(spec, scope, host=host, ssh_config=ssh_config, timeout=timeout).rows, wanted)


# --- many hosts -----------------------------------------------------------------------------------------


@dataclass
class HostCheck:
    host: str
    result: CheckResult


def check_hosts(
    hosts: Sequence[str],
    wanted: Expectation,
    *,
    tcp: bool = False,
    udp: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    hosts_file: str | None = None,
    parallel: int | None = None,
    ssh_config: str | None = None,
) -> list[HostCheck]:
    """The check on every host, in the order named; a host that cannot be asked is UNKNOWN."""
    from functools import partial

    from portcheck.api.sockets import port_spec, selection
    from portcheck.fleet.fleet import DEFAULT_PARALLEL, Fleet, Request, ask_host, targets_from

    spec = port_spec(wanted.port)
    request = Request(spec, timeout, selection(ports=spec, tcp=tcp, udp=udp))
    fleet = Fleet(
        targets_from(hosts, hosts_file),
        timeout=timeout,
        parallel=parallel or DEFAULT_PARALLEL,
        ssh_config=ssh_config,
    )
    checks = []
    for host in fleet.run(partial(ask_host, request)):
        if host.value is None:
            result = CheckResult(PluginState.UNKNOWN, str(host.failure))
        else:
            result = evaluate(host.value.rows, wanted)
        checks.append(HostCheck(host.target.label, result))
    return checks


def fleet_output(checks: Sequence[HostCheck], port: int) -> tuple[PluginState, str]:
    """One host: its line with the host named. Several: the worst state and a count of each state
    first, every host's performance data (labels prefixed with the host), then one line per host
    (the guidelines' long text)."""
    state = worst(c.result.state for c in checks)
    if len(checks) == 1:
        (only,) = checks
        return state, plugin_output(state, f"{only.host}: {only.result.summary}", only.result.perf)
    counts = []
    for each in (PluginState.CRITICAL, PluginState.WARNING, PluginState.UNKNOWN, PluginState.OK):
        names = [c.host for c in checks if c.result.state is each]
        if names:
            where = "" if each is PluginState.OK else f" ({_limited(names)})"
            counts.append(f"{len(names)} {each.name}{where}")
    perf = [p._replace(label=f"{c.host} {p.label}") for c in checks for p in c.result.perf]
    lines = [f"{c.host}: {c.result.state.name}: {c.result.summary}" for c in checks]
    from portcheck.output.plugin import plugin_text

    summary = f"port {port} on {len(checks)} hosts: " + ", ".join(counts)
    return state, plugin_output(state, summary, perf, [plugin_text(line) for line in lines])


def unknown_output(error: PortcheckError | str) -> str:
    """What the CLI prints when it cannot check at all (bad usage, no inspection): UNKNOWN."""
    return plugin_output(PluginState.UNKNOWN, str(error))
