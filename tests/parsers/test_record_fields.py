"""What a paste says beyond ports, read from the right column: owners never from later free text (a
hostile process name, cgroup path or socket path per parser), scoped addresses in every format's
spelling, the protocol of ss tables without Netid, services (ss cgroup:, Windows netstat -b), dual-stack
sockets, PIDs of any length, and notes that stay bounded however many odd lines arrive."""

from __future__ import annotations

import pytest

from portcheck import parsers
from portcheck.core.cgroups import container_id, service_unit
from portcheck.core.filters import RowFilter
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import MAX_UNKNOWN_WORDS, ParseContext, ParseNotes, PidNames
from portcheck.parsers.common import MAX_PID_DIGITS, pid_number
from tests.conftest import run_cli


def parse(name: str, lines: list[str], ctx: ParseContext | None = None) -> list[Socket]:
    return list(parsers.load(name).parse(lines, ctx or ParseContext()))


def owners(name: str, lines: list[str]) -> list[tuple[int | None, str | None]]:
    return [(r.pid, r.process) for r in parse(name, lines)]


# --- each field from its own column: one hostile name per parser ------------------------------------

BYSTANDER = 928
"""The PID a hostile name tries to make portcheck list (and `kill` signal)."""

HOSTILE: dict[str, tuple[list[str], list[tuple[int | None, str | None]]]] = {
    # a cgroup path after the real owner list; uid: and v6only: inside the path too
    "ss": (
        [
            'tcp LISTEN 0 128 127.0.0.1:8080 0.0.0.0:* users:(("web",pid=5,fd=3)) uid:1000 ino:7 sk:1 '
            'cgroup:/x users:(("nginx",pid=928,fd=3)) uid:0 <->',
        ],
        [(5, "web")],
    ),
    # no owner list at all, a cgroup path holding one
    "ss-no-users": (
        ['tcp LISTEN 0 128 127.0.0.1:8080 0.0.0.0:* ino:7 sk:1 cgroup:/x users:(("nginx",pid=928,fd=3)) <->'],
        [(None, None)],
    ),
    # a process name (15 bytes, no `)`) that holds an owner's text
    "ss-name": (
        ['tcp LISTEN 0 128 127.0.0.1:8080 0.0.0.0:* users:(("a",pid=928,fd=3",pid=5,fd=3))'],
        [(5, 'a",pid=928,fd=3')],
    ),
    "netstat-linux": (["tcp 0 0 0.0.0.0:8080 0.0.0.0:* LISTEN 5/x 928/nginx"], [(5, "x 928/nginx")]),
    "lsof": (
        ["x\\x20928\\x20root\\x203u 5 root 3u IPv4 7 0t0 TCP 127.0.0.1:8080 (LISTEN)"],
        [(5, "x 928 root 3u")],
    ),
    "lsof-F": (
        ["p5", "cx\\np928", "f3", "tIPv4", "PTCP", "n127.0.0.1:8080", "TST=LISTEN"],
        [(5, "x\\np928")],
    ),
    # Tahoe's `process:pid`, the name holding `word:digits`
    "netstat-bsd": (
        [
            "Proto Recv-Q Send-Q  Local Address          Foreign Address        (state)           "
            "rxbytes      txbytes  rhiwat  shiwat                 process:pid state  options           "
            "gencnt    flags   flags1 usscnt rtncnt fltrs",
            "tcp4       0      0  127.0.0.1.8080         *.*                    LISTEN                 "
            "0            0  131072  131072           x:928 y:5 00100 00000006 0000000000004a10 "
            "00000000 00000800      1      0 000001",
        ],
        [(5, "x:928 y")],
    ),
    # a command name that imitates PID FD PROTO LOCAL FOREIGN: which columns are sockstat's is unknown
    "sockstat": (["root     x 1 2 tcp4 *:1 *:* 5     3  tcp4   *:8080                *:*"], []),
    "fstat": (["root x 1 3* internet stream tcp 0x0 *:1 5 4* internet stream tcp 0x0 *:8080"], []),
    "netstat-windows": (
        [
            "  TCP    0.0.0.0:8080           0.0.0.0:0              LISTENING       5",
            " [TCP    0.0.0.0:8080   0.0.0.0:0   LISTENING   928.exe]",
        ],
        [(5, "TCP    0.0.0.0:8080   0.0.0.0:0   LISTENING   928.exe")],
    ),
    # a tasklist name (the table is read from the right) that holds a whole row
    "tasklist": (
        [
            "  TCP    0.0.0.0:8080           0.0.0.0:0              LISTENING       5",
            "x 928 Console 1 8 K                5 Console                    1     8,220 K",
        ],
        [(5, "x 928 Console 1 8 K")],
    ),
    "powershell": (
        [
            "LocalAddress LocalPort RemoteAddress RemotePort State  OwningProcess ProcessName",
            "------------ --------- ------------- ---------- -----  ------------- -----------",
            "0.0.0.0      8080      0.0.0.0       0          Listen 5             x 928",
        ],
        [(5, "x 928")],
    ),
    "fuser": (
        [
            "                     USER        PID ACCESS COMMAND",
            "8080/tcp:            root          5 F.... x 928 F....",
        ],
        [(5, "x 928 F....")],
    ),
    "netstat-solaris": (
        [
            "TCP: IPv4",
            "   Local Address        Remote Address    User    Pid      Command       "
            "Swind  Send-Q  Rwind  Recv-Q    State",
            "-------------------- -------------------- -------- ------ ------------- "
            "------- ------- ------- ------- -----------",
            "      *.8080               *.*                root      5 x 928 0 0 0 0 LISTEN "
            "0      0 128000      0 LISTEN",
        ],
        [(5, "x 928 0 0 0 0 LISTEN")],
    ),
}
FORMAT_OF = {
    "ss-no-users": "ss",
    "ss-name": "ss",
    "lsof-F": "lsof",
    "tasklist": "netstat-windows",  # a paste of both: the Windows netstat parser reads tasklist lines
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_name_never_adds_an_owner(case: str) -> None:
    lines, expected = HOSTILE[case]
    got = owners(FORMAT_OF.get(case, case), lines)
    if case == "tasklist":  # the tasklist after the row names it in the caller (portcheck parse)
        ctx = ParseContext()
        parse("netstat-windows", lines, ctx)
        got = [(pid, ctx.notes.pid_names.get(pid)) for pid, _ in got]
    assert got == expected
    assert all(pid != BYSTANDER for pid, _ in got)


def test_the_ss_user_is_read_before_the_cgroup_path() -> None:
    (row,) = parse("ss", HOSTILE["ss"][0])
    assert row.user == "1000"  # the path's `uid:0` would have said root


def test_the_tasklist_format_reads_a_hostile_name_from_the_right() -> None:
    ctx = ParseContext()
    assert parse("tasklist", HOSTILE["tasklist"][0][1:], ctx) == []
    assert ctx.notes.pid_names.names == {5: "x 928 Console 1 8 K"}


def test_every_parser_has_a_hostile_name_case() -> None:
    covered = {FORMAT_OF.get(case, case) for case in HOSTILE} | {"proc", "tasklist"}  # /proc: no names
    assert covered == set(parsers.FORMATS)


# --- scoped (link-local) addresses ------------------------------------------------------------------

SCOPED = {
    "ss": (["tcp LISTEN 0 128 [fe80::1]%eth0:8190 [::]:*"], "fe80::1%eth0"),
    "ss-inside": (["tcp LISTEN 0 128 [fe80::1%eth0]:8190 [::]:*"], "fe80::1%eth0"),
    "ss-bare": (["tcp LISTEN 0 128 fe80::1%eth0:8190 :::*"], "fe80::1%eth0"),
    "netstat-bsd": (["tcp6 0 0 fe80::1%lo0.8190 *.* LISTEN"], "fe80::1%lo0"),
    "netstat-bsd-vlan": (["tcp6 0 0 fe80::1%lo0.123.8190 *.* LISTEN"], "fe80::1%lo0.123"),
    "netstat-windows": (
        ["  TCP    [fe80::1%12]:8190      [::]:0                 LISTENING       4"],
        "fe80::1%12",
    ),
    "lsof": (["x 5 root 3u IPv6 7 0t0 TCP [fe80::1%eth0]:8190 (LISTEN)"], "fe80::1%eth0"),
    "sockstat": (["root x 5 3 tcp6 fe80::1%lo0:8190 *:*"], "fe80::1%lo0"),
    "sockstat-brackets": (["root x 5 3 tcp6 [fe80::1%lo0]:8190 *:*"], "fe80::1%lo0"),
    "powershell": (["LocalAddress : fe80::1%12", "LocalPort    : 8190", "OwningProcess : 4"], "fe80::1%12"),
}


@pytest.mark.parametrize("case", sorted(SCOPED))
def test_a_scoped_address_keeps_its_port_and_zone(case: str) -> None:
    lines, address = SCOPED[case]
    rows = parse(
        case.split("-")[0] if case.startswith(("ss", "sockstat")) else case.rsplit("-vlan", 1)[0], lines
    )
    assert [(r.local_address, r.local_port, r.family) for r in rows] == [(address, 8190, Family.IPV6)]
    filtered = parse(rows[0].source, lines, ParseContext(frozenset({8190})))
    assert len(filtered) == 1


def test_a_device_bound_wildcard_keeps_its_device() -> None:
    rows = parse("ss", ["udp UNCONN 0 0 0.0.0.0%eth0:67 0.0.0.0:*", "tcp LISTEN 0 128 *%eth0:80 *:*"])
    assert [(r.local_address, r.local_port, r.dual_stack) for r in rows] == [
        ("0.0.0.0%eth0", 67, None),
        ("::%eth0", 80, True),  # `*` is ss's dual-stack wildcard, here bound to a device
    ]


# --- ss without Netid: the protocol from what was asked, or from the rows ---------------------------

HEADER = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process"
ESTAB = "ESTAB  0      0      127.0.0.1:40000    127.0.0.1:8160"
UNCONN = "UNCONN 0      0      0.0.0.0:8160       0.0.0.0:*"
LISTEN = "LISTEN 0      128    0.0.0.0:22         0.0.0.0:*"


@pytest.mark.parametrize(
    ("lines", "asked", "protos", "guessed"),
    [
        ([HEADER, ESTAB, UNCONN], None, ["udp", "udp"], False),  # ss -unap: a later UNCONN tells
        ([HEADER, UNCONN, ESTAB], None, ["udp", "udp"], False),
        ([HEADER, LISTEN, ESTAB], None, ["tcp", "tcp"], False),  # ss -tnap: LISTEN is TCP only
        ([HEADER, ESTAB], None, ["tcp"], True),  # ss -tn or ss -un: cannot tell, said so
        ([HEADER, ESTAB], Proto.UDP, ["udp"], False),  # the live query asked ss -u
        ([HEADER, ESTAB, UNCONN, HEADER, ESTAB, LISTEN], None, ["udp", "udp", "tcp", "tcp"], False),
    ],
)
def test_ss_without_netid(lines: list[str], asked: Proto | None, protos: list[str], guessed: bool) -> None:
    ctx = ParseContext(proto=asked)
    rows = parse("ss", lines, ctx)
    assert sorted(r.proto.value for r in rows) == sorted(protos)
    assert any("no Netid" in m for m in ctx.notes.messages) == guessed
    assert all(r.state in (State.ESTABLISHED, State.NONE, State.LISTEN) for r in rows)


def test_ss_minus_unap_pasted_labels_connected_udp() -> None:
    result = run_cli("parse", "--json", "-u", stdin="\n".join([HEADER, ESTAB, UNCONN]) + "\n")
    assert result.code == 0
    assert {(r["proto"], r["state"]) for r in result.json()} == {("udp", "ESTABLISHED"), ("udp", "NONE")}


# --- services, containers and dual-stack sockets ----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "unit", "container"),
    [
        ("/system.slice/nginx.service", "nginx.service", None),
        ("/system.slice/foo.service/payload", "foo.service", None),  # a delegated subgroup
        ("/user.slice/user-1000.slice/user@1000.service/app.slice/app-x.service", "app-x.service", None),
        ("/user.slice/user-1000.slice/session-2.scope", None, None),
        ("/system.slice/docker-" + "a" * 64 + ".scope", None, "a" * 64),
        ("/docker/" + "b" * 64, None, "b" * 64),
        ("/kubepods.slice/kubepods-pod1.slice/cri-containerd-" + "c" * 64 + ".scope", None, "c" * 64),
        ("/", None, None),
        ("/.service", None, None),
        ("x.service", None, None),  # not a path
    ],
)
def test_what_a_cgroup_path_says(path: str, unit: str | None, container: str | None) -> None:
    assert service_unit(path) == unit
    assert container_id(path) == container


def test_ss_cgroup_names_the_service_and_v6only_the_dual_stack() -> None:
    rows = parse(
        "ss",
        [
            'tcp LISTEN 0 511 *:80 *:* users:(("nginx",pid=7,fd=6)) ino:9 sk:1 '
            "cgroup:/system.slice/nginx.service v6only:0 <->",
            'tcp LISTEN 0 511 [::]:81 [::]:* users:(("nginx",pid=7,fd=7)) ino:9 sk:1 '
            "cgroup:/a b/x.service v6only:1 <->",
            "tcp LISTEN 0 511 [::1]:82 [::]:* ino:9 sk:1 cgroup:/system.slice/docker-"
            + "a" * 64
            + ".scope v6only:1",
        ],
    )
    assert [(r.local_port, r.service, r.dual_stack) for r in rows] == [
        (80, "nginx.service", True),
        (81, "x.service", False),
        (82, None, None),  # a container scope is no service; ::1 is no wildcard
    ]


def test_rows_in_containers_are_named_by_id_on_stderr_and_container_stays_null() -> None:
    ctx = ParseContext()
    paths = [f"/docker/{n:x}" + "0" * 63 for n in range(5)]
    rows = parse(
        "ss",
        [f"tcp LISTEN 0 9 127.0.0.1:{8000 + n} 0.0.0.0:* ino:1 sk:1 cgroup:{p}" for n, p in enumerate(paths)],
        ctx,
    )
    assert [r.container for r in rows] == [None] * 5  # a name is what the field promises; a paste has ids
    (note,) = [m for m in ctx.notes.messages if "containers" in m]
    assert "(000000000000, 100000000000, 200000000000)" in note  # the first three, short ids


def test_windows_b_service_lines_name_the_rows_service() -> None:
    rows = parse(
        "netstat-windows",
        [
            "  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING       1040",
            "  RpcSs",
            " [svchost.exe]",
            "  UDP    0.0.0.0:5353           *:*                                    2152",
            "  Dnscache",
            "  mDNS",
            " [svchost.exe]",
            "  TCP    0.0.0.0:445            0.0.0.0:0              LISTENING       4",
            " 无法获取所有权信息",
        ],
    )
    assert [(r.local_port, r.process, r.service) for r in rows] == [
        (135, "svchost.exe", "RpcSs"),
        (5353, "svchost.exe", "Dnscache, mDNS"),
        (445, None, None),
    ]


def test_minus_4_keeps_dual_stack_sockets_only() -> None:
    base = Socket(Proto.TCP, Family.IPV6, "::", 80, None, None, State.LISTEN)
    ipv4_only = RowFilter(families=frozenset({Family.IPV4}))
    assert ipv4_only(base._replace(dual_stack=True))
    assert not ipv4_only(base._replace(dual_stack=False))
    assert not ipv4_only(base)  # cannot tell: not claimed
    assert ipv4_only(base._replace(local_address="::ffff:127.0.0.1", state=State.ESTABLISHED))


# --- PIDs of any length -------------------------------------------------------------------------------

LONG = "9" * 5000


def test_the_pid_reader_is_bounded() -> None:
    assert pid_number("4") == 4
    assert pid_number("4294967295") == 4294967295
    assert pid_number("0" * 20 + "42") == 42
    assert pid_number("1" * (MAX_PID_DIGITS + 1)) is None
    assert pid_number(LONG) is None
    assert pid_number("²") is None and pid_number("") is None and pid_number("-1") is None


DIGIT_LINES = {
    "ss": [f'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("a",pid={LONG},fd=3))'],
    "netstat-linux": [f"tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN {LONG}/sshd"],
    "lsof": [f"x {LONG} root 3u IPv4 1 0t0 TCP *:22 (LISTEN)", f"p{LONG}", "f3", "tIPv4", "PTCP", "n*:22"],
    "netstat-bsd": [
        f"tcp4 0 0 *.22 *.* LISTEN 131072 131072 {LONG} 0 0x0080 0x00000106",
        f"tcp4 0 0 *.22 *.* LISTEN 0 0 131072 131072 sshd:{LONG} 00100 00000006 0000000000004a10 0 0 1 0 1",
    ],
    "sockstat": [f"root x {LONG} 3 tcp4 *:22 *:*"],
    "netstat-windows": [
        f"  TCP 0.0.0.0:22 0.0.0.0:0 LISTENING {LONG}",
        f'"x.exe","{LONG}","Console","1","8 K"',
    ],
    "tasklist": [f'"x.exe","{LONG}","Console","1","8 K"', f"x.exe   {LONG} Console   1   8 K"],
    "powershell": ["LocalAddress : 0.0.0.0", "LocalPort : 22", f"OwningProcess : {LONG}"],
    "fuser": [f"22/tcp: {LONG}"],
    "netstat-solaris": [
        f"      *.22               *.*                root   {LONG} sshd 0 0 128000 0 LISTEN"
    ],
    "fstat": [f"root sshd {LONG} 3* internet stream tcp 0x0 *:22"],
    "proc": [
        "0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000 "
        f"{LONG} 0 {LONG} 1 0 100 0 0 10 0"
    ],
}


@pytest.mark.parametrize("name", sorted(DIGIT_LINES))
@pytest.mark.parametrize("ports", [None, frozenset({22})])
def test_a_pid_of_thousands_of_digits_is_no_pid(name: str, ports: frozenset[int] | None) -> None:
    for row in parse(name, DIGIT_LINES[name], ParseContext(ports)):
        assert row.pid is None or row.pid < 10**MAX_PID_DIGITS


def test_every_parser_has_a_digits_case() -> None:
    assert set(DIGIT_LINES) == set(parsers.FORMATS)


def test_a_pid_of_thousands_of_digits_is_no_internal_error() -> None:
    for lines in DIGIT_LINES.values():
        result = run_cli("parse", "--json", stdin="\n".join(lines) + "\n")
        assert result.code in (0, 1, 2) and "internal error" not in result.stderr, result.stderr


# --- bounded notes ------------------------------------------------------------------------------------


def test_unknown_state_words_are_a_bounded_sample_with_counts() -> None:
    notes = ParseNotes()
    for n in range(10_000):
        notes.unknown_state(f"WORD{n}" + "x" * 1000)
    notes.unknown_state("WORD0" + "x" * 1000)
    assert len(notes.unknown_states) == MAX_UNKNOWN_WORDS
    assert all(len(word) <= 64 for word in notes.unknown_states)
    assert sum(notes.unknown_states.values()) + notes.other_unknown_rows == 10_001
    other = ParseNotes()
    other.merge(notes)
    assert (
        len(other.unknown_states) == MAX_UNKNOWN_WORDS
        and other.other_unknown_rows == notes.other_unknown_rows
    )


def test_pid_names_are_bounded_and_say_what_they_dropped() -> None:
    names = PidNames()
    for pid in range(PidNames.MAX_PID_NAMES + 10):
        names.add(pid, "x.exe")
    names.add(3, "y.exe")  # a PID already kept is updated
    assert len(names) == PidNames.MAX_PID_NAMES and names.dropped == 10 and names.get(3) == "y.exe"


def test_a_huge_tasklist_warns_once_that_names_were_dropped() -> None:
    tasks = "".join(f'"x.exe","{pid}","Console","1","8 K"\n' for pid in range(PidNames.MAX_PID_NAMES + 5))
    row = "  TCP    0.0.0.0:22             0.0.0.0:0              LISTENING       4\n"
    result = run_cli("parse", "--json", stdin=tasks + row)
    assert result.code == 0
    assert result.json()[0]["process"] == "x.exe"
    assert "the names of 5 more were not kept" in result.stderr
