"""Shared test helpers: where fixtures and the shared corpus live, and running the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.helpers.docker_lab import DockerLab
    from tests.helpers.sshd import Lab

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


def run_cli(
    *args: str,
    stdin: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run `python -m portcheck` as a user would, in a subprocess, and capture everything."""
    full_env = dict(os.environ)
    full_env.pop("PORTCHECK_DEBUG", None)
    if env:
        full_env.update(env)
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.run(
        [sys.executable, "-m", "portcheck", *args],
        input=data,
        capture_output=True,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    return Result(
        proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    )


@pytest.fixture
def cli() -> type[Result]:
    return Result


def corpus_files(platform: str) -> list[Path]:
    folder = CORPUS / platform
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def corpus_params(platform: str) -> list[object]:
    """Parametrise over the shared corpus; one skipped case when ../shared is absent."""
    files = corpus_files(platform)
    if not files:
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CORPUS}/{platform} not present"))]
    return [pytest.param(f, id=f.name) for f in files]


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The ssh lab (tests/helpers/sshd.py), started once for every --host test of the session."""
    from tests.helpers.sshd import ssh_lab, sshd_available

    reason = sshd_available()
    if reason is not None:
        pytest.skip(reason)
    with ssh_lab(tmp_path_factory.mktemp("ssh-lab"), servers=4, pid1=True) as started:
        yield started


@pytest.fixture(scope="session")
def docker_lab() -> Iterator[DockerLab]:
    """A private dockerd with two containers (tests/helpers/docker_lab.py), started once for the
    session. Where Docker cannot run the tests skip, except in CI (.ci/run installs it): there they
    fail, unless PORTCHECK_DOCKER_LAB=optional says this machine may lack it."""
    from tests.helpers.docker_lab import DockerLabUnavailable, docker_lab

    try:
        with docker_lab() as started:
            yield started
    except DockerLabUnavailable as why:
        if os.environ.get("CI") and os.environ.get("PORTCHECK_DOCKER_LAB") != "optional":
            pytest.fail(f"Docker lab unavailable in CI: {why}", pytrace=False)
        pytest.skip(f"Docker lab unavailable: {why}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that starts the ssh lab (the `lab` fixture) is marked `sshlab`, so `-m "not sshlab"`
    leaves out the sshd servers: .ci/run runs them on the default interpreter only."""
    for item in items:
        if "lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.sshlab)
