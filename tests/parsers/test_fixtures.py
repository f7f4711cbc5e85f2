"""Every recorded fixture parses to exactly the rows written beside it.

tests/fixtures/<platform>/<name>.txt is recorded native output (in whatever encoding a user would send
it); <name>.json holds the expected rows, either as a list or as {"args": [...], "rows": [...]} when
the case needs options such as --from. The check runs the real CLI (`portcheck parse FILE --json`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

CASES = sorted(p for p in FIXTURES.glob("*/*.json") if p.with_suffix(".txt").exists())


def _expected(path: Path) -> tuple[list[str], list[dict[str, object]], int]:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return [], data, 0 if data else 1
    rows = data["rows"]
    return data.get("args", []), rows, data.get("exit", 0 if rows else 1)


def _key(row: dict[str, object]) -> str:
    return json.dumps(row, sort_keys=True)


@pytest.mark.parametrize("expected_path", CASES, ids=[f"{p.parent.name}/{p.stem}" for p in CASES])
def test_fixture_parses_to_expected_rows(expected_path: Path) -> None:
    args, rows, code = _expected(expected_path)
    result = run_cli("parse", str(expected_path.with_suffix(".txt")), "--json", *args)
    assert result.code == code, result.stderr
    assert "Traceback" not in result.stderr
    got = result.json() if result.stdout.strip() else []
    assert sorted(map(_key, got)) == sorted(map(_key, rows))
