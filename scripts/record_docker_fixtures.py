#!/usr/bin/env python3
"""Record what Linux and Docker show about containers that hold ports, for issue 16's `container` field.

Run by hand, as root, where tests/helpers/docker_lab.py can start its private dockerd (Debian's docker.io and
busybox-static):

    sudo .venv/bin/python scripts/record_docker_fixtures.py

It starts the lab (a container publishing 127.0.0.1:P1 -> 80 through docker-proxy, and a host-network
container whose httpd listens on 127.0.0.1:P2), runs the commands below and writes:

  tests/fixtures/linux/ss-tlnpe-docker.txt   `ss -tlnpe '( sport = :P1 or sport = :P2 )'`, with the
  tests/fixtures/linux/ss-tlnpe-docker.json  rows expected from the lab's own PIDs (tests/test_fixtures.py)
  tests/fixtures/linux/docker/
    proc-pid-cgroup-container.txt            /proc/PID/cgroup of the published container's httpd
    proc-pid-cgroup-docker-proxy.txt         /proc/PID/cgroup of its docker-proxy (not in the container)
    docker-inspect.json                      `docker inspect` of both, trimmed to the keys listed in TRIM
    docker-ps-*.cli-VERSION.txt              `docker ps` output, rendered by each docker CLI found (the
                                             CLI, not the daemon, formats `docker ps`)
    README.md                                what was recorded, where, with which versions

Nothing is sent to a container: the commands only list.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.docker_lab import DockerLab, docker_lab, docker_lab_unavailable  # noqa: E402

LINUX = ROOT / "tests" / "fixtures" / "linux"
OUT = LINUX / "docker"
# The CLIs to render `docker ps` with: the one on PATH (what portcheck runs) and Debian's.
CLIS = ("docker", "/usr/bin/docker")
TRIM = {
    "": ("Id", "Name", "Path", "Args", "State", "Config", "HostConfig", "NetworkSettings"),
    "State": ("Status", "Running", "Pid", "StartedAt"),
    "Config": ("Image", "Cmd", "ExposedPorts", "Labels"),
    "HostConfig": ("NetworkMode", "PortBindings", "RestartPolicy", "CgroupnsMode"),
    "NetworkSettings": ("Ports", "SandboxKey"),
}


def run(*argv: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True, timeout=60)
    return done.stdout


def trimmed(container: dict[str, object]) -> dict[str, object]:
    kept = {key: container[key] for key in TRIM[""] if key in container}
    for section, keys in TRIM.items():
        value = kept.get(section)
        if section and isinstance(value, dict):
            kept[section] = {key: value[key] for key in keys if key in value}
    return kept


def ss_expected(lab: DockerLab) -> list[dict[str, object]]:
    """The rows from what the lab started: docker-proxy (its comm) and the host-network httpd, as root."""
    holders = [
        (lab.web.host_port, lab.web.proxy_pid, "docker-proxy"),
        (lab.hostnet.host_port, lab.hostnet.pid, "httpd"),
    ]
    return [
        {
            "proto": "tcp", "family": "ipv4", "local_address": "127.0.0.1", "local_port": port,
            "remote_address": None, "remote_port": None, "state": "LISTEN",
            "pid": pid, "process": name, "user": "root", "source": "ss",
        }
        for port, pid, name in sorted(holders)
    ]  # fmt: skip


def record(lab: DockerLab) -> list[str]:
    """Write every file; the lines of the README that say what each is."""
    web, hostnet = lab.web, lab.hostnet
    ports = f"( sport = :{web.host_port} or sport = :{hostnet.host_port} )"
    (LINUX / "ss-tlnpe-docker.txt").write_text(run("ss", "-tlnpe", ports))
    rows = "".join(f"  {json.dumps(row)},\n" for row in ss_expected(lab))
    (LINUX / "ss-tlnpe-docker.json").write_text("[\n" + rows.rstrip(",\n") + "\n]\n")
    (OUT / "proc-pid-cgroup-container.txt").write_text(Path(f"/proc/{web.pid}/cgroup").read_text())
    (OUT / "proc-pid-cgroup-docker-proxy.txt").write_text(Path(f"/proc/{web.proxy_pid}/cgroup").read_text())
    inspected = json.loads(lab.cli("inspect", web.name, hostnet.name).stdout)
    (OUT / "docker-inspect.json").write_text(json.dumps([trimmed(c) for c in inspected], indent=2) + "\n")
    notes = [
        f"- `../ss-tlnpe-docker.txt`: `ss -tlnpe '{ports}'`: {web.name}'s docker-proxy on {web.host_port},"
        f" {hostnet.name}'s httpd on {hostnet.host_port} (its `cgroup:` names the container).",
        f"- `proc-pid-cgroup-container.txt`: /proc/{web.pid}/cgroup, httpd in {web.name} ({web.id}).",
        f"- `proc-pid-cgroup-docker-proxy.txt`: /proc/{web.proxy_pid}/cgroup, {web.name}'s docker-proxy.",
        f"- `docker-inspect.json`: `docker inspect {web.name} {hostnet.name}`, trimmed (TRIM in the script).",
    ]
    env = {**os.environ, **lab.env}
    commands = {
        "docker-ps-json": ["ps", "--format", "{{json .}}"],
        "docker-ps-no-trunc-json": ["ps", "--no-trunc", "--format", "{{json .}}"],
        "docker-ps-filter-publish": ["ps", "--filter", f"publish={web.host_port}"],
    }
    seen = set()
    for cli in CLIS:
        version = run(cli, "version", "--format", "{{.Client.Version}}", env=env).strip()
        if version in seen:
            continue
        seen.add(version)
        for stem, args in commands.items():
            (OUT / f"{stem}.cli-{version}.txt").write_text(run(cli, *args, env=env))
        shown = ", ".join(f"`docker {shlex.join(args)}`" for args in commands.values())
        where = shutil.which(cli)
        notes.append(f"- `docker-ps-*.cli-{version}.txt`: {shown}, docker CLI {version} ({where}).")
    return notes


def main() -> None:
    reason = docker_lab_unavailable()
    if reason is not None:
        raise SystemExit(f"record_docker_fixtures: {reason}")
    OUT.mkdir(parents=True, exist_ok=True)
    with docker_lab() as lab:
        notes = record(lab)
    os_name = run("sh", "-c", ". /etc/os-release && echo $PRETTY_NAME").strip()
    web, hostnet = lab.web, lab.hostnet
    readme = f"""# Recorded Docker outputs (real, not written by hand)

Recorded by `scripts/record_docker_fixtures.py` with the tests' Docker lab
(tests/helpers/docker_lab.py), as root.
Names, ids, ports and PIDs are the lab's: {web.name} publishes 127.0.0.1:PORT -> 80 through docker-proxy,
{hostnet.name} runs httpd on the host network on 127.0.0.1:PORT; the image {web.image} is
busybox imported from a tar.

- Recorded: {time.strftime("%Y-%m-%d")}, {os_name}, kernel {platform.release()}, systemd not running
- dockerd {lab.server_version} (Debian's docker.io), storage driver {lab.storage_driver}
- cgroup driver {lab.cgroup_driver}, cgroup version {lab.cgroup_version} as docker reports it
  (here v1 controllers plus the v2 hierarchy at /sys/fs/cgroup/unified, which ss -e prints as `cgroup:`)

{chr(10).join(notes)}

Not recordable here: the systemd cgroup driver's `/system.slice/docker-<id>.scope` (systemd is not PID 1),
Podman, rootless Docker, `userland-proxy=false` (no process holds the port: NAT rules only).
"""
    (OUT / "README.md").write_text(readme)
    print(f"recorded into {OUT} and {LINUX / 'ss-tlnpe-docker.txt'}; lab timings {lab.timings}")


if __name__ == "__main__":
    main()
