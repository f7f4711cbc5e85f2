"""Matching rows across two looks: by socket and process name, never by PID."""

from __future__ import annotations

from portcheck.core.changes import compare
from portcheck.core.model import Family, Proto, Socket, State


def listener(
    port: int, process: str | None = "nginx", pid: int | None = 10, address: str = "0.0.0.0"
) -> Socket:
    return Socket(Proto.TCP, Family.IPV4, address, port, None, None, State.LISTEN, pid, process, "root", "ss")


def test_a_restart_with_a_new_pid_is_no_change() -> None:
    changes = compare([listener(443, pid=10)], [listener(443, pid=99)])
    assert not changes.changed
    assert changes.kept == [listener(443, pid=99)]


def test_new_and_gone_listeners() -> None:
    changes = compare([listener(443), listener(80)], [listener(443), listener(8080, "python3")])
    assert changes.added == [listener(8080, "python3")]
    assert changes.removed == [listener(80)]
    assert changes.changed


def test_another_process_on_the_same_socket_is_a_change() -> None:
    changes = compare([listener(443, "nginx")], [listener(443, "apache2")])
    assert changes.added == [listener(443, "apache2")] and changes.removed == [listener(443, "nginx")]


def test_an_address_is_part_of_the_identity() -> None:
    changes = compare([listener(5432, "postgres", address="127.0.0.1")], [listener(5432, "postgres")])
    assert [r.local_address for r in changes.added] == ["0.0.0.0"]
    assert [r.local_address for r in changes.removed] == ["127.0.0.1"]


def test_rows_count_one_for_one() -> None:
    """Three pre-forked workers on one socket before, two after: one is gone."""
    before = [listener(80, pid=p) for p in (1, 2, 3)]
    after = [listener(80, pid=p) for p in (7, 8)]
    changes = compare(before, after)
    assert (len(changes.added), len(changes.removed), len(changes.kept)) == (0, 1, 2)


def test_a_row_without_a_process_matches_any_name_on_the_same_socket() -> None:
    """A baseline taken as root against a look without root (no owners shown)."""
    changes = compare([listener(22, "sshd")], [listener(22, None, None)])
    assert not changes.changed
    changes = compare([listener(22, None, None)], [listener(23, "telnetd")])
    assert changes.added == [listener(23, "telnetd")] and changes.removed == [listener(22, None, None)]


def test_names_compare_without_case() -> None:
    assert not compare([listener(135, "svchost.exe")], [listener(135, "SVCHOST.EXE")]).changed


def test_watch_marks_use_the_same_matching() -> None:
    from portcheck.commands.watch import mark_changes

    before = [listener(443, pid=10), listener(80)]
    now = [listener(443, pid=11), listener(8080, "python3")]
    assert mark_changes(before, now) == [
        ("-", listener(80)),
        (" ", listener(443, pid=11)),
        ("+", listener(8080, "python3")),
    ]
    assert mark_changes(None, now) == [(" ", listener(443, pid=11)), (" ", listener(8080, "python3"))]
