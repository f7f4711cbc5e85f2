"""What the Windows formats (netstat, PowerShell) share: port 0 as "no peer", and the record built
from a local and a remote endpoint as the tool printed them."""

from __future__ import annotations

from portcheck.core.addresses import family_of, local_address, remote_endpoint
from portcheck.core.model import Proto, Socket, State, make_socket

NO_PEER_PORTS = frozenset({"0", "*", ""})
"""A listener's peer is `0.0.0.0:0`, `[::]:0` or, with names, `HOST:0`: port 0 is never a real peer."""

WILDCARD_PEER = ("*", "*")
"""What to hand `ParseContext.state` as the peer of a row whose peer port is in NO_PEER_PORTS."""


def endpoint_row(
    proto: Proto,
    local: tuple[str, int | None],
    peer: tuple[str, str],
    state: State,
    pid: int | None,
    process: str | None,
    source: str,
    service: str | None = None,
) -> Socket:
    """A record from `local` (host, port) and `peer` (host, port text) as printed."""
    host, port = local
    peer_host, peer_port = peer
    family = family_of(host) or family_of(peer_host)
    if peer_port in NO_PEER_PORTS:
        remote_address, remote_port = None, None
    else:
        remote_address, remote_port = remote_endpoint(peer_host, peer_port, proto)
    return make_socket(
        (proto, family, local_address(host, family), port, remote_address, remote_port, state, pid, process,
         None, source, None, None, None, service, None)
    )  # fmt: skip
