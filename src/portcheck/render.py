"""Rows to text: a table for people, JSON, NDJSON and CSV for scripts.

Everything a renderer prints may come from another program (process names, users, host names), so
tables escape control characters and CSV neutralises spreadsheet formulas. JSON keeps exact values:
its consumers are programs, and the JSON encoder escapes control characters itself.

A fleet query (`--host`) passes `hosts`, one name per row: every format then gains `host` as its first
field. Without it every format is exactly the single-machine one (a contract scripts rely on).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator, Sequence
from typing import TextIO

from portcheck.errors import UsageError
from portcheck.escape import escape_controls
from portcheck.model import FIELDS, Family, Socket, State

FORMATS = ("table", "json", "ndjson", "csv")
HOST_FIELD = "host"
"""The first field of every row in a fleet query: which machine the socket is on."""

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
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sort_rows(rows: Iterable[Socket]) -> list[Socket]:
    """Listeners first, then by local port, protocol, address: the order a person scans for an answer."""
    return sorted(
        rows,
        key=lambda r: (
            r.state is not State.LISTEN and r.remote_address is not None,
            r.local_port if r.local_port is not None else 65536,
            r.proto,
            r.local_address,
            r.remote_port or 0,
            r.pid or 0,
        ),
    )


def check_fields(fields: Sequence[str]) -> None:
    unknown = [f for f in fields if f not in FIELDS]
    if unknown:
        raise UsageError(f"unknown field {unknown[0]!r}; fields are: {', '.join(FIELDS)}")


def endpoint(address: str | None, port: int | None, family: Family | None) -> str:
    """`0.0.0.0:22`, `[::1]:631`, `*` for no peer, `host:?` when the source cut the port off."""
    if address is None and port is None:
        return "*"
    shown = address or "*"
    if ":" in shown or (family is Family.IPV6 and shown == "*"):
        shown = f"[{shown}]"
    return f"{shown}:{'?' if port is None else port}"


def _cell(row: Socket, column: str) -> str:
    # Addresses come from the same untrusted text as names (a host name, a pasted line): escaped too.
    if column == "local":
        return escape_controls(endpoint(row.local_address, row.local_port, row.family))
    if column == "remote":
        return escape_controls(endpoint(row.remote_address, row.remote_port, row.family))
    value = getattr(row, column)
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


def render_table(
    rows: Sequence[Socket],
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    table_format: str = "simple",
    width: int | None = None,
    colour: bool = False,
    hosts: Sequence[str] | None = None,
    marks: Sequence[str] | None = None,
) -> None:
    """A table for people. With `width` (a terminal's), long process and user cells are cut with an
    ellipsis until the table fits. `marks`: one short string per row for a first, headerless column
    (`--watch` marks new rows `+` and gone rows `-`)."""
    from tabulate import tabulate  # only tables pay for importing tabulate

    columns = (
        list(fields)
        if fields
        else [
            c
            for c in TABLE_COLUMNS
            if c not in ("pid", "process", "user") or any(getattr(r, c) for r in rows)
        ]
    )
    body = [[_cell(row, c) for c in columns] for row in rows]
    if hosts is not None:
        columns = [HOST_FIELD, *columns]
        body = [[escape_controls(host), *line] for host, line in zip(hosts, body, strict=True)]
    headers = [_HEADERS.get(c, c.upper()) for c in columns] if header else []
    if not header and table_format == "simple":
        table_format = "plain"  # "simple" draws its rules even with no header: bare rows are wanted
    caps = {c: max((len(line[i]) for line in body), default=0) for i, c in enumerate(columns)}

    def draw() -> str:
        cells = [[_cut(v, caps[c]) for v, c in zip(line, columns, strict=True)] for line in body]
        if colour and "state" in columns:
            at = columns.index("state")
            for line in cells:
                line[at] = _colour_state(line[at])
        shown = [f"{_BOLD}{h}{_RESET}" for h in headers] if colour else headers
        if marks is not None:
            cells = [[_colour_mark(m) if colour else m, *line] for m, line in zip(marks, cells, strict=True)]
            shown = ["", *shown] if shown else shown
        return str(tabulate(cells, headers=shown, tablefmt=table_format, disable_numparse=True))

    text = draw()
    if width is not None:
        for column in (c for c in _SHRINKABLE if c in columns):
            excess = _visible_width(text) - width
            if excess <= 0:
                break
            caps[column] = max(_MIN_WIDTH, caps[column] - excess)
            text = draw()
    out.write(text + "\n")


def _visible_width(text: str) -> int:
    import re

    plain = re.sub("\x1b\\[[0-9;]*m", "", text)
    return max((len(line) for line in plain.splitlines()), default=0)


def _record(row: Socket, fields: Sequence[str] | None) -> dict[str, object]:
    record: dict[str, object] = dict(zip(FIELDS, row, strict=True))
    return {f: record[f] for f in fields} if fields else record


def _json_lines(
    rows: Iterable[Socket], fields: Sequence[str] | None, hosts: Sequence[str] | None = None
) -> Iterator[str]:
    """One compact JSON object per row. The encoder object is built once: `json.dumps` per row costs
    half again as much, which shows on a 100,000-row paste."""
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    if hosts is not None:
        for host, row in zip(hosts, rows, strict=True):
            yield encode({HOST_FIELD: host, **_record(row, fields)})
    elif fields:
        for row in rows:
            yield encode(_record(row, fields))
    else:
        for row in rows:
            yield encode(dict(zip(FIELDS, row, strict=True)))


_BATCH = 2048
"""Rows per write: one `write` call per row costs more than encoding the row."""


def _write_batched(out: TextIO, pieces: Iterable[str]) -> None:
    batch: list[str] = []
    for piece in pieces:
        batch.append(piece)
        if len(batch) >= _BATCH:
            out.write("".join(batch))
            batch.clear()
    out.write("".join(batch))


def render_json(
    rows: Iterable[Socket],
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
) -> None:
    lines = _json_lines(rows, fields, hosts)
    first = next(lines, None)
    if first is None:
        out.write("[]\n")
        return
    out.write("[\n  " + first)
    _write_batched(out, (",\n  " + line for line in lines))
    out.write("\n]\n")


def render_ndjson(
    rows: Iterable[Socket],
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    hosts: Sequence[str] | None = None,
) -> None:
    _write_batched(out, (line + "\n" for line in _json_lines(rows, fields, hosts)))


def neutralise_formula(value: str) -> str:
    """Prefix `'` to a cell a spreadsheet would run as a formula (`=HYPERLINK(...)`, `+cmd|...`)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def render_csv(
    rows: Iterable[Socket],
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    hosts: Sequence[str] | None = None,
) -> None:
    columns = list(fields) if fields else list(FIELDS)
    indexes = [FIELDS.index(c) for c in columns]
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow([HOST_FIELD, *columns] if hosts is not None else columns)
    if hosts is not None:
        for host, row in zip(hosts, rows, strict=True):
            writer.writerow([neutralise_formula(host), *_csv_cells(row, indexes)])
        return
    for row in rows:
        writer.writerow(_csv_cells(row, indexes))


def _csv_cells(row: Socket, indexes: Sequence[int]) -> list[str]:
    return ["" if row[i] is None else neutralise_formula(str(row[i])) for i in indexes]


def render(
    rows: Sequence[Socket],
    fmt: str,
    out: TextIO,
    *,
    fields: Sequence[str] | None = None,
    header: bool = True,
    table_format: str = "simple",
    width: int | None = None,
    colour: bool = False,
    hosts: Sequence[str] | None = None,
) -> None:
    """`hosts`: one host name per row, shown as the first field (fleet queries only)."""
    if fields:
        check_fields(fields)
    if fmt == "table":
        render_table(
            rows,
            out,
            fields=fields,
            header=header,
            table_format=table_format,
            width=width,
            colour=colour,
            hosts=hosts,
        )
    elif fmt == "json":
        render_json(rows, out, fields=fields, hosts=hosts)
    elif fmt == "ndjson":
        render_ndjson(rows, out, fields=fields, hosts=hosts)
    elif fmt == "csv":
        render_csv(rows, out, fields=fields, header=header, hosts=hosts)
    else:
        raise UsageError(f"unknown output format {fmt!r}; choose one of: {', '.join(FORMATS)}")
