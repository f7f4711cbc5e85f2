"""What a Linux cgroup path says about a process: the systemd service it belongs to, or the container.

The same path reaches portcheck two ways: `ss -e` prints it after `cgroup:` (a paste), and
/proc/PID/cgroup holds it on the machine itself (`0::/system.slice/nginx.service`). Pure functions of
the path, so both read it alike.

A path is text that others choose (anyone with a delegated cgroup subtree names its directories), so
these answers are labels for people, never a reason to act on a process.
"""

from __future__ import annotations

import re

from portcheck.core.owners import ContainerRef

_UNIT_SUFFIXES = (".service", ".scope", ".slice", ".socket", ".mount", ".swap", ".target")
_CONTAINER_ID = re.compile(
    r"(?:(?P<scope>docker|libpod|cri-containerd|crio|containerd)-(?P<scoped>[0-9a-f]{64})\.scope)"
    r"|^/(?P<parent>docker|lxc\.payload|kubepods(?:/[^/]+){1,2}|libpod_parent/libpod)/(?P<id>[0-9a-f]{64})$"
)
"""A container's id as runtimes name their cgroups: `docker-<id>.scope` (systemd driver), `/docker/<id>`
(cgroupfs driver), `cri-containerd-<id>.scope` (Kubernetes), `libpod-<id>.scope` (Podman)."""
_RUNTIMES = {
    "docker": "docker",
    "libpod": "podman",
    "libpod_parent/libpod": "podman",
    "lxc.payload": "lxc",
}
"""Which runtime made a cgroup, by the name it gives it; anything else (cri-containerd, crio, containerd,
kubepods) is a Kubernetes pod's container, named by the cluster (crictl), not by a local runtime."""
KUBERNETES = "kubernetes"
_USER_MANAGER = re.compile(r"/user@(\d+)\.service/")
MAX_PATH = 4096
"""PATH_MAX: a longer "path" is not one the kernel printed."""


def service_unit(path: str) -> str | None:
    """The systemd service whose cgroup holds the process: the innermost unit of the path, if it is a
    `.service` (`/system.slice/nginx.service` -> `nginx.service`; `/system.slice/foo.service/payload`,
    a delegated subgroup, -> `foo.service`). A scope (a login session, a container started by a
    runtime), a slice or the root is no service: None."""
    if len(path) > MAX_PATH or not path.startswith("/"):
        return None
    for part in reversed(path.split("/")):
        if part.endswith(_UNIT_SUFFIXES):
            return part if part.endswith(".service") and part != ".service" else None
    return None


def container_id(path: str) -> str | None:
    """The 64-hex id of the container whose cgroup holds the process, as the runtime named that
    cgroup; None for any other path. The id, not the name: only the runtime on that machine (`docker
    ps --filter id=ID`) can name it."""
    found = container_ref(path)
    return found.id if found is not None else None


def container_ref(path: str) -> ContainerRef | None:
    """The container whose cgroup holds the process: which runtime made the cgroup, and the id."""
    if len(path) > MAX_PATH:
        return None
    found = _CONTAINER_ID.search(path)
    if found is None:
        return None
    kind = found.group("scope") or found.group("parent")
    runtime = _RUNTIMES.get(kind, KUBERNETES)
    return ContainerRef(runtime, found.group("scoped") or found.group("id"))


def user_manager(path: str) -> int | None:
    """The uid whose systemd user manager (`user@1000.service`) runs the unit of this path, or None for
    the system manager: a user unit is stopped with `systemctl --user`, as that user."""
    found = _USER_MANAGER.search(path) if len(path) <= MAX_PATH else None
    return int(found.group(1)) if found else None


def process_cgroup(text: str) -> tuple[str | None, str | None, ContainerRef | None]:
    """(path, service, container) from /proc/PID/cgroup, whose lines are `HIERARCHY:CONTROLLERS:PATH`,
    one per cgroup v1 hierarchy plus `0::PATH` for v2 (the path returned is the one the service came
    from). The unit is read from the v2 line, else from
    `name=systemd` (the hierarchy systemd keeps on v1), else any; the container from the first line
    that names one (a runtime may give a container its own cgroup in some hierarchies only)."""
    paths: list[tuple[int, str]] = []
    for line in text.splitlines()[:MAX_LINES]:
        parts = line.split(":", 2)
        if len(parts) != 3 or not parts[2].startswith("/"):
            continue
        rank = 0 if parts[0] == "0" and not parts[1] else 1 if parts[1] == "name=systemd" else 2
        paths.append((rank, parts[2]))
    paths.sort(key=lambda ranked: ranked[0])
    container = next((c for c in map(container_ref, (p for _, p in paths)) if c is not None), None)
    for _, path in paths:
        service = service_unit(path)
        if service is not None:
            return path, service, container
    return (paths[0][1] if paths else None), None, container


MAX_LINES = 64
"""Lines of /proc/PID/cgroup read: one per mounted hierarchy (a dozen at most)."""
