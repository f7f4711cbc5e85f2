"""A lock held across processes, for what the labs change on the machine itself rather than in their
own directory: the password database (the ssh lab's throw-away account) and the routing table (the
Docker lab's bridge on a free subnet). The workers of `pytest -n 2` each start their own labs, and
suites run side by side do too: two `useradd`s at once fail on shadow's lock file, and two labs that
look for a free subnet at once pick the same one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def machine_lock(name: str) -> Iterator[None]:
    """Held by one test process at a time on this machine (flock on /tmp/portcheck-tests-NAME.lock,
    released by the kernel if the process dies)."""
    import fcntl

    with open(f"/tmp/portcheck-tests-{name}.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
