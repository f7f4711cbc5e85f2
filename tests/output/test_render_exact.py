"""The fast renderers write exactly what the straightforward ones wrote: the JSON module's encoding of a
dict per row, the csv module fed str() of every cell, and tabulate's "simple" and "plain" tables."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st
from tabulate import tabulate

from portcheck.core.escape import escape_controls
from portcheck.core.model import FIELDS, Family, Proto, Socket, State
from portcheck.output.render import (
    _BOLD,
    _HEADERS,
    _RESET,
    _cell,
    _colour_state,
    _cut,
    neutralise_formula,
    owner_label,
    render,
    render_table,
)

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


@given(rows=st.lists(sockets(ANY_TEXT), max_size=8), fields=st.sampled_from([None, ("pid", "user", "proto")]))
def test_json_is_the_json_modules(rows: list[Socket], fields: tuple[str, ...] | None) -> None:
    encode = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
    records = [dict(zip(FIELDS, row)) for row in rows]
    if fields:
        records = [{f: r[f] for f in fields} for r in records]
    expected = "[\n  " + ",\n  ".join(map(encode, records)) + "\n]\n" if records else "[]\n"
    out = io.StringIO()
    render(rows, "json", out, fields=fields)
    assert out.getvalue() == expected
    out = io.StringIO()
    render(rows, "ndjson", out, fields=fields)
    assert out.getvalue() == "".join(encode(r) + "\n" for r in records)


def _csv_text(value: object) -> str:
    """A cell as the contract writes it: empty for null, `true`/`false` as JSON writes a bool."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise_formula(str(value))


@given(
    rows=st.lists(sockets(ANY_TEXT), max_size=8),
    fields=st.sampled_from([None, ("user",), ("pid", "process"), ("dual_stack", "cmdline", "service")]),
)
def test_csv_is_the_csv_modules(rows: list[Socket], fields: tuple[str, ...] | None) -> None:
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
