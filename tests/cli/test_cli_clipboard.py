"""`portcheck parse --clipboard`, read for real: an X server without a screen (Xvfb) on a free display,
the clipboard set with xclip, and portcheck reading it with the Linux platform's clipboard tools.
.ci/run installs xvfb and xclip; without them these tests skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import FIXTURES, Result, run_cli
from tests.helpers.live import fake_tool

needs_x = pytest.mark.skipif(
    shutil.which("Xvfb") is None or shutil.which("xclip") is None, reason="needs Xvfb and xclip (.ci/run)"
)
READY_WITHIN = 30.0
"""How long Xvfb and xclip may take to start on a loaded machine (a readiness wait, no timing test)."""


def _free_display() -> int:
    for number in range(90, 190):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            return number
    raise RuntimeError("no free X display")


def _wait_for(ready: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.05)


@pytest.fixture
def display() -> Iterator[str]:
    """An Xvfb display of its own, stopped afterwards (with every clipboard owner connected to it)."""
    number = _free_display()
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-nolisten", "tcp", "-screen", "0", "320x240x8"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: Path(f"/tmp/.X11-unix/X{number}").exists() or server.poll() is not None, "Xvfb")
        if server.poll() is not None:
            pytest.skip(f"Xvfb could not start on :{number}")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def _x_env(display: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "WAYLAND_DISPLAY"}
    return {**env, "DISPLAY": display}


def _read_back(display: str) -> bytes:
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", "-out"], env=_x_env(display), capture_output=True, check=False
    )
    return done.stdout if done.returncode == 0 else b""


@pytest.fixture
def clipboard(display: str) -> Iterator[Callable[[bytes], None]]:
    """Sets the clipboard to some text: xclip owns the selection in the foreground until stopped."""
    owners: list[subprocess.Popen[bytes]] = []

    def set_text(text: bytes) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:  # again if the server was not yet taking clients
            owner = subprocess.Popen(
                ["xclip", "-selection", "clipboard", "-quiet", "-in"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=_x_env(display),
            )
            owners.append(owner)
            assert owner.stdin is not None
            owner.stdin.write(text)
            owner.stdin.close()
            _wait_for(lambda child=owner: child.poll() is not None or _read_back(display) == text, "xclip")
            if owner.poll() is None:
                return
        raise RuntimeError("xclip could not set the clipboard")

    try:
        yield set_text
    finally:
        for owner in owners:
            owner.terminate()
            owner.wait(timeout=30)


def _parse_clipboard(display: str, *args: str) -> Result:
    env = {"DISPLAY": display, "WAYLAND_DISPLAY": "", PLATFORM_VARIABLE: "linux"}
    return run_cli("parse", "--clipboard", *args, env=env)


@needs_x
def test_parse_reads_the_clipboard(display: str, clipboard: Callable[[bytes], None]) -> None:
    text = (FIXTURES / "linux" / "ss-tunap.txt").read_bytes()
    clipboard(text)
    result = _parse_clipboard(display, "--json", "--port", "47310")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert {(row["local_port"], row["state"], row["process"]) for row in rows} == {
        (47310, "LISTEN", "pcfix server")
    }


@needs_x
def test_a_mixed_paste_from_the_clipboard(display: str, clipboard: Callable[[bytes], None]) -> None:
    ss = (FIXTURES / "linux" / "ss-tlnp.txt").read_text(encoding="utf-8")
    text = f"[10:42] alice: here you go\n$ ss -tlnp\n{ss}\n"
    clipboard(text.encode())
    result = _parse_clipboard(display, "--verbose")
    assert result.code == 0, result.stderr
    assert "portcheck: <clipboard>: " in result.stderr


@needs_x
def test_an_empty_clipboard_is_unreadable_input(display: str) -> None:
    result = _parse_clipboard(display)
    assert result.code == 2
    assert result.stderr.startswith("portcheck: cannot read the clipboard: xclip exited")


def test_no_clipboard_tool_names_what_to_install(tmp_path: Path) -> None:
    env = {"PATH": str(tmp_path), "DISPLAY": ":0", PLATFORM_VARIABLE: "linux"}
    result = run_cli("parse", "--clipboard", env=env)
    assert result.code == 2
    assert result.stderr == (
        "portcheck: cannot read the clipboard: no clipboard tool found; "
        "install wl-clipboard (Wayland), or xclip or xsel (X11)\n"
    )


@needs_x
def test_no_desktop_session_says_so() -> None:
    result = run_cli(
        "parse", "--clipboard", env={"DISPLAY": "", "WAYLAND_DISPLAY": "", PLATFORM_VARIABLE: "linux"}
    )
    assert result.code == 2
    assert "no desktop session (DISPLAY is not set)" in result.stderr


def test_clipboard_and_files_together_are_refused(tmp_path: Path) -> None:
    result = run_cli("parse", "--clipboard", str(tmp_path / "x.txt"))
    assert result.code == 2
    assert "give it no file names" in result.stderr


def _argv_log(directory: Path) -> list[list[str]]:
    import json

    return [json.loads(line) for line in (directory / "argv.log").read_text().splitlines()]


def test_macos_reads_pbpaste(tmp_path: Path) -> None:
    """Through the runner with a fake pbpaste on PATH (the recorded reply is a fixture)."""
    fake_tool(tmp_path, "pbpaste", output=FIXTURES / "macos" / "lsof-nP-iTCP-sTCP-LISTEN.txt")
    result = run_cli("parse", "--clipboard", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "macos"})
    assert result.code == 0, result.stderr
    assert _argv_log(tmp_path) == [["pbpaste", "-Prefer", "txt"]]


def test_windows_reads_get_clipboard_as_utf8(tmp_path: Path) -> None:
    import base64

    fake_tool(tmp_path, "powershell", output=FIXTURES / "windows" / "netstat-ano-p-tcp-utf8-bom.txt")
    result = run_cli("parse", "--clipboard", env={"PATH": str(tmp_path), PLATFORM_VARIABLE: "windows"})
    assert result.code == 0, result.stderr
    [argv] = _argv_log(tmp_path)
    assert argv[:4] == ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"]
    script = base64.b64decode(argv[4]).decode("utf-16-le")
    assert script == "[Console]::OutputEncoding = [Text.Encoding]::UTF8; Get-Clipboard -Raw"
