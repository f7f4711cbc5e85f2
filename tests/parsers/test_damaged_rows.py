"""Rows damaged before they reached portcheck: fields an author blanked out, sockstat columns that ran
into each other, lines cut at a terminal's width. What remains certain is kept; the rest is unknown.
(The sockstat rows are written from sockstat.c's printf positions: see portcheck.parsers.sockstat.)"""

from __future__ import annotations

import pytest

from portcheck.api.sockets import parse
from portcheck.parsers import cut
from portcheck.parsers.common import redacted
from tests.conftest import FIXTURES, run_cli

SOCKSTAT_HEADER = "USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS      \n"

REDACTED = {
    "net-tools PID": (
        "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      ****/sshd",
        ("0.0.0.0", 22, "LISTEN", None, "sshd", None),
    ),
    "net-tools address": (
        "tcp        0      0 x.x.x.x:443             y.y.y.y:51234           ESTABLISHED 1127/nginx",
        ("x.x.x.x", 443, "ESTABLISHED", 1127, "nginx", None),
    ),
    "ss pid=": (
        'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=xxxx,fd=3))',
        ("0.0.0.0", 22, "LISTEN", None, "sshd", None),
    ),
    "lsof PID and user": (
        "java    <redacted>  XXXX   45u  IPv4 123456      0t0  TCP *:8080 (LISTEN)",
        ("0.0.0.0", 8080, "LISTEN", None, "java", None),
    ),
    "sockstat PID": (
        SOCKSTAT_HEADER + "www      nginx      ####  6  tcp4   *:80                  *:*",
        ("0.0.0.0", 80, "LISTEN", None, "nginx", "www"),
    ),
    "Windows PID and peer": (
        "  TCP    10.1.2.3:443           <redacted>:51234       ESTABLISHED     ****",
        ("10.1.2.3", 443, "ESTABLISHED", None, None, None),
    ),
}


@pytest.mark.parametrize("case", list(REDACTED))
def test_a_redacted_field_leaves_the_others(case: str) -> None:
    text, expected = REDACTED[case]
    result = parse(text + "\n")
    assert result.skipped == 0, result.first_skipped
    assert [
        (r.local_address, r.local_port, r.state.value, r.pid, r.process, r.user) for r in result.rows
    ] == [expected]


@pytest.mark.parametrize(
    "token", ["****", "xxxx", "XXX", "##", "...", "<redacted>", "[hidden]", "<pid>", "REDACTED"]
)
def test_redaction_marks(token: str) -> None:
    assert redacted(token)


@pytest.mark.parametrize(
    "token", ["1127", "x", "*", "*.*", "*.22", "root", "xterm", "pid", "hidden", "<b>", "-", "?"]
)
def test_what_is_no_redaction(token: str) -> None:
    assert not redacted(token)


SOCKSTAT_OVERFLOW = {
    # user 10 characters: the command starts at 11, `dbus-daemo` (cut to 10) ends at 21, past the PID's 20
    "command into PID": (
        "messagebus dbus-daemo1234 5  tcp4   127.0.0.1:5432        *:*",
        (1234, "dbus-daemo"),
    ),
    "long user, short split": (
        "systemd-network systemd-ne812 5  tcp4   127.0.0.1:5432        *:*",
        (812, "systemd-ne"),
    ),
    # `postgres1234`: `postgres` ends at 19, before 20 -- no split fits the widths, so both are unknown
    "no certain split": ("postgresql postgres1234 5  tcp4   127.0.0.1:5432        *:*", (None, None)),
}


@pytest.mark.parametrize("case", list(SOCKSTAT_OVERFLOW))
def test_sockstat_command_run_into_the_pid(case: str) -> None:
    row, (pid, command) = SOCKSTAT_OVERFLOW[case]
    result = parse(SOCKSTAT_HEADER + row + "\n")
    assert result.skipped == 0, result.first_skipped
    assert [(r.local_port, r.pid, r.process) for r in result.rows] == [(5432, pid, command)]


def test_sockstat_local_address_run_into_the_foreign_one() -> None:
    """A local address of 22 characters or more (only IPv6) reaches column 58, where the foreign one
    is printed with no blank between them."""
    row = "root     sshd       745   4  tcp6   [2001:db8:1234::10]:22[2001:db8:1234::77]:51234"
    result = parse(SOCKSTAT_HEADER + row + "\n")
    assert result.skipped == 0, result.first_skipped
    got = [(r.local_address, r.local_port, r.remote_address, r.remote_port, r.pid) for r in result.rows]
    assert got == [("2001:db8:1234::10", 22, "2001:db8:1234::77", 51234, 745)]


def test_sockstat_addresses_that_could_split_two_ways_are_not_read() -> None:
    """An IPv4 address never reaches column 58 (21 characters at most): a token of two is no overflow
    sockstat prints, and no guess is made."""
    row = "root     nginx      745   4  tcp4   192.168.100.200:12345192.168.100.201:51234"
    result = parse(SOCKSTAT_HEADER + row + "\n")
    assert result.rows == [] and result.skipped == 1


def _cut_at(relative: str, width: int) -> str:
    lines = (FIXTURES / relative).read_text(encoding="utf-8").splitlines()
    return "\n".join(line.rstrip()[:width] for line in lines) + "\n"


def test_ss_cut_at_a_terminal_width_keeps_the_columns_before_the_cut() -> None:
    def sockets(text: str) -> set[tuple[object, ...]]:  # one row per socket (a whole row may name two owners)
        return {
            (r.proto, r.local_address, r.local_port, r.remote_address, r.remote_port, r.state)
            for r in parse(text).rows
        }

    result = parse(_cut_at("linux/ss-tunap.txt", 80))
    assert result.skipped == 0, result.first_skipped
    assert sockets(_cut_at("linux/ss-tunap.txt", 80)) == sockets(_cut_at("linux/ss-tunap.txt", 1000))
    assert all(r.pid is None and r.process is None for r in result.rows)  # `users:(("pc` was cut
    hint = "the paste's lines were cut at 80 characters"
    assert any(message.startswith(hint) for message in result.notes.messages)


def test_lsof_cut_inside_the_address_reads_no_wrong_port() -> None:
    """`TCP *:8` of `TCP *:8080 (LISTEN)`: the rows cut inside their last column are not read."""
    result = parse(_cut_at("linux/lsof-nP-i.txt", 60))
    assert result.rows == []
    assert result.skipped > 0


def test_a_whole_paste_is_not_taken_for_a_cut_one() -> None:
    for relative in ("linux/ss-tunap.txt", "linux/netstat-tunap.txt", "linux/lsof-nP-i.txt"):
        text = (FIXTURES / relative).read_text(encoding="utf-8")
        assert cut.cut_width(text.splitlines()) is None, relative


@pytest.mark.parametrize(
    ("address", "exposure"), [("x.x.x.x", None), ("<redacted>", None), ("10.0.0.5", "specific")]
)
def test_a_redacted_address_has_no_known_exposure(address: str, exposure: str | None) -> None:
    from portcheck.core.exposure import exposure_of

    found = exposure_of(address)
    assert (None if found is None else found.value) == exposure


def test_a_redacted_pid_with_its_name_asks_for_no_root_run() -> None:
    row = "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      ****/sshd\n"
    result = run_cli("parse", stdin=row)
    assert result.code == 0, result.stderr
    assert result.stderr == ""
