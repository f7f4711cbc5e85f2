"""What changed between two sets of sockets, for `portcheck diff` and `--watch`'s marks.

Rows are matched by what a service keeps across restarts: protocol, local address and port, the peer
(none for a listener) and the process NAME, never the PID (a restarted nginx is the same listener).
A row whose process the source could not show (no privilege, another tool) matches a row with any
name on the same socket, so a baseline taken as root and a check taken without root do not report
every listener as gone and back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Optional

from portcheck.core.model import Socket

SocketKey = tuple[str, str, Optional[int], Optional[str], Optional[int], Optional[str]]


def row_key(row: Socket) -> SocketKey:
    """The identity of a row across two looks: (proto, local address, port, peer, process name)."""
    process = row.process.casefold() if row.process else None
    return (row.proto, row.local_address, row.local_port, row.remote_address, row.remote_port, process)


class Changes(NamedTuple):
    added: list[Socket]
    """In the new rows only."""
    removed: list[Socket]
    """In the old rows only."""
    kept: list[Socket]
    """In both (the new side's rows: their PIDs are today's)."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def compare(old: Iterable[Socket], new: Iterable[Socket]) -> Changes:
    """Match rows by `row_key`, each row at most once (two nginx workers on one socket are two rows);
    then a row without a process name against one with a name on the same socket."""
    unmatched_old: dict[SocketKey, list[Socket]] = {}
    for row in old:
        unmatched_old.setdefault(row_key(row), []).append(row)
    kept: list[Socket] = []
    fresh: list[Socket] = []
    for row in new:
        waiting = unmatched_old.get(row_key(row))
        if waiting:
            waiting.pop()
            kept.append(row)
        else:
            fresh.append(row)
    left = [row for rows in unmatched_old.values() for row in rows]
    added, removed = _match_unnamed(fresh, left, kept)
    return Changes(added, removed, kept)


def _socket(key: SocketKey) -> SocketKey:
    return (*key[:5], None)


def _match_unnamed(
    fresh: Sequence[Socket], left: Sequence[Socket], kept: list[Socket]
) -> tuple[list[Socket], list[Socket]]:
    """Second pass: an unnamed row on one side matches a named one on the other, same socket."""
    if not any(r.process is None for r in (*fresh, *left)):
        return list(fresh), list(left)
    pool: dict[SocketKey, list[Socket]] = {}
    for row in left:
        pool.setdefault(_socket(row_key(row)), []).append(row)
    added: list[Socket] = []
    for row in fresh:
        candidates = pool.get(_socket(row_key(row)), [])
        partner = next((c for c in candidates if c.process is None or row.process is None), None)
        if partner is None:
            added.append(row)
            continue
        candidates.remove(partner)
        kept.append(row)
    removed = [row for rows in pool.values() for row in rows]
    return added, removed
