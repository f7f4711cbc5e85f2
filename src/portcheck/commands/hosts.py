"""`--host` / `--hosts` for the query, `info` and `kill` (not a command of its own): the options, the
fleet they build, and the output of a fleet query: one table with a host column, each host's warnings
prefixed with its name, and a summary line on stderr. The fleet itself (ssh, concurrency, prompts) is
portcheck.fleet.fleet; info's and kill's per-host reports live with those commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Annotated, Optional, TypeVar

import typer

from portcheck.commands.shared import (
    DEFAULT_PARALLEL as DEFAULT_PARALLEL,
    MAX_PARALLEL as MAX_PARALLEL,
    HostOptions as HostOptions,
    OutputOptions,
    fields_without_host as fields_without_host,
    report_answer,
    write_rows,
)
from portcheck.core.model import ExitCode, Socket
from portcheck.output.report import Reporter
from portcheck.platforms import LOCAL_WINDOWS

if TYPE_CHECKING:
    from portcheck.fleet.fleet import Fleet, HostResult, Request
    from portcheck.live.query import Answer

T = TypeVar("T")

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


def answered_hosts(
    reporter: Reporter, hosts: Sequence[HostResult[T]], answer_of: Callable[[T], Answer]
) -> Iterator[tuple[HostResult[T], T]]:
    """Each host whose job succeeded, with its value, once what its query learnt is on stderr (its name
    first: report_answer); a host that failed gets its reason. Each hint is said once, with the hosts it
    applies to, after the last host has been handed over (what the caller says of each host comes
    first)."""
    from portcheck.fleet.fleet import name_list

    hints: dict[str, list[str]] = {}
    for host in hosts:
        label = host.target.label
        if host.value is None:
            reporter.warn(f"{label}: {host.failure}")
            continue
        answer = answer_of(host.value)
        report_answer(reporter, answer, (label, str(host.os)))
        for hint in answer.hints:
            hints.setdefault(hint, []).append(label)
        yield host, host.value
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
    for host, answer in answered_hosts(reporter, result.hosts, lambda answer: answer):
        ordered = sort_rows(answer.rows)
        rows.extend(ordered)
        labels.extend([host.target.label] * len(ordered))
        images.extend(map(answer.owners.image, ordered))
    write_rows(Table(rows, hosts=labels, images=images), output)
    (reporter.error if result.failed else reporter.warn)(result.summary())
    return result.exit_code
