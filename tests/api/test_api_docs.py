"""docs/api.md stays true: every `portcheck.NAME` it shows exists, every signature it shows is the
function's (names, kinds and defaults), every public function is documented, and __init__.pyi gives
type checkers the same names as the lazy __init__."""

from __future__ import annotations

import ast
import inspect
import re

import portcheck
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "api.md").read_text()
FUNCTIONS = ("query", "parse", "info", "check", "free_ports", "diff", "exposure_of")


def plain_signature(name: str) -> str:
    """`portcheck.NAME(a, *, b=1)` as the doc writes it: no annotations."""
    signature = inspect.signature(getattr(portcheck, name))
    bare = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    return f"portcheck.{name}{signature.replace(parameters=bare, return_annotation=inspect.Signature.empty)}"


def test_every_name_the_doc_shows_exists() -> None:
    shown = set(re.findall(r"\bportcheck\.([A-Za-z_]\w*)", DOC))
    assert shown, "the doc shows no name"
    assert sorted(n for n in shown if not hasattr(portcheck, n)) == []


def test_every_signature_the_doc_shows_is_the_functions() -> None:
    documented = re.findall(r"^(portcheck\.(\w+)\(.*\))$", DOC, re.MULTILINE)
    assert {name for _, name in documented} == set(FUNCTIONS)
    for line, name in documented:
        assert line == plain_signature(name)


def test_every_public_function_is_documented() -> None:
    public = {n for n in portcheck.__all__ if inspect.isfunction(getattr(portcheck, n))}
    assert public == set(FUNCTIONS)
    for name in FUNCTIONS:
        assert f"### {name}\n" in DOC
        assert getattr(portcheck, name).__doc__, name


def test_the_stub_and_the_lazy_names_agree() -> None:
    stub = ast.parse((ROOT / "src" / "portcheck" / "__init__.pyi").read_text())
    names = {
        alias.asname for node in ast.walk(stub) if isinstance(node, ast.ImportFrom) for alias in node.names
    }
    names |= {
        t.id
        for node in ast.walk(stub)
        if isinstance(node, ast.Assign)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    assert names - {None} == set(portcheck.__all__) - {"__version__"}


def test_every_timeout_default_is_the_runners() -> None:
    from portcheck.live.runner import DEFAULT_TIMEOUT

    for name in FUNCTIONS:
        parameter = inspect.signature(getattr(portcheck, name)).parameters.get("timeout")
        assert parameter is None or parameter.default == DEFAULT_TIMEOUT, name
