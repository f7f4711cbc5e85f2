"""The live query: walk the platform's plan until a tool answers, and return the rows with what was
learnt on the way. This is the API `portcheck PORT`, `kill`, `wait`, `--watch` and the ssh fleet call;
it prints nothing and knows nothing about the command line.

A step fails, and the next is tried, when its tool is missing, times out, exits non-zero (except a
status the step declares as "nothing matched", like lsof's 1), or prints text its parser cannot read.
When every step failed, InspectError (exit 3) names each tool and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from importlib import import_module
from typing import NamedTuple, Protocol, cast

from portcheck import parsers
from portcheck.core.errors import InspectError, excerpt, quote
from portcheck.core.filters import RowFilter
from portcheck.core.model import Proto, Socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.core.portspec import PortSpec
from portcheck.live.enrich import Owners
from portcheck.live.executor import Executor, LocalExecutor, output_lines, with_user_names
from portcheck.live.hints import WINDOWS_ELEVATION_HINT, hints_for
from portcheck.live.runner import DEFAULT_TIMEOUT, Problem, ToolError, ToolRun
from portcheck.parsers.common import Parser
from portcheck.platforms import current_os, platform_for
from portcheck.platforms.base import OS, NameLookup, Platform, Probe, Question, Step

IN_PROCESS_READERS: dict[str, str] = {"proc": "portcheck.live.procfs"}
"""Readers that answer a step with no commands (Step.local_only) inside portcheck, by the step's
format: /proc read directly, for a Linux container with no ss, netstat or lsof."""


class InProcessRead(Protocol):
    rows: list[Socket]
    tables_read: int
    """0 when there was nothing to read (no /proc/net): the step then counts as a missing tool."""
    unreadable_processes: int
    """Processes the reader could not look into: without them, it cannot name every owner."""


class InProcessReader(Protocol):
    """The shape of each module in IN_PROCESS_READERS."""

    DESCRIPTION: str
    """What it reads, as --verbose shows it in place of a command line."""
    MISSING: str
    """Why there was nothing to read, as the step's failure names it."""

    def read_sockets(self, ctx: ParseContext) -> InProcessRead: ...


# A NamedTuple rather than a frozen dataclass: defining a dataclass costs every start-up ~0.5 ms on 3.9.
class Attempt(NamedTuple):
    """One step that did not give the answer, for the one-line report and the final error."""

    tool: str
    problem: str
    routine: bool = False
    """Expected on this machine (a tool not installed, lsof seeing only your sockets): --verbose only."""

    def __str__(self) -> str:
        return f"{self.tool}: {self.problem}"


class Answer:
    """What one look at a machine learnt. A plain class, not a dataclass (same constructor, repr and
    ==): importing dataclasses pulls in inspect, ~4 ms of every `portcheck PORT` on Python 3.9."""

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable like a dataclass

    def __init__(
        self,
        rows: list[Socket],
        tool: str,
        commands: list[str],
        notes: ParseNotes | None = None,
        hints: list[str] | None = None,
        tried: list[Attempt] | None = None,
        owners: Owners | None = None,
    ) -> None:
        self.rows = rows
        self.tool = tool
        """The step that answered (`ss`, `lsof`, `/proc`...)."""
        self.commands = commands
        """The command lines that produced the rows (for an in-process reader: what it read)."""
        self.notes = ParseNotes() if notes is None else notes
        self.hints = [] if hints is None else hints
        self.tried = [] if tried is None else tried
        """Steps tried before the one that answered, and why each failed."""
        self.owners = Owners() if owners is None else owners
        """What was learnt about the rows' processes (portcheck.live.enrich): images, supervisors."""

    def _values(self) -> tuple[object, ...]:
        return (self.rows, self.tool, self.commands, self.notes, self.hints, self.tried, self.owners)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Answer)
        return self._values() == other._values()

    def __repr__(self) -> str:
        names = ("rows", "tool", "commands", "notes", "hints", "tried", "owners")
        return f"Answer({', '.join(f'{n}={v!r}' for n, v in zip(names, self._values()))})"


class _Outcome(NamedTuple):
    step: Step
    rows: list[Socket]
    notes: ParseNotes
    commands: list[str]
    unreadable_processes: int = 0


def inspect(
    ports: PortSpec | None,
    *,
    platform: OS | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    sudo: bool = False,
    executor: Executor | None = None,
    scope: RowFilter | None = None,
    enrich: bool = True,
) -> Answer:
    """Who uses these ports (None: every listening socket)? `scope` selects the rows (its --remote,
    protocol and family also shape the tools' own filters); `enrich` fills cmdline, started, service
    and container (portcheck.live.enrich; `kill` polling the port does without). Raises InspectError
    when nothing answers, portcheck.live.sudo.SudoError when sudo refuses."""
    system = platform_for(platform or current_os())
    extra_hints: list[str] = []
    if executor is None:
        executor = local_executor(sudo, system.os)
    if sudo and not system.traits.posix and not executor.privileged:
        extra_hints.append(WINDOWS_ELEVATION_HINT)
    question = (
        Question(
            ports, scope.match_remote, scope.protos, scope.families, ports is None and not scope.listening
        )
        if scope
        else Question(ports)
    )
    tried: list[Attempt] = []
    unproven: _Outcome | None = None
    for step in system.plan(question, privileged=executor.privileged):
        if step.local_only and not executor.local:
            continue
        try:
            outcome = _run_step(step, question, executor, timeout)
        except ToolError as error:
            tried.append(Attempt(step.tool, _problem(error), routine=error.problem is Problem.MISSING))
            continue
        if not step.sees_all and not outcome.rows:
            # lsof without root sees only the caller's sockets: "nothing" may be someone else's socket.
            unsure = "found nothing among your own processes; asking the next tool"
            tried.append(Attempt(step.tool, unsure, routine=True))
            unproven = unproven or outcome
            continue
        return _answer(outcome, system, executor, scope, tried, extra_hints, enrich=enrich, timeout=timeout)
    if unproven is not None:
        return _answer(unproven, system, executor, scope, tried, extra_hints, enrich=enrich, timeout=timeout)
    raise InspectError("cannot inspect this machine's sockets: " + "; ".join(map(str, tried)))


def local_executor(sudo: bool, platform: OS | None = None, *, keep_password: bool = False) -> Executor:
    """Where this machine's tools run: through sudo for --sudo, unless portcheck is root already or the
    OS has no sudo (Windows: inspect() says how to elevate instead). One executor asked again and
    again (`--watch`) asks for sudo's password once with `keep_password` (portcheck.live.sudo)."""
    local = LocalExecutor()
    if not sudo or local.privileged or not platform_for(platform or current_os()).traits.posix:
        return local
    from portcheck.live.sudo import SudoExecutor

    return SudoExecutor(keep_password=keep_password)


def _problem(error: ToolError) -> str:
    return error.problem.value + (f" ({error.detail})" if error.detail else "")


def _run_step(step: Step, question: Question, executor: Executor, timeout: float) -> _Outcome:
    if step.local_only:
        return _read_in_process(step, question)
    notes = ParseNotes()
    rows: list[Socket] = []
    for command in step.commands:
        result = executor.run(command.argv, timeout=timeout, env=command.env or None)
        _check_status(step, result)
        ctx = ParseContext(
            _port_set(question), match_remote=question.match_remote, wide=True, proto=_asked_proto(question)
        )
        # binary output raises ToolError: the tool is broken, the next one may not be
        parsed = list(_parse(step, output_lines(result, step.encoding, executor), ctx))
        if ctx.notes.refused is not None:  # netstat -b refused (no elevation after all): exit 3
            raise InspectError(ctx.notes.refused)
        if not parsed and ctx.notes.skipped and ctx.notes.first_skipped:
            line, text = ctx.notes.first_skipped
            raise ToolError(step.tool, Problem.UNREADABLE, f"line {line}: {quote(text)}")
        rows.extend(parsed)
        notes.merge(ctx.notes)
    if step.pid_names is not None and any(r.pid is not None and r.process is None for r in rows):
        rows = _name_pids(rows, step, step.pid_names, executor, timeout, notes)
    return _Outcome(step, rows, notes, [str(c) for c in step.commands])


def _asked_proto(question: Question) -> Proto | None:
    """The protocol every tool of the plan was asked for, when only one was (`portcheck 53 -u`)."""
    if question.protos is not None and len(question.protos) == 1:
        return next(iter(question.protos))
    return None


def _port_set(question: Question) -> frozenset[int] | None:
    return question.ports.ports if question.ports is not None else None


def _check_status(step: Step, result: ToolRun) -> None:
    if result.status == 0:
        return
    complaint = result.error_line()
    if result.status in step.no_match_status and not complaint:
        return
    how = f"exit status {result.status}" if result.status > 0 else f"killed by signal {-result.status}"
    raise ToolError(step.tool, Problem.FAILED, how + (f": {excerpt(complaint, 160)}" if complaint else ""))


def _parse(step: Step, lines: Iterator[str], ctx: ParseContext) -> Iterator[Socket]:
    return _parser(step.tool, step.parser).parse(lines, ctx)


def _parser(tool: str, name: str) -> Parser:
    try:
        return parsers.load(name)
    except (KeyError, ImportError):
        raise ToolError(tool, Problem.FAILED, f"this portcheck has no {name} parser") from None


def probe_lines(probe: Probe, executor: Executor, timeout: float) -> Iterator[str]:
    """A probe's output (`portcheck info`'s port ranges, the bind test's excluded ranges): files read
    directly on this machine, else its command through the executor. Raises ToolError, OSError."""
    if probe.files and executor.local:
        from pathlib import Path  # pathlib costs ~1 ms at start-up on 3.9; only probes read files

        return iter([line for path in probe.files for line in Path(path).read_text().splitlines()])
    result = executor.run(probe.command.argv, timeout=timeout, env=probe.command.env or None)
    if result.status != 0:
        complaint = result.error_line()
        how = f"exit status {result.status}" + (f": {complaint}" if complaint else "")
        raise ToolError(probe.command.tool, Problem.FAILED, how)
    return output_lines(result, probe.encoding, executor)


def _name_pids(
    rows: list[Socket], step: Step, lookup: NameLookup, executor: Executor, timeout: float, notes: ParseNotes
) -> list[Socket]:
    """PID -> name from ONE run of the step's name command (tasklist) for all PIDs at once, read by
    the lookup's own format into the notes' pid_names."""
    command = lookup.command
    found = ParseContext()
    try:
        result = executor.run(command.argv, timeout=timeout, env=command.env or None)
        if result.status != 0:
            raise ToolError(command.tool, Problem.FAILED, f"exit status {result.status}")
        parser = _parser(command.tool, lookup.parser)
        for _ in parser.parse(output_lines(result, step.encoding, executor), found):
            pass  # a name format yields no sockets: what it reads goes into the notes
    except ToolError as error:
        notes.warn(f"process names unavailable ({error})")
        return rows
    services: dict[int, str] = {}
    if lookup.services is not None:
        services = lookup.services(output_lines(result, step.encoding, executor))
    return found.notes.pid_names.name(rows, services)


def _read_in_process(step: Step, question: Question) -> _Outcome:
    reader = cast(InProcessReader, import_module(IN_PROCESS_READERS[step.parser]))
    ctx = ParseContext(_port_set(question), match_remote=question.match_remote)
    found = reader.read_sockets(ctx)
    if not found.tables_read:
        raise ToolError(step.tool, Problem.MISSING, reader.MISSING)
    return _Outcome(step, found.rows, ctx.notes, [reader.DESCRIPTION], found.unreadable_processes)


def _answer(
    outcome: _Outcome,
    system: Platform,
    executor: Executor,
    row_filter: RowFilter | None,
    tried: list[Attempt],
    extra_hints: Sequence[str],
    *,
    enrich: bool,
    timeout: float,
) -> Answer:
    rows = with_user_names(outcome.rows, executor, timeout)
    posix = system.traits.posix
    me = executor.user if posix else None
    # An in-process reader runs in this process (never through sudo): what hides processes from it
    # is only which ones it could not look into (/proc/PID/fd).
    privileged = not outcome.unreadable_processes if outcome.step.local_only else executor.privileged
    filtered_out: list[Socket] = []
    if row_filter is not None:
        if row_filter.pids is not None or row_filter.process is not None:
            unnamed = row_filter._replace(pids=None, process=None)
            filtered_out = [r for r in rows if unnamed(r) and not row_filter(r)]
        rows = [r for r in rows if row_filter(r)]
    owners = Owners()
    owner_hints: list[str] = []
    explained: set[str] = set()
    if enrich and rows:
        from portcheck.live.enrich import enrich as fill, explained_forwarders

        rows, owners, owner_hints = fill(rows, system, executor, timeout, outcome.notes)
        explained = explained_forwarders(rows, system, owners)
        if outcome.notes.messages and outcome.step.parser == "ss":
            from portcheck.parsers.ss import IN_CONTAINERS

            # Meant for a paste; here the containers were looked up (named, or said why not).
            unsaid = IN_CONTAINERS.partition("{")[0]
            outcome.notes.messages = {m: None for m in outcome.notes.messages if not m.startswith(unsaid)}
    hints = [
        *extra_hints,
        *(system.local_hints(rows) if executor.local else ()),
        *hints_for(
            rows,
            privileged=privileged,
            user=me,
            windows=not posix,
            own_sockets_only=not outcome.step.sees_all,
            shows_owners=outcome.step.shows_owners,
            filtered_out=filtered_out,
            local=executor.local,
            explained=explained,
        ),
        *owner_hints,
    ]
    return Answer(rows, outcome.step.tool, outcome.commands, outcome.notes, hints, tried, owners)
