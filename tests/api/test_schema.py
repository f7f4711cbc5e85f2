"""docs/schema: the record's JSON Schema (draft 2020-12) and its fleet variant, checked against every
output format: JSON, NDJSON and CSV (cells converted back to types as `portcheck diff` reads them),
of every parser's fixtures, of the live query and of a fleet query through the ssh lab."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import portcheck
from portcheck.api.snapshots import _csv_value
from portcheck.core.errors import PortcheckError
from portcheck.core.model import FIELDS
from portcheck.output.render import Table, render_csv, render_json, render_ndjson
from tests.conftest import FIXTURES, ROOT, run_cli
from tests.helpers.cli import listener
from tests.helpers.sshd import Lab, fleet

jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

SCHEMAS = ROOT / "docs" / "schema"
APPENDED_BY_ISSUE_16 = ("dual_stack", "cmdline", "started", "service", "container")
"""DESIGN.md's fields added after `source`, in order; the record gains them with issue 16's work."""


def load(name: str) -> dict[str, Any]:
    schema = json.loads((SCHEMAS / name).read_text())
    assert isinstance(schema, dict)
    return schema


def validator(name: str) -> Any:
    """A validator that requires the fields this record has: all of the schema's once issue 16's
    fields are in the record (test_the_record_has_every_field_of_the_schema says when)."""
    socket_schema = load("socket.json")
    socket_schema["required"] = [f for f in socket_schema["required"] if f in FIELDS]
    registry = referencing.Registry().with_resource(
        socket_schema["$id"], referencing.Resource.from_contents(socket_schema)
    )
    schema = socket_schema if name == "socket.json" else load(name)
    return jsonschema.Draft202012Validator(schema, registry=registry)


def test_the_schemas_are_valid_draft_2020_12() -> None:
    for name in ("socket.json", "socket-fleet.json"):
        schema = load(name)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)


def test_the_schema_lists_every_field_in_contract_order() -> None:
    schema = load("socket.json")
    properties = list(schema["properties"])
    assert properties[: len(FIELDS)] == list(FIELDS)
    assert properties == [*FIELDS, *(f for f in APPENDED_BY_ISSUE_16 if f not in FIELDS)]
    assert schema["required"] == properties
    assert schema["additionalProperties"] is True  # a newer portcheck's fields must not break old readers


@pytest.mark.xfail(
    not set(APPENDED_BY_ISSUE_16) <= set(FIELDS),
    reason="issue 16 appends dual_stack, cmdline, started, service, container to the record",
    strict=True,
)
def test_the_record_has_every_field_of_the_schema() -> None:
    assert list(FIELDS) == list(load("socket.json")["properties"])


def test_a_wrong_record_fails() -> None:
    """The validation below can fail: these are not records."""
    check = validator("socket.json")
    good = dict(zip(FIELDS, portcheck.parse("tcp LISTEN 0 5 127.0.0.1:80 0.0.0.0:*\n")[0]))
    assert check.is_valid(good)
    for change in ({"proto": "sctp"}, {"local_port": 70000}, {"state": "listen"}, {"pid": "12"}, {"user": 0}):
        assert not check.is_valid({**good, **change}), change
    assert not check.is_valid({k: v for k, v in good.items() if k != "state"})
    assert check.is_valid({**good, "added_by_a_newer_portcheck": 1})
    fleet_check = validator("socket-fleet.json")
    assert fleet_check.is_valid({"host": "web1", **good})
    assert not fleet_check.is_valid(good) and not fleet_check.is_valid({"host": "web1", **good, "proto": "x"})


# --- every output format ---------------------------------------------------------------------------------


def fixture_rows() -> Iterator[tuple[str, list[portcheck.Socket]]]:
    for path in sorted(FIXTURES.glob("*/*.txt")):
        if path.parent.name in ("bad", "live"):
            continue
        try:
            rows = list(portcheck.parse(path.read_bytes()))
        except PortcheckError:
            continue
        if rows:
            yield path.relative_to(FIXTURES).as_posix(), rows


def records_of(fmt: str, table: list[portcheck.Socket] | Table) -> list[dict[str, Any]]:
    out = io.StringIO()
    if fmt == "json":
        render_json(table, out)
        return json.loads(out.getvalue())  # type: ignore[no-any-return]
    if fmt == "ndjson":
        render_ndjson(table, out)
        return [json.loads(line) for line in out.getvalue().splitlines()]
    render_csv(table, out)
    return [
        {k: _csv_value(k, v) for k, v in row.items()} for row in csv.DictReader(io.StringIO(out.getvalue()))
    ]


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_every_fixture_in_every_format_is_valid(fmt: str) -> None:
    check = validator("socket.json")
    seen = 0
    for name, rows in fixture_rows():
        for record in records_of(fmt, rows):
            errors = [e.message for e in check.iter_errors(record)]
            assert errors == [], (name, record)
            assert list(record) == list(FIELDS)
            seen += 1
    assert seen > 200


@pytest.mark.parametrize("fmt", ["json", "ndjson", "csv"])
def test_fleet_tables_in_every_format_are_valid(fmt: str) -> None:
    check = validator("socket-fleet.json")
    _, rows = next(fixture_rows())
    for record in records_of(fmt, Table(rows, hosts=["web1"] * len(rows))):
        assert [e.message for e in check.iter_errors(record)] == []
        assert list(record) == ["host", *FIELDS]


def test_the_live_query_in_every_format_is_valid() -> None:
    check = validator("socket.json")
    with listener("pc-schema") as child:
        outputs = {fmt: run_cli(str(child.port), "--format", fmt).stdout for fmt in ("json", "ndjson", "csv")}
    records = json.loads(outputs["json"]) + [json.loads(line) for line in outputs["ndjson"].splitlines()]
    records += [
        {k: _csv_value(k, v) for k, v in r.items()} for r in csv.DictReader(io.StringIO(outputs["csv"]))
    ]
    assert len(records) == 3 and all(r["pid"] == child.pid for r in records)
    for record in records:
        assert [e.message for e in check.iter_errors(record)] == []


def test_a_fleet_query_is_valid_with_host_first(lab: Lab) -> None:
    check = validator("socket-fleet.json")
    with listener("pc-schema-fleet") as child:
        result = fleet(lab, str(child.port), "--host", "srv0", "--host", "srv1", "--json", "--timeout", "20")
    records = json.loads(result.stdout)
    assert [r["host"] for r in records] == ["srv0", "srv1"]
    for record in records:
        assert list(record)[:2] == ["host", "proto"]
        assert [e.message for e in check.iter_errors(record)] == []


def test_schema_files_are_json_with_a_newline(tmp_path: Path) -> None:
    for path in SCHEMAS.glob("*.json"):
        text = path.read_text()
        assert text.endswith("}\n") and json.loads(text)
