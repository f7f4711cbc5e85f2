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

`Fleet.kept_open()` skips the close: every host that logged in stays logged in for further jobs until
the block ends (`kill --host`: the query, the person's y/N, then the signals over the same connection).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from portcheck.core.errors import InspectError, PortcheckError, UsageError, excerpt
from portcheck.core.filters import RowFilter
from portcheck.core.model import ExitCode
from portcheck.core.portspec import PortSpec
from portcheck.fleet.ssh import Connection, ControlDir, HostError, Reason, Settings, Target, parse_target
from portcheck.fleet.sshauth import Asker, Teller
from portcheck.live.hints import FILTERED_OUT_HINT, HIDDEN_OWNERS_HINT, OWN_SOCKETS_HINT, SUDO_HINT
from portcheck.live.query import Answer, inspect
from portcheck.live.runner import ToolError, stopping, which
from portcheck.live.verdict import port_in_use
from portcheck.platforms.base import OS

if TYPE_CHECKING:
    from portcheck.fleet.remote import SSHExecutor

T = TypeVar("T")
HostJob = Callable[["SSHExecutor"], T]
"""What to do on each host, given its Executor (which knows the host's OS): run in a worker thread,
it must not print or prompt."""

DEFAULT_PARALLEL = 8
"""Hosts asked at once: each costs a local ssh process or two and a thread, so 8 keeps a laptop calm
while a 40-host fleet still takes a handful of round trips, not forty."""
REMOTE_HINTS = {
    SUDO_HINT: "log in as root (root@host) to see processes owned by other users",
    FILTERED_OUT_HINT: HIDDEN_OWNERS_HINT + "log in as root (root@host) to see them",
    OWN_SOCKETS_HINT: "lsof without root shows only your own processes' sockets; log in as root (root@host)",
}
"""The local hints' advice (--sudo) does not apply to a remote host."""


MAX_HOSTS_FILE = 1024 * 1024
"""Bytes a --hosts file may hold: a 10,000-host inventory with comments is a few hundred KiB, and a
bound keeps `--hosts /dev/zero` (or a FIFO that never ends) from being read for ever."""
MAX_HOSTS = 10_000
"""Hosts one run may name (--host and --hosts together)."""


def read_hosts_file(path: str) -> list[str]:
    """One host per line; `#` starts a comment; blank lines are skipped. `-` reads stdin. At most
    MAX_HOSTS_FILE bytes are read; binary data (/dev/zero, /dev/urandom, an archive) is refused as
    `portcheck parse` refuses it; UTF-16 and a BOM are read as text."""
    from portcheck.core.decode import binary_kind, choose_encoding

    try:
        if path == "-":
            if sys.stdin is None:
                raise UsageError("--hosts -: standard input is closed")
            stdin = getattr(sys.stdin, "buffer", None)
            data = stdin.read(MAX_HOSTS_FILE + 1) if stdin is not None else sys.stdin.read().encode()
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_HOSTS_FILE + 1)
    except OSError as error:
        raise UsageError(f"--hosts {path}: {error.strerror or error}") from None
    kind = binary_kind(data[:65536])
    if kind is not None:
        raise UsageError(f"--hosts {path}: binary data, not a list of hosts: {kind}")
    if len(data) > MAX_HOSTS_FILE:
        raise UsageError(f"--hosts {path}: larger than {MAX_HOSTS_FILE // 1024} KiB; not a list of hosts")
    codec, _ = choose_encoding(data[:65536])
    hosts = [line.split("#", 1)[0].strip() for line in data.decode(codec, "replace").splitlines()]
    return [h for h in hosts if h]


def targets_from(hosts: Sequence[str], hosts_file: str | None) -> list[Target]:
    """Every named host once, in the order given (--host first, then the file)."""
    names = [*hosts, *(read_hosts_file(hosts_file) if hosts_file else [])]
    if not names:
        raise UsageError(f"--hosts {hosts_file}: no hosts in it")
    if len(names) > MAX_HOSTS:
        raise UsageError(f"{len(names)} hosts: one run asks at most {MAX_HOSTS:,}; split the list")
    return [parse_target(name) for name in dict.fromkeys(n.strip() for n in names)]


@dataclass(frozen=True)
class Request:
    """The question every host is asked (the same arguments portcheck.live.query.inspect takes)."""

    ports: PortSpec | None
    timeout: float
    scope: RowFilter | None = None


@dataclass
class HostResult(Generic[T]):
    """One host's outcome: the job's value, or why the host could not be asked."""

    target: Target
    value: T | None = None
    os: OS | None = None
    failure: HostError | None = None


def matched(host: HostResult[Answer], scope: RowFilter | None = None) -> bool:
    """The host's port is in use, by the rule every command follows (portcheck.live.verdict)."""
    return host.value is not None and port_in_use(host.value.rows, scope)


@dataclass
class FleetResult:
    """A fleet query's answers, in the order the hosts were named."""

    hosts: list[HostResult[Answer]] = field(default_factory=list)
    scope: RowFilter | None = None
    """The question asked (its --state decides whether TIME_WAIT rows alone count)."""

    @property
    def answered(self) -> list[HostResult[Answer]]:
        return [h for h in self.hosts if h.value is not None]

    @property
    def failed(self) -> list[HostResult[Answer]]:
        return [h for h in self.hosts if h.failure is not None]

    @property
    def exit_code(self) -> ExitCode:
        """0 when the port is in use on any host (portcheck.live.verdict: TIME_WAIT rows alone are not);
        1 when every host answered and it is in use on none; 3 otherwise."""
        if any(matched(h, self.scope) for h in self.hosts):
            return ExitCode.MATCH
        return ExitCode.CANNOT_INSPECT if self.failed else ExitCode.NO_MATCH

    def summary(self) -> str:
        """`5 hosts: 3 answered (2 matched), 2 failed: connection refused (db1); timed out (db2)`."""
        return summary_line(self.hosts, f"{sum(matched(h, self.scope) for h in self.hosts)} matched")


def summary_line(hosts: Sequence[HostResult[Any]], outcome: str | None = None) -> str:
    """`N hosts: A answered (OUTCOME), F failed: REASON (hosts); ...`: failures grouped by reason."""
    count = len(hosts)
    answered = sum(1 for h in hosts if h.failure is None)
    line = f"{count} host{'s' if count != 1 else ''}: {answered} answered"
    if outcome:
        line += f" ({outcome})"
    groups: dict[str, list[str]] = {}
    for host in hosts:
        if host.failure is not None:
            groups.setdefault(host.failure.reason.value, []).append(host.target.label)
    if groups:
        failed = count - answered
        line += f", {failed} failed: " + "; ".join(f"{r} ({name_list(n)})" for r, n in groups.items())
    return line


def name_list(names: Sequence[str], shown: int = 5) -> str:
    """`a, b, c` or `a, b, c, d, e and 7 more`: a summary line stays one line for a big fleet."""
    if len(names) <= shown:
        return ", ".join(names)
    return ", ".join(names[:shown]) + f" and {len(names) - shown} more"


def remote_hint(hint: str) -> str:
    return REMOTE_HINTS.get(hint, hint)


class Fleet:
    """Many hosts, each logged in once, asked a job (a function of the host's Executor). `run` asks one
    job and closes each host as soon as it is done (`portcheck PORT --host`, `info --host`);
    `kept_open` keeps every host logged in for several jobs (`kill --host`: the query, a person's
    confirmation, then the signals, all over the same connection)."""

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
        with self._connections() as connections:
            return _Session(self, connections, keep=False).run(job)

    @contextlib.contextmanager
    def kept_open(self) -> Iterator[OpenFleet]:
        """Hosts that stay logged in until the block ends (normally, by an error or by Ctrl-C)."""
        with self._connections() as connections:
            yield OpenFleet(_Session(self, connections, keep=True))

    @contextlib.contextmanager
    def _connections(self) -> Iterator[list[Connection]]:
        if which("ssh") is None:
            raise InspectError("--host needs the OpenSSH client (ssh), which is not installed")
        control = ControlDir()
        connections = [Connection(t, self.settings, control.socket(i)) for i, t in enumerate(self.targets)]
        try:
            yield connections
        finally:
            for connection in connections:
                connection.close()  # those an interruption (or keep-open) left open; a no-op for the others
            control.remove()


class OpenFleet:
    """Hosts kept logged in between jobs. The first `run` logs in (as Fleet.run does); later ones reuse
    each host's connection and Executor. A host that failed once stays failed with the same reason."""

    def __init__(self, session: _Session) -> None:
        self._session = session

    def run(self, job: HostJob[T]) -> list[HostResult[T]]:
        return self._session.run(job)


class _Session:
    """The per-host mechanics: log in (BatchMode in a worker, prompts in the main thread), detect the
    OS, do the job; with `keep`, the connection stays open and later jobs skip straight to the job."""

    def __init__(self, fleet: Fleet, connections: Sequence[Connection], *, keep: bool) -> None:
        self.fleet = fleet
        self.connections = connections
        self.keep = keep
        self.executors: dict[int, SSHExecutor] = {}
        self.failures: dict[int, HostError] = {}
        self.started = False

    def run(self, job: HostJob[T]) -> list[HostResult[T]]:
        count = len(self.connections)
        results: dict[int, HostResult[T]] = {
            i: HostResult(self.connections[i].target, failure=f) for i, f in self.failures.items()
        }
        pool = ThreadPoolExecutor(max_workers=min(self.fleet.parallel, count))
        jobs: dict[int, Callable[[], HostResult[T] | Connection]]
        if self.started:
            jobs = {i: partial(self._do, self.connections[i], job, i) for i in self.executors}
        else:
            jobs = {i: partial(self._visit, c, job, i) for i, c in enumerate(self.connections)}
            self.started = True
        try:
            self._run_all(pool, jobs, job, results)
        except BaseException:
            # Ctrl-C or SIGTERM (or a bug): no worker may take new work, and the tools and ssh clients
            # they run now are ended, so the workers return at once; the caller then closes the
            # ControlMasters and removes the control directory (Fleet._connections).
            with stopping():
                pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        for i, result in results.items():
            if result.failure is not None and i not in self.failures:
                self.failures[i] = result.failure
                self.executors.pop(i, None)
        return [results[i] for i in range(count)]

    def _run_all(
        self,
        pool: ThreadPoolExecutor,
        jobs: dict[int, Callable[[], HostResult[T] | Connection]],
        job: HostJob[T],
        results: dict[int, HostResult[T]],
    ) -> None:
        pending = {pool.submit(work): index for index, work in jobs.items()}
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
                    pending[pool.submit(self._do, outcome, job, index)] = index

    def _visit(self, connection: Connection, job: HostJob[T], index: int) -> HostResult[T] | Connection:
        """Worker: log in without prompts and do the job; or hand the connection back when a person
        must answer ssh first."""
        try:
            connection.open_batch()
        except HostError as error:
            if error.promptable and self.fleet.ask is not None:
                return connection
            return HostResult(connection.target, failure=error)
        except Exception as error:
            return HostResult(connection.target, failure=_unexpected(error))
        return self._do(connection, job, index)

    def _log_in(self, connection: Connection) -> HostError | None:
        from portcheck.fleet.sshauth import log_in

        assert self.fleet.ask is not None
        try:
            log_in(connection, self.fleet.ask, self.fleet.tell)
        except HostError as error:
            return error
        return None

    def _do(self, connection: Connection, job: HostJob[T], index: int) -> HostResult[T]:
        """Worker: the job on the host's Executor (detecting the OS on the first visit)."""
        from portcheck.fleet.remote import Shell, SSHExecutor, command_line, detect

        failed = True
        try:
            executor = self.executors.get(index)
            if executor is None:
                executor = SSHExecutor(connection, detect(connection, self.fleet.settings.timeout))
                if self.keep and executor.system.shell is Shell.POSIX:
                    connection.hold(command_line(["cat"], None, Shell.POSIX, executor.system.os))
            result = HostResult(connection.target, job(executor), executor.system.os)
            failed = False
            if self.keep:
                self.executors[index] = executor
            return result
        except HostError as error:
            return HostResult(connection.target, failure=error)
        except ToolError as error:  # the OS probe itself timed out
            return HostResult(connection.target, failure=HostError(Reason.TIMEOUT, str(error)))
        except InspectError as error:
            return HostResult(connection.target, failure=HostError(Reason.NOT_INSPECTED, str(error)))
        except Exception as error:
            return HostResult(connection.target, failure=_unexpected(error))
        finally:
            if failed or not self.keep:
                connection.close()


def ask_host(request: Request, executor: SSHExecutor) -> Answer:
    """The query job: the host's plan through the query engine, uids named by the host itself."""
    answer = inspect(
        request.ports,
        platform=executor.system.os,
        timeout=request.timeout,
        executor=executor,
        scope=request.scope,
    )
    return for_person(answer, executor, request.timeout)


def for_person(answer: Answer, executor: SSHExecutor, timeout: float) -> Answer:
    """A host's answer as a person should read it: hints whose advice works for a remote host. (Its uids
    are named by the host itself: SSHExecutor.user_names.)"""
    answer.hints = [remote_hint(h) for h in answer.hints]
    return answer


def _unexpected(error: Exception) -> HostError:
    """A bug must not take the other hosts down; PORTCHECK_DEBUG=1 still shows the traceback."""
    if os.environ.get("PORTCHECK_DEBUG"):
        raise error
    if isinstance(error, PortcheckError):
        return HostError(Reason.NOT_INSPECTED, str(error))
    return HostError(Reason.INTERNAL, excerpt(f"{type(error).__name__}: {error}", 160))
