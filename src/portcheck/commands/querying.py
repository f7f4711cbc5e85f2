"""The work of `portcheck [PORT...]`, without typer: the typer command (commands/query.py) and cli.py's
fast path for a plain `portcheck PORT...` both run `answer_query`, so a port typed with no option
gets exactly what the command gives, without the ~39 ms of importing typer and click (Python 3.9)."""

from __future__ import annotations

from collections.abc import Sequence

from portcheck.commands import shared as opt
from portcheck.core.errors import UsageError, quote
from portcheck.core.filters import RowFilter
from portcheck.core.portspec import PortSpec
from portcheck.live.runner import DEFAULT_TIMEOUT
from portcheck.output.environment import environment
from portcheck.output.report import Reporter


def answer_query(
    ports: Sequence[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    sudo: bool = False,
    remote: bool = False,
    exposed: bool = False,
    exposure: bool = False,
    tcp: bool = False,
    udp: bool = False,
    ipv4: bool = False,
    ipv6: bool = False,
    listening: bool = False,
    state: Sequence[str] | None = None,
    pid: Sequence[int] | None = None,
    process: str | None = None,
    json_flag: bool = False,
    fmt: str | None = None,
    fields: str | None = None,
    no_header: bool = False,
    table_format: str = "simple",
    wide: bool = False,
    quiet: bool = False,
    no_hints: bool = False,
    verbose: bool = False,
    watch: float | None = None,
    host: Sequence[str] | None = None,
    hosts_file: str | None = None,
    parallel: int = opt.DEFAULT_PARALLEL,
    ssh_config: str | None = None,
    no_bind: bool = False,
) -> int:
    """The query's exit status (0 in use, 1 free) after writing its answer; the defaults are the typer
    command's (a test compares them)."""
    from portcheck.api.sockets import ask as ask_api, port_spec, selection
    from portcheck.live.query import Answer, local_executor

    reporter = Reporter(quiet=quiet or no_hints, verbose=verbose)
    spec = port_spec(ports) if ports else None
    opt.check_positive(timeout, "--timeout")
    opt.check_pids(pid)
    fleet = opt.HostOptions.build(host, hosts_file, parallel, ssh_config)
    if fleet.wanted:
        if sudo:
            raise UsageError("--sudo runs tools on this machine; with --host, log in as root (root@host)")
        if watch is not None:
            raise UsageError("--watch follows this machine only; it cannot be combined with --host")
        fields = opt.fields_without_host(fields)
    if quiet and watch is not None:
        raise UsageError("--watch draws a table and --quiet prints nothing: give one")
    output = opt.OutputOptions.build(
        json_flag=json_flag,
        fmt=fmt,
        fields=fields,
        no_header=no_header,
        table_format=table_format,
        quiet=quiet,
        wide=wide,
    )
    opt.check_exposure_column(exposure, output, fleet.wanted or watch is not None)
    row_filter = selection(
        ports=spec,
        remote=remote,
        tcp=tcp,
        udp=udp,
        ipv4=ipv4,
        ipv6=ipv6,
        listening=listening,
        states=state,
        pids=pid,
        process=process,
        exposed=exposed,
        live=True,
    )
    if fleet.wanted:
        from portcheck.commands.hosts import query_hosts
        from portcheck.fleet.fleet import Request

        request = Request(spec, timeout, row_filter)
        return query_hosts(fleet, request, output, reporter)
    # One executor for every look: with --watch --sudo, sudo's password is asked once, not per refresh.
    executor = local_executor(sudo, keep_password=watch is not None)

    def ask() -> Answer:
        return ask_api(spec, row_filter, sudo=sudo, timeout=timeout, executor=executor)

    if watch is not None:
        from portcheck.commands import watch as watching

        watching.check_interval(watch)
        watching.check_format(output)
        selected = ", ".join(selection_words(row_filter, default_listening=True))
        title = "portcheck " + (" ".join(ports) if ports else f"({selected or 'every listener'})")
        nothing = nothing_line(spec, row_filter)
        watching.watch(ask, watch, output=output, reporter=reporter, title=title, nothing=nothing)
    answer = ask()
    opt.report_answer(reporter, answer)
    opt.emit(answer.rows, output, exposure=exposure, images=answer.owners.image)
    from portcheck.commands.verdict import local_verdict

    shown = not quiet and (environment().stderr_isatty or verbose)
    said = nothing_line(spec, row_filter) if shown else None
    code = local_verdict(answer, spec, row_filter, reporter, bind=not no_bind, timeout=timeout, nothing=said)
    return code


def nothing_line(spec: PortSpec | None, row_filter: RowFilter) -> str:
    """`nothing uses port 8002`, or which selection found nothing (`nothing on port 8002 matches: udp`)."""
    narrowed = selection_words(row_filter, default_listening=spec is None)
    if spec is None:
        return f"no socket matches: {', '.join(narrowed)}" if narrowed else "no listening sockets"
    if narrowed:
        return f"nothing on port {spec} matches: {', '.join(narrowed)}"
    return f"nothing uses port {spec}"


def selection_words(row_filter: RowFilter, *, default_listening: bool = False) -> list[str]:
    """The options that narrowed the rows, as a person reads them (`udp`, `IPv6`, `PID 5`)."""
    words = sorted(p.value for p in row_filter.protos or ())
    words += sorted({"ipv4": "IPv4", "ipv6": "IPv6"}[f.value] for f in row_filter.families or ())
    if row_filter.listening and not default_listening:
        words.append("listening")
    words += sorted(str(s) for s in row_filter.states or ())
    words += [f"PID {p}" for p in sorted(row_filter.pids or ())]
    if row_filter.process is not None:
        words.append(f"process like {quote(row_filter.process)}")
    return words
