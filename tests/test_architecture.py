"""The shape of the code, checked: no import cycles, the layer rule, only platforms/ names an OS, every
platform complete, every format a plan names registered. CONTRIBUTING.md's checklists point here.

Imports are read from the syntax tree of every module under src/portcheck, function-level and
TYPE_CHECKING ones included (the same reading as the lead's pre-stop hook): an import cycle that only
runs inside a function still ties two modules together."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

from portcheck import parsers
from portcheck.core.model import Family, Proto
from portcheck.core.portspec import parse_port_spec
from portcheck.live.query import IN_PROCESS_READERS
from portcheck.platforms import MODULES, platform_for, platform_for_uname, platform_for_ver
from portcheck.platforms.base import OS, Platform, Question, Step, Traits
from tests.conftest import ROOT

PACKAGE = ROOT / "src" / "portcheck"

LAYERS = ("core", "output", "parsers", "platforms", "live", "fleet", "meaning", "api", "commands", "cli")
"""Lowest first: a module imports only from its own layer or lower ones. `portcheck` itself (only the
version) sits below them all; `cli` is cli.py and __main__.py."""

QUESTIONS = (
    Question(),
    Question(parse_port_spec("80,8000-8100")),
    Question(parse_port_spec("53"), True, frozenset({Proto.UDP}), frozenset({Family.IPV6})),
    Question(parse_port_spec(",".join(str(p) for p in range(1000, 1400, 2)))),
)


def _module_name(path: Path) -> str:
    name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return name.removesuffix(".__init__")


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports() -> dict[str, frozenset[str]]:
    """Module -> the portcheck modules it imports anywhere in its text."""
    modules = _modules()
    graph: dict[str, frozenset[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            found.update(t for t in targets if t in modules and t != name)
        graph[name] = frozenset(found)
    return graph


def _reachable(start: str) -> set[str]:
    graph = imports()
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_graph_is_read() -> None:
    """The checks below are only as good as the graph: it must see a known top-level and a known
    function-level import."""
    graph = imports()
    assert "portcheck.core.model" in graph["portcheck.core.filters"]
    assert "portcheck.live.sudo" in graph["portcheck.live.query"]  # imported inside a function


def test_no_import_cycles() -> None:
    graph = imports()
    cycles = {
        tuple(sorted((a, b)))
        for a in graph
        for b in graph[a]
        if a in _reachable(b) and not (a.startswith(b + ".") or b.startswith(a + "."))
    }
    assert sorted(cycles) == []


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:
        return -1  # portcheck/__init__.py: the version, nothing else
    top = "cli" if parts[1] in ("cli", "__main__") else parts[1]
    assert top in LAYERS, f"{module} is in no layer: add its package to LAYERS (and CONTRIBUTING.md)"
    return LAYERS.index(top)


def test_layers_import_only_downwards() -> None:
    upward = [
        f"{module} ({LAYERS[layer(module)]}) imports {target} ({LAYERS[layer(target)]})"
        for module, targets in imports().items()
        for target in sorted(targets)
        if layer(target) > layer(module)
    ]
    assert upward == []


def _os_tests(tree: ast.AST) -> list[tuple[int, str]]:
    """`OS.WINDOWS`, `sys.platform`, `os.name`, `platform.system()`: the ways code asks which OS."""
    members = {member.name for member in OS}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            pair = (node.value.id, node.attr)
            if (pair[0] == "OS" and pair[1] in members) or pair in {
                ("sys", "platform"),
                ("os", "name"),
                ("platform", "system"),
            }:
                found.append((node.lineno, f"{pair[0]}.{pair[1]}"))
    return found


def test_only_platforms_names_an_os() -> None:
    """Everything else asks the registry (`platform_for(os).traits`, `LOCAL_WINDOWS`)."""
    named = [
        f"{path.relative_to(PACKAGE).as_posix()}:{line}: {text}"
        for name, path in _modules().items()
        if not name.startswith("portcheck.platforms")
        for line, text in _os_tests(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert named == []


def test_the_os_check_sees_an_os_test() -> None:
    assert _os_tests(ast.parse("if OS.WINDOWS is x or sys.platform == 'win32': pass")) == [
        (1, "OS.WINDOWS"),
        (1, "sys.platform"),
    ]


# --- every platform complete, every format registered ---------------------------------------------------


def test_the_registry_has_every_os() -> None:
    assert set(MODULES) == set(OS)


@pytest.mark.parametrize("os_name", list(OS))
def test_every_platform_is_complete(os_name: OS) -> None:
    platform = platform_for(os_name)
    assert isinstance(platform, Platform) and platform.os is os_name
    assert isinstance(platform.traits, Traits)
    for question in QUESTIONS:
        for privileged in (False, True):
            steps = platform.plan(question, privileged=privileged)
            assert steps and all(step.commands or step.local_only for step in steps)
    assert platform.probes()
    signal = platform.signal_plan(4242, "TERM", force=False)
    assert "4242" in signal.command.argv
    assert platform.signal_label("TERM", force=True) and platform.signal_description("TERM", 5.0)
    for question in QUESTIONS:
        if question.ports is not None:
            check = platform.ownership_check(4242, question)
            assert check.command.argv and check.evidence and callable(check.read)
    advice = platform.bind_advice
    assert advice.in_use and advice.denied and "{port}" in advice.denied_text and advice.hidden_reasons
    assert platform.unames or platform.uname_prefixes or platform.ver_banner, "a remote host cannot say it"
    for uname in platform.unames:
        assert platform_for_uname(uname) is platform
    for prefix in platform.uname_prefixes:
        assert platform_for_uname(prefix + "_NT-10.0") is platform
    if platform.ver_banner is not None:
        assert platform_for_ver(b"Microsoft " + platform.ver_banner + b" [Version 10.0]") is platform


def test_an_os_without_a_platform_is_unsupported(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fall-through to another OS's plan."""
    from portcheck.core.errors import InspectError

    monkeypatch.delitem(MODULES, OS.FREEBSD)
    with pytest.raises(InspectError, match="does not support freebsd"):
        platform_for(OS.FREEBSD)
    assert platform_for_uname("FreeBSD") is None


def _steps() -> list[tuple[OS, Step]]:
    return [
        (os_name, step)
        for os_name in OS
        for question in QUESTIONS
        for privileged in (False, True)
        for step in platform_for(os_name).plan(question, privileged=privileged)
    ]


@pytest.mark.parametrize("os_name", list(OS))
def test_every_format_a_plan_names_is_registered(os_name: OS) -> None:
    """A lost registration fails here (the fake-tool tests would only skip)."""
    for _, step in (s for s in _steps() if s[0] is os_name):
        assert step.parser in parsers.FORMATS, step
        parsers.load(step.parser)
        if step.local_only:
            assert step.parser in IN_PROCESS_READERS, step
        if step.pid_names is not None:
            assert step.pid_names.parser in parsers.FORMATS, step
            parsers.load(step.pid_names.parser)
