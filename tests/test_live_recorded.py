"""The other helpers' recorded fixtures, replayed through the live path: a fake tool prints the recorded
output, `portcheck PORTS --json` (PORTS = every local port in the expected rows) must give exactly the
rows written beside the fixture. This checks the plan, the runner, decoding and the parser together on
every layout the parsers were written for."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, run_cli
from tests.live_helpers import fake_tool

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX scripts")

# (platform, fixture glob, fake tool, the parser the fixture is for, argv token that selects the output)
REPLAYS = [
    ("macos", "macos/lsof*.txt", "lsof", "lsof", None),
    ("freebsd", "freebsd/sockstat*.txt", "sockstat", "sockstat", "-46ls"),
    ("windows", "windows/netstat-ano*.txt", "netstat", "netstat-windows", None),
]


def _cases() -> list[object]:
    cases = []
    for platform, pattern, tool, source, token in REPLAYS:
        for text in sorted(FIXTURES.glob(pattern)):
            expected_path = text.with_suffix(".json")
            if not expected_path.exists():
                continue
            expected = _expected_rows(expected_path)
            # A fixture that needs `parse` options (--from, --port) or holds another format's rows is
            # not a plain replay of what the live plan runs.
            if expected is None or {r["source"] for r in expected} - {source}:
                continue
            cases.append(pytest.param(platform, text, tool, source, token, id=f"{platform}/{text.stem}"))
    return cases


def _expected_rows(path: Path) -> list[dict[str, object]] | None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        if data.get("args"):
            return None  # needs options of `parse` (--from, --port...): not a plain replay
        data = data["rows"]
    return [r for r in data if r["local_port"] is not None]


@pytest.mark.parametrize(("platform", "text", "tool", "source", "token"), _cases())
def test_recorded_output_through_the_live_path(
    tmp_path: Path, platform: str, text: Path, tool: str, source: str, token: str | None
) -> None:
    expected = _expected_rows(text.with_suffix(".json"))
    assert expected is not None
    fake_tool(tmp_path, tool, **({"when": {token: text}} if token else {"output": text}))
    fake_tool(tmp_path, "tasklist")  # Windows: names come from tasklist; here it knows none
    ports = sorted({str(r["local_port"]) for r in expected}) or ["1"]
    result = run_cli(*ports, "--json", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: platform})
    assert result.code == (0 if expected else 1), result.stderr
    got = result.json() if result.stdout.strip() else []
    assert isinstance(got, list)
    key = lambda r: json.dumps(r, sort_keys=True)  # noqa: E731
    assert sorted(map(key, got)) == sorted(map(key, expected)), result.stderr
