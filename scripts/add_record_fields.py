#!/usr/bin/env python3
"""Append the record fields added after `source` to the expected rows of tests/fixtures, in place.

Run by hand once per added field, then review `git diff tests/fixtures`: the rows keep their text, each
gains the new fields at its end, filled from what `portcheck parse` of the same fixture now gives for the
row with the same values in every older field (null where no such row exists, reported). The values are
the parser's: the review is what makes them expected values.

    .venv/bin/python scripts/add_record_fields.py [--check]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "src"))

from portcheck.core.model import FIELDS  # noqa: E402

OLD = FIELDS[: FIELDS.index("source") + 1]
NEW = FIELDS[len(OLD) :]


def _key(row: dict[str, object]) -> str:
    return json.dumps([row.get(f) for f in OLD])


def parsed_rows(txt: Path, args: list[str]) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "portcheck", "parse", str(txt), "--json", *args],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    out = result.stdout.decode("utf-8")
    return json.loads(out) if out.strip() else []


def fill(path: Path, txt: Path | None, args: list[str]) -> tuple[str, int]:
    """The file's text with every row line completed, and how many rows had no parsed twin."""
    found: dict[str, list[dict[str, object]]] = defaultdict(list)
    if txt is not None:
        for row in parsed_rows(txt, args):
            found[_key(row)].append(row)
    missing = 0
    lines = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        stripped = line.strip()
        body = stripped.rstrip(",")
        if body.startswith('{"proto"') and body.endswith("}"):
            row = json.loads(body)
            if not all(f in row for f in NEW):
                twins = found.get(_key(row))
                twin = twins.pop(0) if twins else None
                missing += twin is None and txt is not None
                for f in NEW:
                    row.setdefault(f, twin.get(f) if twin else None)
                ascii_only = "\\u" in body
                text = json.dumps(row, ensure_ascii=ascii_only)
                line = line[: len(line) - len(line.lstrip())] + text + stripped[len(body) :]
        lines.append(line)
    return "\n".join(lines), missing


def fill_catalogue(path: Path, data: dict[str, object]) -> str:
    """A bad-input case (X.expect.json, indented JSON): its rows completed the same way; a case whose
    input the test generates (not committed) gets nulls."""
    txt = path.parent / str(data["input"])
    found: dict[str, list[dict[str, object]]] = defaultdict(list)
    if txt.exists():
        for row in parsed_rows(txt, list(data.get("args", []))):  # type: ignore[call-overload]
            found[_key(row)].append(row)
    for row in data["rows"]:  # type: ignore[attr-defined]
        twins = found.get(_key(row))
        twin = twins.pop(0) if twins else None
        for f in NEW:
            row.setdefault(f, twin.get(f) if twin else None)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say which files would change")
    options = parser.parse_args()
    inputs = {
        p.parent / json.loads(p.read_text(encoding="utf-8"))["input"] for p in FIXTURES.rglob("*.expect.json")
    }
    for path in sorted(FIXTURES.rglob("*.json")):
        if path in inputs:  # a bad-input case's input (portcheck's own output pasted back): as it was
            continue
        data = json.loads(path.read_text(encoding="utf-8"))
        args: list[str] = []
        txt: Path | None = path.with_suffix(".txt")
        if isinstance(data, dict) and "input" in data:  # the bad-input catalogue: X.expect.json
            if "rows" in data:
                text = fill_catalogue(path, data)
                if text != path.read_text(encoding="utf-8"):
                    print(path.relative_to(ROOT))
                    if not options.check:
                        path.write_text(text, encoding="utf-8")
            continue
        if isinstance(data, dict):
            args = data.get("args", [])
        if txt is None or not txt.exists():
            txt = None
        text, missing = fill(path, txt, args)
        if text != path.read_text(encoding="utf-8"):
            print(
                f"{path.relative_to(ROOT)}" + (f": {missing} rows without a parsed twin" if missing else "")
            )
            if not options.check:
                path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
