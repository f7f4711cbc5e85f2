"""The install commands the README gives, run for real into throw-away folders, each proved by the
installed `portcheck PORT` finding a real listener: pipx, uv tool, pip --user, and the first set-up
command with the pip that macOS's own python3 (3.9.6, Command Line Tools) puts into a new venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.cli import listener
from tests.conftest import ROOT
from tests.helpers.install import assert_finds, interpreters, skip_if_offline

pytestmark = pytest.mark.index

MACOS_PIP = "21.1.3"
"""The pip that Python 3.9.6's ensurepip bundles: what `python3 -m venv` gives on macOS."""


def tool(name: str) -> str:
    """pipx or uv from this test environment (the `test` extra installs both), else from PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' installs it)")
    return found


def run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=600, check=False
    )


def test_pipx_install(tmp_path: Path) -> None:
    places = {"PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    places["PIPX_MAN_DIR"] = str(tmp_path / "man")
    skip_if_offline(run([tool("pipx"), "install", str(ROOT)], places), "pipx install .")
    with listener("pc-pipx") as held:
        assert_finds([str(tmp_path / "bin" / "portcheck")], held)


def test_uv_tool_install(tmp_path: Path) -> None:
    places = {"UV_TOOL_DIR": str(tmp_path / "tools"), "UV_TOOL_BIN_DIR": str(tmp_path / "bin")}
    places.update(UV_PYTHON=str(interpreters()[0]), UV_PYTHON_DOWNLOADS="never")  # the oldest one here
    skip_if_offline(run([tool("uv"), "tool", "install", str(ROOT)], places), "uv tool install .")
    with listener("pc-uv") as held:
        assert_finds([str(tmp_path / "bin" / "portcheck")], held)


def test_pip_install_user(tmp_path: Path) -> None:
    """Into the user site of a plain interpreter (pip refuses --user inside a venv, and in a Debian
    or Ubuntu python3 that is 'externally managed')."""
    user = {"PYTHONUSERBASE": str(tmp_path / "user")}
    result = run([str(interpreters()[0]), "-m", "pip", "install", "-q", "--user", str(ROOT)], user)
    if "externally-managed-environment" in result.stderr:
        pytest.skip(f"{interpreters()[0]} is externally managed (PEP 668): pip --user is refused there")
    skip_if_offline(result, "pip install --user .")
    with listener("pc-user") as held:
        assert_finds([str(tmp_path / "user" / "bin" / "portcheck")], held, {**os.environ, **user})


def test_first_setup_command_with_the_pip_of_macos_python3(tmp_path: Path) -> None:
    """`python3 -m venv .venv && .venv/bin/pip install -q .` with pip 21.1.3 on 3.9: a pyproject-only
    project installs (PEP 517); only an editable install (-e, the test command) needs pip 21.3+."""
    python = interpreters()[0]
    version = run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    if version != "3.9":
        pytest.skip(f"no Python 3.9 here (oldest: {version})")
    venv = tmp_path / ".venv"
    assert run([str(python), "-m", "venv", str(venv)]).returncode == 0
    pip = str(venv / "bin" / "pip")
    skip_if_offline(run([pip, "install", "-q", f"pip=={MACOS_PIP}"]), f"pip install pip=={MACOS_PIP}")
    assert run([pip, "--version"]).stdout.startswith(f"pip {MACOS_PIP} ")
    skip_if_offline(run([pip, "install", "-q", str(ROOT)]), "pip install . (pip 21.1.3)")
    with listener("pc-macos-pip") as held:
        assert_finds([str(venv / "bin" / "portcheck")], held)
    editable = run([pip, "install", "-q", "-e", str(ROOT)])
    assert editable.returncode != 0 and "editable mode currently requires a setuptools-based build" in (
        editable.stderr
    )
