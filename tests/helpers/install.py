"""Helpers for the tests that install or build portcheck the ways users do (the zipapp, pipx, uv,
pip --user): which interpreters this machine has, and telling "no package index here" (skip) from a
real failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.helpers.cli import Listener

_OFFLINE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Failed to fetch",
    "dns error",
)
"""What pip and uv print when they cannot reach a package index (as opposed to a hash mismatch or a
build that fails, which must fail the test)."""


def interpreters() -> list[Path]:
    """Every supported interpreter scripts/interpreters.py finds, oldest first (this one if none)."""
    listing = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "interpreters.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found = [
        Path(fields[1]) for fields in (line.split("\t") for line in listing.splitlines()) if fields[1] != "-"
    ]
    return found or [Path(sys.executable)]


def oldest_and_newest() -> list[Path]:
    found = interpreters()
    return [found[0]] if len(found) == 1 else [found[0], found[-1]]


def skip_if_offline(result: subprocess.CompletedProcess[str], what: str) -> None:
    """Skip when `result` failed only because no package index answered; fail on anything else."""
    output = result.stdout + result.stderr
    if result.returncode != 0 and any(sign in output for sign in _OFFLINE):
        pytest.skip(f"{what}: no package index reachable (deselect with -m 'not index')")
    assert result.returncode == 0, f"{what} failed:\n{output}"


def run_installed(
    command: list[str], *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """An installed (or zipped) portcheck, run from outside the work tree so nothing there is imported."""
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, env=env, cwd="/", timeout=60, check=False
    )


def assert_finds(command: list[str], held: Listener, env: dict[str, str] | None = None) -> None:
    """`command PORT --json` reports the listener's socket, process and PID: the installed (or zipped)
    portcheck really inspected this machine."""
    result = run_installed(command, str(held.port), "--listening", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["local_port"], r["pid"], r["process"], r["state"]) for r in rows] == [
        (held.port, held.pid, held.name, "LISTEN")
    ]
