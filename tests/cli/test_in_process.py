"""The in-process runner (`run_cli`: portcheck.cli.run with an Environment of streams in memory) gives
exactly what `python -m portcheck` gives: the same exit code, stdout and stderr, byte for byte. Most
CLI tests rely on it; this is where it is proved, on every path the runner shares with the process
(routing, help, usage errors, each exit code, stdin, environment variables) and on the seam itself
(terminal, colour, clock)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from portcheck.cli import run
from portcheck.output.environment import Environment
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, run_cli, run_process
from tests.helpers.live import fake_tool

SS = FIXTURES / "linux" / "ss-tunap.txt"

CASES = [
    ["parse", str(SS), "--json"],
    ["parse", str(SS), "--format", "csv", "--port", "47310"],
    ["parse", str(SS), "--port", "1"],  # nothing matches: 1
    ["parse", "/nonexistent/ss.txt"],  # 2, one line
    ["parse", "-", "--json"],  # stdin
    ["70000"],  # routed to query: a usage error
    ["--version"],
    ["--help"],
    ["kill", "--help"],
    ["nosuchcommand"],  # a port, says route()
    ["80", "--jsn"],  # click's usage error, reduced to one line
    ["parse", "--format", "yaml", str(SS)],
    ["info", "22", "--no-check"],
    ["free", "--range", "2"],
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(a).replace(str(FIXTURES), "") for a in CASES])
def test_in_process_is_the_process(args: list[str]) -> None:
    stdin = SS.read_bytes()
    assert run_cli(*args, stdin=stdin) == run_process(*args, stdin=stdin)


def test_environment_variables_reach_the_run_and_leave_with_it(tmp_path: Path) -> None:
    """A fake lsof on PATH and PORTCHECK_PLATFORM=macos: in-process as in a process, and os.environ is
    as it was afterwards."""
    import os

    fake_tool(tmp_path, "lsof", output=FIXTURES / "live" / "macos-lsof-i.txt")
    env = {"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"}
    before = dict(os.environ)
    assert run_cli("8080", "--json", env=env) == run_process("8080", "--json", env=env)
    assert dict(os.environ) == before


def test_an_interpreter_setting_needs_a_process() -> None:
    with pytest.raises(ValueError, match="use run_process"):
        run_cli("--version", env={"PYTHONIOENCODING": "ascii"})


def _streams() -> tuple[io.TextIOWrapper, io.TextIOWrapper]:
    return (
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True),
        io.TextIOWrapper(io.BytesIO(), encoding="utf-8", write_through=True),
    )


def _text(stream: io.TextIOWrapper) -> str:
    buffer = stream.buffer
    assert isinstance(buffer, io.BytesIO)
    return buffer.getvalue().decode()


def test_a_terminal_of_a_given_width_cuts_the_table_and_colours_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal the Environment says is 50 columns wide the process name is cut (to its least,
    8 columns: addresses are never cut), and the states are coloured; the same run in a pipe keeps
    every byte, without colour."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    args = ["parse", str(SS), "--port", "47310"]
    out, err = _streams()
    terminal = Environment(stdout=out, stderr=err, stdout_isatty=True, terminal_size=(50, 20))
    assert run(args, terminal) == 0
    shown = _text(out)
    assert "\x1b[32mLISTEN\x1b[0m" in shown
    assert "pcfix s…" in shown and "pcfix server" not in shown
    out, err = _streams()
    assert run(args, Environment(stdout=out, stderr=err)) == 0
    assert "pcfix server" in _text(out) and "\x1b" not in _text(out)


@pytest.mark.parametrize(("variable", "value"), [("NO_COLOR", "1"), ("TERM", "dumb")])
def test_no_colour_on_a_terminal_that_asks_for_none(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    monkeypatch.setenv(variable, value)
    out, err = _streams()
    terminal = Environment(stdout=out, stderr=err, stdout_isatty=True, terminal_size=(200, 50))
    assert run(["parse", str(SS)], terminal) == 0
    assert "\x1b" not in _text(out)


def test_an_empty_no_color_does_not_turn_colour_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """no-color.org: only a NO_COLOR that is set and not empty."""
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("TERM", "xterm")
    assert Environment(stdout_isatty=True).colour
    assert not Environment(stdout_isatty=False).colour


def test_wait_runs_on_the_environments_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """`wait --timeout 30` on a clock that jumps with each sleep: it gives up after 30 clock seconds,
    having slept in --interval steps, without a real second passing."""
    from tests.helpers.ports import free_port

    now = [1000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    out, err = _streams()
    env = Environment(stdout=out, stderr=err, monotonic=lambda: now[0], sleep=sleep)
    port = free_port()
    assert run(["wait", str(port), "--listening", "--timeout", "30", "--interval", "10"], env) == 1
    assert slept == [10.0, 10.0, 10.0]
    assert _text(err) == f"portcheck: timed out after 30 s: nothing listens on port {port}\n"


def test_a_run_puts_the_streams_back() -> None:
    import sys

    before = (sys.stdin, sys.stdout, sys.stderr)
    out, err = _streams()
    run(["--version"], Environment(stdout=out, stderr=err))
    assert (sys.stdin, sys.stdout, sys.stderr) == before
    assert _text(out).startswith("portcheck ")
