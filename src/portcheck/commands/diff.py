"""`portcheck diff OLD [NEW]`: listeners that appeared (+) or disappeared (-) since a baseline, for a
person (a table) or a script (--json; exit 0 unchanged, 1 changed). The rules: portcheck.api.diff."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands import base as opt, hosts as fleet_opt
from portcheck.core.errors import UsageError
from portcheck.core.model import ExitCode
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.report import Reporter

if TYPE_CHECKING:
    from portcheck.api.diff import HostChanges
    from portcheck.api.snapshots import Snapshot
    from portcheck.output.render import Table

EPILOG = """\
\b
Examples:
  portcheck --listening --json > baseline.json     save today's listeners
  portcheck diff baseline.json                     what changed on this machine since
  portcheck diff old.json new.json --json          two saved looks, for a script
  portcheck diff netstat-monday.txt netstat-today.txt   two pasted netstat -ano outputs
  portcheck diff fleet.json --hosts servers.txt    each host against its own rows in fleet.json
  portcheck diff web1.json --host web2 --host web3 web2 and web3 against web1's baseline

\b
Inputs: saved portcheck output (--json, --format ndjson or csv; with or without --host) or any
native tool's output that `portcheck parse` reads. Only listeners are compared, matched by
protocol, address, port and process name (not PID: a restart is no change). Exit status: 0
unchanged, 1 changed, 2 bad input, 3 a machine could not be inspected.
"""


@opt.app.command("diff", epilog=EPILOG)
def diff_command(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="OLD [NEW]",
            help="A saved or pasted output (- reads stdin); with one, it is compared with the live machine.",
        ),
    ],
    json_flag: Annotated[
        bool, typer.Option("--json", help='{"added": [...], "removed": [...]}, records as in --json.')
    ] = False,
    timeout: opt.ToolTimeoutOpt = DEFAULT_TIMEOUT,
    quiet: opt.QuietOpt = False,
    no_hints: opt.NoHintsOpt = False,
    verbose: opt.VerboseOpt = False,
    host: fleet_opt.HostOpt = None,
    hosts_file: fleet_opt.HostsFileOpt = None,
    parallel: fleet_opt.ParallelOpt = fleet_opt.DEFAULT_PARALLEL,
    ssh_config: fleet_opt.SshConfigOpt = None,
) -> None:
    """Listeners that appeared (+) or disappeared (-): a baseline against this machine now, or two
    saved or pasted outputs against each other."""
    from portcheck.api.diff import compare_snapshots
    from portcheck.api.snapshots import read_file

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    opt.check_positive(timeout, "--timeout")
    if len(inputs) > 2:
        raise UsageError("diff compares two things: OLD and NEW (or OLD and this machine now)")
    if inputs.count("-") > 1:
        raise UsageError("only one input can be read from stdin")
    fleet = fleet_opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted and len(inputs) == 2:
        raise UsageError("--host compares a baseline with the hosts now: give one input, not two")
    old = read_file(inputs[0])
    reporter.info(f"{old.label}: read as {old.kind}")
    failed = False
    if len(inputs) == 2:
        new = read_file(inputs[1])
        reporter.info(f"{new.label}: read as {new.kind}")
    elif fleet.wanted:
        new, failed = _live_hosts(fleet, timeout, reporter)
    else:
        from portcheck.api.diff import live_snapshot

        new = live_snapshot(timeout)
    changes = compare_snapshots(old, new)
    if not quiet:  # -q: the exit status alone (like grep -q)
        _show(changes, json_flag, reporter)
    if any(c.changes.changed for c in changes):
        raise typer.Exit(ExitCode.NO_MATCH)
    raise typer.Exit(ExitCode.CANNOT_INSPECT if failed else ExitCode.MATCH)


def _live_hosts(options: fleet_opt.HostOptions, timeout: float, reporter: Reporter) -> tuple[Snapshot, bool]:
    """Every host's listeners now; a host that cannot be asked is said on stderr and left out."""
    from functools import partial

    from portcheck.api.snapshots import Snapshot
    from portcheck.api.sockets import selection
    from portcheck.fleet.fleet import Request, ask_host, summary_line

    request = Request(None, timeout, selection(listening=True))
    hosts = fleet_opt.fleet_for(options, timeout).run(partial(ask_host, request))
    snapshot = Snapshot("now", kind="live")
    for host in hosts:
        if host.value is None:
            reporter.warn(f"{host.target.label}: {host.failure}")
            continue
        snapshot.by_host[host.target.label] = host.value.rows
    failed = any(h.failure is not None for h in hosts)
    (reporter.error if failed else reporter.info)(summary_line(hosts))
    if not snapshot.by_host:
        snapshot.by_host[""] = []  # keep it a fleet: nothing answered
    return snapshot, failed


def _json_records(table: Table) -> str:
    """The records as `--json` writes them (one per line), indented under their key."""
    import io

    from portcheck.output.render import render_json

    out = io.StringIO()
    render_json(table, out)
    return out.getvalue().rstrip("\n").replace("\n", "\n  ")


def _show(changes: list[HostChanges], as_json: bool, reporter: Reporter) -> None:
    from portcheck.output.render import Table, render_table, sort_rows

    fleet = any(c.host is not None for c in changes)
    if as_json:
        sides = []
        for side in ("added", "removed"):
            rows, hosts = [], []
            for change in changes:
                ordered = sort_rows(getattr(change.changes, side))
                rows.extend(ordered)
                hosts.extend([change.host or ""] * len(ordered))
            sides.append(f'  "{side}": ' + _json_records(Table(rows, hosts=hosts if fleet else None)))
        sys.stdout.write("{\n" + ",\n".join(sides) + "\n}\n")
        return
    rows, marks, hosts = [], [], []
    for change in changes:
        marked = [("+", r) for r in change.changes.added] + [("-", r) for r in change.changes.removed]
        order = {id(r): m for m, r in marked}
        for row in sort_rows(r for _, r in marked):
            rows.append(row)
            marks.append(order[id(row)])
            hosts.append(change.host or "")
    if rows:
        terminal = opt.terminal_settings()
        table = Table(rows, hosts=hosts if fleet else None, marks=marks)
        render_table(table, sys.stdout, width=terminal.width, colour=terminal.colour)
    else:
        reporter.warn("no listener appeared or disappeared")
