"""Rows to text: a table for people, JSON, NDJSON and CSV for scripts.

Everything a renderer prints may come from another program (process names, users, host names), so
tables escape control characters (and, in styles that draw `|` or box lines between cells, those
characters too); CSV neutralises spreadsheet formulas, and on a terminal escapes like the table; JSON
keeps exact values but writes every control character (C0, DEL, C1) and bidi control as `\\uXXXX`,
which decodes to the same text.

Renderers take plain rows, or a `Table`: rows with a host for each (a fleet query, `--host`: every
format then gains `host` as its first field) or a mark for each (`--watch`). Plain rows render exactly
as the single-machine contract says (scripts rely on it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from itertools import islice, repeat
from typing import TextIO

from portcheck.core.errors import UsageError
from portcheck.core.escape import escape_controls, escape_json_text
from portcheck.core.model import FIELDS, Family, Socket, State, as_record

FORMATS = ("table", "json", "ndjson", "csv")
HOST_FIELD = "host"
"""The first field of every row in a fleet query: which machine the socket is on."""


class Table:
    """Rows, in the order shown, with what goes before each of them. (A plain class: a dataclass would
    cost every `portcheck PORT` a few hundred microseconds to define.)"""

    __slots__ = ("after", "hosts", "images", "marks", "rows")

    def __init__(
        self,
        rows: Sequence[Socket],
        hosts: Sequence[str] | None = None,
        marks: Sequence[str] | None = None,
        after: Sequence[tuple[str, Sequence[str]]] = (),
        images: Sequence[str | None] | None = None,
    ) -> None:
        self.rows = rows
        self.hosts = hosts
        """One host name per row: a fleet query's first field, in every format."""
        self.marks = marks
        """One short string per row for a first, headerless table column: `--watch` marks new rows `+`
        and gone rows `-` (tables only)."""
        self.after = after
        self.images = images
        """One container image (or None) per row, for the table's `process → container (image)`."""
        """Columns that are no record field, after the others: (name, one cell per row), tables only
        (`--exposure`)."""


def as_table(rows: Sequence[Socket] | Table) -> Table:
    return rows if isinstance(rows, Table) else Table(rows)


TABLE_COLUMNS = ("proto", "local", "remote", "state", "pid", "process", "user")
"""The default table: addresses and ports joined as the native tools print them."""

_HEADERS = {
    "local": "LOCAL",
    "remote": "REMOTE",
    "local_address": "LOCAL ADDRESS",
    "local_port": "PORT",
    "remote_address": "REMOTE ADDRESS",
    "remote_port": "RPORT",
}
_FORMULA = re.compile("[\\s\u200b-\u200d\u2060\ufeff]*[=+\\-@]|[\t\r]")
"""A cell a spreadsheet would run: `= + - @` first, after any blanks it skips (whitespace, NBSP,
zero-width characters, a BOM), or a tab or CR first (OWASP's list)."""
_RISKY_FIRST = "=+-@ "
"""First characters that may start a formula in a printable cell (every other blank is not printable)."""
_CSV_BREAKS = re.compile("[\x00\r\n]")


def sort_rows(rows: Iterable[Socket]) -> list[Socket]:
    """Listeners first, then by local port, protocol, address: the order a person scans for an answer.

    The key's first three parts (listener or not, local port, protocol) are packed into one int: a
    100,000-row paste then sorts on keys whose first items almost always differ, which Python compares
    far faster than a tuple of six. The order is exactly the six-part order (ports are 0-65535, so the
    port-and-protocol part of a listener is always below that of any other row)."""
    listen = State.LISTEN
    return sorted(
        rows,
        key=lambda r: (
            (
                (0 if r.state is listen or r.remote_address is None else 1 << 18)
                | (r.local_port if r.local_port is not None else 65536) << 1
                | (r.proto != "tcp")
            ),
            r.local_address,
            r.remote_port or 0,
            r.pid or 0,
        ),
    )


def check_fields(fields: Sequence[str], *, table: bool = False) -> None:
    """Record fields only; a table also takes its joined LOCAL and REMOTE columns."""
    known = (*FIELDS, "local", "remote") if table else FIELDS
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")


_HEADER_FIELDS = {"port": "local_port", "rport": "remote_port"}
"""Header words of the table that are not a field's own name upper-cased (LOCAL ADDRESS is)."""


def resolve_fields(words: Sequence[str], *, table: bool) -> tuple[str, ...]:
    """`--fields` as people type it: the record's names, or the words the table's header shows, in any
    case, with `-` or a space for `_` (`PID`, `Local Address`, `local-port`, `RPORT`). LOCAL and REMOTE,
    the table's `address:port` columns, stay joined in a table and are their two fields elsewhere."""
    resolved: list[str] = []
    for word in words:
        key = "_".join(word.lower().replace("-", " ").split())
        name = _HEADER_FIELDS.get(key, key)
        if name in ("local", "remote"):
            resolved.extend([name] if table else [f"{name}_address", f"{name}_port"])
        elif name in FIELDS:
            resolved.append(name)
        else:
            raise UsageError(
                f"unknown field {word.strip()!r}; fields are: {', '.join(FIELDS)} (or the table's header "
                "words: LOCAL, REMOTE, PORT, RPORT, ...)"
            )
    return tuple(resolved)


def endpoint(
    address: str | None, port: int | None, family: Family | None, dual_stack: bool | None = None
) -> str:
    """`0.0.0.0:22`, `[::1]:631`, `*` for no peer, `host:?` when the source cut the port off, and `*:22`
    for an IPv6 wildcard that takes IPv4 too (dual-stack; a v6-only one stays `[::]:22`), as ss shows
    them."""
    if address is None and port is None:
        return "*"
    if dual_stack and address == "::":
        return f"*:{'?' if port is None else port}"
    shown = address or "*"
    if ":" in shown or (family is Family.IPV6 and shown == "*"):
        shown = f"[{shown}]"
    return f"{shown}:{'?' if port is None else port}"


def _cell(row: Socket, column: str) -> str:
    # Addresses come from the same untrusted text as names (a host name, a pasted line): escaped too.
    if column == "local":
        return escape_controls(endpoint(row.local_address, row.local_port, row.family, row.dual_stack))
    if column == "remote":
        return escape_controls(endpoint(row.remote_address, row.remote_port, row.family))
    value = getattr(row, column)
    if type(value) is bool:
        return _BOOLEAN_TEXT[value]
    return "" if value is None else escape_controls(str(value))


_SHRINKABLE = ("process", "user")
"""Columns that may be cut to fit a terminal, in the order they give up width. Addresses, ports and
states are never cut: an IPv6 address with its middle missing is worse than a wrapped line."""
_MIN_WIDTH = 8
_STATE_COLOURS = {
    State.LISTEN: "\x1b[32m",  # green: the answer people look for
    State.ESTABLISHED: "\x1b[36m",
    State.TIME_WAIT: "\x1b[2m",
    State.CLOSE_WAIT: "\x1b[33m",
    State.UNKNOWN: "\x1b[31m",
}
_BOLD, _RESET = "\x1b[1m", "\x1b[0m"


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 1)] + "…"


_MARK_COLOURS = {"+": "\x1b[32m", "-": "\x1b[31m"}


def _colour_mark(mark: str) -> str:
    colour = _MARK_COLOURS.get(mark)
    return f"{colour}{mark}{_RESET}" if colour else mark


def _colour_state(text: str) -> str:
    colour = _STATE_COLOURS.get(State(text)) if text in State.__members__ else None
    return f"{colour}{text}{_RESET}" if colour else text


ARROW = "→"


def owner_label(row: Socket, image: str | None = None) -> str:
    """The default table's PROCESS cell: the name, and who it really is when the record says so:
    `docker-proxy → pc-web (nginx:1.27)` (the container, and its image), `svchost.exe (Dnscache)`
    (the service)."""
    name = row.process or ""
    if row.container:
        shown = f"{row.container} ({image})" if image else row.container
        return f"{name} {ARROW} {shown}" if name else shown
    if row.service:
        return f"{name} ({row.service})" if name else row.service
    return name


def _columns(
    rows: Sequence[Socket], columns: Sequence[str], images: Sequence[str | None] | None = None
) -> list[list[str]]:
    """The cells `_cell` gives, a column at a time (a 100,000-row table is 700,000 cells). With
    `images` (the default table, when a row names a container or service) PROCESS is `owner_label`."""
    cells = []
    for column in columns:
        if column == "process" and images is not None:
            cells.append([escape_controls(owner_label(r, i)) for r, i in zip(rows, images)])
        elif column in ("local", "remote"):
            cells.append([_cell(r, column) for r in rows])
        else:
            at = FIELDS.index(column)
            cells.append(
                [
                    ""
                    if (value := row[at]) is None
                    else _BOOLEAN_TEXT[value]
                    if type(value) is bool
                    else (text if (text := str(value)).isprintable() else escape_controls(text))
                    for row in rows
                ]
            )
    return cells


def render_table(
    table: Sequence[Socket] | Table,
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    table_format: str = "simple",
    width: int | None = None,
    colour: bool = False,
    wide: bool = False,
) -> None:
    """A table for people. With `width` (a terminal's), long process and user cells are cut with an
    ellipsis until the table fits; `wide` adds the CMDLINE column and cuts nothing (`--wide`). A
    Table's hosts make a first HOST column (fleet queries); its marks a first, headerless one
    (`--watch`); its images go beside the containers PROCESS names.

    tabulate draws the table. For its two simplest styles on printable ASCII cells (the default
    `portcheck PORT` table) the same text is drawn here instead, because importing tabulate costs about
    18 ms, a fifth of a whole `portcheck PORT`; tests/output/test_render_exact.py holds the two
    byte-identical."""
    shown = as_table(table)
    rows, hosts, marks = shown.rows, shown.hosts, shown.marks
    columns = list(fields) if fields else default_columns(rows) + (["cmdline"] if wide else [])
    labelled = not fields and any(r.container or r.service for r in rows)
    images = (shown.images or [None] * len(rows)) if labelled else None
    body = _columns(rows, columns, images)
    if wide:
        width = None
    for name, cells in shown.after:
        columns = [*columns, name]
        body.append([escape_controls(cell) for cell in cells])
    if hosts is not None:
        columns = [HOST_FIELD, *columns]
        body = [[escape_controls(host) for host in hosts], *body]
    headers = [_HEADERS.get(c, c.upper()) for c in columns] if header else []
    drawn = "" if table_format in ("simple", "plain") else _cell_separators(table_format)
    if drawn:
        body = [[_escape_separators(v, drawn) for v in cells] for cells in body]
    if not header and table_format == "simple":
        table_format = "plain"  # "simple" draws its rules even with no header: bare rows are wanted
    widest = {c: max(map(len, cells), default=0) for c, cells in zip(columns, body)}
    caps = dict(widest)
    layout = None if marks is not None else _plain_layout(table_format, headers, body)
    state_at = columns.index("state") if colour and "state" in columns else None

    def draw() -> str:
        cut = [
            cells if caps[c] >= widest[c] else [_cut(v, caps[c]) for v in cells]
            for c, cells in zip(columns, body)
        ]
        if layout is not None:
            return _draw_plain(cut, headers, layout, state_at, colour)
        from tabulate import tabulate

        lines = [list(line) for line in zip(*cut)]
        if state_at is not None:
            for line in lines:
                line[state_at] = _colour_state(line[state_at])
        shown = [f"{_BOLD}{h}{_RESET}" for h in headers] if colour else headers
        if marks is not None:
            lines = [[_colour_mark(m) if colour else m, *line] for m, line in zip(marks, lines)]
            shown = ["", *shown] if shown else shown
        return str(tabulate(lines, headers=shown, tablefmt=table_format, disable_numparse=True))

    text = draw()
    if width is not None:
        for column in (c for c in _SHRINKABLE if c in columns):
            excess = visible_width(text) - width
            if excess <= 0:
                break
            caps[column] = max(_MIN_WIDTH, caps[column] - excess)
            text = draw()
    out.write(text + "\n")


@cache
def _cell_separators(table_format: str) -> str:
    """The characters a tabulate style draws between the cells of a row: `|` (github, pipe, psql,
    grid, jira, orgtbl, presto, pretty, textile, mediawiki...) or a box-drawing line (fancy_grid,
    rounded_grid...), found by drawing a probe row. A cell holding one would look like, or in
    Markdown be, one more column."""
    from tabulate import tabulate

    probe = str(tabulate([["a", "b"]], tablefmt=table_format)).splitlines()
    row = next((line for line in probe if "a" in line and "b" in line), "")
    return "".join(sorted({c for c in row if c == "|" or "\u2500" <= c <= "\u257f"}))


def _escape_separators(cell: str, drawn: str) -> str:
    """`\\|` for a `|` in a cell (Markdown's own escape: the cell stays one cell), the same
    backslash before a box-drawing separator."""
    for separator in drawn:
        if separator in cell:
            cell = cell.replace(separator, "\\" + separator)
    return cell


def default_columns(rows: Sequence[Socket]) -> list[str]:
    """TABLE_COLUMNS without the owner columns no row fills (a paste without PIDs). PROCESS stays when a
    row names a service or container: it shows them (owner_label)."""
    return [
        c
        for c in TABLE_COLUMNS
        if c not in ("pid", "process", "user")
        or any(getattr(r, c) or (c == "process" and (r.service or r.container)) for r in rows)
    ]


_HEADER_PADDING = 2
"""tabulate's MIN_PADDING: a column is at least two wider than its header."""


def _plain_layout(table_format: str, headers: list[str], body: list[list[str]]) -> bool | None:
    """Whether a rule goes under the header (True for "simple", False for "plain") when this table can
    be drawn without tabulate, exactly as tabulate draws it; None when it cannot. tabulate measures
    cells with wcwidth when that is installed, which differs from len() only beyond ASCII (an ellipsis
    that `_cut` adds is one column wide either way), and gives a cell with a line break or an escape
    sequence (an address is not escaped) special treatment: such tables are left to it."""
    if table_format == "simple" and headers:
        rule = True
    elif table_format == "plain":
        rule = False
    else:
        return None
    texts = ["".join(cells).replace(ARROW, "") for cells in body]  # one column wide, as in wcwidth
    if all(text.isascii() and text.isprintable() for text in texts):
        return rule
    return None


def _draw_plain(
    body: list[list[str]], headers: list[str], rule: bool, state_at: int | None, colour: bool
) -> str:
    """tabulate's "simple" and "plain" styles for ASCII cells (given a column at a time): columns
    left-aligned, two spaces apart, cells stripped of surrounding blanks, every line stripped of
    trailing ones, a column at least two wider than its header, and `-` rules under the header
    ("simple"). Colour codes take no width."""
    stripped = [list(map(str.strip, cells)) for cells in body]
    minimum = [len(h) + _HEADER_PADDING for h in headers] if headers else [0] * len(body)
    widths = [max(max(map(len, cells), default=0), least) for cells, least in zip(stripped, minimum)]
    padded = [list(map(str.ljust, cells, repeat(w))) for cells, w in zip(stripped, widths)]
    if state_at is not None:
        w = widths[state_at]
        padded[state_at] = [_colour_state(state) + " " * (w - len(state)) for state in stripped[state_at]]
    lines = []
    if headers:
        if colour:
            shown = [f"{_BOLD}{h}{_RESET}" + " " * (w - len(h)) for h, w in zip(headers, widths)]
        else:
            shown = [h.ljust(w) for h, w in zip(headers, widths)]
        lines.append("  ".join(shown).rstrip())
        if rule:
            lines.append("  ".join("-" * w for w in widths).rstrip())
    lines += map(str.rstrip, map("  ".join, zip(*padded)))
    return "\n".join(lines)


_COLOUR_CODE = "\x1b\\[[0-9;]*m"


def visible_width(text: str) -> int:
    plain = re.sub(_COLOUR_CODE, "", text)
    return max((len(line) for line in plain.splitlines()), default=0)


def cut_line(line: str, width: int) -> str:
    """A line no wider than `width` columns on the screen, its end replaced by `…` when it had to be
    cut; colour codes take no width and are kept (a cut inside a coloured cell ends the colour)."""
    if visible_width(line) <= width:
        return line
    import re

    kept: list[str] = []
    room = max(width - 1, 0)
    for piece in re.split(f"({_COLOUR_CODE})", line):
        if piece.startswith("\x1b["):
            kept.append(piece)
        elif room > 0:
            kept.append(piece[:room])
            room -= min(len(piece), room)
    return "".join(kept) + ("…" if width > 0 else "") + (_RESET if "\x1b[" in line else "")


def _json_lines(table: Sequence[Socket] | Table, fields: Sequence[str] | None) -> Iterator[str]:
    """One compact JSON object per row, exactly as `json.JSONEncoder(ensure_ascii=False)` writes it."""
    shown = as_table(table)
    rows, hosts = shown.rows, shown.hosts
    if fields or hosts is not None:
        import json

        encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
        if hosts is not None:
            for host, row in zip(hosts, rows):
                yield encode({HOST_FIELD: host, **as_record(row, fields)})
            return
        for row in rows:
            yield encode(as_record(row, fields))
        return
    yield from _json_records(rows)


def _json_records(rows: Iterable[Socket]) -> Iterator[str]:
    """Whole records written by one f-string per row, with the JSON module's own C string quoting:
    six times faster than encoding a dict per row, which is most of a 100,000-row `--json`. The field
    types are the record's contract (str, int or None; the enums are str), so only strings need
    quoting and `null` standing in for None."""
    try:
        from _json import encode_basestring as q  # what json.encoder uses, without importing json
    except ImportError:  # an interpreter without the C accelerator
        from json.encoder import encode_basestring as q

    boolean = {None: "null", True: "true", False: "false"}
    for (
        proto, family, local, port, remote, rport, state, pid, process, user, source,
        dual_stack, cmdline, started, service, container,
    ) in rows:  # fmt: skip
        yield (
            f'{{"proto": {q(proto)}, "family": {"null" if family is None else q(family)}, '
            f'"local_address": {"null" if local is None else q(local)}, '
            f'"local_port": {"null" if port is None else port}, '
            f'"remote_address": {"null" if remote is None else q(remote)}, '
            f'"remote_port": {"null" if rport is None else rport}, "state": {q(state)}, '
            f'"pid": {"null" if pid is None else pid}, '
            f'"process": {"null" if process is None else q(process)}, '
            f'"user": {"null" if user is None else q(user)}, "source": {q(source)}, '
            f'"dual_stack": {boolean[dual_stack]}, '
            f'"cmdline": {"null" if cmdline is None else q(cmdline)}, '
            f'"started": {"null" if started is None else q(started)}, '
            f'"service": {"null" if service is None else q(service)}, '
            f'"container": {"null" if container is None else q(container)}}}'
        )


_BATCH = 2048
"""Rows per write: one `write` call per row costs more than encoding the row."""


def _batches(pieces: Iterable[str]) -> Iterator[list[str]]:
    rest = iter(pieces)
    batch = list(islice(rest, _BATCH))
    while batch:
        yield batch
        batch = list(islice(rest, _BATCH))


def render_json(rows: Sequence[Socket] | Table, out: TextIO, *, fields: Sequence[str] | None = None) -> None:
    """Each batch of rows joined and escaped (escape_json_text) at once: escaping the joined text is
    escaping each row, since the separators hold nothing it changes, and once per batch costs nothing
    beside once per row."""
    start = "[\n  "
    for batch in _batches(_json_lines(rows, fields)):
        out.write(escape_json_text(start + ",\n  ".join(batch)))
        start = ",\n  "
    out.write("[]\n" if start == "[\n  " else "\n]\n")


def render_ndjson(
    rows: Sequence[Socket] | Table, out: TextIO, *, fields: Sequence[str] | None = None
) -> None:
    for batch in _batches(_json_lines(rows, fields)):
        out.write(escape_json_text("\n".join(batch) + "\n"))


def neutralise_formula(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+cmd|...`), also
    when blanks a spreadsheet skips (spaces, NBSP, zero-width space, BOM) come before the `=`."""
    return "'" + value if _FORMULA.match(value) else value


def csv_text(value: str) -> str:
    """A free-text cell as CSV to a file or pipe writes it: the exact characters (C1 and ESC
    included: a program reading the file gets the data), except NUL, CR and LF, written `\\x00`,
    `\\x0d`, `\\x0a` (no CSV reader keeps a NUL, Python 3.9-3.10's csv module cannot write one, and
    3.12's writes a lone CR unquoted, which starts a new row), and the formula guard."""
    if not value.isprintable():
        value = _CSV_BREAKS.sub(_hex_escape, value)
    return neutralise_formula(value)


def csv_text_on_terminal(value: str) -> str:
    """A cell of CSV shown on a terminal: escaped like the table's (escape sequences, C1, bidi), then
    the formula guard (the text may be copied into a spreadsheet from there)."""
    return neutralise_formula(escape_controls(value))


def _hex_escape(match: re.Match[str]) -> str:
    return f"\\x{ord(match.group()):02x}"


def render_csv(
    table: Sequence[Socket] | Table,
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    terminal: bool = False,
) -> None:
    """CSV; `terminal` when `out` is one (see csv_text_on_terminal), else exact (see csv_text)."""
    import csv

    shown = as_table(table)
    rows, hosts = shown.rows, shown.hosts
    columns = list(fields) if fields else list(FIELDS)
    indexes = [FIELDS.index(c) for c in columns]
    text = csv_text_on_terminal if terminal else csv_text
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow([HOST_FIELD, *columns] if hosts is not None else columns)
    cells = _csv_cells(rows, indexes, text)
    if hosts is not None:
        writer.writerows([text(host), *line] for host, line in zip(hosts, cells))
        return
    writer.writerows(cells)


_BOOLEAN_TEXT = {True: "true", False: "false"}
"""dual_stack in CSV and tables as JSON writes it (str() would give `True`)."""


def _csv_cells(
    rows: Iterable[Socket], indexes: list[int], text: Callable[[str], str]
) -> Iterator[Sequence[object]]:
    """Each row's cells through `text`, None as an empty cell; the csv module writes ints and the
    (str) enums as text itself. Ports and PIDs are non-negative ints, which no spreadsheet reads as a
    formula, and enum values are fixed words: only the free-text fields are checked. For a file, a
    printable cell that starts with none of `=+-@ ` is left as it is without a call (most cells:
    the free-text fields of a 100,000-row CSV)."""
    if indexes != list(range(len(FIELDS))) or text is not csv_text:
        for row in rows:
            yield [
                ""
                if (value := row[i]) is None
                else value
                if type(value) is int and value >= 0
                else _BOOLEAN_TEXT[value]
                if type(value) is bool
                else text(str(value))
                for i in indexes
            ]
        return
    risky = _RISKY_FIRST
    for (
        proto, family, local, port, remote, rport, state, pid, process, user, source,
        dual_stack, cmdline, started, service, container,
    ) in rows:  # fmt: skip
        yield (
            proto,
            "" if family is None else family,
            local if local.isprintable() and local[:1] not in risky else text(local),
            "" if port is None else port,
            ""
            if remote is None
            else remote
            if remote.isprintable() and remote[:1] not in risky
            else text(remote),
            "" if rport is None else rport,
            state,
            "" if pid is None else pid,
            ""
            if process is None
            else process
            if process.isprintable() and process[:1] not in risky
            else text(process),
            "" if user is None else user if user.isprintable() and user[:1] not in risky else text(user),
            source if source.isprintable() and source[:1] not in risky else text(source),
            "" if dual_stack is None else _BOOLEAN_TEXT[dual_stack],
            ""
            if cmdline is None
            else cmdline
            if cmdline.isprintable() and cmdline[:1] not in risky
            else text(cmdline),
            ""
            if started is None
            else started
            if started.isprintable() and started[:1] not in risky
            else text(started),
            ""
            if service is None
            else service
            if service.isprintable() and service[:1] not in risky
            else text(service),
            ""
            if container is None
            else container
            if container.isprintable() and container[:1] not in risky
            else text(container),
        )


def render(
    rows: Sequence[Socket] | Table,
    fmt: str,
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    table_format: str = "simple",
    width: int | None = None,
    colour: bool = False,
    wide: bool = False,
    terminal: bool = False,
) -> None:
    """Rows in one of FORMATS; a Table's hosts become every format's first field (see Table).
    `terminal`: `out` is a terminal (CSV then escapes like the table)."""
    if fields:
        check_fields(fields, table=fmt == "table")
    if fmt == "table":
        render_table(
            rows,
            out,
            fields=fields,
            header=header,
            table_format=table_format,
            width=width,
            colour=colour,
            wide=wide,
        )
    elif fmt == "json":
        render_json(rows, out, fields=fields)
    elif fmt == "ndjson":
        render_ndjson(rows, out, fields=fields)
    elif fmt == "csv":
        render_csv(rows, out, fields=fields, header=header, terminal=terminal)
    else:
        raise UsageError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
