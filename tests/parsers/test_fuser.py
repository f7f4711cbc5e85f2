"""fuser (psmisc, BusyBox): names and PIDs from two streams, the -v table, the command line of a paste,
detection from one bare row, and a real fuser run against a socket this test opens.

The recorded fixtures (tests/fixtures/linux/fuser-*.txt, busybox-fuser.txt; scripts/record_fuser_toybox.py)
are checked row by row in test_fixtures.py; here are the rules behind them, each on its own."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess

import pytest

from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers import fuser
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES, run_cli


def parse(*lines: str, ctx: ParseContext | None = None) -> list[Socket]:
    return list(fuser.parse(list(lines), ctx or ParseContext()))


def row(port: int | None, pid: int | None, proto: Proto = Proto.TCP, **values: object) -> Socket:
    state = State.UNKNOWN if proto is Proto.TCP else State.NONE
    base = Socket(proto, None, "?", port, None, None, state, pid, None, None, "fuser")
    return base._replace(**values)


# --- psmisc's two streams --------------------------------------------------------------------------


def test_terse_names_and_pids_on_one_line() -> None:
    assert parse("80/tcp:               1283  1284", "53/udp:                 612") == [
        row(80, 1283),
        row(80, 1284),
        row(53, 612, Proto.UDP),
    ]


def test_u_appends_the_user_to_each_pid() -> None:
    assert parse("80/tcp:               1283(root)  1284(www-data)  1290(unknown)") == [
        row(80, 1283, user="root"),
        row(80, 1284, user="www-data"),
        row(80, 1290),
    ]


def test_verbose_rows_below_their_name_belong_to_it() -> None:
    lines = [
        "                     USER        PID ACCESS COMMAND",
        "80/tcp:              root       1283 F.... nginx",
        "                     www-data   1284 F.... nginx: worker",
        "53/udp:              (unknown)   612 F.... dnsmasq",
    ]
    assert parse(*lines) == [
        row(80, 1283, process="nginx", user="root"),
        row(80, 1284, process="nginx: worker", user="www-data"),
        row(53, 612, Proto.UDP, process="dnsmasq"),
    ]


def test_a_long_name_stands_alone_above_its_rows() -> None:
    lines = [",10.0.0.1,443/tcp:", "                     root       1283 F.... curl"]
    assert parse(*lines) == [
        Socket(
            Proto.TCP, Family.IPV4, "?", None, "10.0.0.1", 443, State.UNKNOWN, 1283, "curl", "root", "fuser"
        )
    ]


def test_verbose_rows_without_stdout_have_no_pid() -> None:
    assert parse("80/tcp:              root      F.... nginx") == [
        row(80, None, process="nginx", user="root")
    ]


@pytest.mark.parametrize(
    "lines",
    [
        ["80/tcp:", "  1283  1284"],  # stderr pasted first
        ["  1283  1284", "80/tcp:"],  # stdout pasted first (its PIDs end without a newline)
        ["80/tcp:", "Cannot stat file /proc/9/fd/4: Stale file handle", "  1283  1284"],
    ],
)
def test_a_name_alone_claims_the_pid_line_beside_it(lines: list[str]) -> None:
    assert parse(*lines) == [row(80, 1283), row(80, 1284)]


def test_pids_of_two_names_printed_apart_cannot_be_told_apart() -> None:
    ctx = ParseContext()
    assert parse("80/tcp:", "443/tcp:", "  1283  1284  1290", ctx=ctx) == []
    assert fuser.NO_NAME_HINT in ctx.notes.messages
    assert ctx.notes.skipped == 1


def test_pids_with_no_name_anywhere_are_not_rows() -> None:
    ctx = ParseContext()
    assert parse("  1283  1284", ctx=ctx) == []
    assert fuser.NO_NAME_HINT in ctx.notes.messages
    assert ctx.notes.first_skipped == (1, "1283  1284")


def test_unused_names_of_a_are_no_rows() -> None:
    assert parse("8080/tcp:", "80/tcp:               1283") == [row(80, 1283)]


# --- the command line of a paste -------------------------------------------------------------------


def test_busybox_pids_take_the_port_from_the_command_line() -> None:
    assert parse("/ # fuser 8080/tcp", "1283 1284 ") == [row(8080, 1283), row(8080, 1284)]


def test_busybox_pids_of_several_names_are_not_attributed() -> None:
    ctx = ParseContext()
    assert parse("$ busybox fuser 80/tcp 443/tcp", "1283 1284 ", ctx=ctx) == []
    assert fuser.NO_NAME_HINT in ctx.notes.messages


@pytest.mark.parametrize(
    ("command", "targets", "family"),
    [
        ("$ sudo fuser -nv udp 53 2>/dev/null | cat", [(Proto.UDP, 53)], None),
        ("# fuser -v -n tcp 80 443", [(Proto.TCP, 80), (Proto.TCP, 443)], None),
        ("root@web:~# /bin/fuser -4 -k -TERM ssh/tcp", [(Proto.TCP, 22)], Family.IPV4),
        ("/ # busybox fuser -6 53/udp6", [(Proto.UDP, 53)], Family.IPV6),
        ("$ fuser -v /var/log/syslog", [], None),
    ],
)
def test_command_lines(command: str, targets: list[tuple[Proto, int]], family: Family | None) -> None:
    read = fuser.read_command(command.split())
    assert read is not None
    assert [(t.proto, t.port) for t in read.targets] == targets
    assert read.family == family


def test_the_family_asked_for_is_the_rows_family() -> None:
    rows = parse("# fuser -4 80/tcp", "80/tcp:               1283")
    assert [r.family for r in rows] == [Family.IPV4]
    assert parse("/ # busybox fuser 53/udp6", "612 ")[0].family is Family.IPV6


@pytest.mark.parametrize("name", ["80/tcp", "ssh/tcp", ",10.0.0.1,443/tcp", "53,,/udp", "53/udp6"])
def test_port_names(name: str) -> None:
    assert fuser.read_name(name) is not None


@pytest.mark.parametrize(
    "name", ["/var/log/syslog", "nosuchservice/tcp", "70000/tcp", "80/sctp", "/tcp", "a,b,c,d/tcp"]
)
def test_not_port_names(name: str) -> None:
    assert fuser.read_name(name) is None


# --- what is not a socket --------------------------------------------------------------------------


def test_files_and_their_processes_are_passed_over_quietly() -> None:
    ctx = ParseContext()
    lines = [
        "                     USER        PID ACCESS COMMAND",
        "/home:               root     kernel mount /home",
        "                     root     kernel swap  /swapfile",
        "                     alice      4242 ..c.. bash",
        "/var/log/syslog:      612",
    ]
    assert parse(*lines, ctx=ctx) == []
    assert ctx.notes.skipped == 0


def test_psmisc_escapes_stay_as_printed() -> None:
    (got,) = parse("47419/tcp:           root       8859 F.... ev\\033il sp ace")
    assert got.process == "ev\\033il sp ace"


def test_permission_denied_says_to_run_it_as_root() -> None:
    ctx = ParseContext()
    parse("Cannot stat file /proc/1/fd/3: Permission denied", "80/tcp:  1283", ctx=ctx)
    assert fuser.PERMISSION_HINT in ctx.notes.messages
    assert fuser.NOTE in ctx.notes.messages


def test_the_port_filter() -> None:
    lines = ["80/tcp:  1283", "443/tcp:  1290", ",127.0.0.1,80/tcp:  77"]
    assert parse(*lines, ctx=ParseContext(frozenset({443}))) == [row(443, 1290)]
    remote = parse(*lines, ctx=ParseContext(frozenset({80}), match_remote=True))
    assert [r.pid for r in remote] == [1283, 77]


# --- detection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "lines",
    [
        ["80/tcp:               1283  1284"],
        ["80/tcp:              root       1283 F.... nginx"],
        ["                     root       1284 F.... nginx"],
        ["$ fuser 80/tcp 2>/dev/null", "  1283  1284"],
    ],
)
def test_one_bare_row_is_enough(lines: list[str]) -> None:
    assert detect(lines) == "fuser"


def test_digits_alone_are_nobody_s() -> None:
    assert detect(["  1283  1284"]) is None


def test_fuser_saying_only_that_it_cannot_read_is_nothing_matched() -> None:
    result = run_cli("parse", "-", stdin="Cannot stat file /proc/1/fd/0: Permission denied\n")
    assert result.code == 1, result.stderr
    assert "run it as root" in result.stderr


def test_the_note_reaches_stderr_once() -> None:
    result = run_cli("parse", str(FIXTURES / "linux" / "fuser-vn-tcp-two-ports.txt"))
    assert result.code == 0
    assert result.stderr.count("fuser shows which processes hold a port") == 1
    assert "?:47410" in result.stdout


# --- a real fuser ----------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("fuser") is None, reason="psmisc's fuser is not installed")
@pytest.mark.parametrize("options", [["-v"], [], ["-u"]])
def test_real_fuser_names_this_process(options: list[str]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        done = subprocess.run(
            ["fuser", *options, f"{port}/tcp"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False
        )
    text = done.stdout.decode()
    assert detect(text.splitlines()) == "fuser"
    rows = list(fuser.parse(text.splitlines(), ParseContext(frozenset({port}))))
    assert [(r.local_port, r.pid, r.proto) for r in rows] == [(port, os.getpid(), Proto.TCP)]


def test_k_i_asks_before_killing_and_that_is_no_row() -> None:
    ctx = ParseContext()
    assert parse("47418/tcp:            9197", "Kill process 9197 ? (y/N) y", ctx=ctx) == [row(47418, 9197)]
    assert ctx.notes.skipped == 0
