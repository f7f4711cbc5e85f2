"""`portcheck diff`: saved, pasted and live listeners compared, matched by socket and process name.

The live machine is shared with other tests, so live diffs assert what happened to this test's own
listeners; exact outputs and the "unchanged" exit status are tested on saved inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.helpers.cli import listener
from tests.helpers.sshd import Lab, fleet


def record(
    port: int, pid: int, process: str = "nginx", address: str = "0.0.0.0", **extra: object
) -> dict[str, object]:
    fields: dict[str, object] = {
        "proto": "tcp",
        "family": "ipv4",
        "local_address": address,
        "local_port": port,
    }
    fields.update(
        remote_address=None, remote_port=None, state="LISTEN", pid=pid, process=process, user="root"
    )
    return {**fields, "source": "ss", **extra}


def save(path: Path, records: list[dict[str, object]]) -> str:
    path.write_text(json.dumps(records))
    return str(path)


def test_a_restart_is_no_change(tmp_path: Path) -> None:
    old = save(tmp_path / "old.json", [record(443, 100), record(22, 5, "sshd")])
    new = save(tmp_path / "new.json", [record(22, 5, "sshd"), record(443, 2200)])
    result = run_cli("diff", old, new)
    assert (result.code, result.stdout) == (0, "")
    assert result.stderr == "portcheck: no listener appeared or disappeared\n"
    assert run_cli("diff", old, new, "--json").json() == {"added": [], "removed": []}


def test_appeared_and_disappeared(tmp_path: Path) -> None:
    old = save(tmp_path / "old.json", [record(443, 100), record(80, 100)])
    new = save(tmp_path / "new.json", [record(443, 101), record(8080, 7, "python3", "127.0.0.1")])
    result = run_cli("diff", old, new)
    assert result.code == 1
    assert result.stdout.splitlines() == [
        "    PROTO    LOCAL           REMOTE    STATE    PID    PROCESS    USER",
        "--  -------  --------------  --------  -------  -----  ---------  ------",
        "-   tcp      0.0.0.0:80      *         LISTEN   100    nginx      root",
        "+   tcp      127.0.0.1:8080  *         LISTEN   7      python3    root",
    ]
    assert run_cli("diff", old, new, "--json").json() == {
        "added": [record(8080, 7, "python3", "127.0.0.1")],
        "removed": [record(80, 100)],
    }


def test_connections_are_not_compared(tmp_path: Path) -> None:
    connection = record(443, 100, state="ESTABLISHED", remote_address="10.0.0.9", remote_port=50000)
    old = save(tmp_path / "old.json", [record(443, 100), connection])
    new = save(tmp_path / "new.json", [record(443, 100)])
    assert run_cli("diff", old, new).code == 0


def test_saved_json_against_a_paste_and_ndjson_and_csv(tmp_path: Path) -> None:
    ss = tmp_path / "ss.txt"
    ss.write_text('tcp   LISTEN 0   128   127.0.0.1:8000   0.0.0.0:*   users:(("python3",pid=20273,fd=3))\n')
    paste = run_cli("parse", str(ss), "--json")
    saved = tmp_path / "saved.json"
    saved.write_text(paste.stdout)
    assert run_cli("diff", str(saved), str(ss)).code == 0
    for fmt, name in (("ndjson", "saved.ndjson"), ("csv", "saved.csv")):
        other = tmp_path / name
        other.write_text(run_cli("parse", str(ss), "--format", fmt).stdout)
        result = run_cli("diff", str(other), str(ss), "--verbose")
        assert result.code == 0, result.stderr
        assert f"read as {fmt}" in result.stderr and "read as ss" in result.stderr
    assert run_cli("diff", "-", str(saved), stdin=ss.read_bytes()).code == 0


def test_csv_formulas_and_nulls_come_back_as_saved(tmp_path: Path) -> None:
    risky = [record(9000, 1, "=cmd|x")]
    old = save(tmp_path / "old.json", risky)
    csv_file = tmp_path / "old.csv"
    csv_file.write_text("proto,family,local_address,local_port,remote_address,remote_port,state,pid,process,user,source\n"
                        "tcp,ipv4,0.0.0.0,9000,,,LISTEN,1,'=cmd|x,root,ss\n")  # fmt: skip
    assert run_cli("diff", old, str(csv_file)).code == 0


def test_fleet_output_is_compared_host_by_host(tmp_path: Path) -> None:
    old = save(
        tmp_path / "old.json", [{"host": "web1", **record(443, 1)}, {"host": "web2", **record(443, 1)}]
    )
    new = save(tmp_path / "new.json", [{"host": "web1", **record(443, 9)}, {"host": "web2", **record(80, 1)}])
    result = run_cli("diff", old, new, "--json")
    assert result.code == 1
    assert result.json() == {
        "added": [{"host": "web2", **record(80, 1)}],
        "removed": [{"host": "web2", **record(443, 1)}],
    }
    table = run_cli("diff", old, new).stdout.splitlines()
    assert table[0].split() == ["HOST", "PROTO", "LOCAL", "REMOTE", "STATE", "PID", "PROCESS", "USER"]
    assert [line.split()[:3] for line in table[2:]] == [["+", "web2", "tcp"], ["-", "web2", "tcp"]]  # by port


def test_one_machine_as_the_baseline_of_every_host(tmp_path: Path) -> None:
    golden = save(tmp_path / "web1.json", [record(443, 1)])
    fleet_now = save(
        tmp_path / "now.json", [{"host": "web2", **record(443, 5)}, {"host": "web3", **record(22, 5, "sshd")}]
    )
    result = run_cli("diff", golden, fleet_now, "--json")
    assert result.json() == {
        "added": [{"host": "web3", **record(22, 5, "sshd")}],
        "removed": [{"host": "web3", **record(443, 1)}],
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"proto": "sctp"}]', "record 1: proto must be tcp or udp"),
        ('[{"proto": "tcp", "state": "LISTEN", "local_address": "x", "local_port": "80"}]',
         'record 1: local_port must be int or null, not "80"'),
        ('[{"proto": "tcp", "state": "LISTEN", "local_address": "x", "local_port": 99999}]',
         "local_port 99999 is out of range"),
        ('[{"proto": "tcp", "state": "SLEEPING"}]', 'record 1: unknown state "SLEEPING"'),
        (json.dumps(record(80, 1)) + '\n{"x": 1', "line 2: not JSON"),
        ("[1, 2]", "record 1: expected an object"),
        ('{"a": [1, 2}', "not JSON"),
        ("Dear support,\nport 80 is broken\n", "not output of a supported tool"),
        ("", "empty: nothing to compare"),
    ],
)  # fmt: skip
def test_bad_input_is_exit_2_with_where(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    good = save(tmp_path / "good.json", [])
    result = run_cli("diff", str(bad), good)
    assert result.code == 2, result.stderr
    assert result.stderr.startswith(f"portcheck: {bad}:") and message in result.stderr


def test_usage(tmp_path: Path) -> None:
    good = save(tmp_path / "good.json", [])
    assert "no such file" in run_cli("diff", str(tmp_path / "missing.json")).stderr
    assert run_cli("diff", good, good, good).code == 2
    assert "only one input can be read from stdin" in run_cli("diff", "-", "-").stderr
    assert "give one input" in run_cli("diff", good, good, "--host", "web1").stderr


# --- live ----------------------------------------------------------------------------------------------


def test_a_baseline_against_this_machine_now(tmp_path: Path) -> None:
    with listener("pc-diff-gone") as gone:
        baseline = tmp_path / "baseline.json"
        baseline.write_text(run_cli("--listening", "--json").stdout)
    with listener("pc-diff-new") as new:
        result = run_cli("diff", str(baseline), "--json")
    assert result.code == 1
    changes = result.json()
    assert isinstance(changes, dict)
    assert [(r["pid"], r["local_port"]) for r in changes["added"] if r["process"] == "pc-diff-new"] == [
        (new.pid, new.port)
    ]
    assert [(r["pid"], r["local_port"]) for r in changes["removed"] if r["process"] == "pc-diff-gone"] == [
        (gone.pid, gone.port)
    ]


def test_a_fleet_baseline_against_the_hosts_now(tmp_path: Path, lab: Lab) -> None:
    with listener("pc-diff-fleet") as child:
        saved = fleet(lab, "--listening", "--json", "--host", "srv0", "--host", "srv1", "--timeout", "20")
        assert saved.code == 0, saved.stderr
    baseline = tmp_path / "fleet.json"
    baseline.write_text(saved.stdout)
    result = fleet(
        lab,
        "diff",
        str(baseline),
        "--host",
        "srv0",
        "--host",
        "srv1",
        "--host",
        "refused",
        "--json",
        "--timeout",
        "20",
    )
    assert result.code == 1, result.stderr
    changes = result.json()
    assert isinstance(changes, dict)
    gone = [(r["host"], r["pid"]) for r in changes["removed"] if r["process"] == "pc-diff-fleet"]
    assert gone == [("srv0", child.pid), ("srv1", child.pid)]
    assert "refused: connection refused" in result.stderr


def test_quiet_answers_with_the_status_alone(tmp_path: Path) -> None:
    old = save(tmp_path / "old.json", [record(443, 100)])
    new = save(tmp_path / "new.json", [record(80, 100)])
    assert (run_cli("diff", old, new, "-q").code, run_cli("diff", old, new, "-q").stdout) == (1, "")
    assert run_cli("diff", old, old, "-q") == run_cli("diff", old, old, "--quiet")
    assert run_cli("diff", old, old, "-q").code == 0 and run_cli("diff", old, old, "-q").stderr == ""
