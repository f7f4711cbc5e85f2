"""`--host` / `--hosts` for the query, `info` and `kill` (not a command of its own): the options, the
fleet they build, and the output of a fleet query: one table with a host column, each host's warnings
prefixed with its name, and a summary line on stderr. The fleet itself (ssh, concurrency, prompts) is
portcheck.fleet.fleet; info's and kill's per-host reports live with those commands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from portcheck.commands.base import OutputOptions, write_rows
from portcheck.core.errors import UsageError
from portcheck.core.model import ExitCode, Socket
from portcheck.output.report import Reporter
from portcheck.platforms import LOCAL_WINDOWS

if TYPE_CHECKING:
    from portcheck.fleet.fleet import Fleet, Request
    from portcheck.live.query import Answer

DEFAULT_PARALLEL = 8  # portcheck.fleet.fleet.DEFAULT_PARALLEL, repeated so --help does not import the fleet
MAX_PARALLEL = 64
"""Each host asked at once costs a thread, an ssh client or two and their pipes (a few descriptors):
64 stays well inside the usual limit of 1024 open files."""

HostOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--host",
        help="Ask this machine over ssh instead: [user@]host[:port] or an ssh_config alias (repeatable).",
    ),
]
HostsFileOpt = Annotated[
    Optional[str],
    typer.Option("--hosts", help="A file of hosts for --host, one per line, # comments; - reads stdin."),
]
ParallelOpt = Annotated[int, typer.Option("--parallel", help="With --host: hosts asked at once.")]
SshConfigOpt = Annotated[
    Optional[str], typer.Option("--ssh-config", help="With --host: ssh -F FILE instead of ~/.ssh/config.")
]


@dataclass(frozen=True)
class HostOptions:
    hosts: tuple[str, ...] = ()
    hosts_file: str | None = None
    parallel: int = DEFAULT_PARALLEL
    ssh_config: str | None = None

    @classmethod
    def build(
        cls, hosts: Sequence[str] | None, hosts_file: str | None, parallel: int, ssh_config: str | None
    ) -> HostOptions:
        built = cls(tuple(hosts or ()), hosts_file, parallel, ssh_config)
        if not built.wanted and (ssh_config is not None or parallel != DEFAULT_PARALLEL):
            raise UsageError("--parallel and --ssh-config go with --host or --hosts")
        if not 1 <= parallel <= MAX_PARALLEL:
            raise UsageError(
                f"--parallel must be at least 1 and at most {MAX_PARALLEL} (hosts asked at once)"
            )
        return built

    @property
    def wanted(self) -> bool:
        return bool(self.hosts) or self.hosts_file is not None


def fields_without_host(fields: str | None) -> str | None:
    """`--fields host,pid` in a fleet query: host is always the first field, so it is dropped here."""
    if fields is None:
        return None
    return ",".join(f for f in fields.split(",") if f.strip().lower() != "host")


def fleet_for(options: HostOptions, timeout: float) -> Fleet:
    """The hosts of --host/--hosts, with ssh's prompts relayed when a person is at a terminal."""
    from portcheck.fleet.fleet import Fleet, targets_from
    from portcheck.fleet.sshauth import ask_on_terminal, tell_on_terminal
    from portcheck.live.sudo import has_terminal

    person = not LOCAL_WINDOWS and has_terminal()  # pexpect.spawn needs a pty: POSIX only
    return Fleet(
        targets_from(options.hosts, options.hosts_file),
        timeout=timeout,
        parallel=options.parallel,
        ssh_config=options.ssh_config,
        ask=ask_on_terminal if person else None,
        tell=tell_on_terminal,
    )


def report_host_answer(reporter: Reporter, label: str, os_name: str, answer: Answer) -> None:
    """What the query learnt on a host, its name first: tools that failed, which one answered
    (--verbose), lines it did not understand. Hints are the caller's: one line for many hosts."""
    for attempt in answer.tried:
        (reporter.info if attempt.routine else reporter.warn)(f"{label}: {attempt}")
    reporter.info(f"{label} ({os_name}): answered by {answer.tool}: {'; '.join(answer.commands)}")
    reporter.notes(answer.notes, f"{label}: {answer.tool}")


def report_hints(reporter: Reporter, hints: dict[str, list[str]]) -> None:
    """Each hint once, with the hosts it applies to."""
    from portcheck.fleet.fleet import name_list

    for hint, where in hints.items():
        reporter.warn(f"{hint} ({name_list(where)})")


def query_hosts(
    options: HostOptions,
    request: Request,
    output: OutputOptions,
    reporter: Reporter,
) -> ExitCode:
    """Ask every host, print the rows (host first), the hosts' messages and a summary line."""
    from functools import partial

    from portcheck.fleet.fleet import FleetResult, ask_host
    from portcheck.output.render import Table, sort_rows

    result = FleetResult(fleet_for(options, request.timeout).run(partial(ask_host, request)), request.scope)
    rows: list[Socket] = []
    labels: list[str] = []
    images: list[str | None] = []
    hints: dict[str, list[str]] = {}
    for host in result.hosts:
        label = host.target.label
        if host.failure is not None:
            reporter.warn(f"{label}: {host.failure}")
            continue
        answer = host.value
        assert answer is not None
        report_host_answer(reporter, label, str(host.os), answer)
        for hint in answer.hints:
            hints.setdefault(hint, []).append(label)
        ordered = sort_rows(answer.rows)
        rows.extend(ordered)
        labels.extend([label] * len(ordered))
        images.extend(map(answer.owners.image, ordered))
    report_hints(reporter, hints)
    write_rows(Table(rows, hosts=labels, images=images), output)
    (reporter.error if result.failed else reporter.warn)(result.summary())
    return result.exit_code
