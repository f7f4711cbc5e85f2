"""Facts about Docker on Linux that issue 16's `container` field relies on, checked against a real dockerd
(tests/helpers/docker_lab.py): they test Docker and the kernel, not portcheck. Nothing here connects to a
container: listing is enough (and docker-proxy would forward a connection to the bridge address).

- A published port is held on the host by docker-proxy, a child of dockerd, whose argv names ports and
  addresses but never the container, and whose cgroup is not the container's: the container is found by
  port (`docker ps --filter publish=PORT`).
- A host-network container's process holds its port itself, under its own name; its cgroup path
  (/proc/PID/cgroup, and ss -e `cgroup:`) ends in the full container id: the container is found by id
  (`docker ps --filter id=ID`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.helpers.docker_lab import (
    DockerLab,
    cgroup_paths,
    docker_lab as start_lab,
    listening_inodes,
    reap_stale_labs,
    shim_socket,
)

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Docker on Linux")

ROOT = Path(__file__).resolve().parents[2]
# The shapes a container's cgroup path takes: cgroupfs driver `/docker/<id>` (also below a parent such as
# /kubepods/...), systemd driver `/system.slice/docker-<id>.scope`.
CONTAINER_CGROUP = re.compile(r"/docker/([0-9a-f]{64})$|/docker-([0-9a-f]{64})\.scope$")


def ss_rows(port: int) -> list[str]:
    done = subprocess.run(
        ["ss", "-Htlnpe", "sport", "=", f":{port}"], capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.splitlines()


def container_id_in(path: str) -> str | None:
    found = CONTAINER_CGROUP.search(path)
    return (found.group(1) or found.group(2)) if found else None


def start_time(pid: int) -> int | None:
    """When PID started (tells it from a later process with the same PID); None once it has exited (a
    zombie that init has not reaped yet holds nothing any more)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] == b"Z" else int(fields[19])


def test_docker_proxy_holds_the_published_port(docker_lab: DockerLab) -> None:
    web = docker_lab.web
    assert web.proxy_pid is not None and docker_lab.dockerd is not None
    [row] = ss_rows(web.host_port)
    assert f" 127.0.0.1:{web.host_port} " in row
    assert f'users:(("docker-proxy",pid={web.proxy_pid},' in row
    stat = Path(f"/proc/{web.proxy_pid}/stat").read_bytes().rsplit(b")", 1)[1].split()
    assert int(stat[1]) == docker_lab.dockerd.pid  # orphaned when dockerd dies (moby#7856)
    argv = Path(f"/proc/{web.proxy_pid}/cmdline").read_bytes().decode().split("\0")
    assert argv[argv.index("-host-port") + 1] == str(web.host_port)
    assert argv[argv.index("-container-port") + 1] == str(web.container_port)
    assert not any(web.name in arg or web.id[:12] in arg for arg in argv)


def test_docker_proxy_is_not_in_the_container_cgroup(docker_lab: DockerLab) -> None:
    web = docker_lab.web
    assert web.proxy_pid is not None
    proxy_paths = cgroup_paths(web.proxy_pid).values()
    assert not any(web.id in path for path in proxy_paths)


def test_host_network_process_listens_under_its_own_name(docker_lab: DockerLab) -> None:
    hostnet = docker_lab.hostnet
    [row] = ss_rows(hostnet.host_port)
    assert f" 127.0.0.1:{hostnet.host_port} " in row
    assert f'users:(("httpd",pid={hostnet.pid},' in row
    assert Path(f"/proc/{hostnet.pid}/comm").read_text() == "httpd\n"


@pytest.mark.parametrize("name", ["pc-web", "pc-hostnet"])
def test_container_process_cgroup_ends_in_the_container_id(docker_lab: DockerLab, name: str) -> None:
    container = docker_lab.containers[name]
    paths = cgroup_paths(container.pid)
    assert paths
    for controllers, path in paths.items():
        assert container_id_in(path) == container.id, f"{controllers}:{path}"


def test_ss_shows_the_container_cgroup_of_a_host_network_socket(docker_lab: DockerLab) -> None:
    hostnet = docker_lab.hostnet
    if "" not in hostnet.cgroup:
        pytest.skip("no cgroup v2 hierarchy here: ss -e prints cgroup: from it")
    [row] = ss_rows(hostnet.host_port)
    assert f" cgroup:{hostnet.cgroup['']} " in row
    assert container_id_in(hostnet.cgroup[""]) == hostnet.id


def test_docker_ps_filter_publish_names_the_container(docker_lab: DockerLab) -> None:
    web, hostnet = docker_lab.web, docker_lab.hostnet
    fields = "{{.Names}}\t{{.ID}}\t{{.Image}}"
    found = docker_lab.cli("ps", "--no-trunc", "--filter", f"publish={web.host_port}", "--format", fields)
    assert found.stdout.splitlines() == [f"{web.name}\t{web.id}\t{web.image}"]
    # A host-network container publishes nothing: its port is not found this way.
    host = docker_lab.cli("ps", "--filter", f"publish={hostnet.host_port}", "--format", fields)
    assert host.stdout == ""


def test_docker_ps_filter_id_names_the_container_of_a_cgroup(docker_lab: DockerLab) -> None:
    hostnet = docker_lab.hostnet
    cid = container_id_in(hostnet.cgroup_path)
    assert cid is not None
    found = docker_lab.cli("ps", "--filter", f"id={cid}", "--format", "{{.Names}}")
    assert found.stdout.splitlines() == [hostnet.name]


def test_docker_ps_json_lines(docker_lab: DockerLab) -> None:
    web, hostnet = docker_lab.web, docker_lab.hostnet
    lines = docker_lab.cli("ps", "--no-trunc", "--format", "{{json .}}").stdout.splitlines()
    by_name = {entry["Names"]: entry for entry in map(json.loads, lines)}
    assert by_name[web.name]["ID"] == web.id
    assert by_name[web.name]["Image"] == web.image
    assert by_name[web.name]["Ports"] == f"127.0.0.1:{web.host_port}->{web.container_port}/tcp"
    assert by_name[web.name]["Networks"] == "bridge"
    assert by_name[hostnet.name]["ID"] == hostnet.id
    assert by_name[hostnet.name]["Ports"] == ""
    assert by_name[hostnet.name]["Networks"] == "host"


# --- the lab itself: nothing outlives it --------------------------------------------------------------


def traces(root: Path, bridge: str, container_id: str, processes: dict[int, int | None]) -> list[str]:
    """What is left of a lab: its directory, mounts, bridge, processes (by PID and start time, or naming
    the lab directory), container cgroups, the container's shim socket."""
    left = []
    if root.exists():
        left.append(f"directory {root}")
    mountinfo = Path("/proc/self/mountinfo").read_text()
    if str(root) in mountinfo or container_id in mountinfo:
        left.append("mounts")
    if Path(f"/sys/class/net/{bridge}").exists():
        left.append(f"bridge {bridge}")
    left += [f"process {pid}" for pid, started in processes.items() if start_time(pid) == started]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(root).encode() in (entry / "cmdline").read_bytes():
                    left.append(f"process {entry.name} naming {root}")
            except OSError:
                continue
    left += [str(d) for d in Path("/sys/fs/cgroup").glob(f"*/docker/{container_id}")]
    left += [str(d) for d in Path("/sys/fs/cgroup").glob(f"docker/{container_id}")]
    if shim_socket(root, container_id).exists():
        left.append(f"shim socket {shim_socket(root, container_id)}")
    return left


def test_lab_is_torn_down_when_the_test_fails(docker_lab: DockerLab) -> None:
    """A second lab beside the session's, left by an exception: every part of it goes."""
    with pytest.raises(ZeroDivisionError), start_lab(standard_containers=False) as second:
        web = second.start_published("pc-doomed")
        assert second.dockerd is not None and web.proxy_pid is not None
        processes = {pid: start_time(pid) for pid in (second.dockerd.pid, web.pid, web.proxy_pid)}
        assert listening_inodes(web.host_port)
        assert traces(second.root, second.bridge, web.id, processes)  # the check sees a running lab
        1 / 0  # noqa: B018
    assert traces(second.root, second.bridge, web.id, processes) == []
    assert not listening_inodes(web.host_port)


KILLED_RUN = textwrap.dedent(
    """
    import json, sys, time
    from tests.helpers.docker_lab import docker_lab
    with docker_lab(standard_containers=False) as lab:
        web = lab.start_published("pc-orphan")
        pids = [lab.dockerd.pid, web.pid, web.proxy_pid]
        print(json.dumps({"root": str(lab.root), "bridge": lab.bridge, "id": web.id, "port": web.host_port,
                          "pids": pids}), flush=True)
        time.sleep(600)
    """
)


def test_a_killed_run_leaves_a_lab_that_the_next_one_reaps(docker_lab: DockerLab) -> None:
    """SIGKILL gives a test run no chance to tear down: dockerd, the proxy and the container keep
    running until the next lab starts (reap_stale_labs)."""
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    try:
        assert run.stdout is not None
        lab = json.loads(run.stdout.readline())
    finally:
        run.send_signal(signal.SIGKILL)
        run.wait()
    root = Path(lab["root"])
    processes = {pid: start_time(pid) for pid in lab["pids"]}
    assert all(processes.values())  # still running after their test run died
    assert listening_inodes(lab["port"])
    assert root in reap_stale_labs()
    assert traces(root, lab["bridge"], lab["id"], processes) == []
    assert not listening_inodes(lab["port"])
