"""The plans as data: exact argv per OS for the questions people ask, and the OS choice."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck.core.errors import InspectError
from portcheck.core.model import Family, Proto
from portcheck.core.portspec import parse_port_spec
from portcheck.platforms import PLATFORM_VARIABLE, current_os, platform_for
from portcheck.platforms.base import OS, POSIX_ENV, Encoding, ProbeKind, Question, Step
from portcheck.platforms.linux import ss_filter
from tests.conftest import ROOT, run_cli

PORTS = Question(parse_port_spec("80,8000-8100"))
LISTING = Question()
UDP6_53_REMOTE = Question(
    parse_port_spec("53"), match_remote=True, protos=frozenset({Proto.UDP}), families=frozenset({Family.IPV6})
)


def plan_for(os_name: OS, question: Question, *, privileged: bool) -> tuple[Step, ...]:
    return platform_for(os_name).plan(question, privileged=privileged)


def argvs(os_name: OS, question: Question, privileged: bool = False) -> list[list[list[str]]]:
    return [
        [list(c.argv) for c in step.commands] for step in plan_for(os_name, question, privileged=privileged)
    ]


def test_ss_filter_with_ranges_and_remote() -> None:
    assert (
        ss_filter(parse_port_spec("8000-8100,80"), False)
        == "sport = :80 or ( sport >= :8000 and sport <= :8100 )"
    )
    assert ss_filter(parse_port_spec("53"), True) == "sport = :53 or dport = :53"


def test_linux_plan() -> None:
    lsof = ["lsof", "+c", "0", "-nP", "-w"]
    assert argvs(OS.LINUX, PORTS) == [
        [["ss", "-tunapeH", "sport = :80 or ( sport >= :8000 and sport <= :8100 )"]],
        [["netstat", "-tunapeW"]],
        [[*lsof, "-i:80,8000-8100"]],
        [],
    ]
    assert argvs(OS.LINUX, LISTING) == [
        [["ss", "-tunlpeH"]],
        [["netstat", "-tunlpeW"]],
        [[*lsof, "-iTCP", "-sTCP:LISTEN"], [*lsof, "-iUDP"]],
        [],
    ]
    assert argvs(OS.LINUX, UDP6_53_REMOTE)[:3] == [
        [["ss", "-unapeH", "-6", "sport = :53 or dport = :53"]],
        [["netstat", "-unapeW"]],
        [[*lsof, "-i6UDP:53"]],
    ]
    steps = plan_for(OS.LINUX, PORTS, privileged=False)
    assert [s.tool for s in steps] == ["ss", "netstat", "lsof", "/proc"]
    assert all(c.env == POSIX_ENV for s in steps for c in s.commands)
    assert steps[3].local_only and not steps[2].sees_all
    assert plan_for(OS.LINUX, PORTS, privileged=True)[2].sees_all
    assert steps[2].no_match_status == {1}


def test_macos_plan() -> None:
    assert argvs(OS.MACOS, PORTS) == [
        [["lsof", "+c", "0", "-nP", "-w", "-i:80,8000-8100"]],
        [["netstat", "-anvW"]],
    ]


def test_windows_plan_elevated_or_not() -> None:
    steps = plan_for(OS.WINDOWS, PORTS, privileged=False)
    assert argvs(OS.WINDOWS, PORTS) == [[["netstat", "-ano"]]]
    assert steps[0].encoding is Encoding.OEM
    assert steps[0].pid_names is not None and steps[0].pid_names.command.argv == (
        "tasklist",
        "/svc",
        "/fo",
        "csv",
        "/nh",
    )
    assert argvs(OS.WINDOWS, PORTS, privileged=True) == [[["netstat", "-anob"]], [["netstat", "-ano"]]]
    assert argvs(OS.WINDOWS, UDP6_53_REMOTE) == [[["netstat", "-ano", "-p", "UDPv6"]]]


def test_freebsd_plan() -> None:
    select = ["-P", "tcp,udp", "-p", "80,8000-8100"]
    assert argvs(OS.FREEBSD, PORTS) == [
        [["sockstat", "-46ls", *select], ["sockstat", "-46cs", *select]],
        [["netstat", "-anW"]],
    ]
    assert argvs(OS.FREEBSD, LISTING)[0] == [["sockstat", "-46ls", "-P", "tcp,udp"]]
    assert not plan_for(OS.FREEBSD, PORTS, privileged=False)[1].shows_owners


def test_too_many_ranges_are_filtered_in_python() -> None:
    many = Question(parse_port_spec(",".join(str(p) for p in range(1000, 1400, 2))))
    assert argvs(OS.LINUX, many)[0] == [["ss", "-tunapeH"]]
    assert argvs(OS.MACOS, many)[0] == [["lsof", "+c", "0", "-nP", "-w", "-i"]]


def test_platform_comes_from_the_test_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PLATFORM_VARIABLE, "FreeBSD")
    assert current_os() is OS.FREEBSD
    monkeypatch.setenv(PLATFORM_VARIABLE, "beos")
    with pytest.raises(InspectError):
        current_os()


def test_only_platforms_reads_the_variable() -> None:
    package = ROOT / "src" / "portcheck"
    readers = [
        p.relative_to(package).as_posix() for p in package.rglob("*.py") if PLATFORM_VARIABLE in p.read_text()
    ]
    assert readers == ["platforms/__init__.py"]
    assert "PORTCHECK_PLATFORM" not in (ROOT / "src" / "portcheck" / "commands" / "query.py").read_text()


def test_help_shows_examples() -> None:
    result = run_cli("query", "--help")
    assert result.code == 0
    assert "portcheck 80,443 8000-8100" in result.stdout
    assert "--sudo" in result.stdout and "--timeout" in result.stdout


def test_no_path_leaks_into_plans() -> None:
    for os_name in OS:
        for step in plan_for(os_name, PORTS, privileged=False):
            for command in step.commands:
                assert not Path(command.argv[0]).is_absolute()  # resolved at run time (PATH, or system dirs)


def test_start_up_stays_lazy() -> None:
    """`parse --help` never imports pexpect; a live query never reads the IANA table or loads sudo,
    and needs no pexpect either (the runner is subprocess and a selector; pexpect is for prompts)."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from portcheck.cli import main\n"
        "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "from portcheck.core import services\n"
        "print(sorted(m for m in ('pexpect', 'portcheck.live.sudo', 'tabulate') if m in sys.modules),"
        " services._names.cache_info().currsize, file=sys.stderr)\n"
    )
    helped = subprocess.run([sys.executable, "-c", probe, "parse", "--help"], capture_output=True, text=True)
    assert helped.stderr.strip().splitlines()[-1] == "[] 0"
    queried = subprocess.run([sys.executable, "-c", probe, "1", "--json"], capture_output=True, text=True)
    assert queried.stderr.strip().splitlines()[-1] == "[] 0"


def test_probes_per_os() -> None:
    linux = platform_for(OS.LINUX).probes()
    assert [(p.kind, p.files, p.command.argv) for p in linux] == [
        (
            ProbeKind.EPHEMERAL,
            ("/proc/sys/net/ipv4/ip_local_port_range",),
            ("cat", "/proc/sys/net/ipv4/ip_local_port_range"),
        ),
        (
            ProbeKind.RESERVED,
            ("/proc/sys/net/ipv4/ip_local_reserved_ports",),
            ("cat", "/proc/sys/net/ipv4/ip_local_reserved_ports"),
        ),
    ]
    assert all(p.command.env == POSIX_ENV and p.protos == (Proto.TCP, Proto.UDP) for p in linux)
    for os_name in (OS.MACOS, OS.FREEBSD):
        (probe,) = platform_for(os_name).probes()
        assert probe.command.argv == (
            "sysctl",
            "-n",
            "net.inet.ip.portrange.first",
            "net.inet.ip.portrange.last",
        )
    windows = platform_for(OS.WINDOWS).probes()
    assert [(p.kind, p.protos, p.command.argv[4:]) for p in windows] == [
        (ProbeKind.EPHEMERAL, (Proto.TCP,), ("dynamicport", "tcp")),
        (ProbeKind.EPHEMERAL, (Proto.UDP,), ("dynamicport", "udp")),
        (ProbeKind.EXCLUDED, (Proto.TCP,), ("excludedportrange", "protocol=tcp")),
        (ProbeKind.EXCLUDED, (Proto.UDP,), ("excludedportrange", "protocol=udp")),
    ]


def test_signal_plans() -> None:
    assert platform_for(OS.LINUX).signal_plan(42, "TERM", force=False).command.argv == (
        "kill",
        "-s",
        "TERM",
        "42",
    )
    assert platform_for(OS.MACOS).signal_plan(42, "TERM", force=True).command.argv == (
        "kill",
        "-s",
        "KILL",
        "42",
    )
    polite = platform_for(OS.WINDOWS).signal_plan(42, "TERM", force=False)
    assert polite.command.argv == ("taskkill", "/PID", "42")
    assert polite.needs_force_status == {1} and polite.gone_status == {128}
    assert platform_for(OS.WINDOWS).signal_plan(42, "KILL", force=False).command.argv == (
        "taskkill",
        "/PID",
        "42",
        "/F",
    )
