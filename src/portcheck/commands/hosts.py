"""`--host` / `--hosts` for the query command (not a command of its own): the options, and the output
of a fleet query: one table with a host column, each host's warnings prefixed with its name, and a
summary line on stderr. The fleet itself (ssh, concurrency, prompts) is portcheck.fleet."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from portcheck.commands.base import OutputOptions, write_rows
from portcheck.errors import UsageError
from portcheck.model import ExitCode, Socket
from portcheck.report import Reporter

if TYPE_CHECKING:
    from portcheck.fleet import Request

DEFAULT_PARALLEL = 8  # portcheck.fleet.DEFAULT_PARALLEL, repeated so --help does not import the fleet

HostOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--host",
        help="Ask this machine over ssh instead: [user@]host[:port] or an ssh_config alias (repeatable).",
    ),
]
HostsFileOpt = Annotated[
    str | None,
    typer.Option("--hosts", help="A file of hosts for --host, one per line, # comments; - reads stdin."),
]
ParallelOpt = Annotated[int, typer.Option("--parallel", help="With --host: hosts asked at once.")]
SshConfigOpt = Annotated[
    str | None, typer.Option("--ssh-config", help="With --host: ssh -F FILE instead of ~/.ssh/config.")
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
        return built

    @property
    def wanted(self) -> bool:
        return bool(self.hosts) or self.hosts_file is not None


def fields_without_host(fields: str | None) -> str | None:
    """`--fields host,pid` in a fleet query: host is always the first field, so it is dropped here."""
    if fields is None:
        return None
    return ",".join(f for f in fields.split(",") if f.strip() != "host")


def query_hosts(
    options: HostOptions,
    request: Request,
    output: OutputOptions,
    reporter: Reporter,
) -> ExitCode:
    """Ask every host, print the rows (host first), the hosts' messages and a summary line."""
    from portcheck.fleet import name_list, query_fleet
    from portcheck.render import sort_rows
    from portcheck.sshauth import ask_on_terminal, tell_on_terminal
    from portcheck.sudo import has_terminal

    person = sys.platform != "win32" and has_terminal()  # pexpect.spawn needs a pty: POSIX only
    result = query_fleet(
        options.hosts,
        options.hosts_file,
        request,
        parallel=options.parallel,
        ssh_config=options.ssh_config,
        ask=ask_on_terminal if person else None,
        tell=tell_on_terminal,
    )
    rows: list[Socket] = []
    labels: list[str] = []
    hints: dict[str, list[str]] = {}
    for host in result.hosts:
        label = host.target.label
        if host.failure is not None:
            reporter.warn(f"{label}: {host.failure}")
            continue
        answer = host.value
        assert answer is not None
        for attempt in answer.tried:
            (reporter.info if attempt.routine else reporter.warn)(f"{label}: {attempt}")
        reporter.info(f"{label} ({host.os}): answered by {answer.tool}: {'; '.join(answer.commands)}")
        reporter.notes(answer.notes, f"{label}: {answer.tool}")
        for hint in answer.hints:
            hints.setdefault(hint, []).append(label)
        ordered = sort_rows(answer.rows)
        rows.extend(ordered)
        labels.extend([label] * len(ordered))
    for hint, where in hints.items():
        reporter.warn(f"{hint} ({name_list(where)})")
    write_rows(rows, output, labels)
    (reporter.error if result.failed else reporter.warn)(result.summary())
    return result.exit_code
