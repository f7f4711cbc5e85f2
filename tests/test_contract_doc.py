"""docs/contract.md is the contract users read: it must name the record's fields in their order, every
state name, every exit code and every command that the code has."""

from __future__ import annotations

import re

from portcheck.cli import COMMAND_MODULES
from portcheck.core.model import FIELDS, ExitCode, State
from tests.conftest import ROOT

CONTRACT = (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = CONTRACT.index(f"## {title}\n")
    end = CONTRACT.find("\n## ", start + 1)
    return CONTRACT[start : end if end >= 0 else None]


def test_fields_in_contract_order() -> None:
    documented = re.findall(r"^\| `(\w+)` \|", _section("The record"), flags=re.MULTILINE)
    # Every field the code has, in its order; fields documented beyond them are the appended ones
    # (DESIGN.md "Adding fields"), which a record gains in exactly that order.
    assert documented[: len(FIELDS)] == list(FIELDS)
    assert (
        documented[len(FIELDS) :]
        == ["dual_stack", "cmdline", "started", "service", "container"][len(FIELDS) - 11 :]
    )


def test_every_state_name() -> None:
    section = _section("State names")
    assert set(re.findall(r"`([A-Z_0-9]+)`", section.split("and\n`UNKNOWN`")[0])) | {"UNKNOWN"} == {
        s.value for s in State
    }


def test_every_exit_code_and_command() -> None:
    codes = re.findall(r"^\| (\d) \|", _section("Exit codes"), flags=re.MULTILINE)
    assert [int(c) for c in codes] == [int(c) for c in ExitCode]
    commands = _section("Commands")
    for name in COMMAND_MODULES:
        assert f"`portcheck {name}" in commands or (name == "query" and "`portcheck query`" in commands)


def test_the_readme_points_at_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/contract.md" in readme
    assert "DESIGN.md" not in readme  # not in the repository: a reader could not follow the link
