"""The real Ubuntu outputs in ../shared/corpus/linux: detected, parsed without a skipped line, and the
values a person reading them would point at (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portcheck import parsers
from portcheck.core.model import Family, Proto, Socket, State
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import SAMPLE_LINES, detect
from tests.conftest import CORPUS, corpus_params

EXPECTED_FORMAT = {"lsof": "lsof", "netstat": "netstat-linux", "ss": "ss"}


def parse_file(path: Path) -> tuple[str, list[Socket], ParseContext]:
    lines = path.read_text(encoding="utf-8").splitlines()
    name = detect(lines[:SAMPLE_LINES])
    assert name is not None, f"{path.name} not recognised"
    ctx = ParseContext()
    return name, list(parsers.load(name).parse(lines, ctx)), ctx


def corpus_file(name: str) -> Path:
    path = CORPUS / "linux" / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    return path


@pytest.mark.parametrize("path", corpus_params("linux"))
def test_every_corpus_file_parses_cleanly(path: Path) -> None:
    name, rows, ctx = parse_file(path)
    tool = path.stem.split("-")[2]
    assert name == EXPECTED_FORMAT[tool]
    assert rows
    assert ctx.notes.skipped == 0, ctx.notes.first_skipped
    assert not ctx.notes.unknown_states
    for row in rows:
        assert row.source == name
        assert row.local_port is not None and 0 < row.local_port <= 65535
        assert row.state is not State.UNKNOWN
        assert row.proto is Proto.UDP or row.state is not State.NONE


def test_netstat_lnp_has_sshd_on_22_for_both_families() -> None:
    _, rows, _ = parse_file(corpus_file("ubuntu-18.04-netstat-lnp.txt"))
    sshd = {(r.proto, r.family, r.local_address) for r in rows if r.local_port == 22}
    assert sshd == {(Proto.TCP, Family.IPV4, "0.0.0.0"), (Proto.TCP, Family.IPV6, "::")}
    assert {(r.pid, r.process, r.state) for r in rows if r.local_port == 22} == {(1127, "sshd", State.LISTEN)}
    assert len(rows) == 6  # the raw6 row and the UNIX section are not TCP/UDP sockets
    dhcp = next(r for r in rows if r.local_port == 68)
    assert (dhcp.proto, dhcp.state, dhcp.pid, dhcp.process) == (Proto.UDP, State.NONE, 867, "systemd-network")


def test_lsof_whole_system_listing_keeps_only_sockets_once_per_process() -> None:
    _, rows, ctx = parse_file(corpus_file("ubuntu-18.04-lsof.txt"))
    listeners = {
        (r.family, r.pid, r.process, r.user) for r in rows if r.local_port == 22 and r.state is State.LISTEN
    }
    assert listeners == {(Family.IPV4, 1127, "sshd", "root"), (Family.IPV6, 1127, "sshd", "root")}
    # containerd's listener appears on nine thread (TID) rows: one socket, one process, one row
    assert [r.pid for r in rows if r.local_port == 42351] == [1112]
    # one SSH connection held by the privileged and the unprivileged sshd: one row each
    session = {(r.pid, r.user) for r in rows if r.remote_port == 65159}
    assert session == {(16944, "root"), (17058, "kbrazil")}
    assert len(rows) == 8
    assert ctx.notes.messages  # COMMAND is cut at 9 characters (`systemd-r`): said so


def test_netstat_names_are_resolved_through_the_service_table() -> None:
    _, rows, _ = parse_file(corpus_file("ubuntu-18.04-netstat-names.txt"))
    by_remote = {r.remote_address: r for r in rows}
    ssh = by_remote["192.168.71.1"]
    assert (ssh.local_address, ssh.local_port, ssh.remote_port) == ("kbrazil-ubuntu", 22, 65159)
    github = by_remote["lb-192-30-253-113"]
    assert (github.local_port, github.remote_port, github.state) == (55656, 443, State.ESTABLISHED)


def test_netstat_aeep_reads_user_inode_and_program_with_a_space() -> None:
    _, rows, _ = parse_file(corpus_file("ubuntu-18.04-netstat-aeep.txt"))
    session = next(r for r in rows if r.local_port == 22 and r.remote_port == 33098)
    assert (session.pid, session.process, session.user) == (2322, "sshd: kbrazil", "root")
    client = next(r for r in rows if r.local_port == 33098)
    assert (client.pid, client.process, client.user, client.remote_port) == (2321, "ssh", "kbrazil", 22)
    resolver = [r for r in rows if r.local_port == 53]
    assert {(r.proto, r.user, r.pid, r.local_address) for r in resolver} == {
        (Proto.TCP, "systemd-resolve", 893, "localhost"),
        (Proto.UDP, "systemd-resolve", 893, "localhost"),
    }
    assert next(r for r in rows if r.local_port == 68).user == "systemd-network"
