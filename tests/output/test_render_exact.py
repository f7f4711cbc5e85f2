"""The fast renderers write exactly what the straightforward ones wrote: the JSON module's encoding of a
dict per row, the csv module fed str() of every cell, and tabulate's "simple" and "plain" tables."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence

from hypothesis import given, strategies as st
from tabulate import tabulate

from portcheck.core.escape import escape_controls
from portcheck.core.model import FIELDS, Family, Proto, Socket, State
from portcheck.output.render import (
    _BOLD,
    _HEADERS,
    _RESET,
    Table,
    _cell,
    _colour_state,
    _cut,
    neutralise_formula,
    owner_label,
    render,
    render_table,
)

CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")

ASCII_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
ANY_TEXT = st.text(max_size=12)
PORTS = st.one_of(st.none(), st.integers(0, 65535))


def sockets(text: st.SearchStrategy[str]) -> st.SearchStrategy[Socket]:
    return st.builds(
        Socket,
        st.sampled_from(Proto),
        st.one_of(st.none(), st.sampled_from(Family)),
        st.one_of(text, st.sampled_from(["0.0.0.0", "::", "fe80::1%en0", "=1+2"])),
        PORTS,
        st.one_of(st.none(), text),
        PORTS,
        st.sampled_from(State),
        st.one_of(st.none(), st.integers(0, 2**32)),
        st.one_of(st.none(), text, st.sampled_from(["=HYPERLINK()", "+x", "-y", "@z", "nginx"])),
        st.one_of(st.none(), text),
        st.one_of(text, st.sampled_from(["ss", "lsof"])),
        st.one_of(st.none(), st.booleans()),  # dual_stack
        st.one_of(st.none(), text, st.sampled_from(["=cmd|' /C calc'!A0", "/usr/sbin/nginx -g daemon off;"])),
        st.one_of(st.none(), text, st.just("2026-12-04T16:46:39Z")),
        st.one_of(st.none(), text, st.sampled_from(["nginx.service", "RpcSs, Dnscache", "-x"])),
        st.one_of(st.none(), text),
    )


def tabulated(
    rows: list[Socket], columns: list[str], header: bool, style: str, colour: bool, labelled: bool = False
) -> str:
    """The table as tabulate draws it (what render_table did for every style); `labelled`: PROCESS shows
    the container or service beside the name (owner_label)."""
    body = [
        [escape_controls(owner_label(row)) if labelled and c == "process" else _cell(row, c) for c in columns]
        for row in rows
    ]
    caps = {c: max((len(line[i]) for line in body), default=0) for i, c in enumerate(columns)}
    cells = [[_cut(v, caps[c]) for v, c in zip(line, columns)] for line in body]
    if colour and "state" in columns:
        at = columns.index("state")
        for line in cells:
            line[at] = _colour_state(line[at])
    headers = [_HEADERS.get(c, c.upper()) for c in columns] if header else []
    shown = [f"{_BOLD}{h}{_RESET}" for h in headers] if colour else headers
    return str(tabulate(cells, headers=shown, tablefmt=style, disable_numparse=True)) + "\n"


@given(
    rows=st.lists(sockets(ASCII_TEXT), max_size=8),
    header=st.booleans(),
    plain=st.booleans(),
    colour=st.booleans(),
    fields=st.sampled_from(
        [
            None,
            ("state", "pid", "process"),
            ("user",),
            ("local", "remote"),
            ("local", "dual_stack", "service"),
        ]
    ),
)
def test_simple_and_plain_tables_are_tabulates(
    rows: list[Socket], header: bool, plain: bool, colour: bool, fields: tuple[str, ...] | None
) -> None:
    style = "plain" if plain or not header else "simple"
    out = io.StringIO()
    render_table(rows, out, fields=fields, header=header, table_format=style, colour=colour)
    labelled = not fields and any(r.container or r.service for r in rows)
    columns = list(fields) if fields else [
        c for c in ("proto", "local", "remote", "state", "pid", "process", "user")
        if c not in ("pid", "process", "user") or any(getattr(r, c) for r in rows)
        or (c == "process" and labelled)
    ]  # fmt: skip
    assert out.getvalue() == tabulated(rows, columns, header, style, colour, labelled)


RAW_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""What json.dumps leaves raw and portcheck writes as \\u escapes: DEL, C1, bidi controls."""


def json_module(record: object) -> str:
    encoded = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode(record)
    return RAW_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


@given(rows=st.lists(sockets(ANY_TEXT), max_size=8), fields=st.sampled_from([None, ("pid", "user", "proto")]))
def test_json_is_the_json_modules(rows: list[Socket], fields: tuple[str, ...] | None) -> None:
    """The json module's text, with DEL, C1 and bidi controls also escaped; it decodes to the exact
    values."""
    records = [dict(zip(FIELDS, row)) for row in rows]
    if fields:
        records = [{f: r[f] for f in fields} for r in records]
    expected = "[\n  " + ",\n  ".join(map(json_module, records)) + "\n]\n" if records else "[]\n"
    out = io.StringIO()
    render(rows, "json", out, fields=fields)
    assert out.getvalue() == expected
    assert json.loads(out.getvalue()) == records
    assert not RAW_IN_JSON.search(out.getvalue())
    out = io.StringIO()
    render(rows, "ndjson", out, fields=fields)
    assert out.getvalue() == "".join(json_module(r) + "\n" for r in records)
    assert [json.loads(line) for line in out.getvalue().splitlines()] == records


def _csv_text(value: object) -> str:
    """A cell as the contract writes it: empty for null, `true`/`false` as JSON writes a bool."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return file_cell(str(value))


@given(
    rows=st.lists(sockets(ANY_TEXT), max_size=8),
    fields=st.sampled_from([None, ("user",), ("pid", "process"), ("dual_stack", "cmdline", "service")]),
)
def test_csv_is_the_csv_modules(rows: list[Socket], fields: tuple[str, ...] | None) -> None:
    """The csv module's text of the cells as a file keeps them (exact but NUL, CR and LF, formulas
    guarded), the same on every Python 3.9-3.13 (3.10's csv module cannot write a NUL; 3.12.1's writes
    a lone CR unquoted)."""
    columns = list(fields or FIELDS)
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        record = dict(zip(FIELDS, row))
        writer.writerow([_csv_text(record[c]) for c in columns])
    out = io.StringIO()
    render(rows, "csv", out, fields=fields)
    assert out.getvalue() == expected.getvalue()
    assert all("\x00" not in cell for line in csv.reader(io.StringIO(out.getvalue())) for cell in line)


def file_cell(text: str) -> str:
    """What CSV to a file makes of a text cell, written out independently of render.py."""
    text = text.replace("\x00", "\\x00").replace("\r", "\\x0d").replace("\n", "\\x0a")
    return "'" + text if is_formula(text) else text


def is_formula(text: str) -> bool:
    """OWASP's formula starts, also behind blanks a spreadsheet skips (space, NBSP, ZWSP, BOM...)."""
    if text[:1] in ("\t", "\r"):
        return True
    at = 0
    while at < len(text) and (text[at].isspace() or text[at] in "\u200b\u200c\u200d\u2060\ufeff"):
        at += 1
    return text[at : at + 1] in ("=", "+", "-", "@")


@given(rows=st.lists(sockets(ANY_TEXT), max_size=8), hosts=st.booleans())
def test_csv_on_a_terminal_escapes_like_the_table(rows: list[Socket], hosts: bool) -> None:
    """Every cell of CSV on a terminal is the table's escaped text (no control or bidi character),
    formula-guarded."""
    shown: Sequence[Socket] | Table = Table(rows, hosts=[r.user or "" for r in rows]) if hosts else rows
    out = io.StringIO()
    render(shown, "csv", out, terminal=True)
    cells = [cell for line in list(csv.reader(io.StringIO(out.getvalue())))[1:] for cell in line]
    assert not [cell for cell in cells if CONTROL.search(cell)]
    assert not [cell for cell in cells if is_formula(cell)]
    for line, row in zip(list(csv.reader(io.StringIO(out.getvalue())))[1:], rows):
        process = line[FIELDS.index("process") + hosts]
        expected = "" if row.process is None else neutralise_formula(escape_controls(row.process))
        assert process == expected
