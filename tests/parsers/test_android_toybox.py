"""Android's netstat is toybox's, read by the netstat-linux parser: the 2016 toybox (Android 6 and 7)
cuts IPv6 addresses at 23 characters with their port, the current one overwrites the host instead, and
neither cuts program names. `adb shell cat /proc/net/tcp6` is the proc parser's, IPv4-mapped addresses
included. Fixtures: tests/fixtures/android (recorded, see its README); a real toybox run at the end."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import netstat_linux
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES

ANDROID = sorted((FIXTURES / "android").glob("*.txt"))
HEADER_2016 = (
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program Name"
)


def parse(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(netstat_linux.parse(list(lines), ctx or ParseContext()))


def established(local: tuple[str, int | None], remote: tuple[str, int | None]) -> Socket:
    return Socket(Proto.TCP, Family.IPV6, *local, *remote, State.ESTABLISHED, source="netstat-linux")


@pytest.mark.parametrize("path", ANDROID, ids=[p.name for p in ANDROID])
def test_recorded_output_is_read_whole(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = detect(lines)
    assert name == ("proc" if path.name.startswith("proc") else "netstat-linux")
    ctx = ParseContext()
    rows = list(netstat_linux.parse(lines, ctx)) if name == "netstat-linux" else []
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert netstat_linux.TRUNCATED_NAMES not in ctx.notes.messages  # toybox never cuts the names
    cut = any(r.remote_address is not None and r.remote_port is None for r in rows)
    assert (netstat_linux.TOYBOX_CUT in ctx.notes.messages) is cut
    assert cut is ("-2016" in path.name and "tlnp" not in path.name)  # the cut rows are connections


@pytest.mark.parametrize(
    ("printed", "port"),
    [
        ("::ffff:192.168.1.5:4432", None),  # 44320-44329 as well: a digit may be missing
        ("::ffff:192.168.100.123:", None),  # the whole port is gone
        ("::ffff:10.0.0.1:80", 80),  # narrower than the column: nothing was cut
        ("::ffff:192.168.1.5:8080", 8080),  # one more digit would pass 65535
        ("::ffff:192.168.1.:44321", 44321),  # five digits: whole
    ],
)
def test_the_2016_toybox_cut_keeps_only_whole_ports(printed: str, port: int | None) -> None:
    ctx = ParseContext()
    (got,) = parse(
        HEADER_2016, f"tcp        0      0 {printed:<23} ::ffff:10.0.0.1:443     ESTABLISHED 77/app", ctx=ctx
    )
    assert got.local_port == port
    assert got.local_address == printed.rpartition(":")[0]
    assert (netstat_linux.TOYBOX_CUT in ctx.notes.messages) is (port is None)


def test_a_cut_peer_port_is_unknown_and_the_filter_cannot_match_it() -> None:
    line = "tcp        0      0 ::ffff:10.0.0.1:5555    ::ffff:192.168.1.5:4432 ESTABLISHED"
    assert parse(line) == [established(("::ffff:10.0.0.1", 5555), ("::ffff:192.168.1.5", None))]
    assert parse(line, ctx=ParseContext(frozenset({4432}), match_remote=True)) == []


def test_tcp6_rows_of_23_characters_keep_their_ports() -> None:
    """net-tools and toybox 0.8 cut the host, never the port (`tcp6` says which tool family it is)."""
    ctx = ParseContext()
    line = "tcp6       0      0 ::ffff:127.0.0.1:47417  ::ffff:127.0.100.:47418 ESTABLISHED"
    assert parse(line, ctx=ctx) == [established(("::ffff:127.0.0.1", 47417), ("::ffff:127.0.100.", 47418))]
    assert netstat_linux.TRUNCATED_ADDRESSES in ctx.notes.messages
    assert netstat_linux.TOYBOX_CUT not in ctx.notes.messages


def test_long_names_are_cut_by_net_tools_only() -> None:
    row = "tcp 0 0 0.0.0.0:5037 0.0.0.0:* LISTEN 912/com.android.phone"
    toybox, net_tools = ParseContext(), ParseContext()
    parse(HEADER_2016, row, ctx=toybox)
    parse(HEADER_2016.replace("Name", "name"), row, ctx=net_tools)
    assert netstat_linux.TRUNCATED_NAMES not in toybox.notes.messages
    assert netstat_linux.TRUNCATED_NAMES in net_tools.notes.messages


def _argv0_basename() -> str:
    """What toybox prints after `PID/`: the basename of this process's argv[0]."""
    return os.path.basename(Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode())


@pytest.mark.skipif(shutil.which("toybox") is None, reason="toybox is not installed")
def test_real_toybox_netstat_names_this_process() -> None:
    with socket.socket(socket.AF_INET6) as listener:
        listener.bind(("::1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        text = subprocess.run(
            ["toybox", "netstat", "-tlnp"], capture_output=True, text=True, check=True
        ).stdout
    lines = text.splitlines()
    assert detect(lines) == "netstat-linux"
    (got,) = netstat_linux.parse(lines, ParseContext(frozenset({port})))
    assert (got.local_address, got.family, got.state) == ("::1", Family.IPV6, State.LISTEN)
    assert (got.pid, got.process) == (os.getpid(), _argv0_basename())
