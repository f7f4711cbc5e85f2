"""`docker ps` and `podman ps`: the running containers, for naming a container by the id its cgroup
carries and for finding the one that publishes a port a forwarder (docker-proxy, rootlessport, Docker
Desktop) holds.

The probe asks for four fields, tab-separated, `--no-trunc` for full ids: `{{.ID}}\\t{{.Names}}\\t
{{.Image}}\\t{{.Ports}}` (Docker's and Podman's templates both have them). Where a template cannot be
passed (cmd.exe refuses braces), `--format json` prints one JSON object per line with the same
keys (Docker CLI 23+). `.Names` joins a container's names with commas (legacy links add `other/alias`):
the first is its own. `.Ports` joins published ports with `, `: `127.0.0.1:8080->80/tcp`,
`0.0.0.0:8000-8001->8000-8001/tcp`, `:::8080->80/tcp` or `[::]:8080->80/tcp` (IPv6, by CLI version),
and `80/tcp` for a port exposed but not published (skipped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable

from portcheck.core.owners import Container, Published

MAX_LINE = 65536
MAX_CONTAINERS = 4096
_ID = re.compile(r"[0-9a-f]{12,64}")
_PORTS = re.compile(r"(\d{1,5})(?:-(\d{1,5}))?")


def parse_ports(text: str) -> tuple[Published, ...]:
    """The published ports of a `.Ports` cell."""
    found = []
    for item in text.split(","):
        host, arrow, inside = item.strip().partition("->")
        if not arrow:
            continue  # exposed only: nothing on the host
        proto = inside.rpartition("/")[2].lower() or "tcp"
        address, _, ports = host.rpartition(":")
        numbers = _PORTS.fullmatch(ports)
        if numbers is None:
            continue
        low = int(numbers.group(1))
        high = int(numbers.group(2) or low)
        if not low <= high <= 65535:
            continue
        ip = address.strip("[]") or None
        found.append(Published(ip, low, high, proto))
    return tuple(found)


def _fields(line: str) -> tuple[str, str, str, str] | None:
    if line.startswith("{"):
        try:
            item = json.loads(line)
        except ValueError:
            return None
        if not isinstance(item, dict):
            return None
        values = [item.get(key) for key in ("ID", "Names", "Image", "Ports")]
        cells = [value for value in values if isinstance(value, str)]
    else:
        cells = line.split("\t")
    if len(cells) != 4:
        return None
    return (cells[0], cells[1], cells[2], cells[3])


def read_containers(lines: Iterable[str], runtime: str) -> list[Container]:
    """Every running container the reply lists."""
    found: list[Container] = []
    for raw in lines:
        fields = _fields(raw[:MAX_LINE].strip("\r\n"))
        if fields is None:
            continue
        cid, names, image, ports = (cell.strip() for cell in fields)
        name = names.split(",")[0].strip()
        if not _ID.fullmatch(cid) or not name:
            continue
        found.append(Container(runtime, cid, name, image or None, parse_ports(ports)))
        if len(found) >= MAX_CONTAINERS:
            break
    return found
