"""Pastes as people post them, in the families a field test of `portcheck parse` found misread: lines a
mail client wrapped at 72 columns, a localised Windows header as wide as its rows, the author's remarks
after a row, a PowerShell table whose blanks a forum squeezed or an editor turned into tabs, and ss asked
for one state (no State column). Written from memory of public posts, not recorded (the fixtures
`tests/fixtures/*/field-*` hold whole pastes of each)."""

from __future__ import annotations

import textwrap

import pytest

from portcheck.api.sockets import parse
from portcheck.parsers import rewrap
from tests.conftest import FIXTURES

WIN_HEADER = "  Proto  Local Address          Foreign Address        State           PID"
WIN_ROWS = [
    "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1040",
    "  TCP    127.0.0.1:3000         127.0.0.1:51544        ESTABLISHED     15820",
    "  UDP    0.0.0.0:5353           *:*                                    2288",
]
LSOF = [
    "COMMAND   PID USER   FD   TYPE DEVICE SIZE/OFF NODE NAME",
    "ruby    30211 dev    12u  IPv4 0xabc1      0t0  TCP 127.0.0.1:3000 (LISTEN)",
    "Google  4410  dev    40u  IPv4 0xabc2      0t0  TCP 127.0.0.1:56112->127.0.0.1:3000 (ESTABLISHED)",
]
SS_OLD = [
    "State      Recv-Q Send-Q                         Local Address:Port"
    "                           Peer Address:Port",
    "LISTEN     0      128                                        *:80"
    '                                        *:*      users:(("httpd",2345,4),("httpd",2344,4))',
]
BSD = [
    "Active Internet connections (including servers)",
    "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)",
    "tcp4       0      0  192.168.1.23.52144     17.57.146.20.5223      ESTABLISHED",
    "tcp4       0      0  127.0.0.1.5432         *.*                    LISTEN",
]

NET_TOOLS = [
    "Active Internet connections (servers and established)",
    "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name",
    "tcp        0      0 0.0.0.0:47310           0.0.0.0:*               LISTEN      24830/pcfix: server",
    "tcp        0      0 127.0.0.1:47313         127.0.0.1:47312         ESTABLISHED 24833/pcfix-client",
    "udp        0      0 0.0.0.0:47316           0.0.0.0:*                           24830/pcfix: server",
]
"""Wrapped at 72, net-tools' rows break before their State column: no line is longer than 59, and the
header's `Foreign Address` (whole) ends the longest ones, as a cut ss header's `Address:Port` piece would."""
SS_PREFORKED = [
    "State  Recv-Q Send-Q Local Address:Port  Peer Address:PortProcess",
    'LISTEN 0      128          0.0.0.0:47310      0.0.0.0:*    users:(("pcfix server",pid=24831,fd=3),'
    '("pcfix server",pid=24830,fd=4),("pcfix server",pid=24830,fd=3))',
    'LISTEN 0      128        127.0.0.1:47312      0.0.0.0:*    users:(("pcfix server",pid=24830,fd=6))',
]
"""A process name with a blank: wrapping breaks inside its quotes, so the longest lines end in an open
`users:(("pcfix`, as a terminal's cut would leave them; the lines below close it."""

FSTAT = [
    "root     sshd       26530    3* internet stream tcp 0x0 *:22",
    "root     sshd       71031    3* internet stream tcp 0x0 192.168.1.20:22 <-- 192.168.1.5:51234",
    "alice    ssh         4242    3* internet stream tcp 0x0 192.168.1.20:40112 --> 151.101.1.69:443",
]
"""fstat prints no state: a row without a peer is a listener, so the peer moved to the next line must
still make it a connection."""
SOCKSTAT = [
    "USER     COMMAND    PID   FD PROTO  LOCAL ADDRESS         FOREIGN ADDRESS        PATH STATE   "
    "CONN STATE",
    "root     sshd       2207  4  tcp4   192.168.71.163:22     192.168.71.1:56321                  "
    "ESTABLISHED",
    "?        ?          ?     ?  tcp4   192.168.71.163:80     192.168.71.1:56377                  TIME_WAIT",
]
"""sockstat -s: the state alone on the next line must replace the one guessed from the peer."""

SS_DUAL_STACK = [
    "State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess",
    'UNCONN 0      0          127.0.0.1:8160      0.0.0.0:*    users:(("python3",pid=9040,fd=8))',
    'UNCONN 0      0                  *:8162            *:*    users:(("python3",pid=9040,fd=11))',
]
"""iproute2 >= 4.17 writes a dual-stack socket as `*`; which ss wrote the paste, its `pid=` tells, but
mailed at 72 that moves to the next line: the `0.0.0.0:*` peer tells too."""


def mailed(lines: list[str], width: int = 72) -> str:
    """The lines as a mail client wraps them: greedily at `width`, blanks kept inside a line."""
    out = []
    for line in lines:
        out += textwrap.wrap(line, width, break_long_words=False, break_on_hyphens=False) or [""]
    return "\n".join(out) + "\n"


def rows(text: str) -> list[tuple[str, int, str, int | None, str | None]]:
    result = parse(text)
    return sorted(
        ((r.proto.value, r.local_port or 0, r.state.value, r.pid, r.process) for r in result.rows), key=repr
    )


def addresses(text: str) -> list[tuple[str | None, int | None, str | None, int | None]]:
    return sorted(
        ((r.local_address, r.local_port, r.remote_address, r.remote_port) for r in parse(text).rows), key=repr
    )


@pytest.mark.parametrize("width", [72, 76, 78])
@pytest.mark.parametrize(
    "lines",
    [[WIN_HEADER, *WIN_ROWS], LSOF, SS_OLD, BSD, NET_TOOLS, SS_PREFORKED, FSTAT, SOCKSTAT, SS_DUAL_STACK],
    ids=["windows", "lsof", "ss", "bsd", "net-tools", "ss-preforked", "fstat", "sockstat", "ss-dual-stack"],
)
def test_a_mailed_paste_reads_as_the_paste_itself(lines: list[str], width: int) -> None:
    whole = "\n".join(lines) + "\n"
    assert rows(mailed(lines, width)) == rows(whole)
    assert addresses(mailed(lines, width)) == addresses(whole)
    assert parse(mailed(lines, width)).skipped == parse(whole).skipped


def test_what_the_tool_prints_on_a_line_of_its_own_is_not_joined() -> None:
    """`netstat -anob`'s owner lines follow their row in a paste as narrow as a mailed one: they are
    the tool's own lines, and reading the row with them names its process."""
    text = "\n".join(
        [
            WIN_HEADER,
            WIN_ROWS[0],
            " RpcSs",
            " [svchost.exe]",
            "  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4",
            " Can not obtain ownership information",
        ]
    )
    assert list(rewrap.joined(iter(text.splitlines()))) == text.splitlines()
    assert [(r.local_port, r.process, r.service) for r in parse(text + "\n").rows] == [
        (135, "svchost.exe", "RpcSs"),
        (445, None, None),
    ]


def test_prose_after_a_row_is_not_joined() -> None:
    text = f"{WIN_HEADER}\n{WIN_ROWS[0]}\nas you can see the port is taken\n"
    assert list(rewrap.joined(iter(text.splitlines()))) == text.splitlines()


def test_a_wide_paste_is_never_rejoined() -> None:
    lines = ["x" * 120, "LISTEN", *LSOF]
    assert list(rewrap.joined(iter(lines))) == lines


def test_a_localised_header_as_wide_as_the_rows_is_no_cut() -> None:
    """German `Status           PID` makes the header exactly as long as rows with 4-digit PIDs: the
    header's last word is Windows' whole `PID`, not a piece of net-tools' `PID/Program name`."""
    header = "  Proto  Lokale Adresse         Remoteadresse          Status           PID"
    body = [
        "  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN         1088",
        "  TCP    0.0.0.0:8080           0.0.0.0:0              ABHÖREN         5512",
    ]
    assert len(header) == len(body[0])
    assert [r.pid for r in parse("\n".join([header, *body]) + "\n").rows] == [1088, 5512]


@pytest.mark.parametrize(
    "remark", ["<- my tomcat", "<-- this one", "# System?? why", "(that is IIS)", "<== here"]
)
def test_a_remark_after_a_windows_row_leaves_the_row(remark: str) -> None:
    line = f"  TCP    0.0.0.0:8080           0.0.0.0:0              LISTENING       9436     {remark}"
    assert rows(f"{line}\n") == [("tcp", 8080, "LISTEN", 9436, None)]
    assert rows(f"C:\\>netstat -ano | findstr :8080\n{line}\n") == [("tcp", 8080, "LISTEN", 9436, None)]


@pytest.mark.parametrize("remark", ["(this is my app)", "<-- node", "# debugger"])
def test_a_remark_after_the_program_column_is_no_part_of_the_name(remark: str) -> None:
    row = "tcp        0      0 0.0.0.0:3000            0.0.0.0:*               LISTEN      8821/node"
    line = f"{row}      {remark}"
    assert rows(line + "\n") == [("tcp", 3000, "LISTEN", 8821, "node")]


def test_a_program_name_with_a_blank_keeps_it() -> None:
    line = (
        "tcp        0     36 192.168.1.20:22         192.168.1.5:52144       ESTABLISHED 4410/sshd: deploy ["
    )
    assert rows(line + "\n") == [("tcp", 22, "ESTABLISHED", 4410, "sshd: deploy [")]


POWERSHELL = [
    "LocalAddress LocalPort RemoteAddress RemotePort State  AppliedSetting OwningProcess",
    "------------ --------- ------------- ---------- -----  -------------- -------------",
    "::           3000      ::            0          Listen                15820",
    "127.0.0.1    3000      127.0.0.1     51544      Established Internet  15820",
]


@pytest.mark.parametrize("damage", ["squeezed", "tabs"])
def test_a_powershell_table_whose_blanks_moved_reads_in_column_order(damage: str) -> None:
    import re

    lines = [re.sub(r" +", " " if damage == "squeezed" else "\t", line) for line in POWERSHELL]
    expected = [("tcp", 3000, "ESTABLISHED", 15820, None), ("tcp", 3000, "LISTEN", 15820, None)]
    assert rows("\n".join(POWERSHELL) + "\n") == expected
    assert rows("\n".join(lines) + "\n") == expected


SS_ONE_STATE = [
    "Recv-Q Send-Q Local Address:Port   Peer Address:Port Process",
    "0      0         10.0.0.4:443    203.0.113.7:51522",
]


@pytest.mark.parametrize(
    ("command", "state"),
    [
        ("$ ss -tn state established '( sport = :443 )'", "ESTABLISHED"),
        ("$ ss -tn state time-wait", "TIME_WAIT"),
        ("$ ss -tn state connected", "UNKNOWN"),
        (None, "UNKNOWN"),
    ],
)
def test_ss_asked_for_one_state_prints_no_state_column(command: str | None, state: str) -> None:
    lines = SS_ONE_STATE if command is None else [command, *SS_ONE_STATE]
    assert rows("\n".join(lines) + "\n") == [("tcp", 443, state, None, None)]


@pytest.mark.parametrize(
    ("command", "proto"),
    [("$ ss -unp", "udp"), ("$ sudo ss --udp -n -p", "udp"), ("$ ss -tnp", "tcp"), ("$ ss -np", "tcp")],
)
def test_ss_without_netid_takes_its_protocol_from_the_pasted_command(command: str, proto: str) -> None:
    """ESTAB rows say no protocol (both TCP and UDP sockets connect); the command line before them
    does (`-u`); without one, TCP is the guess (and stderr says so)."""
    lines = [
        command,
        "State  Recv-Q Send-Q  Local Address:Port   Peer Address:Port Process",
        'ESTAB  0      0       192.168.1.20:41234   8.8.8.8:53         users:(("dig",pid=9001,fd=20))',
    ]
    assert rows("\n".join(lines) + "\n") == [(proto, 41234, "ESTABLISHED", 9001, "dig")]


def test_ss_rows_without_a_header_after_fstat_are_read_as_ss() -> None:
    """`ss -H` rows (no header) after OpenBSD's fstat: `udp UNCONN 0 0 ...` has fstat's file-row shape
    (USER CMD PID FD), but its colon-notation addresses are what fstat prints only on internet rows."""
    text = "\n".join(
        [
            "USER     CMD          PID   FD  DOMAIN TYPE PROTOCOL ADDRESS",
            "root     sshd       26530    3* internet stream tcp 0x0 *:22",
            'udp UNCONN 0 0 0.0.0.0:47316 0.0.0.0:* users:(("pcfix server",pid=24830,fd=10))',
        ]
    )
    result = parse(text + "\n")
    assert [(r.source, r.local_port) for r in result.rows] == [("fstat", 22), ("ss", 47316)]
    assert result.skipped == 0


@pytest.mark.parametrize("quote", ["> ", ">> ", "> > "])
@pytest.mark.parametrize(
    "relative",
    ["windows/combined-netstat-then-tasklist-svc.txt", "windows/field-powershell-mail-wrapped-72.txt"],
)
def test_an_e_mail_reply_s_quoting_reads_as_the_paste_itself(relative: str, quote: str) -> None:
    """Tables read by column position (tasklist /svc under its `=====` line, a wrapped PowerShell
    table's moved parts) keep their columns when every line is quoted: the owners' names and services
    survive the reply."""
    whole = (FIXTURES / relative).read_text(encoding="utf-8")
    quoted = "".join(quote + line for line in whole.splitlines(keepends=True))
    assert rows(quoted) == rows(whole)
    assert addresses(quoted) == addresses(whole)
    services = sorted(str(r.service) for r in parse(whole).rows)
    assert sorted(str(r.service) for r in parse(quoted).rows) == services
    assert parse(quoted).skipped == parse(whole).skipped
