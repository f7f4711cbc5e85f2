"""Hints that save a helpdesk call: what a surprising row means and how to see more.

They are computed from the final rows (after every filter), so a hint is only given about what the
person is looking at. Each is one line for stderr; the CLI prints them, --quiet and --no-hints silence them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from portcheck.core.model import Socket, State

SUDO_HINT = "run with --sudo to see processes owned by other users"
WINDOWS_ELEVATION_HINT = (
    "--sudo cannot elevate on Windows: run portcheck from an elevated prompt (Run as administrator) "
    "so that netstat -b can name each socket's executable"
)
OWN_SOCKETS_HINT = "lsof without root shows only your own processes' sockets; " + SUDO_HINT
HIDDEN_OWNERS_HINT = (
    "some sockets here show no process (without root, other users' processes are hidden), so --pid and "
    "--process cannot match them; "
)
FILTERED_OUT_HINT = HIDDEN_OWNERS_HINT + SUDO_HINT
"""Said when --pid or --process dropped such sockets: an empty answer would otherwise look like
"that process holds nothing"."""
TIME_WAIT_HINT = (
    "TIME_WAIT rows are closed connections the kernel keeps for a while: no process owns them "
    "(Windows shows PID 0)"
)
WINDOWS_KERNEL_HINT = (
    "PID 4 is the Windows kernel (System): HTTP.sys (IIS, WinRM, `netsh http` URL reservations) or SMB "
    "holds the port; `netsh http show servicestate` names the HTTP.sys application"
)
KERNEL_OWNED_HINT = (
    "a socket with no process even as root is owned by the kernel (NFS, WireGuard, ...) or by a process "
    "in another network namespace (a container)"
)
NO_OWNERS_HINT = "netstat shows no processes here; sockstat (in the base system) names them"
FORWARDERS = {
    "docker-proxy": "a Docker container (docker ps)",
    "com.docker.backend": "a Docker Desktop container (docker ps)",
    "com.docker.vpnkit": "a Docker Desktop container (docker ps)",
    "vpnkit": "a Docker Desktop container (docker ps)",
    "rootlessport": "a rootless Podman container (podman ps)",
    "wslrelay.exe": "WSL (look inside the WSL distribution)",
    "wslrelay": "WSL (look inside the WSL distribution)",
    "kubectl": "a Kubernetes pod (a `kubectl port-forward` left running)",
}


def _unowned(row: Socket) -> bool:
    """A live socket that shows no process (TIME_WAIT rows never have one, so they prove nothing)."""
    return row.pid is None and row.state is not State.TIME_WAIT


def hints_for(
    rows: Sequence[Socket],
    *,
    privileged: bool,
    user: str | None,
    windows: bool = False,
    own_sockets_only: bool = False,
    shows_owners: bool = True,
    filtered_out: Sequence[Socket] = (),
    local: bool = True,
    explained: Collection[str] = (),
) -> list[str]:
    """`user` is who ran the tools (their sockets are visible without privilege). `filtered_out`: rows
    that --pid or --process removed (every other selection kept them). `local`: the rows are this
    machine's (its /etc/hosts can say what `localhost` is). `explained`: forwarders (lower case) whose
    container, or its absence, the owners' hints name (portcheck.live.enrich)."""
    hints: list[str] = []
    if not shows_owners:
        if rows:
            hints.append(NO_OWNERS_HINT)
    elif own_sockets_only and not privileged:
        hints.append(OWN_SOCKETS_HINT)
    elif not privileged and not windows and any(_unowned(r) and r.user != user for r in filtered_out):
        hints.append(FILTERED_OUT_HINT)
    elif not privileged and not windows and any(_unowned(r) and r.user != user for r in rows):
        hints.append(SUDO_HINT)
    if privileged and shows_owners and any(_unowned(r) for r in rows):
        hints.append(KERNEL_OWNED_HINT)
    if any(r.state is State.TIME_WAIT and not r.pid for r in rows):
        hints.append(TIME_WAIT_HINT)
    if windows and any(r.pid == 4 for r in rows):
        hints.append(WINDOWS_KERNEL_HINT)
    for name in dict.fromkeys(r.process.lower() for r in rows if r.process):
        where = FORWARDERS.get(name) if name not in explained else None
        if where:
            hints.append(f"{name} only forwards this port: the real server runs in {where}")
    hints.extend(shared_port_hints(rows, local=local))
    return hints


def shared_port_hints(rows: Sequence[Socket], *, local: bool) -> list[str]:
    """When processes share a port on different addresses (127.0.0.1 and ::1, 127.0.0.1 and ::), which
    one a connection to each kind of address reaches, and what `localhost` is: "it works with
    127.0.0.1 but not with localhost" is this (FIELD-NOTES: Node 17+ resolves localhost to ::1)."""
    from portcheck.core.exposure import DESTINATIONS, receivers, shared_ports

    groups = shared_ports(rows)
    if not groups:
        return []
    first = _localhost_first() if local else None  # a remote host's own /etc/hosts is not read
    hints = []
    for (proto, port), group in groups.items():
        reaches = "; ".join(
            f"to {where}: {_reached(receivers(group, where), where)}" for where in DESTINATIONS
        )
        localhost = f"is {first} first here ({HOSTS_FILE})" if first else "is ::1 first on most systems"
        hints.append(
            f"{proto} port {port} is shared by processes on different addresses; a connection {reaches}. "
            f"`localhost` {localhost}, and a client that does not try the next address (Node 17+) stops there"
        )
    return hints


def _reached(rows: Sequence[Socket], where: str) -> str:
    """Who gets it; an IPv6 wildcard reached by IPv4 only when it is dual stack, which not every source
    says (the `dual_stack` field)."""
    from portcheck.core.exposure import LOOPBACK_V4, OTHER_V4

    text = _owners(rows)
    if where in (LOOPBACK_V4, OTHER_V4) and any(
        ":" in r.local_address and r.dual_stack is None for r in rows
    ):
        text += " if it accepts IPv4 too (dual stack), else refused"
    return text


def _owners(rows: Sequence[Socket]) -> str:
    if not rows:
        return "refused"
    named = dict.fromkeys(
        f"{r.process or '?'} (PID {r.pid})" if r.pid is not None else "a process not shown" for r in rows
    )
    return " and ".join(named)


HOSTS_FILE = "/etc/hosts"


def _localhost_first() -> str | None:
    """What `localhost` is on this machine, from /etc/hosts (read, never resolved: no name service
    is asked): `::1` when it is listed there too (getaddrinfo's default order puts IPv6 loopback
    first), else its one address; None when the file does not say."""
    try:
        with open(HOSTS_FILE, encoding="utf-8", errors="replace") as hosts:
            lines = hosts.read(1 << 20).splitlines()
    except OSError:
        return None
    found = {
        fields[0]
        for fields in (line.partition("#")[0].split() for line in lines)
        if "localhost" in fields[1:]
    }
    if "::1" in found:
        return "::1"
    return min(found) if found else None
