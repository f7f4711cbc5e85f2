"""`portcheck --host` for real: several sshd instances on loopback (tests/helpers/sshd.py), the system
ssh client, and a child process holding sockets that every host (this same machine) must report with
its pid and name. Hosts that refuse, hang, reject the key, or need a person (passphrase, password,
unknown host key: answered through a pty with pexpect) sit beside the good ones.

Non-interactive runs start portcheck in a new session, so it has no terminal whatever runs the tests
(BatchMode, as in cron); interactive runs give it a pty of its own.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.live import Holder, own_name, socket_holder
from tests.helpers.sshd import (
    PASSPHRASE,
    PASSWORD,
    Lab,
    fleet,
    free_port,
    interactive,
    portcheck_ssh_left,
    sshd_available,
)

pytestmark = pytest.mark.skipif(sshd_available() is not None, reason=str(sshd_available()))


@pytest.fixture(scope="module")
def holder() -> Iterator[Holder]:
    with socket_holder(own_name("pc-fleet")) as held:
        yield held


def by_host(rows: list[dict[str, object]]) -> dict[str, list[dict[str, object]]]:
    grouped: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        assert next(iter(row)) == "host"
        grouped.setdefault(str(row["host"]), []).append({k: v for k, v in row.items() if k != "host"})
    return grouped


def comparable(rows: list[dict[str, object]]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k != "source"}, sort_keys=True) for r in rows)


def test_every_host_reports_the_holders_sockets(lab: Lab, holder: Holder) -> None:
    direct = f"{lab.user}@127.0.0.1:{lab.servers[2].port}"  # no alias: user, host and port as typed
    result = fleet(lab, *holder.port_args, "--host", "srv0", "--host", "srv1", "--host", direct, "--json")
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    grouped = by_host(rows)
    assert list(grouped) == ["srv0", "srv1", direct]  # the order the hosts were named
    for host_rows in grouped.values():
        assert comparable(holder.strangers_left_out(host_rows)) == comparable(holder.expected())
        assert {r["source"] for r in host_rows} == {"ss"}
    assert "3 hosts: 3 answered (3 matched)" in result.stderr


def test_listing_and_a_range_reach_the_remote_shell_intact(lab: Lab, holder: Holder) -> None:
    """No PORT lists listeners; a range becomes ss's `( sport >= :A and sport <= :B )`, whose spaces and
    parentheses must survive the remote shell (shlex.quote)."""
    listing = fleet(lab, "--host", "srv0", "--json")
    assert listing.code == 0, listing.stderr
    mine = [r for r in listing.json() if r["pid"] == holder.pid]  # type: ignore[union-attr]
    assert {(r["proto"], r["local_port"], r["state"]) for r in mine} == {
        ("tcp", holder.ports["tcp4"], "LISTEN"),
        ("tcp", holder.ports["tcp6"], "LISTEN"),
        ("udp", holder.ports["udp4"], "NONE"),
        ("udp", holder.ports["udp6"], "NONE"),
    }
    port = holder.ports["tcp4"]
    ranged = fleet(lab, f"{port - 1}-{port + 1}", "--tcp", "--listening", "--host", "srv1", "--json")
    assert ranged.code == 0, ranged.stderr
    assert [(r["local_port"], r["pid"], r["process"]) for r in ranged.json()] == [  # type: ignore[union-attr]
        (port, holder.pid, holder.name)
    ]


def test_dead_slow_and_refusing_hosts_fail_alone(lab: Lab, holder: Holder) -> None:
    port = str(holder.ports["tcp4"])
    hosts = ["refused", "hang", "srv0", "wrongkey"]
    result = fleet(lab, port, "-l", "--json", *(a for h in hosts for a in ("--host", h)), "--timeout", "1")
    assert result.code == 0, result.stderr
    assert [r["host"] for r in result.json()] == ["srv0"]  # type: ignore[union-attr]
    summary = result.stderr.strip().splitlines()[-1]
    assert summary == (
        "portcheck: 4 hosts: 1 answered (1 matched), 3 failed: connection refused (refused); "
        "timed out (hang); authentication failed (wrongkey)"
    )
    assert "portcheck: hang: timed out: Connection timed out during banner exchange" in result.stderr
    assert "wrongkey: authentication failed: " in result.stderr and "Permission denied" in result.stderr


@pytest.mark.parametrize(
    ("hosts", "code", "summary"),
    [
        (["srv0", "srv1"], 1, "2 hosts: 2 answered (0 matched)"),
        (["srv0", "refused"], 3, "2 hosts: 1 answered (0 matched), 1 failed: connection refused (refused)"),
        (["refused"], 3, "1 host: 0 answered (0 matched), 1 failed: connection refused (refused)"),
    ],
)
def test_exit_code_when_nothing_matches(lab: Lab, hosts: list[str], code: int, summary: str) -> None:
    result = fleet(lab, str(free_port()), *(a for h in hosts for a in ("--host", h)))
    assert result.code == code, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1] == f"portcheck: {summary}"


def test_time_wait_only_is_free_on_a_host_and_no_bind_test_runs_there(lab: Lab) -> None:
    """The fleet summary follows the one rule (TIME_WAIT rows alone: free); the bind test is local
    only: a socket no tool lists stays unseen over --host (the local query would find it)."""
    from tests.helpers.cli import reserved_port
    from tests.live.test_verdict import time_wait_only

    with time_wait_only(reuse=True) as port:
        waiting = fleet(lab, str(port), "--host", "srv0")
    assert waiting.code == 1, waiting.stderr
    assert "TIME_WAIT" in waiting.stdout
    assert waiting.stderr.strip().splitlines()[-1] == "portcheck: 1 host: 1 answered (0 matched)"
    with reserved_port() as hidden:
        remote = fleet(lab, str(hidden), "--host", "srv0")
    assert remote.code == 1 and "binding" not in remote.stderr


def test_hosts_file_and_stdin(lab: Lab, holder: Holder, tmp_path: Path) -> None:
    listing = tmp_path / "hosts.txt"
    listing.write_text("# web tier\nsrv0\n\n   srv1   # the second\nsrv0\n#srv2\n")
    port = str(holder.ports["udp4"])
    from_file = fleet(lab, port, "--hosts", str(listing), "--host", "srv2", "--json")
    assert from_file.code == 0, from_file.stderr
    assert [r["host"] for r in from_file.json()] == ["srv2", "srv0", "srv1"]  # type: ignore[union-attr]
    from_stdin = fleet(lab, port, "--hosts", "-", "--json", stdin="srv3\n# nothing else\n")
    assert [r["host"] for r in from_stdin.json()] == ["srv3"]  # type: ignore[union-attr]
    empty = tmp_path / "empty.txt"
    empty.write_text("# nobody\n\n")
    assert fleet(lab, port, "--hosts", str(empty)).code == 2


def test_every_format_starts_with_host(lab: Lab, holder: Holder) -> None:
    args = [str(holder.ports["tcp6"]), "--host", "srv0", "--host", "srv1"]
    table = fleet(lab, *args)
    assert table.code == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["HOST", "PROTO"]
    assert [line.split()[:3] for line in lines[2:]] == [
        ["srv0", "tcp", f"[::1]:{holder.ports['tcp6']}"],
        ["srv1", "tcp", f"[::1]:{holder.ports['tcp6']}"],
    ]
    ndjson = [json.loads(line) for line in fleet(lab, *args, "--format", "ndjson").stdout.splitlines()]
    assert [(next(iter(r)), r["host"], r["pid"]) for r in ndjson] == [
        ("host", "srv0", holder.pid),
        ("host", "srv1", holder.pid),
    ]
    picked = fleet(lab, *args, "--format", "csv", "--fields", "host,local_port,process").stdout
    assert picked.splitlines() == [
        "host,local_port,process",
        f"srv0,{holder.ports['tcp6']},{holder.name}",
        f"srv1,{holder.ports['tcp6']},{holder.name}",
    ]


@pytest.mark.parametrize("parallel", [1, 2])
def test_parallel_bounds_the_logins_and_each_host_logs_in_once(lab: Lab, parallel: int) -> None:
    """Each relay (a ProxyCommand) counts the logins in progress at once; one relay per host also
    shows that every later command of a host reused the master's connection."""
    lab.reset_relay_counts()
    relays = ["relay0", "relay1", "relay2"]
    result = fleet(lab, "22", *(a for h in relays for a in ("--host", h)), "--parallel", str(parallel))
    assert result.code in (0, 1), result.stderr
    assert f"{len(relays)} answered" in result.stderr
    counts = lab.relay_counts()
    assert len(counts) == len(relays)
    assert max(counts) <= parallel


def test_without_a_terminal_prompting_hosts_fail_at_once(lab: Lab) -> None:
    lab.new_known_hosts()
    result = fleet(lab, "22", "--host", "pass0", "--host", "newkey", "--host", "srv0")
    assert result.code == 3, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "portcheck: 3 hosts: 1 answered (0 matched), 2 failed: authentication failed (pass0); "
        "host key not known (newkey)"
    )


def test_passphrases_are_asked_one_host_at_a_time(lab: Lab, holder: Holder) -> None:
    import pexpect

    port = str(holder.ports["tcp4"])
    child = interactive(lab, port, "--listening", "--host", "pass0", "--host", "srv0", "--host", "pass1")
    asked = []
    for _ in range(2):
        child.expect(r"(pass\d): Enter passphrase for key '[^']*': ")
        asked.append(child.match.group(1))
        assert "passphrase" not in child.before  # one question at a time
        child.sendline(PASSPHRASE)
    child.expect(pexpect.EOF)
    child.close()
    output = child.before
    assert sorted(asked) == ["pass0", "pass1"]
    assert child.exitstatus == 0, output
    hosts = [line.split()[0] for line in output.splitlines() if holder.name in line]
    assert hosts == ["pass0", "srv0", "pass1"]
    assert PASSPHRASE not in output


def test_a_wrong_passphrase_is_asked_again(lab: Lab) -> None:
    import pexpect

    child = interactive(lab, "22", "--host", "pass0")
    child.expect("Enter passphrase for key")
    child.sendline("not it")
    child.expect("Enter passphrase for key")
    child.sendline(PASSPHRASE)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1, child.before  # answered: 22 is free
    assert "1 host: 1 answered (0 matched)" in child.before


@pytest.mark.parametrize("answer", ["yes", "no"])
def test_unknown_host_key_is_shown_and_asked(lab: Lab, holder: Holder, answer: str) -> None:
    import pexpect

    lab.new_known_hosts()
    child = interactive(lab, str(holder.ports["tcp4"]), "--listening", "--host", "newkey")
    child.expect(r"newkey: ED25519 key fingerprint is SHA256:")
    child.expect(r"newkey: Are you sure you want to continue connecting \(yes/no")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    if answer == "yes":
        assert child.exitstatus == 0, child.before
        assert holder.name in child.before
        assert "127.0.0.1" in (lab.root / "known_hosts.new").read_text()  # ssh itself recorded it
    else:
        assert child.exitstatus == 3, child.before
        assert "host key not known (newkey)" in child.before


def test_password_prompt(lab: Lab, holder: Holder) -> None:
    import pexpect

    if lab.password_user is None:
        pytest.skip("no throw-away user for the password sshd (needs root and useradd)")
    child = interactive(lab, str(holder.ports["tcp4"]), "--listening", "--host", "password", "--json")
    child.expect(r"password: [^\r\n]*'s password: ")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    text = child.before
    rows = json.loads(text[text.index("[") : text.rindex("]") + 1])
    # Logged in as an ordinary user: the socket is there, other users' processes are not named.
    assert [(r["host"], r["local_port"], r["state"]) for r in rows] == [
        ("password", holder.ports["tcp4"], "LISTEN")
    ]
    assert PASSWORD not in text


def test_no_ssh_master_or_control_socket_outlives_the_query(lab: Lab) -> None:
    # A short TMPDIR, so portcheck keeps its control directory there rather than in /tmp.
    temp = Path(tempfile.mkdtemp(prefix="portcheck-fleet-test-"))
    try:
        result = fleet(lab, "22", "--host", "srv0", "--host", "srv1", env={"TMPDIR": str(temp)})
        assert result.code == 1, result.stderr
        assert list(temp.iterdir()) == []
    finally:
        temp.rmdir()
    assert portcheck_ssh_left(lab) == []


@pytest.mark.parametrize(
    "args",
    [
        ["--host", "-oProxyCommand=touch /tmp/pwned"],
        ["--host", "srv0;id"],
        ["--host", "srv0:99999"],
        ["--host", "srv0", "--parallel", "0"],
        ["--host", "srv0", "--sudo"],
        ["--hosts", "/nonexistent/hosts"],
    ],
)
def test_bad_host_options_are_usage_errors(lab: Lab, args: list[str]) -> None:
    result = fleet(lab, "22", *args)
    assert result.code == 2, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not Path("/tmp/pwned").exists()
