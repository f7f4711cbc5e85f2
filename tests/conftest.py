"""Shared test helpers: where fixtures and the shared corpus live, and running the real CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pytest

if TYPE_CHECKING:
    from tests.helpers.docker_lab import DockerLab
    from tests.helpers.sshd import Lab

ROOT = Path(__file__).resolve().parent.parent

# The workers of pytest-xdist (`pytest -n 2`) start with COLUMNS=80 and LINES=24 in their environment,
# which every child inherits and shutil.get_terminal_size() prefers to the terminal's own size. The
# terminal tests (pexpect, tmux) must see their pty's size, as under a person's shell (bash sets COLUMNS
# and LINES but does not export them).
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)

# A shell without job control starts a background job (`pytest ... &`) with SIGINT ignored, and every
# child inherits that: the tests that press Ctrl-C in a portcheck they started would see it ignored.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
FIXTURES = ROOT / "tests" / "fixtures"
CORPUS = ROOT.parent / "shared" / "corpus"


class Result(NamedTuple):
    """A run of the CLI; unpacks as (code, stdout, stderr)."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


PROCESS_ONLY_VARIABLES = ("PYTHON", "LANG", "LC_")
"""Environment variables an interpreter reads when it starts (PYTHONIOENCODING, the locale): only a new
process sees them, so a test that sets one runs the CLI with `run_process`."""


class _TimedOut(BaseException):
    """Raised in the run by the alarm of `run_cli(timeout=...)`: a BaseException, so that the CLI's
    last line of defence (which catches Exception) lets it through."""


def run_cli(
    *args: str,
    stdin: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    cwd: Path | None = None,
) -> Result:
    """Run the CLI in this process through `portcheck.cli.run`, the function the console script runs,
    with stdin, stdout and stderr in memory (none of them a terminal) and `env` set in os.environ for
    the run: the same routing, messages and exit codes as `run_process`, without the 70 ms of an
    interpreter's start-up. An exception that escapes is a traceback on stderr and exit 1, as in a
    process."""
    import gc
    import io
    import threading
    import traceback

    from portcheck.cli import run
    from portcheck.output.environment import Environment

    if env and any(name.startswith(PROCESS_ONLY_VARIABLES) for name in env):
        raise ValueError(f"{sorted(env)}: a new interpreter reads these; use run_process")
    data = stdin.encode() if isinstance(stdin, str) else stdin or b""
    streams = (
        io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="surrogateescape"),
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="surrogateescape"),
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="backslashreplace"),
    )
    _, out, err = streams
    # Kept here: the run closes or replaces what it was given (`kill -q` silences stdout).
    out_bytes, err_bytes = out.buffer, err.buffer
    alarm = threading.current_thread() is threading.main_thread()

    def expire(signum: int, frame: object) -> None:
        raise _TimedOut

    with _environ(env, cwd):
        previous = signal.signal(signal.SIGALRM, expire) if alarm else None
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            code = run(list(args), Environment(stdin=streams[0], stdout=out, stderr=err))
        except _TimedOut:
            raise subprocess.TimeoutExpired(["portcheck", *args], timeout) from None
        except BaseException:  # what the interpreter does with an uncaught exception
            err.write(traceback.format_exc())
            code = 1
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            gc.unfreeze()  # cli.load_commands froze everything alive, this test's objects too
    for stream in (out, err):
        if not stream.closed:
            stream.flush()
    return Result(
        code, out_bytes.getvalue().decode("utf-8", "replace"), err_bytes.getvalue().decode("utf-8", "replace")
    )


@contextmanager
def _environ(env: dict[str, str] | None, cwd: Path | None) -> Iterator[None]:
    """os.environ as a child of run_process would see it (without PORTCHECK_DEBUG, with `env`), in
    `cwd` (contextlib.chdir is Python 3.11+)."""
    saved = dict(os.environ)
    before = os.getcwd()
    os.environ.pop("PORTCHECK_DEBUG", None)
    os.environ.update(env or {})
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        os.chdir(before)
        os.environ.clear()
        os.environ.update(saved)


def run_process(
    *args: str,
    stdin: bytes | str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> Result:
    """Run `python -m portcheck` as a user would, in a subprocess, and capture everything: for what only
    a real process shows (the interpreter's start-up and locale, signals, file descriptors, memory)."""
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
