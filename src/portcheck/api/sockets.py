"""`portcheck.query` and `portcheck.parse`: the live query and the reading of saved output, as the
CLI runs them, returning records instead of printing them.

`query` returns a plain `list[Socket]`: what a script asks the live machine is the rows; what the
CLI prints on stderr on the way (which tool answered, hints for a person) comes from `ask`, the
call underneath, which returns everything it learnt. `parse` returns a `ParseResult`, which is a
sequence of the rows AND carries the notes: with pasted text the notes are part of the answer (30
lines not understood means the paste was cut or mixed), and a script must be able to see them
without `strict=True` turning every odd line into an exception.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, TypeVar, Union, overload

from portcheck.core.errors import InspectError, ParseError, UsageError
from portcheck.core.filters import RowFilter
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext, ParseNotes, PidNames
from portcheck.core.portspec import PortSpec, parse_port_spec

if TYPE_CHECKING:
    from portcheck.live.executor import Executor
    from portcheck.live.query import Answer
    from portcheck.parsers.offline import Section

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
"""portcheck.live.runner.DEFAULT_TIMEOUT (tests/api/test_api_docs.py holds them equal), written out so
that `portcheck parse`, which runs no tool, does not import the runner and the platforms for it."""

Ports = Union[int, str, Iterable[Union[int, str]], PortSpec, None]
"""`8080`, `"80,443"`, `"8000-8100"`, `[80, "8000-8100"]`, or None (every listener)."""


def port_spec(ports: Ports) -> PortSpec | None:
    """Ports as the CLI takes them, validated the same way (UsageError for a bad one)."""
    if ports is None or isinstance(ports, PortSpec):
        return ports
    if isinstance(ports, (int, str)):
        ports = [ports]
    if not isinstance(ports, Iterable):
        raise UsageError(f"invalid port {ports!r}: expected an int or a string like '80,443,8000-8100'")
    specs = [_port_text(p) for p in ports]
    if not specs:
        raise UsageError("no port given (None asks for every listener)")
    return parse_port_spec(*specs)


def _port_text(port: object) -> str:
    if isinstance(port, bool) or not isinstance(port, (int, str)):
        raise UsageError(f"invalid port {port!r}: expected an int or a string like '80,443,8000-8100'")
    return str(port)


def selection(
    *,
    ports: PortSpec | None = None,
    remote: bool = False,
    tcp: bool = False,
    udp: bool = False,
    ipv4: bool = False,
    ipv6: bool = False,
    listening: bool = False,
    exposed: bool = False,
    states: Sequence[str] | None = None,
    pids: Sequence[int] | None = None,
    process: str | None = None,
    live: bool = False,
) -> RowFilter:
    """The row filter of the selection options (the same for the live query and `parse`); a
    UsageError names the choices for an unknown state word. `live`: the live query's own rule (the
    CLI's query and `query()`): without a port it asks "who listens?", unless it names an owner or a
    state, then it is every socket of theirs (`portcheck --pid 812`); a paste keeps every row."""
    from portcheck.core.states import lookup_state

    protos = frozenset(p for p, on in ((Proto.TCP, tcp), (Proto.UDP, udp)) if on) or None
    families = frozenset(f for f, on in ((Family.IPV4, ipv4), (Family.IPV6, ipv6)) if on) or None
    wanted_states: set[State] = set()
    for word in states or ():
        state = lookup_state(word)
        if state is None:
            names = ", ".join(s.value for s in State)
            raise UsageError(f"unknown state {word!r}; states are: {names}")
        wanted_states.add(state)
    return RowFilter(
        ports=ports,
        match_remote=remote,
        protos=protos,
        families=families,
        listening=listening or exposed or (live and ports is None and not (pids or process or states)),
        states=frozenset(wanted_states) or None,
        pids=frozenset(pids) if pids else None,
        process=process,
        exposed=exposed,
    )


def query(
    ports: Ports = None,
    *,
    tcp: bool = False,
    udp: bool = False,
    ipv4: bool = False,
    ipv6: bool = False,
    listening: bool = False,
    exposed: bool = False,
    states: Sequence[str] | None = None,
    pids: Sequence[int] | None = None,
    process: str | None = None,
    remote: bool = False,
    sudo: bool = False,
    host: str | None = None,
    ssh_config: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[Socket]:
    """Who uses these ports now: the rows `portcheck PORTS --json` prints, in the same order.

    `ports` None asks for every listening socket (with `pids`, `process` or `states`: every socket of
    theirs, as the CLI's `--pid`). `host` asks that machine over your OpenSSH client
    instead (`[user@]host[:port]` or an alias of ~/.ssh/config or of `ssh_config`; no prompts: keys
    or an agent must do). What the CLI reports on stderr on the way (the tool that answered, hints)
    comes from `ask`, the call underneath.
    Raises UsageError for a bad argument, InspectError when the machine cannot be inspected."""
    from portcheck.output.render import sort_rows

    spec = port_spec(ports)
    _check_timeout(timeout)
    scope = selection(
        ports=spec,
        remote=remote,
        tcp=tcp,
        udp=udp,
        ipv4=ipv4,
        ipv6=ipv6,
        listening=listening,
        exposed=exposed,
        states=states,
        pids=pids,
        process=process,
        live=True,
    )
    return sort_rows(ask(spec, scope, sudo=sudo, host=host, ssh_config=ssh_config, timeout=timeout).rows)


def _check_timeout(seconds: float) -> None:
    if not 0 < seconds < float("inf"):
        raise UsageError("timeout must be a positive number of seconds")


def ask(
    spec: PortSpec | None,
    scope: RowFilter,
    *,
    sudo: bool = False,
    host: str | None = None,
    ssh_config: str | None = None,
    timeout: float,
    executor: Executor | None = None,
) -> Answer:
    """The live query for one machine, this one or `host` over ssh (one host, no prompts), with
    everything learnt on the way (portcheck.live.query.Answer): what `query` and the CLI run.
    `executor` runs the tools here (`--watch --sudo` keeps one, so sudo asks once)."""
    if host is None:
        from portcheck.live.query import inspect

        return inspect(spec, timeout=timeout, sudo=sudo, scope=scope, executor=executor)
    if sudo:
        raise UsageError("sudo runs tools on this machine; for a host, log in as root (root@host)")
    from functools import partial

    from portcheck.fleet.fleet import Request, ask_host

    return on_one_host(host, timeout, partial(ask_host, Request(spec, timeout, scope)), ssh_config)


def on_one_host(host: str, timeout: float, job: Callable[..., T], ssh_config: str | None = None) -> T:
    """A fleet job on one host, its failure raised as InspectError (`host: reason: detail`). No
    prompts: a host that needs a password or an unknown host key fails."""
    from portcheck.fleet.fleet import Fleet, targets_from

    (result,) = Fleet(targets_from([host], None), timeout=timeout, ssh_config=ssh_config).run(job)
    if result.failure is not None or result.value is None:
        raise InspectError(f"{result.target.label}: {result.failure}")
    return result.value


# --- parse --------------------------------------------------------------------------------------------


class ParseResult(Sequence[Socket]):
    """The rows of one input (a sequence: iterate, index, len) and what the parser noticed.

    A plain class with a dataclass's constructor, repr and ==: importing dataclasses pulls in inspect,
    ~4 ms of every `portcheck PORT` on Python 3.9, which imports this module for `ask`."""

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value: unhashable like a dataclass

    def __init__(
        self,
        rows: list[Socket],
        format: str | None,
        encoding: str,
        notes: ParseNotes | None = None,
        other_format: str | None = None,
        sections: list[Section] | None = None,
    ) -> None:
        self.rows = rows
        self.format = format
        """The format read (`ss`, `netstat-windows`, ...); None for an input with no text at all."""
        self.encoding = encoding
        """How the bytes were decoded (`utf-8`, `cp850`, `utf-16-le`, ...)."""
        self.notes = ParseNotes() if notes is None else notes
        self.other_format = other_format
        """The format most lines not understood are in, when another tool's output was pasted in too."""
        self.sections: list[Section] = [] if sections is None else sections
        """What each part of the input was read as: (first line, last line, format, how), in order. A
        paste of several tools' outputs has one per tool; one tool's output, one."""

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, ParseResult)
        fields = ("rows", "format", "encoding", "notes", "other_format", "sections")
        return all(getattr(self, f) == getattr(other, f) for f in fields)

    def __repr__(self) -> str:
        return (
            f"ParseResult(rows={self.rows!r}, format={self.format!r}, encoding={self.encoding!r}, "
            f"other_format={self.other_format!r})"
        )

    @property
    def formats(self) -> tuple[str, ...]:
        """Every format read, in the order first met (`format` is the first)."""
        return tuple(dict.fromkeys(s.format for s in self.sections if s.format is not None))

    @property
    def skipped(self) -> int:
        """Lines that were neither a row, a header nor blank."""
        return self.notes.skipped

    @property
    def first_skipped(self) -> tuple[int, str] | None:
        """(line number, excerpt) of the first such line."""
        return self.notes.first_skipped

    @property
    def warnings(self) -> list[str]:
        """What the CLI prints on stderr about this input, one line each."""
        from portcheck.output.report import Reporter

        out = io.StringIO()
        Reporter(stream=out).notes(self.notes)
        if self.other_format is not None:
            Reporter(stream=out).warn(f"the lines not understood look like {self.other_format} output")
        return [line.removeprefix("portcheck: ") for line in out.getvalue().splitlines()]

    @overload
    def __getitem__(self, index: int) -> Socket: ...
    @overload
    def __getitem__(self, index: slice) -> list[Socket]: ...
    def __getitem__(self, index: int | slice) -> Socket | list[Socket]:
        return self.rows[index]

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Socket]:
        return iter(self.rows)


def parse(
    data: str | bytes,
    *,
    fmt: str | None = None,
    ports: Ports = None,
    strict: bool = False,
    remote: bool = False,
) -> ParseResult:
    """Rows from saved or pasted output of any supported tool, decoded and detected as `portcheck parse`
    does (`fmt` forces a format, or a family such as "netstat"). `ports` keeps rows on those local
    ports (also remote ones with `remote=True`). Raises ParseError for binary or unrecognisable input
    (and with `strict`, for the first line not understood), InspectError when the text is a tool's
    refusal (`netstat -b` without elevation)."""
    from portcheck import parsers

    if isinstance(data, str):
        from portcheck.core.decode import text_bytes

        data = text_bytes(data)
    if not isinstance(data, bytes):
        raise UsageError(f"parse() reads str or bytes, not {type(data).__name__}")
    forced = parsers.resolve(fmt) if fmt else None
    return read_input(io.BytesIO(data), forced=forced, ports=port_spec(ports), remote=remote, strict=strict)


def read_input(
    stream: BinaryIO,
    *,
    forced: tuple[str, ...] | None = None,
    ports: PortSpec | None = None,
    remote: bool = False,
    strict: bool = False,
    keep: Callable[[Socket], bool] | None = None,
    pid_names: PidNames | None = None,
) -> ParseResult:
    """One input: decode, detect, parse (rows failing `keep` dropped as they stream past, so a filtered
    parse of a huge file holds only what it keeps). A tasklist in the input names the rows' PIDs; with
    `pid_names` (shared by several inputs: `portcheck parse netstat.txt tasklist.txt`) the names are
    collected there and the caller names the rows once every input is read."""
    from portcheck.parsers.offline import KeepingNotes, other_format, parse_stream

    ctx = ParseContext(ports.ports if ports else None, match_remote=remote, notes=KeepingNotes())
    if pid_names is not None:
        ctx.notes.pid_names = pid_names
    parsed = parse_stream(stream, ctx, forced)
    rows = list(parsed.rows if keep is None else filter(keep, parsed.rows))
    if pid_names is None:
        rows = name_pids(rows, ctx.notes.pid_names)
    result = ParseResult(rows, parsed.format, parsed.encoding, ctx.notes, sections=parsed.sections)
    if ctx.notes.refused is not None:  # `netstat -b` refused: the sender's machine was not inspected
        raise InspectError(ctx.notes.refused)
    if strict:
        refuse_skipped(ctx.notes)
    if parsed.format is not None:
        result.other_format = other_format(ctx.notes, parsed.format)
    return result


def refuse_skipped(notes: ParseNotes) -> None:
    """strict: the first line not understood raises ParseError (`line: what: 'text'`)."""
    if notes.skipped and notes.first_skipped:
        line, text = notes.first_skipped
        such = "" if notes.skipped == 1 else f"; {notes.skipped} such lines"
        raise ParseError(f"line not understood (--strict{such})", line, text)


def name_pids(rows: list[Socket], names: PidNames) -> list[Socket]:
    """Process names for PIDs shown without one: from a tasklist or Get-Process read alongside, or from
    another row of the same PID (another tool's output from the same machine: `fuser 80/tcp`, which
    prints only PIDs, pasted with `ss -tlnp`). Names cross only between Windows formats or only
    between the others (parsers.WINDOWS_FORMATS), never from a Windows PID to a Unix one."""
    from portcheck.parsers import WINDOWS_FORMATS

    if not any(r.process is None and r.pid is not None for r in rows):
        return rows
    known: dict[tuple[bool, int], str] = {}
    for r in rows:
        if r.process is not None and r.pid is not None:
            known.setdefault((r.source in WINDOWS_FORMATS, r.pid), r.process)
    if not known and not names:
        return rows

    named = []
    for row in rows:
        pid = row.pid
        if row.process is None and pid is not None:
            windows = row.source in WINDOWS_FORMATS
            name = known.get((windows, pid)) or (names.get(pid) if windows else None)
            if name is not None:
                row = row._replace(process=name)
        named.append(row)
    return named
