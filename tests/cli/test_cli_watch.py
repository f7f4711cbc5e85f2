"""`portcheck PORT --watch [SECONDS]` through the real CLI: in a pipe, successive tables after
timestamp lines with new rows marked `+` and gone rows `-` (once); on a terminal, the screen cleared
and redrawn; Ctrl-C ends it with exit status 0."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import run_cli
from tests.helpers.cli import spawn_cli

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")

STAMP = re.compile(r"^--- \d{4}-\d\d-\d\d \d\d:\d\d:\d\d ---$")


def frames(text: str) -> list[list[str]]:
    """The tables, split at the timestamp lines."""
    found: list[list[str]] = []
    for line in text.splitlines():
        if STAMP.match(line):
            found.append([])
        else:
            assert found, f"output before the first timestamp: {line!r}"
            found[-1].append(line)
    return found


def wait_for_frames(process: subprocess.Popen[str], count: int, seen: list[str]) -> None:
    """Read stdout until `count` more timestamp lines arrived (the pipe is line-buffered by portcheck's
    flush after each refresh)."""
    assert process.stdout is not None
    arrived = 0
    while arrived < count:
        line = process.stdout.readline()
        assert line, "portcheck --watch ended early"
        seen.append(line)
        arrived += bool(STAMP.match(line.rstrip("\n")))


def test_pipe_marks_new_and_gone_rows_and_ctrl_c_exits_0() -> None:
    first = socket.socket()
    first.bind(("127.0.0.1", 0))
    first.listen()
    second = socket.socket()
    second.bind(("127.0.0.1", 0))  # bound only: invisible until it listens
    ports = (first.getsockname()[1], second.getsockname()[1])
    watcher = subprocess.Popen(
        [sys.executable, "-m", "portcheck", f"{ports[0]},{ports[1]}", "--watch", "0.2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        wait_for_frames(watcher, 2, seen)
        second.listen()
        wait_for_frames(watcher, 3, seen)
        first.close()
        wait_for_frames(watcher, 3, seen)
    finally:
        first.close()
        second.close()
        watcher.send_signal(signal.SIGINT)
        rest, errors = watcher.communicate(timeout=10)
    assert watcher.returncode == 0, errors
    text = "".join(seen) + rest
    assert "\x1b" not in text  # a pipe gets no screen clearing and no colour
    tables = frames(text)
    marked = [
        (line[0], int(line.split()[2].rsplit(":", 1)[1]))
        for table in tables
        for line in table[2:]
        if line[:1] in "+-"
    ]
    assert marked == [("+", ports[1]), ("-", ports[0])]  # each change marked exactly once
    assert tables[0][0].split() == ["PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER"]
    before_the_end = frames("".join(seen))[-2]  # the last frame read whole while both sockets were open
    assert [line.split()[1] for line in before_the_end[2:]] == [f"127.0.0.1:{ports[1]}"]


def test_terminal_redraws_in_place_every_2_s_by_default() -> None:
    import pexpect

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        session = spawn_cli(str(port), "--watch", env={"NO_COLOR": "1"})
        session.expect_exact("\x1b[H\x1b[2J")
        session.expect(rf"Every 2 s: portcheck {port} +\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d +\(Ctrl-C to stop\)")
        session.expect(f"127.0.0.1:{port}")
        time.sleep(0.2)
        session.sendintr()
        session.expect(pexpect.EOF)
        session.close()
    assert session.exitstatus == 0


def test_nothing_on_the_port_is_said_in_the_frame() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
        watcher = subprocess.Popen(
            [sys.executable, "-m", "portcheck", str(port), "-w", "0.2"], stdout=subprocess.PIPE, text=True
        )
        seen: list[str] = []
        wait_for_frames(watcher, 2, seen)
        watcher.send_signal(signal.SIGINT)
        watcher.communicate(timeout=10)
    assert f"nothing uses port {port}\n" in seen


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--watch", "8080"], "to watch port 8080 write `portcheck 8080 --watch`"),
        (["80", "--watch", "0"], "the refresh interval is in seconds, 0.1 to 3600"),
        (["80", "--watch", "--json"], "--watch redraws a table"),
        (["80", "--watch=1", "-f", "csv"], "--watch redraws a table"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    result = run_cli(*args)
    assert result.code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
