"""The readers of the owner probes (portcheck.parsers.owners): what each OS's reply says about a process,
read as the tools' documentation and source print it, and text others chose (a process's arguments
and name, a cgroup directory, a container's name) never taken for the reply's own structure."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from portcheck.core.cgroups import process_cgroup, user_manager
from portcheck.core.owners import ContainerRef, Published
from portcheck.live.proc_owners import owner_facts
from portcheck.parsers.owners import bsd, containers, linux, windows
from portcheck.platforms.freebsd import OWNERS_SCRIPT as FREEBSD_SCRIPT
from portcheck.platforms.linux import OWNERS_SCRIPT
from portcheck.platforms.macos import OWNERS_SCRIPT as MACOS_SCRIPT

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")
CID = "f2659de3a72bd13f4e97f7ad7a5a7e8c205c3a69135ad5ab83044944f344ebc2"

# --- Linux ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "shown"),
    [
        (b"python3\0-m\0http.server\0008000\0", "python3 -m http.server 8000"),
        (b"sh\0-c\0echo hi; sleep 1\0", "sh -c 'echo hi; sleep 1'"),  # what ran, as a shell needs it
        (
            b"nginx: master process /usr/sbin/nginx\0\0\0\0",
            "nginx: master process /usr/sbin/nginx",
        ),  # a title
        (b"postgres: checkpointer ", "postgres: checkpointer "),
        (b"a\0\xff\xfe\0", "a '\\xff\\xfe'"),  # not UTF-8: visible, not replaced
        (b"", None),  # a kernel thread
        (b"\0\0", None),
    ],
)
def test_cmdline_is_shown_as_it_ran(data: bytes, shown: str | None) -> None:
    assert linux.join_cmdline(data) == shown


def test_a_huge_cmdline_is_cut_and_marked() -> None:
    shown = linux.join_cmdline(b"x\0" + b"y" * (2 * linux.MAX_FILE))
    assert shown is not None and shown.endswith(linux.CUT) and len(shown) < linux.MAX_FILE + 20


def test_stat_fields_are_counted_from_the_last_parenthesis() -> None:
    # comm may hold blanks and ')' (a program may name itself so): fields come after the LAST ')'
    stat = b"4242 (evil) 1 2 3) S 77 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 123456 1 2 3"
    assert linux.read_stat(stat) == (77, 123456)
    assert linux.read_stat(b"garbage") is None


def test_the_start_is_boot_time_plus_ticks() -> None:
    stat = b"1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 250 0 0"
    found = linux.facts(1, stat, None, None, 1764864000, 100)
    assert found is not None and found.started == "2025-12-04T16:00:02Z"  # 250 ticks = 2.5 s, cut


@pytest.mark.parametrize(
    ("text", "path", "service", "container"),
    [
        ("0::/system.slice/nginx.service\n", "/system.slice/nginx.service", "nginx.service", None),
        (
            "1:name=systemd:/system.slice/sshd.service\n0::/\n",  # v1 systemd, v2 unused
            "/system.slice/sshd.service",
            "sshd.service",
            None,
        ),
        (f"4:memory:/docker/{CID}\n0::/docker/{CID}\n", f"/docker/{CID}", None, ContainerRef("docker", CID)),
        (
            f"0::/system.slice/docker-{CID}.scope\n",
            f"/system.slice/docker-{CID}.scope",
            None,
            ContainerRef("docker", CID),
        ),
        (f"0::/machine.slice/libpod-{CID}.scope/container\n", None, None, ContainerRef("podman", CID)),
        (
            "0::/user.slice/user-1000.slice/user@1000.service/app.slice/dev.service\n",
            "/user.slice/user-1000.slice/user@1000.service/app.slice/dev.service",
            "dev.service",
            None,
        ),
        ("0::/user.slice/user-1000.slice/session-3.scope\n", None, None, None),  # a login: no service
        ('0::/x users:(("nginx",pid=928,fd=3))\n', None, None, None),
    ],
)
def test_cgroup_says_unit_and_container(
    text: str, path: str | None, service: str | None, container: ContainerRef | None
) -> None:
    found_path, found_service, found_container = process_cgroup(text)
    assert (found_service, found_container) == (service, container)
    if path is not None:
        assert found_path == path


def test_a_user_unit_names_its_manager() -> None:
    assert user_manager("/user.slice/user-1000.slice/user@1000.service/app.slice/dev.service") == 1000
    assert user_manager("/system.slice/nginx.service") is None


HOSTILE_ARGV = [
    "pc-owner-test",
    "-c",
    "import sys; print('up', flush=True); sys.stdin.read()",
    "stat 1\ncmdline 1\nclk 1\nbtime 1\n 41 41",
    "x" * 40000,  # past the 32 KiB read: cut in both readings alike
]


@LINUX
def test_the_remote_script_and_the_local_reading_agree_on_a_hostile_process() -> None:
    """The ONE command an ssh host runs (platforms.linux.OWNERS_SCRIPT), run here for real, reads what
    portcheck reads from /proc itself: arguments that imitate the reply's own lines stay arguments."""
    child = subprocess.Popen(
        HOSTILE_ARGV, executable=sys.executable, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "up\n"
        pids = [child.pid, os.getpid(), 1]
        reply = subprocess.run(
            ["sh", "-c", OWNERS_SCRIPT, "sh", *map(str, pids), "999999999"],
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
            check=True,
        ).stdout
        remote = linux.read_reply(reply.splitlines())
        local = owner_facts([*pids, 999999999])
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    assert remote == local
    assert set(remote) == set(pids)  # the PID that does not exist is simply absent
    shown = remote[child.pid].cmdline
    assert shown is not None and shown.startswith(shlex.join(HOSTILE_ARGV[:4])) and shown.endswith(linux.CUT)
    assert remote[child.pid].ppid == os.getpid()


@LINUX
def test_started_agrees_with_ps() -> None:
    """procps computes lstart from the same stat field and boot time: the two readings agree."""
    done = subprocess.run(
        ["ps", "-o", "lstart=", "-p", str(os.getpid())],
        capture_output=True,
        text=True,
        env={**os.environ, "TZ": "UTC", "LC_ALL": "C"},
        check=True,
    )
    expected = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.strptime(done.stdout.strip(), "%a %b %d %H:%M:%S %Y"))
    assert owner_facts([os.getpid()])[os.getpid()].started == expected


def od(data: bytes) -> list[str]:
    """What `od -An -v -tx1` prints: 16 bytes a line, each line starting with a blank."""
    return [" " + data[i : i + 16].hex(" ") for i in range(0, len(data), 16)]


def test_the_reply_ignores_what_is_not_its_own() -> None:
    stat = b"5 (x) S 1 5 5 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0"
    reply = [
        "Welcome to host!",  # a chatty rc file
        "clk 100",
        "btime 1764864000",
        "stat 5",
        *od(stat),
        "cmdline 5",
        " zz not hex",
        "cgroup 5",
        *od(b"0::/system.slice/a.service\n"),
    ]
    found = linux.read_reply(reply)
    assert set(found) == {5}
    assert found[5].cmdline is None  # the broken file is dropped, not guessed at
    assert found[5].started == "2025-12-04T16:00:01Z"
    assert found[5].service == "a.service"


# --- macOS and FreeBSD ------------------------------------------------------------------------------


def test_ps_lstart_lines() -> None:
    found = bsd.read_ps(
        [
            "  745 Mon Nov 30 08:00:01 2026     /usr/sbin/sshd -D",
            "52311 Fri Dec  4 16:46:39 2026     Python -m http.server   8080",
            "  999 Fri Dec  4 16:46:39 2026",  # no command (a zombie)
            "  123 Foo Dec  4 16:46:39 2026     not a date",
            "PID STARTED COMMAND",
        ]
    )
    assert found[745].cmdline == "/usr/sbin/sshd -D" and found[745].started == "2026-11-30T08:00:01Z"
    assert found[52311].cmdline == "Python -m http.server   8080"  # blanks inside kept
    assert found[999].cmdline is None and found[999].started == "2026-12-04T16:46:39Z"
    assert found[123].started is None
    assert set(found) == {745, 52311, 999, 123}


@LINUX
def test_the_macos_script_read_with_procps() -> None:
    """macOS's probe script, run here: procps' ps takes the same `-ww -o pid=,lstart=,command= -p`
    (lstart in ctime's format, TZ=UTC0), and without /bin/launchctl the script still ends with its
    marker: the reader gets real ps output, and agrees with /proc."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; print('up', flush=True); sys.stdin.read()", "two  blanks"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "up\n"
        reply = subprocess.run(
            ["sh", "-c", MACOS_SCRIPT, "sh", f"{child.pid},{os.getpid()}"],
            capture_output=True,
            text=True,
            env={"LC_ALL": "C", "TZ": "UTC0", "PATH": os.environ["PATH"]},
            check=True,
        ).stdout
        found = bsd.read_macos_reply(reply.splitlines())
        local = owner_facts([child.pid, os.getpid()])
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(timeout=10)
    assert reply.splitlines()[-1] == bsd.LAUNCHCTL_MARKER
    assert {pid: f.started for pid, f in found.items()} == {pid: f.started for pid, f in local.items()}
    assert str(found[child.pid].cmdline).endswith("two  blanks")  # ps joins the arguments with blanks


FREEBSD_REPLY = [
    "  745 Mon Nov 30 08:00:01 2026     /usr/sbin/sshd",
    "  901 Mon Nov 30 08:00:03 2026     nginx: master process /usr/local/sbin/nginx",
    "  902 Mon Nov 30 08:00:03 2026     /usr/local/bin/node /srv/app/server.js",
    "  903 Mon Nov 30 08:00:04 2026     /usr/local/bin/python3 -m worker",
    bsd.RC_PIDFILES_MARKER,
    "745 sshd.pid",
    "901 nginx.pid",
    "902 app.pid",  # a pid file, but no rc.d script named app
    "903 worker.pid",
    "903 worker2.pid",  # two scripts' files name one PID: neither is believed
    " *.pid",  # the glob of an empty /var/run, as sh leaves it
    "x nginx.pid",
    "12345678901 sshd.pid",
    bsd.RC_SCRIPTS_MARKER,
    "sshd",
    "nginx",
    "worker",
    "worker2",
    "*",  # the glob of a missing /usr/local/etc/rc.d
    "bad name;rm",
]


def test_freebsd_reply_names_rc_services_from_var_run_pid_files() -> None:
    found = bsd.read_freebsd_reply(FREEBSD_REPLY)
    assert {pid: f.service for pid, f in found.items()} == {745: "sshd", 901: "nginx", 902: None, 903: None}
    assert found[901].cmdline == "nginx: master process /usr/local/sbin/nginx"
    assert found[745].started == "2026-11-30T08:00:01Z"
    posing = ["  77 Mon Nov 30 08:00:01 2026     sh -c 'echo; echo rc.d pidfiles:'", *FREEBSD_REPLY]
    assert bsd.read_freebsd_reply(posing)[745].service == "sshd"  # a ps line starts with its PID
    cut = bsd.read_freebsd_reply([*FREEBSD_REPLY[:6], bsd.RC_SCRIPTS_MARKER])  # no rc.d script listed
    assert {pid: f.service for pid, f in cut.items()} == dict.fromkeys((745, 901, 902, 903))
    assert all(f.service is None for f in bsd.read_freebsd_reply(FREEBSD_REPLY[:4]).values())  # ps alone


@LINUX
@pytest.mark.skipif(os.geteuid() != 0, reason="writes a pid file in /var/run")
def test_the_freebsd_script_reads_pid_files_with_a_real_shell() -> None:
    """FreeBSD's probe script, run by this machine's sh and procps' ps (the same `-o` keywords): a pid
    file whose first line carries more words, or no newline, still gives its PID as rc.subr reads it.
    /etc/rc.d does not exist here, so no name is believed: the file alone makes no service."""
    run = Path("/var/run")
    tag = f"pc-test-{os.getpid()}"
    files = {run / f"{tag}-a.pid": f"{os.getpid()} extra words\nsecond line\n", run / f"{tag}-b.pid": "4242"}
    for path, text in files.items():
        path.write_text(text)
    try:
        reply = subprocess.run(
            ["sh", "-c", FREEBSD_SCRIPT, "sh", str(os.getpid())],
            capture_output=True,
            text=True,
            env={"LC_ALL": "C", "TZ": "UTC0", "PATH": os.environ["PATH"]},
            check=True,
        ).stdout.splitlines()
    finally:
        for path in files:
            path.unlink()
    pidfiles = reply[reply.index(bsd.RC_PIDFILES_MARKER) + 1 : reply.index(bsd.RC_SCRIPTS_MARKER)]
    assert f"{os.getpid()} {tag}-a.pid" in pidfiles and f"4242 {tag}-b.pid" in pidfiles
    found = bsd.read_freebsd_reply(reply)
    assert set(found) == {os.getpid()} and found[os.getpid()].service is None
    assert found[os.getpid()].started == owner_facts([os.getpid()])[os.getpid()].started


def test_launchctl_list_skips_apps_and_jobs_not_running() -> None:
    labels = bsd.read_launchctl(
        [
            "PID\tStatus\tLabel",
            "-\t0\tcom.apple.x",
            "512\t0\tcom.apple.controlcenter",
            "77\t0\tapplication.a.1",
        ]
    )
    assert labels == {512: "com.apple.controlcenter"}


def test_a_command_that_prints_the_marker_does_not_end_ps_reply() -> None:
    """ps lines start with the PID: a process whose arguments say `launchctl list:` is still ps's."""
    reply = ["  12 Fri Dec  4 16:46:39 2026     evil launchctl list:", "launchctl list:", "12\t0\tcom.x.y"]
    found = bsd.read_macos_reply(reply)
    assert found[12].cmdline == "evil launchctl list:" and found[12].service == "com.x.y"


# --- Windows ------------------------------------------------------------------------------------------


def test_cim_json_one_object_or_an_array() -> None:
    one = (
        '{"ProcessId":7,"ParentProcessId":1,"Name":"a.exe","CommandLine":"a.exe -x",'
        '"Started":"2026-12-04T16:46:39Z"}'
    )
    assert windows.read_cim([one])[7].cmdline == "a.exe -x"
    many = windows.read_cim(["\ufeff[", one, ",", '{"ProcessId":"8","Started":"yesterday"}', "]"])
    assert set(many) == {7}  # a PID that is not a number is no PID
    assert windows.read_cim(['{"ProcessId":9,"Started":"yesterday","CommandLine":5}'])[9].started is None
    assert windows.read_cim(["not json"]) == {}


@pytest.mark.parametrize(
    ("value", "iso"),
    [
        ("20261204174639.123456+060", "2026-12-04T16:46:39Z"),
        ("20261204084105.500000-300", "2026-12-04T13:41:05Z"),
        ("20260101003000.000000+120", "2025-12-31T22:30:00Z"),
        ("2026120417463", None),
        ("20261304174639.123456+060", None),
    ],
)
def test_cim_datetime(value: str, iso: str | None) -> None:
    assert windows.cim_datetime_iso(value) == iso


def test_tasklist_services_any_language() -> None:
    found = windows.read_tasklist_services(
        [
            '"svchost.exe","1040","RpcEptMapper,RpcSs"',
            '"svchost.exe","2288","CryptSvc, Dnscache"',
            '"node.exe","7212","N/A"',
            '"node.exe","7213","Nicht zutreffend"',  # N/A on a German Windows
            '"sqlservr.exe","3000","MSSQL$SQLEXPRESS"',
        ]
    )
    assert found == {1040: "RpcEptMapper, RpcSs", 2288: "CryptSvc, Dnscache", 3000: "MSSQL$SQLEXPRESS"}


def test_http_sys_queues() -> None:
    text = (
        Path(__file__).parents[1] / "fixtures/live/owners/windows-netsh-http-servicestate-requestq.txt"
    ).read_text()
    owners = windows.read_http_owners(text.splitlines())
    assert {(o.port, o.pid, o.image) for o in owners} == {
        (5985, 3112, "svchost.exe"),
        (47001, 3112, "svchost.exe"),
        (80, 5544, "w3wp.exe"),
    }
    assert [o.urls for o in owners if o.port == 80] == [("HTTP://*:80/",)]


@pytest.mark.parametrize(
    ("url", "port"),
    [("HTTP://+:5985/WSMAN/", 5985), ("https://*/", 443), ("http://x/", 80), ("http://[::1]:8080/", 8080)],
)
def test_url_ports(url: str, port: int) -> None:
    assert windows.url_port(url) == port


# --- containers ---------------------------------------------------------------------------------------


def test_published_ports() -> None:
    assert containers.parse_ports("0.0.0.0:8080->80/tcp, :::8080->80/tcp, [::]:9090->90/udp, 53/udp") == (
        Published("0.0.0.0", 8080, 8080, "tcp"),
        Published("::", 8080, 8080, "tcp"),
        Published("::", 9090, 9090, "udp"),
    )
    assert containers.parse_ports("127.0.0.1:8000-8002->8000-8002/tcp") == (
        Published("127.0.0.1", 8000, 8002, "tcp"),
    )
    assert containers.parse_ports("1.2.3.4:99999->1/tcp, x:->1/tcp") == ()


def test_recorded_docker_ps_both_shapes() -> None:
    recorded = Path(__file__).parents[1] / "fixtures/linux/docker/docker-ps-no-trunc-json.cli-28.2.2.txt"
    found = containers.read_containers(recorded.read_text().splitlines(), "docker")
    assert {(c.name, c.image) for c in found} == {
        ("pc-web", "portcheck-lab/busybox:static"),
        ("pc-hostnet", "portcheck-lab/busybox:static"),
    }
    web = next(c for c in found if c.name == "pc-web")
    assert web.id == CID and web.publishes("tcp", 53393) and not web.publishes("udp", 53393)
    tabbed = containers.read_containers([f"{CID}\tweb,other/alias\tnginx:1.27\t0.0.0.0:80->80/tcp"], "podman")
    assert [(c.runtime, c.name, c.image) for c in tabbed] == [("podman", "web", "nginx:1.27")]
    assert containers.read_containers(["not\tan\tid\tat all", "x\ty"], "docker") == []


# --- no reader raises, whatever it is given -----------------------------------------------------------

READERS = [
    linux.read_reply,
    bsd.read_ps,
    bsd.read_launchctl,
    bsd.read_macos_reply,
    bsd.read_freebsd_reply,
    windows.read_cim,
    windows.read_wmic,
    windows.read_tasklist_services,
    windows.read_http_owners,
    lambda lines: containers.read_containers(lines, "docker"),
]


@given(lines=st.lists(st.text(max_size=200), max_size=20), which=st.integers(0, len(READERS) - 1))
def test_readers_never_raise(lines: list[str], which: int) -> None:
    READERS[which](lines)
