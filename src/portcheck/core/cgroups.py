"""What a Linux cgroup path says about a process: the systemd service it belongs to, or the container.

The same path reaches portcheck two ways: `ss -e` prints it after `cgroup:` (a paste), and
/proc/PID/cgroup holds it on the machine itself (`0::/system.slice/nginx.service`). Pure functions of
the path, so both read it alike.

A path is text that others choose (anyone with a delegated cgroup subtree names its directories), so
these answers are labels for people, never a reason to act on a process.
"""

from __future__ import annotations

import re

_UNIT_SUFFIXES = (".service", ".scope", ".slice", ".socket", ".mount", ".swap", ".target")
_CONTAINER_ID = re.compile(
    r"(?:docker|libpod|cri-containerd|crio|containerd)-([0-9a-f]{64})\.scope"
    r"|^/(?:docker|lxc\.payload|kubepods(?:/[^/]+){1,2}|libpod_parent/libpod)/([0-9a-f]{64})$"
)
"""A container's id as runtimes name their cgroups: `docker-<id>.scope` (systemd driver), `/docker/<id>`
(cgroupfs driver), `cri-containerd-<id>.scope` (Kubernetes), `libpod-<id>.scope` (Podman)."""
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
    if len(path) > MAX_PATH:
        return None
    found = _CONTAINER_ID.search(path)
    if found is None:
        return None
    return found.group(1) or found.group(2)
