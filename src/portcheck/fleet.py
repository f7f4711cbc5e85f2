"""`portcheck PORT --host a --host b` / `--hosts FILE`: the same question asked of many machines over
ssh at once, one answer (or one reason for failing) per host.

The order of events for each host: log in (BatchMode, in a worker thread), detect the OS, do the job
(for `portcheck PORT`: walk that OS's plan with the query engine over the connection), close. Hosts
run concurrently, at most `parallel` at a time; a host that is slow, dead or refuses fails alone. A
host whose BatchMode login needs a person (password, passphrase, unknown host key) is set aside and,
when there is a terminal, logged in from the main thread, one host at a time, while the workers go on
with the others; its job then joins the workers (so at most `parallel` + 1 logins run at once).
Workers never print: everything a person reads comes from the main thread, so prompts and messages
never interleave.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Generic, TypeVar

from portcheck.errors import InspectError, PortcheckError, UsageError, excerpt
from portcheck.hints import OWN_SOCKETS_HINT, SUDO_HINT
from portcheck.model import ExitCode, Family, Proto, Socket
from portcheck.platforms import OS
from portcheck.portspec import PortSpec
from portcheck.query import Answer, RowFilter, inspect
from portcheck.runner import ToolError, which
from portcheck.ssh import Connection, ControlDir, HostError, Reason, Settings, Target, parse_target
from portcheck.sshauth import Asker, Teller

if TYPE_CHECKING:
    from portcheck.remote import SSHExecutor

T = TypeVar("T")
HostJob = Callable[["SSHExecutor"], T]
"""What to do on each host, given its Executor (which knows the host's OS): run in a worker thread,
it must not print or prompt."""

DEFAULT_PARALLEL = 8
"""Hosts asked at once: each costs a local ssh process or two and a thread, so 8 keeps a laptop calm
while a 40-host fleet still takes a handful of round trips, not forty."""
REMOTE_HINTS = {
    SUDO_HINT: "log in as root (root@host) to see processes owned by other users",
    OWN_SOCKETS_HINT: "lsof without root shows only your own processes' sockets; log in as root (root@host)",
}
"""The local hints' advice (--sudo) does not apply to a remote host."""


def read_hosts_file(path: str) -> list[str]:
    """One host per line; `#` starts a comment; blank lines are skipped. `-` reads stdin."""
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
    except OSError as error:
        raise UsageError(f"--hosts {path}: {error.strerror or error}") from None
    hosts = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    return [h for h in hosts if h]


def targets_from(hosts: Sequence[str], hosts_file: str | None) -> list[Target]:
    """Every named host once, in the order given (--host first, then the file)."""
    names = [*hosts, *(read_hosts_file(hosts_file) if hosts_file else [])]
    if not names:
        raise UsageError(f"--hosts {hosts_file}: no hosts in it")
    return [parse_target(name) for name in dict.fromkeys(n.strip() for n in names)]


@dataclass(frozen=True)
class Request:
    """The question every host is asked (the same arguments portcheck.query.inspect takes)."""

    ports: PortSpec | None
    timeout: float
    match_remote: bool = False
    protos: frozenset[Proto] | None = None
    families: frozenset[Family] | None = None
    row_filter: RowFilter | None = None


@dataclass
class HostResult(Generic[T]):
    """One host's outcome: the job's value, or why the host could not be asked."""

    target: Target
    value: T | None = None
    os: OS | None = None
    failure: HostError | None = None


def matched(host: HostResult[Answer]) -> bool:
    return host.value is not None and bool(host.value.rows)


@dataclass
class FleetResult:
    """A fleet query's answers, in the order the hosts were named."""

    hosts: list[HostResult[Answer]] = field(default_factory=list)

    @property
    def answered(self) -> list[HostResult[Answer]]:
        return [h for h in self.hosts if h.value is not None]

    @property
    def failed(self) -> list[HostResult[Answer]]:
        return [h for h in self.hosts if h.failure is not None]

    @property
    def exit_code(self) -> ExitCode:
        """0 when any host matched; 1 when every host answered and none matched; 3 otherwise."""
        if any(matched(h) for h in self.hosts):
            return ExitCode.MATCH
        return ExitCode.CANNOT_INSPECT if self.failed else ExitCode.NO_MATCH

    def summary(self) -> str:
        """`5 hosts: 3 answered (2 matched), 2 failed: connection refused (db1); timed out (db2)`."""
        count = len(self.hosts)
        hits = sum(matched(h) for h in self.hosts)
        line = f"{count} host{'s' if count != 1 else ''}: {len(self.answered)} answered ({hits} matched)"
        failed = self.failed
        if failed:
            groups: dict[str, list[str]] = {}
            for host in failed:
                assert host.failure is not None
                groups.setdefault(host.failure.reason.value, []).append(host.target.label)
            line += f", {len(failed)} failed: " + "; ".join(
                f"{r} ({name_list(n)})" for r, n in groups.items()
            )
        return line


def name_list(names: Sequence[str], shown: int = 5) -> str:
    """`a, b, c` or `a, b, c, d, e and 7 more`: a summary line stays one line for a big fleet."""
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def remote_hint(hint: str) -> str:
    return REMOTE_HINTS.get(hint, hint)


class Fleet:
    """Many hosts, each logged in once, asked one job (a function of the host's Executor), closed.
    `portcheck PORT --host` is one such job (ask_host); `info` and `kill` can be others."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        timeout: float,
        parallel: int = DEFAULT_PARALLEL,
        ssh_config: str | None = None,
        ask: Asker | None = None,
        tell: Teller | None = None,
    ) -> None:
        if parallel < 1:
            raise UsageError("--parallel must be at least 1")
        if ssh_config is not None and not os.path.isfile(ssh_config):
            raise UsageError(f"--ssh-config {ssh_config}: no such file")
        self.targets = list(targets)
        self.parallel = parallel
        self.settings = Settings(timeout, ssh_config)
        self.ask = ask
        """None: nobody can answer a prompt (no terminal), every ssh runs in BatchMode."""
        self.tell: Teller = tell or (lambda line: None)

    def run(self, job: HostJob[T]) -> list[HostResult[T]]:
        """Every host's outcome, in the order of `targets`."""
        if which("ssh") is None:
            raise InspectError("--host needs the OpenSSH client (ssh), which is not installed")
        control = ControlDir()
        connections = [Connection(t, self.settings, control.socket(i)) for i, t in enumerate(self.targets)]
        results: dict[int, HostResult[T]] = {}
        try:
            with ThreadPoolExecutor(max_workers=min(self.parallel, len(self.targets))) as pool:
                self._run_all(pool, connections, job, results)
        finally:
            for connection in connections:
                connection.close()  # those an interruption left open; a no-op for the others
            control.remove()
        return [results[i] for i in range(len(self.targets))]

    def _run_all(
        self,
        pool: ThreadPoolExecutor,
        connections: Sequence[Connection],
        job: HostJob[T],
        results: dict[int, HostResult[T]],
    ) -> None:
        pending: dict[Future[HostResult[T] | Connection], int] = {
            pool.submit(self._visit, connection, job): index for index, connection in enumerate(connections)
        }
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    outcome = future.result()
                    if isinstance(outcome, HostResult):
                        results[index] = outcome
                        continue
                    # Needs a person: log in here, one host at a time, then do the job in a worker.
                    failure = self._log_in(outcome)
                    if failure is not None:
                        results[index] = HostResult(outcome.target, failure=failure)
                    else:
                        pending[pool.submit(self._do_and_close, outcome, job)] = index
        except BaseException:
            for future in pending:
                future.cancel()
            raise

    def _visit(self, connection: Connection, job: HostJob[T]) -> HostResult[T] | Connection:
        """Worker: log in without prompts and do the job; or hand the connection back when a person
        must answer ssh first."""
        try:
            connection.open_batch()
        except HostError as error:
            if error.promptable and self.ask is not None:
                return connection
            return HostResult(connection.target, failure=error)
        except Exception as error:
            return HostResult(connection.target, failure=_unexpected(error))
        return self._do_and_close(connection, job)

    def _log_in(self, connection: Connection) -> HostError | None:
        from portcheck.sshauth import log_in

        assert self.ask is not None
        try:
            log_in(connection, self.ask, self.tell)
        except HostError as error:
            return error
        return None

    def _do_and_close(self, connection: Connection, job: HostJob[T]) -> HostResult[T]:
        from portcheck.remote import SSHExecutor, detect

        try:
            system = detect(connection, self.settings.timeout)
            return HostResult(connection.target, job(SSHExecutor(connection, system)), system.os)
        except HostError as error:
            return HostResult(connection.target, failure=error)
        except ToolError as error:  # the OS probe itself timed out
            return HostResult(connection.target, failure=HostError(Reason.TIMEOUT, str(error)))
        except InspectError as error:
            return HostResult(connection.target, failure=HostError(Reason.NOT_INSPECTED, str(error)))
        except Exception as error:
            return HostResult(connection.target, failure=_unexpected(error))
        finally:
            connection.close()


def ask_host(request: Request, executor: SSHExecutor) -> Answer:
    """The query job: the host's plan through the query engine, uids named by the host itself."""
    system = executor.system
    answer = inspect(
        request.ports,
        platform=system.os,
        timeout=request.timeout,
        executor=executor,
        match_remote=request.match_remote,
        protos=request.protos,
        families=request.families,
        row_filter=request.row_filter,
    )
    if system.os in (OS.LINUX, OS.FREEBSD):
        answer.rows = with_user_names(answer.rows, executor, request.timeout)
    answer.hints = [remote_hint(h) for h in answer.hints]
    return answer


def _unexpected(error: Exception) -> HostError:
    """A bug must not take the other hosts down; PORTCHECK_DEBUG=1 still shows the traceback."""
    if os.environ.get("PORTCHECK_DEBUG"):
        raise error
    if isinstance(error, PortcheckError):
        return HostError(Reason.NOT_INSPECTED, str(error))
    return HostError(Reason.INTERNAL, excerpt(f"{type(error).__name__}: {error}", 160))


def with_user_names(rows: list[Socket], executor: SSHExecutor, timeout: float) -> list[Socket]:
    """ss and `netstat -e` print uids: name them from the HOST's password database (one getent)."""
    uids = sorted({r.user for r in rows if r.user and r.user.isdigit()}, key=int)
    if not uids:
        return rows
    try:
        result = executor.run(["getent", "passwd", *uids], timeout=timeout)
    except (ToolError, HostError):
        return rows
    names = dict(_passwd_entries(result.output.decode("utf-8", "replace").splitlines()))
    return [r._replace(user=names.get(r.user, r.user)) if r.user in names else r for r in rows]


def _passwd_entries(lines: Iterable[str]) -> Iterable[tuple[str, str]]:
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdigit():
            yield fields[2], fields[0]


def query_fleet(
    hosts: Sequence[str],
    hosts_file: str | None,
    request: Request,
    *,
    parallel: int = DEFAULT_PARALLEL,
    ssh_config: str | None = None,
    ask: Asker | None = None,
    tell: Callable[[str], None] | None = None,
) -> FleetResult:
    """The API: every host's answer (or failure), in the order the hosts were named."""
    fleet = Fleet(
        targets_from(hosts, hosts_file),
        timeout=request.timeout,
        parallel=parallel,
        ssh_config=ssh_config,
        ask=ask,
        tell=tell,
    )
    return FleetResult(fleet.run(partial(ask_host, request)))
