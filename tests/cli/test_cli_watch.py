"""`portcheck PORT --watch [SECONDS]` through the real CLI: in a pipe, successive tables after
timestamp lines with new rows marked `+` and gone rows `-` (once); on a terminal, the screen cleared
and redrawn; Ctrl-C ends it with exit status 0."""

from __future__ import annotations

import os
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


def test_a_watch_without_ports_names_its_selection() -> None:
    import pexpect

    session = spawn_cli("--pid", str(os.getpid()), "--watch", env={"NO_COLOR": "1"})
    session.expect(rf"Every 2 s: portcheck \(PID {os.getpid()}\)")
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


# --- a terminal smaller than the table (issue 12): tmux shows what a person would see ------------------


@pytest.fixture
def crowded_port() -> object:
    """A dual-stack listener with 30 IPv4 clients: 31 rows whose addresses are IPv4-mapped IPv6
    (`[::ffff:127.0.0.1]:PORT`, 23 characters)."""
    server = socket.socket(socket.AF_INET6)
    server.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    server.bind(("::", 0))
    server.listen(64)
    port = server.getsockname()[1]
    held = []
    for _ in range(30):
        held.append(socket.create_connection(("127.0.0.1", port)))
        held.append(server.accept()[0])
    yield port
    for sock in [*held, server]:
        sock.close()


def tmux_screen(columns: int, lines: int, command: list[str]) -> list[str]:
    """Run `command` in a detached tmux session of that size until its first full frame, and return
    the screen as the terminal shows it."""
    import shlex
    import shutil

    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    session = f"portcheck-test-{columns}x{lines}"
    socket_name = f"portcheck-test-{os.getpid()}-{time.monotonic_ns()}"  # a server of its own
    tmux = ["tmux", "-L", socket_name]
    env = f"env NO_COLOR=1 PYTHONPATH={shlex.quote(os.pathsep.join(sys.path))}"
    subprocess.run(
        [
            *tmux,
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            str(columns),
            "-y",
            str(lines),
            f"{env} {shlex.join(command)}",
        ],
        check=True,
    )
    try:
        deadline = time.monotonic() + 20
        screen: list[str] = []
        while time.monotonic() < deadline:
            shown = subprocess.run(
                [*tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
            ).stdout
            screen = shown.splitlines()
            if any("more rows" in line for line in screen):
                return screen
            time.sleep(0.2)
        raise AssertionError("no full frame within 20 s:\n" + "\n".join(screen))
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)


@pytest.mark.parametrize("columns", [40, 62, 80])
def test_a_small_terminal_keeps_the_title_and_header_in_view(crowded_port: int, columns: int) -> None:
    port = crowded_port
    screen = tmux_screen(columns, 16, [sys.executable, "-m", "portcheck", str(port), "--watch", "1"])
    assert screen[0].startswith(f"Every 1 s: portcheck {port}"), screen  # not scrolled away
    assert "LOCAL" in screen[2].split(), screen
    assert all(len(line) <= columns for line in screen), screen  # nothing wrapped onto a second line
    shown = [line for line in screen[4:] if f":{port}" in line]
    more = [line for line in screen if "more rows" in line]
    assert len(more) == 1 and more[0].startswith("… +")
    assert len(shown) + int(more[0].split("+")[1].split()[0]) == 31  # every row shown or counted
    assert f"[::ffff:127.0.0.1]:{port}" in screen[5]  # the long address whole
    if columns >= 62:
        assert "ESTABLISHED" in screen[5] and "PID" in screen[2]  # what the person needs still fits
