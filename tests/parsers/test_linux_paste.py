"""Linux output as people really paste it (issue 2 item 6), and telling ss, netstat and lsof apart by the
shape of their rows, headers or not (issue 2 item 7, issue 3 item 7)."""

from __future__ import annotations

import pytest

from portcheck import parsers
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import detect
from tests.conftest import FIXTURES, run_cli

NETSTAT_ROW = "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      1127/sshd"
SS_ROW = 'tcp   LISTEN 0      128          0.0.0.0:22        0.0.0.0:*    users:(("sshd",pid=1127,fd=3))'
LSOF_ROW = "sshd       1127   root    3u  IPv4  30163      0t0  TCP *:22 (LISTEN)"
SSHD = (Proto.TCP, Family.IPV4, "0.0.0.0", 22, State.LISTEN, 1127, "sshd")


def parse(name: str, text: str, ports: frozenset[int] | None = None) -> tuple[list[Socket], ParseContext]:
    ctx = ParseContext(ports)
    return list(parsers.load(name).parse(text.splitlines(), ctx)), ctx


def key(row: Socket) -> tuple[object, ...]:
    return (row.proto, row.family, row.local_address, row.local_port, row.state, row.pid, row.process)


# ---- messy pastes ---------------------------------------------------------------------------------

NETSTAT_PASTE = """\
\x1b[200~[root@web ~]# netstat -tulpn | grep -v unix
(Not all processes could be identified, non-owned process info
 will not be shown, you would have to be root to see it all.)
    Active Internet connections (only servers)
    Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name
    tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      1127/sshd
...
-- More --
> tcp6       0      0 :::22                   :::*                    LISTEN      1127/sshd
netstat: no support for `AF IPX' on this system.
udp        0      0 0.0.0.0:68              0.0.0.0:*                           867/systemd-network\x1b[201~

[root@web ~]#
"""


def test_netstat_paste_junk_is_counted_and_rows_survive() -> None:
    rows, ctx = parse("netstat-linux", NETSTAT_PASTE)
    assert [key(r) for r in rows] == [
        SSHD,
        (Proto.TCP, Family.IPV6, "::", 22, State.LISTEN, 1127, "sshd"),
        (Proto.UDP, Family.IPV4, "0.0.0.0", 68, State.NONE, 867, "systemd-network"),
    ]
    # the prompt line (its bracketed-paste marker removed), `...`, `-- More --`, stderr, the last prompt
    assert ctx.notes.skipped == 5
    assert ctx.notes.first_skipped is not None and ctx.notes.first_skipped[0] == 1
    assert any("root" in message for message in ctx.notes.messages)  # the banner means PIDs are hidden


def test_netstat_rows_wrapped_by_an_email_client_are_joined() -> None:
    text = """\
Proto Recv-Q Send-Q Local Address           Foreign Address         State
PID/Program name
tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN
1127/sshd
tcp        0      0 10.0.0.5:22             10.0.0.9:51234
ESTABLISHED 2322/sshd: kbrazil
tcp        0      0 127.0.0.1:25            0.0.0.0:*               LISTEN      1634/master
"""
    rows, ctx = parse("netstat-linux", text)
    assert [(r.local_port, r.state, r.pid, r.process) for r in rows] == [
        (22, State.LISTEN, 1127, "sshd"),
        (22, State.ESTABLISHED, 2322, "sshd: kbrazil"),
        (25, State.LISTEN, 1634, "master"),
    ]
    assert ctx.notes.skipped == 0


def test_netstat_wrapped_row_followed_by_junk_keeps_the_row_and_counts_the_junk() -> None:
    text = "Proto Recv-Q Send-Q Local Address Foreign Address State PID/Program name\n"
    text += "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN\n$ exit\n"
    rows, ctx = parse("netstat-linux", text)
    assert [(r.local_port, r.state, r.pid) for r in rows] == [(22, State.LISTEN, None)]
    assert ctx.notes.skipped == 1
    assert not ctx.notes.unknown_states


def test_lsof_paste_with_prompt_warning_and_quoting() -> None:
    text = f"""\
alice@mbp ~ % sudo lsof -nP -i :22
Password:
lsof: WARNING: can't stat() fuse.gvfsd-fuse file system /run/user/1000/gvfs
      Output information may be incomplete.
> COMMAND     PID   USER   FD   TYPE DEVICE SIZE/OFF NODE NAME
> {LSOF_ROW}
>
> sshd       1127   root    4u  IPv6  30180      0t0  TCP *:22 (LISTEN)
[1]+  Done                    sleep 10
"""
    rows, ctx = parse("lsof", text)
    assert [key(r) for r in rows] == [SSHD, (Proto.TCP, Family.IPV6, "::", 22, State.LISTEN, 1127, "sshd")]
    assert ctx.notes.skipped == 3  # the prompt, `Password:`, the job-control line


def test_lsof_rows_wrapped_by_an_email_client_are_joined() -> None:
    text = """\
COMMAND     PID   USER   FD   TYPE DEVICE SIZE/OFF NODE NAME
java       2314 tomcat   52u  IPv6  40993      0t0  TCP 10.0.3.15:8080->10.0.3.1:51544
(ESTABLISHED)
java       2314 tomcat   53u  IPv6  40998      0t0  TCP 10.0.3.15:8080->
10.0.3.1:51550 (CLOSE_WAIT)
java       2314 tomcat   54u  IPv6  40999      0t0  TCP 10.0.3.15:8080->10.0.3.1:51551
$ exit
"""
    rows, ctx = parse("lsof", text)
    assert [(r.remote_port, r.state) for r in rows] == [
        (51544, State.ESTABLISHED),
        (51550, State.CLOSE_WAIT),
        (51551, State.UNKNOWN),  # its state never came; the prompt after it is not one
    ]
    assert ctx.notes.skipped == 1


def test_ss_paste_with_grep_prompt() -> None:
    text = f"[root@web ~]# ss -lnpt | grep 22\n  {SS_ROW}  \n"
    rows, ctx = parse("ss", text)
    assert [key(r) for r in rows] == [SSHD]
    assert ctx.notes.skipped == 1


def test_paste_through_the_cli_warns_on_stderr_only() -> None:
    result = run_cli("parse", "--json", stdin=NETSTAT_PASTE)
    assert result.code == 0, result.stderr
    assert {row["source"] for row in result.json()} == {"netstat-linux"}  # type: ignore[union-attr, index]
    # the two prompt lines start sections (read, not misunderstood): `...`, `-- More --`, stderr remain
    assert "3 lines not understood, first at line 7" in result.stderr
    # Not --sudo, which would run tools on THIS machine: the command to run as root where it came from.
    assert "--sudo" not in result.stderr
    assert "run `sudo netstat -tunap` on the machine it came from" in result.stderr


# ---- detection ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ([NETSTAT_ROW], "netstat-linux"),
        (
            ["tcp6       0      0 :::22                   :::*                    LISTEN      -"],
            "netstat-linux",
        ),
        (["udp        0      0 127.0.0.53:53           0.0.0.0:*"], "netstat-linux"),
        ([SS_ROW], "ss"),
        (["LISTEN 0      128    0.0.0.0:22   0.0.0.0:*"], "ss"),
        ([LSOF_ROW], "lsof"),
        (["p1127", "csshd", "Lroot", "tIPv4", "PTCP", "n*:22", "TST=LISTEN"], "lsof"),
        (["p1127\0csshd\0", "f3\0tIPv4\0PTCP\0n*:22\0TST=LISTEN\0"], "lsof"),
        (
            [
                "Active UNIX domain sockets (only servers)",
                "unix  2  [ ACC ]  STREAM  LISTENING  20812  /run/x",
            ],
            None,
        ),
    ],
)
def test_detects_headerless_lines(sample: list[str], expected: str | None) -> None:
    if expected is None:  # only UNIX sockets: still netstat's shape
        assert detect(sample) == "netstat-linux"
    else:
        assert detect(sample) == expected


@pytest.mark.parametrize(
    "line",
    [
        "tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN",
        "tcp6       0      0  ::1.8080               *.*                    LISTEN",
        "tcp46      0      0  *.80                   *.*                    LISTEN",
        "tcp6       0      0  fe80::1%lo0.123        *.*                    LISTEN",
        "udp4       0      0  192.168.1.10.5353      *.*",
        "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1234",
        "  UDP    [::]:500               *:*                                    4321",
    ],
)
def test_bsd_and_windows_rows_are_not_linux_formats(line: str) -> None:
    for name in ("ss", "netstat-linux", "lsof"):
        assert parsers.load(name).sniff([line]) == 0, name


def test_linux_colon_notation_is_not_bsd_dot_notation() -> None:
    # `1.2.3.4:80` is Linux; the same socket in BSD's `1.2.3.4.80` is not read as Linux
    assert parsers.load("netstat-linux").sniff(["tcp 0 0 1.2.3.4:80 5.6.7.8:4242 ESTABLISHED"]) > 0
    assert parsers.load("netstat-linux").sniff(["tcp 0 0 1.2.3.4.80 5.6.7.8.4242 ESTABLISHED"]) == 0


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        ("linux/ss-tunap.txt", "ss"),
        ("linux/ss-tunapH.txt", "ss"),
        ("linux/ss-tlnp.txt", "ss"),
        ("linux/netstat-tunap.txt", "netstat-linux"),
        ("linux/netstat-tunap-cs-nobody.txt", "netstat-linux"),
        ("linux/busybox-netstat-tuna.txt", "netstat-linux"),
        ("linux/lsof-nP-i.txt", "lsof"),
        ("linux/lsof-F-pcLnPtT-i.txt", "lsof"),
        ("linux/lsof-nP-whole-system.txt", "lsof"),
        ("macos/lsof-i-names.txt", "lsof"),
    ],
)
def test_detects_every_recorded_layout(fixture: str, expected: str) -> None:
    lines = (FIXTURES / fixture).read_text(encoding="utf-8").splitlines()
    assert detect(lines) == expected


def test_from_netstat_alias_chooses_the_linux_parser() -> None:
    result = run_cli("parse", "--from", "netstat", "--json", stdin=NETSTAT_ROW + "\n")
    assert result.code == 0, result.stderr
    assert [row["source"] for row in result.json()] == ["netstat-linux"]  # type: ignore[union-attr, index]
