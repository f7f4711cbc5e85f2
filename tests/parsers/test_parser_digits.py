"""Digits that str.isdigit() accepts but int() does not (superscripts) in a port or PID column make a
line unreadable, never an internal error."""

from __future__ import annotations

import pytest

from portcheck import parsers
from portcheck.core.parsing import ParseContext

LINES = {
    "ss": [
        "tcp LISTEN 0 128 0.0.0.0:² 0.0.0.0:*",
        'tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("a",pid=²,fd=3))',
    ],
    "netstat-linux": ["tcp 0 0 0.0.0.0:² 0.0.0.0:* LISTEN", "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN ²/sshd"],
    "netstat-windows": ["  TCP 0.0.0.0:² 0.0.0.0:0 LISTENING 4", "  TCP 0.0.0.0:22 0.0.0.0:0 LISTENING ²"],
    "lsof": ["x 1 root 3u IPv4 1 0t0 TCP *:² (LISTEN)", "x ² root 3u IPv4 1 0t0 TCP *:22 (LISTEN)"],
    "netstat-bsd": [
        "tcp4 0 0 *.² *.* LISTEN",
        "tcp4 0 0 *.22 *.* LISTEN 131072 131072 ² 0 0x0080 0x00000106",
        "tcp4 0 0 *.22 *.* LISTEN 131072 131072 sshd:² 0 00100 00000006",
    ],
    "sockstat": ["root x 1 3 tcp4 *:² *:*", "root x ² 3 tcp4 *:22 *:*"],
}


@pytest.mark.parametrize("name", sorted(LINES))
@pytest.mark.parametrize("ports", [None, frozenset({22})])
def test_superscript_digits_do_not_crash(name: str, ports: frozenset[int] | None) -> None:
    for line in LINES[name]:
        for row in parsers.load(name).parse([line], ParseContext(ports)):
            assert row.local_port is None or isinstance(row.local_port, int)
            assert row.pid is None or isinstance(row.pid, int)
