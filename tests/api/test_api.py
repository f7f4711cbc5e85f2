"""`import portcheck`: the API for real, on this machine's sockets and the ssh lab, and the same
answers as the CLI (the CLI is built on it)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

import portcheck
from portcheck.core.errors import InspectError, ParseError, PortcheckError, UsageError
from tests.conftest import FIXTURES, ROOT, run_cli
from tests.helpers.cli import listener, reserved_port
from tests.helpers.sshd import Lab


def test_import_portcheck_imports_nothing_else() -> None:
    """The CLI's start-up relies on it; every API name arrives on first use."""
    code = "import sys, portcheck; print(sorted(m for m in sys.modules if m.startswith('portcheck')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src")})  # fmt: skip
    assert out.stdout.strip() == "['portcheck']"


def test_every_public_name_resolves_and_unknown_ones_do_not() -> None:
    for name in portcheck.__all__:
        assert getattr(portcheck, name) is not None
    with pytest.raises(AttributeError):
        portcheck.no_such_thing  # noqa: B018
    assert "query" in dir(portcheck)


def test_the_exceptions_are_the_packages_own_with_their_exit_codes() -> None:
    assert portcheck.Error is PortcheckError
    assert (portcheck.UsageError, portcheck.ParseError, portcheck.InspectError) == (
        UsageError,
        ParseError,
        InspectError,
    )
    assert [e.exit_code for e in (portcheck.UsageError, portcheck.ParseError, portcheck.InspectError)] == [
        2,
        2,
        3,
    ]
    assert all(issubclass(e, portcheck.Error) for e in (UsageError, ParseError, InspectError))


def test_py_typed_ships_in_the_package() -> None:
    assert (ROOT / "src" / "portcheck" / "py.typed").is_file()


# --- query -------------------------------------------------------------------------------------------


def test_query_finds_a_real_listener_as_the_cli_does() -> None:
    with listener("pc-api-query") as child:
        rows = portcheck.query(child.port)
        cli = run_cli(str(child.port), "--json")
    assert [(r.local_port, r.pid, r.process, r.state) for r in rows] == [
        (child.port, child.pid, "pc-api-query", "LISTEN")
    ]
    assert [r._asdict() for r in rows] == cli.json()
    assert isinstance(rows[0], portcheck.Socket)


def test_query_takes_ports_in_every_shape() -> None:
    with listener("pc-api-shapes") as child:
        for ports in (
            child.port,
            str(child.port),
            [child.port],
            f"{child.port}-{child.port}",
            [str(child.port), 1],
        ):
            assert [r.pid for r in portcheck.query(ports, listening=True)] == [child.pid], ports


def test_query_without_ports_lists_every_listener_only() -> None:
    with listener("pc-api-all") as child:
        rows = portcheck.query()
    assert child.pid in {r.pid for r in rows}
    assert all(r.state in ("LISTEN", "NONE", "BOUND") for r in rows)


def test_query_of_a_pid_without_ports_lists_every_socket_of_it_as_the_cli_does() -> None:
    """`portcheck --pid N` shows the PID's connections too, not only its listeners: so does query()."""
    with listener("pc-api-pid") as child, socket.create_connection(("127.0.0.1", child.port)) as client:
        mine = os.getpid()
        rows = portcheck.query(pids=[mine], tcp=True)
        cli = run_cli("--pid", str(mine), "--tcp", "--json")
        here = client.getsockname()[1]
    assert (here, "ESTABLISHED") in {(r.local_port, r.state) for r in rows}
    assert [r._asdict() for r in rows] == cli.json()


def test_query_of_a_free_port_is_an_empty_list() -> None:
    with reserved_port() as port:
        assert portcheck.query(port) == []


@pytest.mark.parametrize("bad", ["80;id", -1, 70000, "", [], True, 8.5])
def test_a_bad_port_is_a_usage_error(bad: object) -> None:
    with pytest.raises(portcheck.UsageError):
        portcheck.query(bad)  # type: ignore[arg-type]


def test_query_filters_like_the_cli() -> None:
    with listener("pc-api-filter") as child:
        assert portcheck.query(child.port, udp=True) == []
        assert portcheck.query(child.port, process="API-FILTER")[0].pid == child.pid
        assert portcheck.query(child.port, process="nginx") == []
        assert portcheck.query(child.port, exposed=True) == []  # it listens on 127.0.0.1
        with pytest.raises(portcheck.UsageError, match="unknown state"):
            portcheck.query(child.port, states=["SLEEPY"])


def test_query_over_ssh_uses_the_same_record(lab: Lab) -> None:
    with listener("pc-api-host") as child:
        rows = portcheck.query(child.port, host="srv0", ssh_config=str(lab.config), timeout=20)
    assert [(r.pid, r.process) for r in rows] == [(child.pid, "pc-api-host")]


def test_a_host_that_refuses_is_an_inspect_error(lab: Lab) -> None:
    with pytest.raises(portcheck.InspectError, match=r"^refused: connection refused"):
        portcheck.query(22, host="refused", ssh_config=str(lab.config))


# --- parse -------------------------------------------------------------------------------------------

SS_LINES = (
    'tcp   LISTEN 0      128          127.0.0.1:8000       0.0.0.0:*    users:(("python3",pid=20273,fd=3))\n'
    'tcp   LISTEN 0      128              [::1]:8001          [::]:*    users:(("python3",pid=20275,fd=3))\n'
)


def test_parse_returns_rows_with_what_it_noticed() -> None:
    result = portcheck.parse(SS_LINES + "this line is not ss output\n")
    assert isinstance(result, portcheck.ParseResult)
    assert [(r.local_port, r.pid) for r in result] == [(8000, 20273), (8001, 20275)]
    assert len(result) == 2 and result[0].process == "python3" and result[-1].family == "ipv6"
    assert (result.format, result.encoding, result.skipped) == ("ss", "utf-8", 1)
    assert result.first_skipped == (3, "this line is not ss output")
    assert result.warnings == ["1 line not understood, first at line 3: 'this line is not ss output'"]


def test_parse_strict_raises_at_the_first_odd_line() -> None:
    with pytest.raises(portcheck.ParseError, match="line not understood") as caught:
        portcheck.parse(SS_LINES + "garbage\n", strict=True)
    assert caught.value.line == 3


def test_parse_reads_bytes_in_any_code_page_and_filters_ports() -> None:
    data = (FIXTURES / "windows" / "netstat-ano-de-cp850.txt").read_bytes()
    result = portcheck.parse(data, ports=60653)
    assert result.encoding == "cp850" and result.format == "netstat-windows"
    assert {(r.local_port, r.state) for r in result} == {(60653, "LISTEN")}
    assert [r._asdict() for r in result] == run_cli(
        "parse", "-", "--port", "60653", "--json", stdin=data
    ).json()


def test_parse_reads_any_str_even_with_lone_surrogates() -> None:
    """A str can hold what UTF-8 cannot: a file's bytes read with surrogateescape get their bytes back
    (here Latin-1 'é' in a process name), any other lone surrogate reads as a broken byte."""
    escaped = SS_LINES.replace('"python3",pid=20273', '"caf\udce9",pid=20273')
    result = portcheck.parse(escaped)
    assert [r.pid for r in result] == [20273, 20275]
    assert result[0].process is not None and result[0].process.startswith("caf")
    with_lone = SS_LINES.replace('"python3",pid=20275', '"py\ud800",pid=20275')
    lone = portcheck.parse(with_lone)
    assert [(r.pid, r.process) for r in lone] == [(20273, "python3"), (20275, "py\ufffd")]
    changes = portcheck.diff(with_lone, SS_LINES)  # diff reads str the same way
    assert [(r.local_port, r.process) for r in changes.added] == [(8001, "python3")]


def test_parse_forced_format_and_refusals() -> None:
    forced = portcheck.parse(SS_LINES, fmt="lsof")  # read as lsof, as `--from lsof` does: no row fits
    assert (forced.format, len(forced), forced.skipped) == ("lsof", 0, 2)
    with pytest.raises(portcheck.ParseError, match="not output of a supported tool"):
        portcheck.parse("Dear support,\nport 8000 is broken\n")
    with pytest.raises(portcheck.UsageError, match="unknown format"):
        portcheck.parse(SS_LINES, fmt="nmap")
    with pytest.raises(portcheck.ParseError, match="binary"):
        portcheck.parse(b"PK\x03\x04" + bytes(200))
    assert portcheck.parse("").format is None and list(portcheck.parse("\n\n")) == []


# --- info --------------------------------------------------------------------------------------------


def test_info_is_what_info_json_prints() -> None:
    report = portcheck.info(3389, check_use=False)
    assert report == run_cli("info", "3389", "--no-check", "--json").json()
    assert report["services"][0]["name"] == "ms-wbt-server"
    assert report["system"]["os"] == "linux"


def test_info_sees_the_port_in_use() -> None:
    with listener("pc-api-info") as child:
        report = portcheck.info(str(child.port))
    assert report["in_use"] is not None
    assert [(r["pid"], r["process"]) for r in report["in_use"]["rows"]] == [(child.pid, "pc-api-info")]
    json.dumps(report)  # plain JSON types throughout


def test_info_takes_one_port() -> None:
    with pytest.raises(portcheck.UsageError, match="one port"):
        portcheck.info("80,443")
