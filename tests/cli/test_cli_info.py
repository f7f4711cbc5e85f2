"""`portcheck info PORT` through the real CLI: IANA ranges and names, the curated notes, this Linux
machine's real ephemeral range, and the macOS, FreeBSD and Windows probes through fake `sysctl` and
`netsh` on PATH (English and German netsh, an OEM code page, excluded ranges with `*`)."""

from __future__ import annotations

import os
import re
import socket
import sys
from pathlib import Path

import pytest

from portcheck.core.model import FIELDS
from portcheck.platforms import PLATFORM_VARIABLE
from tests.conftest import Result, run_cli
from tests.helpers.live import fake_tool, recorded_argv
from tests.helpers.ports import bind_udp

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="fake tools are POSIX scripts")

INFO_KEYS = ["port", "iana_range", "services", "known_uses", "system", "in_use", "in_use_error"]
SYSTEM_KEYS = [
    "os",
    "ephemeral",
    "reserved",
    "excluded",
    "in_ephemeral_range",
    "in_reserved_ports",
    "in_excluded_range",
    "errors",
]


def info_json(*args: str, env: dict[str, str] | None = None) -> dict[str, object]:
    result = run_cli("info", *args, "--json", env=env)
    assert result.code == 0, result.stderr
    data = result.json()
    assert isinstance(data, dict)
    assert list(data) == INFO_KEYS
    assert isinstance(data["system"], dict) and list(data["system"]) == SYSTEM_KEYS
    return data


def system(data: dict[str, object]) -> dict[str, object]:
    found = data["system"]
    assert isinstance(found, dict)
    return found


@pytest.mark.parametrize(
    ("port", "name", "first", "last"),
    [
        (0, "system", 0, 1023),
        (1023, "system", 0, 1023),
        (1024, "user", 1024, 49151),
        (49151, "user", 1024, 49151),
        (49152, "dynamic", 49152, 65535),
    ],
)
def test_iana_range_bounds(port: int, name: str, first: int, last: int) -> None:
    data = info_json(str(port), "--no-check")
    assert data["iana_range"] == {
        "name": name,
        "also_called": {
            "system": ["well-known"],
            "user": ["registered"],
            "dynamic": ["private", "ephemeral"],
        }[name],
        "first": first,
        "last": last,
    }
    assert data["in_use"] is None and data["in_use_error"] is None  # --no-check ran no socket tool


def test_registered_services_with_short_descriptions() -> None:
    data = info_json("22", "--no-check")
    assert data["services"] == [
        {
            "name": "ssh",
            "protocols": ["tcp", "udp"],
            "first_port": 22,
            "last_port": 22,
            "description": "The Secure Shell (SSH) Protocol",
        }
    ]
    ranged = info_json("6010", "--no-check")["services"]
    assert isinstance(ranged, list)
    assert {"name": "x11", "first_port": 6000, "last_port": 6063}.items() <= ranged[0].items()
    # The registry's bookkeeping ("IANA assigned this well-formed service name...") is not a description.
    whois = info_json("63", "--no-check")["services"]
    assert isinstance(whois, list)
    assert all(len(s["description"]) <= 80 and "IANA assigned" not in s["description"] for s in whois)


def test_text_report_for_a_well_known_port() -> None:
    result = run_cli("info", "80", "--no-check")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Port 80"
    assert "IANA range    system ports (well-known), 0-1023" in lines
    assert "Registered    http, www, www-http (tcp, udp): World Wide Web HTTP" in lines
    assert not any(line.startswith("In use") for line in lines)
    assert result.stderr == ""


def test_known_unofficial_uses() -> None:
    text = run_cli("info", "5000", "--no-check").stdout
    assert "macOS AirPlay Receiver" in text and "Flask" in text
    uses = info_json("60653", "--no-check")["known_uses"]
    assert isinstance(uses, list)
    assert any("Xsan" in u["text"] for u in uses)
    assert "nothing registered with IANA on 60653" in run_cli("info", "60653", "--no-check").stdout


@pytest.mark.parametrize("bad", ["70000", "-1", "$(id)", "80,443", "htp", "x11", "raid-am"])
def test_bad_port_exits_2_quoting_it(bad: str) -> None:
    result = run_cli("info", bad)
    assert result.code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    if bad != "-1":
        assert repr(bad) in result.stderr


def test_timeout_must_be_positive() -> None:
    assert run_cli("info", "80", "--timeout", "0").code == 2


# --- this machine ---------------------------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux /proc")
def test_this_linux_machines_real_ephemeral_range() -> None:
    first, last = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    reserved = Path("/proc/sys/net/ipv4/ip_local_reserved_ports").read_text().strip()
    inside = info_json(str(last), "--no-check")
    found = system(inside)
    assert found["os"] == "linux"
    assert found["ephemeral"] == [
        {
            "protocols": ["tcp", "udp"],
            "first": first,
            "last": last,
            "source": "/proc/sys/net/ipv4/ip_local_port_range",
        }
    ]
    if not reserved:
        assert found["reserved"] == []
        assert found["in_reserved_ports"] == {"tcp": False, "udp": False}
    assert found["in_ephemeral_range"] == {"tcp": True, "udp": True}
    assert found["in_excluded_range"] == {"tcp": None, "udp": None}  # Linux has no such thing
    assert found["errors"] == []
    outside = system(info_json(str(first - 1), "--no-check"))
    assert outside["in_ephemeral_range"] == {"tcp": False, "udp": False}
    text = run_cli("info", str(last), "--no-check").stdout
    assert f"linux: ephemeral ports {first}-{last} for tcp and udp" in " ".join(text.split())
    assert "an outbound connection may take it at any moment, so a server should not use it" in " ".join(
        text.split()
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")
def test_in_use_names_the_listener() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        data = info_json(str(port))
        text = run_cli("info", str(port)).stdout
    in_use = data["in_use"]
    assert isinstance(in_use, dict)
    rows = in_use["rows"]
    assert isinstance(rows, list) and len(rows) == 1
    assert list(rows[0]) == list(FIELDS)
    assert rows[0]["state"] == "LISTEN" and rows[0]["local_port"] == port
    assert rows[0]["pid"] is not None  # this test process; portcheck runs as its child
    assert f"In use        yes ({in_use['tool']}): tcp 127.0.0.1:{port} LISTEN by " in text
    assert f"(PID {rows[0]['pid']})" in text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux sockets")
def test_a_free_port_is_not_in_use() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))  # bound, not listening: no socket table shows it
        port = probe.getsockname()[1]
        result = run_cli("info", str(port))
    assert result.code == 0
    assert re.search(rf"In use        no \(\S+\): nothing uses {port} now", result.stdout)


# --- other OSes through fake tools ------------------------------------------------------------------------


def run_as(platform: str, bin_dir: Path, *args: str) -> Result:
    bin_dir.mkdir(parents=True, exist_ok=True)
    return run_cli("info", *args, env={"PATH": str(bin_dir), PLATFORM_VARIABLE: platform})


SYSCTL_ARGV = ["sysctl", "-n", "net.inet.ip.portrange.first", "net.inet.ip.portrange.last"]


@posix_only
@pytest.mark.parametrize(("platform", "first"), [("macos", 49152), ("freebsd", 10000)])
def test_bsd_ranges_from_sysctl(tmp_path: Path, platform: str, first: int) -> None:
    fake_tool(tmp_path, "sysctl", output=f"{first}\n65535\n")
    result = run_as(platform, tmp_path, "50000", "--json", "--no-check")
    assert result.code == 0, result.stderr
    found = result.json()["system"]  # type: ignore[index, call-overload]
    assert found["os"] == platform
    assert found["ephemeral"] == [
        {"protocols": ["tcp", "udp"], "first": first, "last": 65535, "source": " ".join(SYSCTL_ARGV)}
    ]
    assert found["in_ephemeral_range"] == {"tcp": True, "udp": True}
    assert recorded_argv(tmp_path) == [SYSCTL_ARGV]
    inside_freebsd_only = run_as(platform, tmp_path, "20000", "--no-check").stdout
    assert ("20000 is INSIDE the ephemeral range" in inside_freebsd_only) is (platform == "freebsd")


@posix_only
def test_missing_or_unreadable_sysctl_is_reported_not_fatal(tmp_path: Path) -> None:
    result = run_as("macos", tmp_path / "empty", "50000", "--json", "--no-check")
    assert result.code == 0, result.stderr
    found = result.json()["system"]  # type: ignore[index, call-overload]
    assert found["ephemeral"] == [] and found["in_ephemeral_range"] == {"tcp": None, "udp": None}
    assert found["errors"] == [" ".join(SYSCTL_ARGV) + ": not installed"]
    fake_tool(tmp_path / "bad", "sysctl", output="sysctl: unknown oid 'net.inet.ip.portrange.first'\n")
    text = " ".join(run_as("macos", tmp_path / "bad", "50000", "--no-check").stdout.split())
    assert (
        "could not read sysctl -n net.inet.ip.portrange.first net.inet.ip.portrange.last: unreadable" in text
    )
    fake_tool(tmp_path / "binary", "sysctl", output=b"\x7fELF\x00\x01\x02")
    binary = run_as("macos", tmp_path / "binary", "50000", "--json", "--no-check")
    assert binary.code == 0, binary.stderr  # a broken probe costs its own fact, never the answer
    assert binary.json()["system"]["errors"] == [  # type: ignore[index, call-overload]
        " ".join(SYSCTL_ARGV)
        + ": printed output portcheck cannot read (binary data, not text: an ELF executable)"
    ]


NETSH_DYNAMIC = """
Protocol {proto} Dynamic Port Range
---------------------------------
Start Port      : {start}
Number of Ports : {count}

"""
NETSH_DYNAMIC_DE = """
Protokoll {proto} Dynamischer Portbereich
---------------------------------
Startport       : {start}
Anzahl der Ports : {count}

"""
NETSH_EXCLUDED = """
Protocol {proto} Port Exclusion Ranges

Start Port    End Port
----------    --------
{rows}
* - Administered port exclusions.

"""
NETSH_EXCLUDED_DE = """
Protokoll {proto} Portausschlussbereiche

Startport   Endport
----------    --------
{rows}
* - Verwaltete Portausschlüsse.

"""
EXCLUDED_TCP = "      1027        1126\n      4990        5089\n     50000       50059     *\n"


def fake_netsh(directory: Path, *, german: bool = False, udp_start: int = 49152) -> None:
    dynamic = NETSH_DYNAMIC_DE if german else NETSH_DYNAMIC
    excluded = NETSH_EXCLUDED_DE if german else NETSH_EXCLUDED
    encoding = "cp850" if german else "ascii"  # the console's OEM code page, as netsh writes it

    def crlf(text: str) -> bytes:
        return text.replace("\n", "\r\n").encode(encoding)

    fake_tool(
        directory,
        "netsh",
        when={
            "tcp": crlf(dynamic.format(proto="tcp", start=49152, count=16384)),
            "udp": crlf(dynamic.format(proto="udp", start=udp_start, count=65536 - udp_start)),
            "protocol=tcp": crlf(excluded.format(proto="tcp", rows=EXCLUDED_TCP)),
            "protocol=udp": crlf(excluded.format(proto="udp", rows="")),
        },
    )


@posix_only
@pytest.mark.parametrize("german", [False, True], ids=["english", "german-cp850"])
def test_windows_dynamic_and_excluded_ranges_from_netsh(tmp_path: Path, german: bool) -> None:
    fake_netsh(tmp_path, german=german, udp_start=50000)
    result = run_as("windows", tmp_path, "50010", "--json", "--no-check")
    assert result.code == 0, result.stderr
    found = result.json()["system"]  # type: ignore[index, call-overload]
    assert found["os"] == "windows"
    assert found["ephemeral"] == [
        {
            "protocols": ["tcp"],
            "first": 49152,
            "last": 65535,
            "source": "netsh int ipv4 show dynamicport tcp",
        },
        {
            "protocols": ["udp"],
            "first": 50000,
            "last": 65535,
            "source": "netsh int ipv4 show dynamicport udp",
        },
    ]
    source = "netsh int ipv4 show excludedportrange protocol=tcp"
    assert found["excluded"] == [
        {"protocols": ["tcp"], "first": 1027, "last": 1126, "administered": False, "source": source},
        {"protocols": ["tcp"], "first": 4990, "last": 5089, "administered": False, "source": source},
        {"protocols": ["tcp"], "first": 50000, "last": 50059, "administered": True, "source": source},
    ]
    assert found["in_ephemeral_range"] == {"tcp": True, "udp": True}
    assert found["in_excluded_range"] == {"tcp": True, "udp": False}  # an empty udp table is an answer
    assert found["in_reserved_ports"] == {"tcp": None, "udp": None}
    assert found["errors"] == []
    assert recorded_argv(tmp_path) == [
        ["netsh", "int", "ipv4", "show", "dynamicport", "tcp"],
        ["netsh", "int", "ipv4", "show", "dynamicport", "udp"],
        ["netsh", "int", "ipv4", "show", "excludedportrange", "protocol=tcp"],
        ["netsh", "int", "ipv4", "show", "excludedportrange", "protocol=udp"],
    ]


@posix_only
def test_windows_text_report_marks_the_excluded_range(tmp_path: Path) -> None:
    fake_netsh(tmp_path)
    text = " ".join(run_as("windows", tmp_path, "5000", "--no-check").stdout.split())
    assert "windows: ephemeral ports 49152-65535 for tcp and udp" in text
    assert "5000/tcp is in an excluded port range, 4990-5089: binding it fails" in text
    assert "5000 is outside the ephemeral range" in text
    administered = " ".join(run_as("windows", tmp_path, "50001", "--no-check").stdout.split())
    assert "50001/tcp is in an excluded port range, 50000-50059, administered *" in administered
    free = " ".join(run_as("windows", tmp_path, "8080", "--no-check").stdout.split())
    assert "8080 is in none of the 3 excluded port ranges" in free


@posix_only
def test_windows_in_use_comes_from_netstat(tmp_path: Path) -> None:
    fake_netsh(tmp_path)
    fake_tool(
        tmp_path,
        "netstat",
        output=(
            "\r\nActive Connections\r\n\r\n"
            "  Proto  Local Address          Foreign Address        State           PID\r\n"
            "  TCP    0.0.0.0:5000           0.0.0.0:0              LISTENING       4242\r\n"
        ),
    )
    fake_tool(tmp_path, "tasklist", output='"flask.exe","4242","Console","1","20,000 K"\r\n')
    data = run_as("windows", tmp_path, "5000", "--json").json()
    assert isinstance(data, dict) and isinstance(data["in_use"], dict)
    assert [(r["local_port"], r["pid"], r["process"]) for r in data["in_use"]["rows"]] == [
        (5000, 4242, "flask.exe")
    ]
    text = run_as("windows", tmp_path, "5000").stdout
    assert "In use        yes (netstat): tcp 0.0.0.0:5000 LISTEN by flask.exe (PID 4242)" in text
    none = run_as("windows", tmp_path / "no-tools", "5000")
    assert none.code == 0
    assert "In use        could not tell: cannot inspect this machine's sockets" in none.stdout


# --- issue 12: what info says about the common ports ----------------------------------------------------


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        ("22", "sshd"),
        ("80", "nginx"),
        ("80", "PID 4 (System) here is HTTP.sys"),
        ("443", "HTTP.sys"),
        ("5985", "HTTP.sys"),
        ("5986", "HTTP.sys"),
        ("53", "systemd-resolved listens on 127.0.0.53:53"),
        ("53", "DNSStubListener=no"),
        ("5355", "systemd-resolved"),
        ("5000", "System Settings > General > AirDrop & Handoff > AirPlay Receiver"),
        ("7000", "macOS AirPlay Receiver"),
        ("3000", "Node 17+ resolves `localhost` to ::1 first"),
        ("8080", "kubectl port-forward"),
        ("2049", "no process owns the socket even for root"),
    ],
)
def test_known_uses_of_the_ports_helpdesks_see(port: str, expected: str) -> None:
    uses = info_json(port, "--no-check")["known_uses"]
    assert isinstance(uses, list)
    assert any(expected in use["text"] for use in uses), uses


def test_the_curated_list_covers_the_common_ports() -> None:
    common = [20, 21, 22, 23, 25, 53, 67, 68, 69, 80, 88, 110, 111, 123, 135, 137, 138, 139, 143, 161]
    common += [389, 443, 445, 465, 500, 514, 587, 631, 636, 853, 873, 993, 995, 1080, 1194, 1433, 1521]
    common += [1883, 1900, 2049, 2375, 3000, 3128, 3306, 3389, 4200, 5000, 5037, 5173, 5353, 5355, 5432]
    common += [5672, 5900, 5985, 6379, 6443, 7000, 8000, 8080, 8443, 8888, 9000, 9090, 9092, 9200, 27017]
    from portcheck.meaning.known_ports import known_uses

    assert len(common) >= 60
    assert [port for port in common if not known_uses(port)] == []


def test_port_0_means_any_port() -> None:
    text = run_cli("info", "0", "--no-check").stdout
    assert 'port 0 means "any port": a program that binds it gets a free port the OS chooses' in text
    assert "only root" not in text  # not "a root-only port"
    assert "outside the ephemeral range" not in text


def test_reserved_says_what_it_means() -> None:
    for port in ("0", "1024"):
        lines = run_cli("info", port, "--no-check").stdout.splitlines()
        assert "Registered    reserved by IANA (tcp, udp): kept back and assigned to no service" in lines


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a real UDP socket and ss")
def test_an_unconnected_udp_socket_is_bound_by_its_process() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as bound:
        bind_udp(bound, "127.0.0.1")
        port = bound.getsockname()[1]
        text = run_cli("info", str(port)).stdout
    assert re.search(
        rf"In use +yes \(\w+\): udp 127\.0\.0\.1:{port} bound by \S+ \(PID {os.getpid()}\)", text
    ), text
    assert "NONE" not in text


def test_info_takes_a_service_name() -> None:
    data = info_json("ssh", "--no-check")
    assert data["port"] == 22


def test_a_forwarders_row_says_where_the_server_runs() -> None:
    from portcheck.core.model import Family, Proto, Socket, State
    from portcheck.meaning.report import _row_text

    row = Socket(Proto.TCP, Family.IPV4, "0.0.0.0", 8080, None, None, State.LISTEN, 2211, "docker-proxy")
    assert _row_text(row, "0.0.0.0:8080") == (
        "tcp 0.0.0.0:8080 LISTEN by docker-proxy (PID 2211), which forwards it to a Docker container "
        "(docker ps)"
    )
