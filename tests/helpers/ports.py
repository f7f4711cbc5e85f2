"""Ports for tests, taken below the kernel's ephemeral range.

The live tests bind many sockets to port 0, so the kernel picks each from the ephemeral range, and so
does every connect() that binds a client. A test then asks `portcheck PORT`, which lists every socket
on that number, TCP and UDP: a socket another test (on the other xdist worker) got from the same range,
now and then with the same number, shows up as a stranger's row. So the sockets the tests make on
purpose take numbers below the range, where the kernel never picks: UDP sockets in the lower half of the
8,192 ports below it, the ports a test wants free (`free_port`) in the upper half, so the two never meet
either. Where /proc does not say the range (not Linux), port 0 as before."""

from __future__ import annotations

import contextlib
import inspect
import os
import socket

_SPAN = 4096


def _ephemeral_low() -> int:
    """The first port of the kernel's ephemeral range; 0 where /proc does not say (pasted into the
    children with bind_udp)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as file:
            return int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def bind_udp(sock: socket.socket, host: str) -> None:
    """Bind `sock` to `host` on a random free port in the lower half below the ephemeral range."""
    import random

    low = _ephemeral_low()
    if low > 2048 + 2 * 4096:
        for _ in range(200):
            try:
                sock.bind((host, random.randrange(low - 2 * 4096, low - 4096)))
                return
            except OSError:
                continue
    sock.bind((host, 0))


BIND_UDP_SOURCE = "import socket\n" + inspect.getsource(_ephemeral_low) + inspect.getsource(bind_udp)
"""The same function, for the Python children the live tests start (put before their code)."""


_HANDED_OUT: set[int] = set()
"""The ports free_port() gave in this process: a caller binds its port later (an sshd lab starts six
daemons, each on its own), so none is given twice."""


def free_port() -> int:
    """A port free a moment ago for TCP and UDP on every address (then closed again), in the upper half
    below the ephemeral range, in this xdist worker's own slice of it (the other worker's callers may
    not have bound theirs yet), and never one it gave before: for a listener that must bind it itself,
    or a port a test asks about and expects no socket on. Bound without SO_REUSEADDR, so a port with
    TIME_WAIT rows is not taken."""
    import random

    low = _ephemeral_low()
    if low > 2048 + 2 * _SPAN:
        start, size = _worker_slice(low - _SPAN, _SPAN)
        for _ in range(400):
            port = random.randrange(start, start + size)
            if port not in _HANDED_OUT and _free_everywhere(port):
                _HANDED_OUT.add(port)
                return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _worker_slice(start: int, span: int) -> tuple[int, int]:
    """(first port, size) of this pytest-xdist worker's part of [start, start + span)."""
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1), 1)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    size = span // count
    return start + (index % count) * size, size


def _free_everywhere(port: int) -> bool:
    probes: list[socket.socket] = []
    try:
        for family, host in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                try:
                    probe = socket.socket(family, kind)
                except OSError:
                    continue  # no IPv6 here
                probes.append(probe)
                if family == socket.AF_INET6:
                    probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                probe.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        for probe in probes:
            with contextlib.suppress(OSError):
                probe.close()
