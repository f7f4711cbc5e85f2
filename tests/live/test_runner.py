"""The runner against real processes: output, stderr kept apart, exit status, missing tools, timeouts
that kill the whole process group."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from portcheck.live.runner import Problem, ToolError, run, which

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def test_output_and_stderr_are_separate() -> None:
    result = run(["sh", "-c", "echo out; echo err >&2; exit 3"])
    assert result.output == b"out\n"
    assert result.errors == b"err\n"
    assert result.status == 3
    assert result.error_line() == "err"
    assert result.tool == "sh"


def test_environment_is_added_to_the_callers() -> None:
    result = run(["sh", "-c", 'echo "$LC_ALL:$HOME"'], env={"LC_ALL": "C"})
    assert result.output.decode().strip() == f"C:{os.environ.get('HOME', '')}"


def test_missing_tool_names_it() -> None:
    with pytest.raises(ToolError) as caught:
        run(["portcheck-no-such-tool", "-x"])
    assert caught.value.problem is Problem.MISSING
    assert "portcheck-no-such-tool" in str(caught.value)


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild.pid"
    script = f"sleep 30 & echo $! > {pidfile}; wait"
    started = time.monotonic()
    with pytest.raises(ToolError) as caught:
        run(["sh", "-c", script], timeout=0.5)
    assert caught.value.problem is Problem.TIMEOUT
    assert time.monotonic() - started < 10
    grandchild = int(pidfile.read_text())
    for _ in range(50):
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_large_output_is_complete() -> None:
    script = "import sys; sys.stdout.write(('y' * 99 + '\\n') * 20000)"
    result = run([sys.executable, "-c", script])
    assert result.output.count(b"\n") == 20000
    assert len(result.output) == 2_000_000


def test_which_system_only_ignores_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "sh"
    fake.write_text("#!/bin/sh\necho planted\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert which("sh") == str(fake)
    found = which("sh", system_only=True)
    assert found is not None and found.startswith(("/usr/", "/bin", "/sbin"))
