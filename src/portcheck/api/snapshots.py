"""The inputs of `portcheck diff`: saved portcheck output (JSON, NDJSON or CSV; one machine or a
fleet's, with `host` first) or pasted native output (read as `portcheck parse` reads it), told apart
by their first bytes, each turned back into records grouped by host.

Saved records are checked field by field: a file that is not portcheck's output is refused with
the record and the field that is wrong (exit 2), never half-read. Fields this version does not know
(added by a newer portcheck) are ignored; fields an older portcheck did not write are null.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from portcheck.core.errors import ParseError, UsageError
from portcheck.core.model import FIELDS, Family, Proto, Socket, State

MAX_INPUT_BYTES = 64 << 20
"""Each input is read whole: 64 MiB is about 250,000 saved records, far beyond any machine's listeners
(a larger file is refused, exit 2)."""
HOST = "host"


@dataclass
class Snapshot:
    """Sockets at one moment: `by_host[None]` for one machine, one entry per host for a fleet."""

    label: str
    by_host: dict[str | None, list[Socket]] = field(default_factory=dict)
    kind: str = "json"
    """How it was read: json, ndjson, csv, a native format's name, or live."""

    @property
    def fleet(self) -> bool:
        return None not in self.by_host


def _bad(label: str, where: str, why: str) -> UsageError:
    return UsageError(f"{label}: {where}: {why}")


def _optional(value: object, kind: type, label: str, where: str, name: str) -> object:
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise _bad(label, where, f"{name} must be {kind.__name__} or null, not {json.dumps(value)[:40]}")


def socket_from_record(record: Mapping[str, object], label: str, where: str) -> Socket:
    """One saved record back into a Socket, or a UsageError naming the record and the field."""
    proto = record.get("proto")
    if proto not in ("tcp", "udp"):
        raise _bad(label, where, "proto must be tcp or udp (is this portcheck's --json output?)")
    state = record.get("state")
    if not isinstance(state, str) or state not in State.__members__:
        raise _bad(label, where, f"unknown state {json.dumps(state)[:40]}")
    family = record.get("family")
    if family not in (None, "ipv4", "ipv6"):
        raise _bad(label, where, "family must be ipv4, ipv6 or null")
    local = record.get("local_address")
    if not isinstance(local, str):
        raise _bad(label, where, "local_address must be a string")
    values: dict[str, object] = {
        "proto": Proto(proto),
        "family": Family(family) if isinstance(family, str) else None,
        "local_address": local,
        "state": State(state),
        "source": record.get("source") if isinstance(record.get("source"), str) else "json",
    }
    for name in ("local_port", "remote_port", "pid"):
        value = _optional(record.get(name), int, label, where, name)
        if isinstance(value, int) and not 0 <= value <= (65535 if name != "pid" else 1 << 62):
            raise _bad(label, where, f"{name} {value} is out of range")
        values[name] = value
    for name in ("remote_address", "process", "user"):
        values[name] = _optional(record.get(name), str, label, where, name)
    for name in FIELDS[11:]:  # fields added after `source`: kept as saved when their type is plain
        value = record.get(name)
        values[name] = value if isinstance(value, (str, bool, int)) or value is None else None
    return Socket(**values)  # type: ignore[arg-type]


def _records(data: str, label: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    """(where, record) from a JSON array or NDJSON text."""
    try:
        document = json.loads(data)
    except json.JSONDecodeError:
        for number, line in enumerate(data.splitlines(), 1):  # NDJSON: one record per line
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as error:
                raise _bad(label, f"line {number}", f"not JSON: {error.msg}") from None
            yield f"line {number}", _object(item, label, f"line {number}")
        return
    if isinstance(document, dict):
        document = [document]
    if not isinstance(document, list):
        raise _bad(label, "top level", "expected a JSON array of records (portcheck --json)")
    for number, item in enumerate(document, 1):
        yield f"record {number}", _object(item, label, f"record {number}")


def _object(item: object, label: str, where: str) -> Mapping[str, object]:
    if not isinstance(item, dict):
        raise _bad(label, where, "expected an object with the record's fields")
    return item


def _csv_records(data: str, label: str) -> Iterator[tuple[str, Mapping[str, object]]]:
    import csv

    reader = csv.DictReader(io.StringIO(data))
    for number, row in enumerate(reader, 2):
        record: dict[str, object] = {}
        for name, text in row.items():
            if name is None:
                raise _bad(label, f"line {number}", "more cells than header fields")
            record[name] = _csv_value(name, text)
        yield f"line {number}", record


def _csv_value(name: str, text: str | None) -> object:
    """CSV has only text: empty is null, numbers are numbers, and the `'` that neutralised a formula
    is taken off again."""
    if not text:
        return None
    if name in ("local_port", "remote_port", "pid") and text.isdecimal():
        return int(text)
    if name == "dual_stack" and text in ("True", "False", "true", "false"):
        return text.lower() == "true"
    if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r"):
        return text[1:]
    return text


def _group(records: Iterable[tuple[str, Mapping[str, object]]], label: str, kind: str) -> Snapshot:
    snapshot = Snapshot(label, kind=kind)
    fleet: bool | None = None
    for where, record in records:
        has_host = HOST in record
        if fleet is None:
            fleet = has_host
        elif fleet != has_host:
            raise _bad(label, where, "some records have a host and some do not")
        host = record.get(HOST)
        if has_host and not isinstance(host, str):
            raise _bad(label, where, "host must be a string")
        key = host if isinstance(host, str) else None
        snapshot.by_host.setdefault(key, []).append(socket_from_record(record, label, where))
    if fleet is None:
        snapshot.by_host[None] = []
    return snapshot


def read_snapshot(data: bytes, label: str) -> Snapshot:
    """Saved portcheck output or pasted native output, recognised by its start."""
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{label}: more than {MAX_INPUT_BYTES >> 20} MiB: not a listing of listeners")
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:1] in (b"[", b"{") or head.startswith((b"proto,", b"host,proto,")):
        text = data.decode("utf-8-sig", "replace")
        if head[:1] == b"[" or head[:1] == b"{":
            kind = "json" if head[:1] == b"[" else "ndjson"
            return _group(_records(text, label), label, kind)
        return _group(_csv_records(text, label), label, "csv")
    from portcheck.api.sockets import read_input

    try:
        parsed = read_input(io.BytesIO(data))
    except ParseError as error:
        raise UsageError(error.describe(label)) from error
    if parsed.format is None:
        raise UsageError(f"{label}: empty: nothing to compare")
    return Snapshot(label, {None: list(parsed.rows)}, kind=parsed.format)


def read_file(name: str) -> Snapshot:
    """A file, or `-` for stdin."""
    import sys

    label = "<stdin>" if name == "-" else name
    try:
        if name == "-":
            if sys.stdin is None:
                raise UsageError("standard input is closed: give a file name")
            data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
        else:
            with open(name, "rb") as handle:
                data = handle.read(MAX_INPUT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{name}: is a directory") from None
    except OSError as error:
        raise UsageError(f"{label}: cannot read: {error.strerror or error}") from None
    return read_snapshot(data, label)
