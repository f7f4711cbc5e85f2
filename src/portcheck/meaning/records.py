"""The shape of `portcheck info --json`, as types: what `portcheck.meaning()` returns is exactly that
object (the same function builds both), so a script gets the README's keys with a type checker's
help. Socket records inside `in_use` are plain dicts with the record's field names."""

# No `from __future__ import annotations`: the types stay real objects for a user's get_type_hints
# (or pydantic) on Python 3.9, where `str | None` could not be evaluated.

from typing import Optional, TypedDict


class IanaRangeRecord(TypedDict):
    name: str
    """system, user or dynamic"""
    also_called: list[str]
    first: int
    last: int


class ServiceRecord(TypedDict):
    name: str
    protocols: list[str]
    first_port: int
    last_port: int
    description: str


class KnownUseRecord(TypedDict):
    protocols: list[str]
    first_port: int
    last_port: int
    text: str


class _RangeFields(TypedDict):
    protocols: list[str]
    first: int
    last: int


class RangeRecord(_RangeFields, total=False):
    administered: bool
    """Only on Windows' excluded ranges: added by an administrator (`*`)."""
    source: str


class SystemRecord(TypedDict):
    os: Optional[str]
    ephemeral: list[RangeRecord]
    reserved: list[RangeRecord]
    excluded: list[RangeRecord]
    in_ephemeral_range: dict[str, Optional[bool]]
    in_reserved_ports: dict[str, Optional[bool]]
    in_excluded_range: dict[str, Optional[bool]]
    errors: list[str]


class InUseRecord(TypedDict):
    tool: str
    rows: list[dict[str, object]]


class MeaningRecord(TypedDict):
    port: int
    iana_range: IanaRangeRecord
    services: list[ServiceRecord]
    known_uses: list[KnownUseRecord]


class MachineRecord(TypedDict):
    system: SystemRecord
    in_use: Optional[InUseRecord]
    in_use_error: Optional[str]


class PortReport(MeaningRecord, MachineRecord):
    """`portcheck info PORT --json`: the meaning's keys, then the machine's."""
