"""dist/portcheck.pyz as the README builds it (scripts/build_pyz.py), run the way a helpdesk runs the
copied file: `python3 -I portcheck.pyz PORT`, nothing installed, on the oldest and the newest
interpreter of this machine, against a real listener. The build downloads the pinned wheels, hence
the `index` marker."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers.cli import listener
from tests.conftest import FIXTURES, ROOT, run_cli
from tests.helpers.install import (
    assert_finds,
    interpreters,
    oldest_and_newest,
    run_installed,
    skip_if_offline,
)

pytestmark = pytest.mark.index

BUILD = ROOT / "scripts" / "build_pyz.py"
PINS = ROOT / "scripts" / "pyz-requirements.txt"
INTERPRETERS = oldest_and_newest()


def build(output: Path, *options: str) -> Path:
    result = subprocess.run(
        [sys.executable, str(BUILD), "--output", str(output), *options],
        capture_output=True,
        text=True,
        timeout=600,
    )
    skip_if_offline(result, "scripts/build_pyz.py")
    return output


@pytest.fixture(scope="module")
def pyz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("pyz") / "portcheck.pyz")


def run_pyz(python: Path, pyz: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Isolated mode (-I): no site-packages, no PYTHONPATH, no user site: only the archive."""
    return run_installed([str(python), "-I", str(pyz)], *args)


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_finds_a_real_listener_with_nothing_installed(pyz: Path, python: Path) -> None:
    with listener("pc-pyz") as held:
        assert_finds([str(python), "-I", str(pyz)], held)


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_parse_info_and_errors_read_as_when_installed(pyz: Path, python: Path) -> None:
    """The same bytes as the installed portcheck where the archive differs: reading the packaged data
    (info's service table), detecting a pasted format, and typer's own usage errors without rich."""
    paste = FIXTURES / "windows" / "netstat-ano-de-cp850.txt"
    cases = [
        ["parse", str(paste), "--port", "60653", "--verbose"],
        ["info", "8000", "--no-check", "--json"],
        ["info", "22", "--no-check"],
        ["80", "--bogus"],
        ["80;id"],
    ]
    for args in cases:
        zipped = run_pyz(python, pyz, *args)
        installed = run_cli(*args)
        assert (zipped.returncode, zipped.stdout, zipped.stderr) == (
            installed.code,
            installed.stdout,
            installed.stderr,
        ), args


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_help_without_rich(pyz: Path, python: Path) -> None:
    """typer draws help with rich when it can; the archive leaves rich out, so click draws it (the
    wording of option types differs between typer releases, so only its shape is checked)."""
    for args in (["--help"], ["parse", "--help"], ["info", "-h"]):
        result = run_pyz(python, pyz, *args)
        assert result.returncode == 0 and result.stderr == "", args
        assert result.stdout.startswith("Usage: portcheck ") and "-h, --help" in result.stdout, args


_IMPORTED_FROM = """
import runpy, sys
pyz = sys.argv[1]
sys.argv = [pyz, "--version"]
try:
    runpy.run_path(pyz, run_name="__main__")  # as `python pyz`: the archive first on sys.path
except SystemExit:
    pass
for name in ("portcheck.cli", "click.core", "typer.main"):
    print(sys.modules[name].__file__)
"""


def imported_from(python: Path, pyz: Path) -> list[str]:
    result = subprocess.run(
        [str(python), "-I", "-c", _IMPORTED_FROM, str(pyz)], capture_output=True, text=True, check=True
    )
    return result.stdout.splitlines()[1:]


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.name)
def test_each_interpreter_imports_its_own_bytecode(pyz: Path, python: Path) -> None:
    """Compiled at build time, not at every start (zipimport caches nothing)."""
    files = imported_from(python, pyz)
    assert len(files) == 3
    for file in files:
        assert file.endswith(".pyc") and f"{pyz}{os.sep}pyc{os.sep}cpython-3" in file, file


def test_an_interpreter_without_bytecode_reads_the_sources(tmp_path: Path) -> None:
    """Built with bytecode for the newest interpreter only: the oldest (or any other, a 3.14 say)
    imports the sources and gives the same answer."""
    oldest, newest = INTERPRETERS[0], INTERPRETERS[-1]
    if oldest == newest:
        pytest.skip("one interpreter here")
    narrow = build(tmp_path / "narrow.pyz", "--compile-for", str(newest))
    assert all(file.endswith(".py") for file in imported_from(oldest, narrow))
    assert all(file.endswith(".pyc") for file in imported_from(newest, narrow))
    with listener("pc-pyz-src") as held:
        assert_finds([str(oldest), "-I", str(narrow)], held)


def test_two_builds_are_the_same_bytes(pyz: Path, tmp_path: Path) -> None:
    again = build(tmp_path / "again.pyz")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == hashlib.sha256(pyz.read_bytes()).hexdigest()


def test_builds_offline_from_a_folder_of_the_pinned_wheels(pyz: Path, tmp_path: Path) -> None:
    """--wheels: the same bytes from wheels fetched beforehand (a machine without a package index)."""
    fetched = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "-r",
            str(PINS),
            "-d",
            str(tmp_path / "w"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    skip_if_offline(fetched, "pip download")
    offline = build(tmp_path / "offline.pyz", "--wheels", str(tmp_path / "w"))
    assert offline.read_bytes() == pyz.read_bytes()


def test_a_wheel_that_does_not_match_its_pin_is_refused(tmp_path: Path) -> None:
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / "typer-0.23.2-py3-none-any.whl").write_bytes(b"PK not the pinned wheel")
    result = subprocess.run(
        [sys.executable, str(BUILD), "--output", str(tmp_path / "x.pyz"), "--wheels", str(tmp_path / "w")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and not (tmp_path / "x.pyz").exists()
    assert result.stderr.startswith("build_pyz: no wheel in ") and "typer==0.23.2" in result.stderr


def test_holds_sources_bytecode_trees_and_licences_but_no_metadata(pyz: Path) -> None:
    assert pyz.read_bytes().startswith(b"#!/usr/bin/env python3\n")
    assert os.access(pyz, os.X_OK)
    with zipfile.ZipFile(pyz) as archive:
        names = archive.namelist()
        dates = {info.date_time for info in archive.infolist()}
    assert names == sorted(names) and dates == {(1980, 1, 1, 0, 0, 0)}
    assert not [n for n in names if "__pycache__" in n or ".dist-info/" in n]
    sources = {n for n in names if not n.startswith(("pyc/", "licenses/")) and n != "__main__.py"}
    trees = {n.split("/")[1] for n in names if n.startswith("pyc/")}
    assert len(trees) == len(interpreters())  # one per interpreter found (and so compiled for)
    for tree in trees:  # each tree imports on its own: every module compiled, every data file beside it
        prefix = f"pyc/{tree}/"
        held = {n[len(prefix) :] for n in names if n.startswith(prefix)}
        assert held == {n[:-3] + ".pyc" if n.endswith(".py") else n for n in sources}
    assert not [n for n in names if n.endswith(".pyc") and not n.startswith("pyc/")]
    pinned = [line.split("==")[0] for line in PINS.read_text().splitlines() if "==" in line]
    licensed = {
        n.split("/")[1].rsplit("-", 1)[0].replace("_", "-") for n in names if n.startswith("licenses/")
    }
    assert licensed == set(pinned)
    for module in ("__main__.py", "portcheck/cli.py", "portcheck/core/data/iana_services.tsv", "typer/main.py"):
        assert module in names
    assert not [n for n in names if n.startswith(("rich/", "pygments/"))]


def _too_old() -> list[Path]:
    """pyenv's interpreters older than 3.9 (2.7 too), where the archive must say so in a sentence rather
    than fail to compile portcheck."""
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found = []
    for entry in sorted(root.glob("*")) if root.is_dir() else []:
        version = tuple(int(part) for part in entry.name.split(".")[:2] if part.isdigit())
        if len(version) == 2 and version < (3, 9) and (entry / "bin" / "python").exists():
            found.append(entry / "bin" / "python")
    return found


@pytest.mark.parametrize(
    "python",
    _too_old() or [pytest.param(None, marks=pytest.mark.skip(reason="no Python older than 3.9 here"))],
)
def test_an_older_python_gets_one_sentence(pyz: Path, python: Path) -> None:
    result = subprocess.run(  # without -I, which Python 2 does not know
        [str(python), str(pyz), "60653"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("portcheck: needs Python 3.9 or newer; this is Python ")
    assert len(result.stderr.splitlines()) == 1
