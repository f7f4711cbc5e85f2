"""Every file path the project's documents name must exist: a moved test or module leaves a README that
points a reader at nothing (tests/test_install_paths.py after the tests were grouped did)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "SECURITY.md", ROOT / "CONTRIBUTING.md", *ROOT.glob("docs/*.md")]
)
PATH = re.compile(
    r"(?<![\w/.-])((?:src/portcheck|tests|benchmarks|scripts|docs)/[\w/.-]*\.(?:py|md|json|txt))"
)


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.name for d in DOCUMENTS])
def test_named_paths_exist(document: Path) -> None:
    named = set(PATH.findall(document.read_text(encoding="utf-8")))
    missing = sorted(p for p in named if not (ROOT / p).exists() and "*" not in p)
    assert not missing, f"{document.name} names files that do not exist: {missing}"


def test_the_check_sees_paths() -> None:
    """The pattern finds the paths the README is known to name (a pattern that finds nothing passes)."""
    named = set(PATH.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert {"scripts/build_pyz.py", "benchmarks/bench_parse.py"} <= named
