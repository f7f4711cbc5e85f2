"""`portcheck diff` and `portcheck.diff`: listeners that appeared or disappeared between two looks
(saved, pasted or live), matched as portcheck.core.changes matches them: by protocol, address, port
and process name, never by PID.

Only listeners are compared (TCP LISTEN, UDP bound without a peer): connections come and go by the
second. A fleet's output is compared host by host; one machine's output compared with a fleet's is
compared with every host of it (a known-good server as the baseline of its peers).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from portcheck.api.snapshots import Snapshot, read_snapshot
from portcheck.core.changes import Changes, compare
from portcheck.core.errors import UsageError
from portcheck.core.model import Socket, is_listening
from portcheck.live.runner import DEFAULT_TIMEOUT


@dataclass
class HostChanges:
    host: str | None
    """None for one machine's output."""
    changes: Changes


def listeners(rows: Sequence[Socket]) -> list[Socket]:
    return [r for r in rows if is_listening(r)]


def compare_snapshots(old: Snapshot, new: Snapshot) -> list[HostChanges]:
    """Changes per host, hosts in the order the inputs name them (old first)."""
    if not old.fleet and not new.fleet:
        return [HostChanges(None, compare(listeners(old.by_host[None]), listeners(new.by_host[None])))]
    hosts = list(dict.fromkeys(h for h in (*old.by_host, *new.by_host) if h is not None))
    result = []
    for host in hosts:
        before = old.by_host.get(host if old.fleet else None, [])
        after = new.by_host.get(host if new.fleet else None, [])
        result.append(HostChanges(host, compare(listeners(before), listeners(after))))
    return result


def live_snapshot(timeout: float = DEFAULT_TIMEOUT) -> Snapshot:
    """Every listener on this machine now."""
    from portcheck.api.sockets import query

    return Snapshot("now", {None: query(timeout=timeout)}, kind="live")


def _side(data: str | bytes | Sequence[Socket] | None, label: str, timeout: float) -> Snapshot:
    if data is None:
        return live_snapshot(timeout)
    if isinstance(data, str):
        from portcheck.core.decode import text_bytes

        data = text_bytes(data)
    if isinstance(data, bytes):
        return read_snapshot(data, label)
    return Snapshot(label, {None: list(data)}, kind="rows")


def diff(
    old: str | bytes | Sequence[Socket],
    new: str | bytes | Sequence[Socket] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> Changes:
    """Listeners added and removed from `old` to `new` (None: this machine now). Each side is a list
    of Socket, or the text of saved portcheck output (`--json`, `--format ndjson|csv`) or of a native
    tool (as `parse` reads it). Fleet output (records with `host`) is for the CLI's per-host diff:
    UsageError here."""
    before, after = _side(old, "old", timeout), _side(new, "new", timeout)
    if before.fleet or after.fleet:
        raise UsageError("diff() compares one machine; output with hosts is compared by `portcheck diff`")
    (only,) = compare_snapshots(before, after)
    return only.changes
