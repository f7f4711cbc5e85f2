"""The fleet's parts that need no network: host names as typed, hosts files, command lines for the
remote shells, ssh's messages read as reasons, the summary and exit code, the host column in every
format, and OS detection from what a remote answers (a recording stands in for the connection: a
Windows or macOS sshd is not something CI has)."""

from __future__ import annotations

import csv
import io
import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from portcheck.core.errors import UsageError
from portcheck.core.model import FIELDS, ExitCode, Family, Proto, Socket, State
from portcheck.fleet.fleet import FleetResult, HostResult, name_list, read_hosts_file, targets_from
from portcheck.fleet.remote import REMOTE_PATH, RemoteSystem, Shell, cmd_quote, command_line, detect
from portcheck.fleet.ssh import (
    QUIET_SESSION,
    Connection,
    HostError,
    Reason,
    Settings,
    Target,
    classify,
    parse_target,
)
from portcheck.live.query import Answer
from portcheck.live.runner import ToolRun
from portcheck.output.render import Table, render
from portcheck.platforms.base import OS

ROW = Socket(Proto.TCP, Family.IPV4, "0.0.0.0", 22, None, None, State.LISTEN, 1, "sshd", "root", "ss")
OTHER = ROW._replace(local_port=80, pid=2, process="=cmd|x", user=None)


@pytest.mark.parametrize(
    ("text", "host", "user", "port"),
    [
        ("web1", "web1", None, None),
        ("alice@web1.example.com", "web1.example.com", "alice", None),
        ("alice@10.0.0.5:2222", "10.0.0.5", "alice", 2222),
        ("[fe80::1%eth0]:22", "fe80::1%eth0", None, 22),
        ("root@[::1]", "::1", "root", None),
        ("::1", "::1", None, None),
        ("CORP\\admin@winbox", "winbox", "CORP\\admin", None),
        ("admin@corp.example@winbox:22", "winbox", "admin@corp.example", 22),
        ("  db_2  ", "db_2", None, None),
    ],
)
def test_targets_as_typed(text: str, host: str, user: str | None, port: int | None) -> None:
    target = parse_target(text)
    assert (target.host, target.user, target.port, target.label) == (host, user, port, text.strip())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "-oProxyCommand=sh",
        "alice@-p",
        "-l@web1",
        "web1;id",
        "web 1",
        "web1:0",
        "web1:70000",
        "web1:ssh",
        "[::1",
        "[::1]x",
        "$(id)@web1",
        "web1\x1b[2J",
        "@web1",
    ],
)
def test_targets_that_could_become_options_or_code_are_refused(text: str) -> None:
    with pytest.raises(UsageError, match="invalid host"):
        parse_target(text)


def test_hosts_file(tmp_path: Path) -> None:
    listing = tmp_path / "hosts"
    listing.write_text("# fleet\nweb1\n\n  web2  # behind the LB\nweb1\r\n#web3\n")
    assert read_hosts_file(str(listing)) == ["web1", "web2", "web1"]
    assert [t.label for t in targets_from(["db1", "web2"], str(listing))] == ["db1", "web2", "web1"]
    with pytest.raises(UsageError, match="No such file"):
        read_hosts_file(str(tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("\n# none\n")
    with pytest.raises(UsageError, match="no hosts"):
        targets_from([], str(empty))


def test_posix_command_line() -> None:
    argv = ("ss", "-tunapeH", "( sport >= :8000 and sport <= :8100 ) or sport = :80")
    line = command_line(argv, {"LC_ALL": "C"}, Shell.POSIX, OS.LINUX)
    assert line == (
        f"env PATH={REMOTE_PATH} LC_ALL=C ss -tunapeH '( sport >= :8000 and sport <= :8100 ) or sport = :80'"
    )
    # A POSIX shell on Windows (Git, Cygwin) keeps its own PATH: netstat lives in System32.
    assert command_line(("netstat", "-ano"), None, Shell.POSIX, OS.WINDOWS) == "netstat -ano"


@given(st.lists(st.text(min_size=0, max_size=20), min_size=1, max_size=6))
def test_posix_quoting_gives_the_remote_shell_back_exactly_the_argv(argv: list[str]) -> None:
    line = command_line(argv, None, Shell.POSIX, OS.LINUX)
    assert shlex.split(line) == ["env", f"PATH={REMOTE_PATH}", *argv]


def test_environment_names_are_checked() -> None:
    with pytest.raises(ValueError, match="environment variable"):
        command_line(("ss",), {"-i": "x"}, Shell.POSIX, OS.LINUX)


def test_cmd_quoting() -> None:
    assert (
        command_line(("tasklist", "/fo", "csv", "/nh"), None, Shell.CMD, OS.WINDOWS) == "tasklist /fo csv /nh"
    )
    assert command_line(("netstat", "-ano", "-p", "TCPv6"), {"LC_ALL": "C"}, Shell.CMD, OS.WINDOWS) == (
        "netstat -ano -p TCPv6"
    )
    assert cmd_quote("a b") == '"a b"'
    for word in ('a"b', "%PATH%", "a&b", "a|b", "a^b", "a<b", "a>b", "!x!", "a\nb", "(x)"):
        with pytest.raises(ValueError, match=r"cmd\.exe"):
            cmd_quote(word)


@pytest.mark.parametrize(
    ("stderr", "reason"),
    [
        ("ssh: connect to host 10.0.0.9 port 22: Connection refused\n", Reason.REFUSED),
        (
            "Connection timed out during banner exchange\nConnection to 10.0.0.9 port 22 timed out\n",
            Reason.TIMEOUT,
        ),
        ("ssh: connect to host 10.0.0.9 port 22: Connection timed out\n", Reason.TIMEOUT),
        ("alice@web1: Permission denied (publickey,password).\n", Reason.AUTH),
        ("Host key verification failed.\n", Reason.HOST_KEY_UNKNOWN),
        (
            "@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\n"
            "Host key verification failed.\n",
            Reason.HOST_KEY_CHANGED,
        ),
        ("ssh: Could not resolve hostname web9: Name or service not known\n", Reason.UNKNOWN_HOST),
        ("ssh: connect to host 10.0.0.9 port 22: No route to host\n", Reason.UNREACHABLE),
        ("kex_exchange_identification: Connection closed by remote host\n", Reason.CLOSED),
        ("something new\n", Reason.SSH),
        ("", Reason.SSH),
    ],
)
def test_ssh_messages_become_reasons(stderr: str, reason: Reason) -> None:
    error = classify(stderr)
    assert error.reason is reason
    assert "\n" not in error.detail
    assert error.promptable == (reason in (Reason.AUTH, Reason.HOST_KEY_UNKNOWN))


def test_a_hostile_message_is_escaped() -> None:
    assert "\x1b" not in classify("Permission denied \x1b[2J (publickey)").detail


def _answered(label: str, rows: list[Socket]) -> HostResult:
    return HostResult(Target(label, label), Answer(rows, "ss", []), OS.LINUX)


def _failed(label: str, reason: Reason) -> HostResult:
    return HostResult(Target(label, label), failure=HostError(reason, "..."))


REFUSED_B = "2 hosts: 1 answered (1 matched), 1 failed: connection refused (b)"
GROUPED = "4 hosts: 1 answered (0 matched), 3 failed: timed out (b, d); connection refused (c)"
ALL_FAILED = "1 host: 0 answered (0 matched), 1 failed: authentication failed (a)"


@pytest.mark.parametrize(
    ("hosts", "code", "summary"),
    [
        ([_answered("a", [ROW]), _failed("b", Reason.REFUSED)], ExitCode.MATCH, REFUSED_B),
        ([_answered("a", []), _answered("b", [])], ExitCode.NO_MATCH, "2 hosts: 2 answered (0 matched)"),
        (
            [
                _answered("a", []),
                _failed("b", Reason.TIMEOUT),
                _failed("c", Reason.REFUSED),
                _failed("d", Reason.TIMEOUT),
            ],
            ExitCode.CANNOT_INSPECT,
            GROUPED,
        ),
        ([_failed("a", Reason.AUTH)], ExitCode.CANNOT_INSPECT, ALL_FAILED),
    ],
)
def test_summary_and_exit_code(hosts: list[HostResult], code: ExitCode, summary: str) -> None:
    result = FleetResult(hosts)
    assert result.exit_code is code
    assert result.summary() == summary


def test_a_long_list_of_hosts_stays_one_line() -> None:
    assert name_list([f"h{i}" for i in range(12)]) == "h0, h1, h2, h3, h4 and 7 more"


def _rendered(fmt: str, hosts: list[str] | None, fields: list[str] | None = None) -> str:
    out = io.StringIO()
    render(Table([ROW, OTHER], hosts=hosts), fmt, out, fields=fields)
    return out.getvalue()


def test_host_is_the_first_field_of_every_format() -> None:
    hosts = ["web1", "=db1"]
    records = json.loads(_rendered("json", hosts))
    assert [list(r)[:2] for r in records] == [["host", "proto"], ["host", "proto"]]
    assert [r["host"] for r in records] == hosts  # JSON keeps exact values
    assert [json.loads(line)["host"] for line in _rendered("ndjson", hosts).splitlines()] == hosts
    table = list(csv.reader(io.StringIO(_rendered("csv", hosts))))
    assert table[0] == ["host", *FIELDS]
    assert [r[0] for r in table[1:]] == ["web1", "'=db1"]  # a formula host name is neutralised
    assert table[2][FIELDS.index("process") + 1] == "'=cmd|x"
    lines = _rendered("table", hosts).splitlines()
    assert lines[0].split()[:2] == ["HOST", "PROTO"]
    assert [line.split()[0] for line in lines[2:]] == ["web1", "=db1"]
    assert _rendered("csv", hosts, ["pid"]).splitlines() == ["host,pid", "web1,1", "'=db1,2"]


def test_without_hosts_every_format_is_unchanged() -> None:
    assert json.loads(_rendered("json", None))[0] == dict(zip(FIELDS, ROW))
    assert _rendered("csv", None).splitlines()[0] == ",".join(FIELDS)
    assert _rendered("table", None).splitlines()[0].split()[0] == "PROTO"
    assert list(json.loads(_rendered("ndjson", None).splitlines()[0])) == list(FIELDS)


def test_a_hostile_host_name_is_escaped_in_the_table() -> None:
    assert "\x1b" not in _rendered("table", ["evil\x1b[2J", "ok"])


class Recorded:
    """Stands in for a Connection in the OS-detection tests: replies recorded per command line."""

    def __init__(self, replies: dict[str, tuple[int, bytes]]) -> None:
        self.replies = replies
        self.asked: list[str] = []

    def run(self, command: str, timeout: float) -> ToolRun:
        self.asked.append(command)
        status, output = self.replies.get(command, (1, b""))
        errors = b"" if status == 0 else b"'uname' is not recognized as an internal or external command\r\n"
        return ToolRun((command,), status, output, errors, 0.01)


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ({"uname -s && id -u": (0, b"Linux\n0\n")}, RemoteSystem(OS.LINUX, Shell.POSIX, True)),
        ({"uname -s && id -u": (0, b"Darwin\n501\n")}, RemoteSystem(OS.MACOS, Shell.POSIX, False)),
        (
            {"uname -s && id -u": (0, b"Welcome to web1!\n\nLinux\n1000\n")},  # an rc file that talks
            RemoteSystem(OS.LINUX, Shell.POSIX, False),
        ),
        ({"uname -s && id -u": (0, b"FreeBSD\n0\n")}, RemoteSystem(OS.FREEBSD, Shell.POSIX, True)),
        (
            {"uname -s && id -u": (0, b"MINGW64_NT-10.0-19045\n197108\n")},
            RemoteSystem(OS.WINDOWS, Shell.POSIX, False),
        ),
        (
            {"cmd /c ver": (0, b"\r\nMicrosoft Windows [Version 10.0.19045.3693]\r\n")},
            RemoteSystem(OS.WINDOWS, Shell.CMD, False),
        ),
        (
            {
                "cmd /c ver": (0, b"\r\nMicrosoft Windows [Version 10.0.20348.2113]\r\n"),
                "whoami /groups": (0, b"Mandatory Label\\High Mandatory Level Label S-1-16-12288\r\n"),
            },
            RemoteSystem(OS.WINDOWS, Shell.CMD, True),
        ),
    ],
)
def test_detect_the_remote_os(replies: dict[str, tuple[int, bytes]], expected: RemoteSystem) -> None:
    assert detect(Recorded(replies), 5) == expected  # type: ignore[arg-type]


def test_an_os_without_a_plan_is_a_host_failure() -> None:
    with pytest.raises(HostError, match="no plan for 'OpenBSD'") as raised:
        detect(Recorded({"uname -s && id -u": (0, b"OpenBSD\n0\n")}), 5)  # type: ignore[arg-type]
    assert raised.value.reason is Reason.UNSUPPORTED
    with pytest.raises(HostError, match="cannot tell the OS"):
        detect(Recorded({}), 5)  # type: ignore[arg-type]


def test_ssh_argv(tmp_path: Path) -> None:
    settings = Settings(timeout=2.5, config=str(tmp_path / "cfg"))
    connection = Connection(parse_target("alice@web1:2222"), settings, str(tmp_path / "0"))
    assert connection.argv() == [
        "ssh", "-F", str(tmp_path / "cfg"), "-o", "ConnectTimeout=3", *QUIET_SESSION,
        "-o", f"ControlPath={tmp_path}/0", "-p", "2222", "-l", "alice",
    ]  # fmt: skip
    master = connection.master_argv(batch=True)
    assert master[-2:] == ["--", "web1"]
    assert {"BatchMode=yes", "ControlMaster=yes", "-N", "-f"} <= set(master)


def test_a_host_names_its_uids_once_per_connection() -> None:
    """SSHExecutor.user_names: one `getent passwd` for the uids not asked before, on the connection kept
    open for kill's re-checks; a uid the host cannot name is asked about once too."""
    from portcheck.fleet.remote import SSHExecutor

    connection = Recorded(
        {
            command_line(["getent", "passwd", "0", "1000", "4242"], None, Shell.POSIX, OS.LINUX): (
                0,
                b"root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n",
            ),
            command_line(["getent", "passwd", "33"], None, Shell.POSIX, OS.LINUX): (
                0,
                b"www-data:x:33:33::/:\n",
            ),
        }
    )
    executor = SSHExecutor(connection, RemoteSystem(OS.LINUX, Shell.POSIX, True))  # type: ignore[arg-type]
    assert executor.user_names({"1000", "0", "4242"}, timeout=5) == {"0": "root", "1000": "alice"}
    assert executor.user_names({"0", "4242"}, timeout=5) == {"0": "root"}
    assert executor.user_names({"33", "1000"}, timeout=5) == {"33": "www-data", "1000": "alice"}
    assert len(connection.asked) == 2


def test_a_host_without_getent_is_not_asked() -> None:
    """macOS has no getent (its lsof prints names); Windows prints no uids."""
    from portcheck.fleet.remote import SSHExecutor

    connection = Recorded({})
    executor = SSHExecutor(connection, RemoteSystem(OS.MACOS, Shell.POSIX, False))  # type: ignore[arg-type]
    assert executor.user_names({"501"}, timeout=5) == {}
    assert connection.asked == []
