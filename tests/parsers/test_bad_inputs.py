"""The bad-input catalogue: every file in tests/fixtures/bad/ has a sidecar `<file>.expect.json` with the
exact exit code, the exact stderr and (for readable input) the rows, checked through the real CLI as
`portcheck parse FILE --json` run inside that directory (so messages name the bare file).

A sidecar with `generate` describes an input too big to commit (a 5 MB line): the test writes it to a
temporary directory from the description. `scripts/make_bad_inputs.py` wrote the binary members."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, run_cli

BAD = FIXTURES / "bad"
SIDECARS = sorted(BAD.glob("*.expect.json"))


def _key(row: dict[str, object]) -> str:
    return json.dumps(row, sort_keys=True)


def _generate(pieces: list[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for piece in pieces:
            if "text" in piece:
                out.write(str(piece["text"]))
            else:
                times = piece["times"]
                assert isinstance(times, int)
                out.write(str(piece["repeat"]) * times)


@pytest.mark.parametrize("sidecar", SIDECARS, ids=[p.name.removesuffix(".expect.json") for p in SIDECARS])
def test_bad_input(sidecar: Path, tmp_path: Path) -> None:
    expect = json.loads(sidecar.read_text(encoding="utf-8"))
    name = expect["input"]
    where = BAD
    if "generate" in expect:
        _generate(expect["generate"], tmp_path / name)
        where = tmp_path
    assert (where / name).exists(), f"{name} is missing from {where}"
    result = run_cli("parse", name, "--json", *expect.get("args", []), cwd=where)
    assert (result.code, result.stderr) == (expect["exit"], expect["stderr"])
    if "rows" in expect:
        got = json.loads(result.stdout)
        assert sorted(map(_key, got)) == sorted(map(_key, expect["rows"]))
    else:
        assert result.stdout == ""


def test_every_input_has_a_sidecar_and_the_catalogue_covers_the_issue() -> None:
    inputs = {p.name for p in BAD.iterdir() if not p.name.endswith(".expect.json")}
    described = {json.loads(p.read_text(encoding="utf-8"))["input"] for p in SIDECARS}
    assert inputs <= described, inputs - described
    wanted = {
        "empty.txt",
        "whitespace.txt",
        "prose.txt",
        "page.html",
        "portcheck-output.json",
        "spreadsheet.xlsx",
        "nuls.bin",
        "random.bin",
        "long-line.txt",
        "truncated.txt",
        "two-formats.txt",
        "utf16-no-bom.txt",
    }
    assert wanted <= described, wanted - described
