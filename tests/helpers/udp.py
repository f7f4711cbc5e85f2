"""UDP ports for tests, taken below the kernel's ephemeral range.

The live tests bind their TCP listeners to port 0, so the kernel picks each from the ephemeral range;
a test asks `portcheck PORT`, which lists UDP sockets on that number too. A UDP socket another test
(on the other xdist worker) bound to port 0 comes from the same range and, now and then, has the same
number: the query then shows a stranger's row. UDP sockets the tests make are bound below the range
instead, so the two never meet."""

from __future__ import annotations

import inspect
import socket


def bind_udp(sock: socket.socket, host: str) -> None:
    """Bind `sock` to `host` on a random free port below the ephemeral range (port 0 where no
    /proc says which range that is)."""
    import random

    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as file:
            low = int(file.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 0
    if low > 2048:
        for _ in range(200):
            try:
                sock.bind((host, random.randrange(max(1024, low - 8192), low)))
                return
            except OSError:
                continue
    sock.bind((host, 0))


BIND_UDP_SOURCE = "import socket\n" + inspect.getsource(bind_udp)
"""The same function, for the Python children the live tests start (put before their code)."""
