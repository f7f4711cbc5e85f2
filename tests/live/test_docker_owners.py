"""`container` for real (issue 16), against the tests' private dockerd (tests/helpers/docker_lab.py): on
the docker-proxy row of a published port and on the row of a host-network container's own process;
one `docker ps` per answer, and none when no row needs it; an orphaned docker-proxy said as such;
`kill --stop-container` stops the container and frees the port. Nothing is sent to a container."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import Result, run_cli
from tests.helpers.docker_lab import DockerLab, find_tool, listening_inodes, socket_inodes
from tests.helpers.live import socket_holder

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Docker on Linux")

TEMPLATE = "{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.Ports}}"


def logging_docker(directory: Path) -> Path:
    """A `docker` first on PATH that logs its argv, then runs the real CLI (so every call is counted)."""
    real = find_tool("docker")
    assert real is not None
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "docker"
    script.write_text(
        f"#!{sys.executable}\n"
        + textwrap.dedent(
            f"""\
            import json, os, sys
            with open({str(directory / "docker.log")!r}, "a") as log:
                log.write(json.dumps(sys.argv[1:]) + "\\n")
            os.execv({real!r}, [{real!r}, *sys.argv[1:]])
            """
        )
    )
    script.chmod(0o755)
    return directory


def docker_calls(directory: Path) -> list[list[str]]:
    log = directory / "docker.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def ask(lab: DockerLab, *args: str, bin_dir: Path | None = None) -> Result:
    env = dict(lab.env)
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    result = run_cli(*args, env=env)
    assert "Traceback" not in result.stderr
    return result


def by_port(result: Result) -> dict[int, dict[str, object]]:
    """The listeners on 127.0.0.1 by port (the lab's; other tests on this machine may hold the same
    port number on ::1)."""
    assert result.code == 0, result.stderr
    rows = result.json()
    assert isinstance(rows, list)
    return {
        int(r["local_port"]): r for r in rows if r["local_address"] == "127.0.0.1" and r["state"] == "LISTEN"
    }


def test_container_on_the_proxy_row_and_the_host_network_row(docker_lab: DockerLab, tmp_path: Path) -> None:
    web, hostnet = docker_lab.web, docker_lab.hostnet
    bin_dir = logging_docker(tmp_path / "bin")
    rows = by_port(ask(docker_lab, f"{web.host_port},{hostnet.host_port}", "--json", bin_dir=bin_dir))
    proxy, httpd = rows[web.host_port], rows[hostnet.host_port]
    assert (proxy["pid"], proxy["process"], proxy["container"]) == (web.proxy_pid, "docker-proxy", web.name)
    assert f"-host-port {web.host_port}" in str(proxy["cmdline"])
    assert (httpd["pid"], httpd["process"], httpd["container"]) == (hostnet.pid, "httpd", hostnet.name)
    assert httpd["cmdline"] == f"httpd -f -p 127.0.0.1:{hostnet.host_port}"
    assert docker_calls(bin_dir) == [["ps", "--no-trunc", "--format", TEMPLATE]]  # one for both rows


def test_the_table_names_container_and_image(docker_lab: DockerLab) -> None:
    web, hostnet = docker_lab.web, docker_lab.hostnet
    result = ask(docker_lab, f"{web.host_port},{hostnet.host_port}")
    assert result.code == 0, result.stderr
    assert f"docker-proxy → {web.name} ({web.image})" in result.stdout
    assert f"httpd → {hostnet.name} ({hostnet.image})" in result.stdout
    assert (
        f"docker-proxy (PID {web.proxy_pid}) only forwards port {web.host_port}: the server runs in docker "
        f"container {web.name} ({web.image})" in result.stderr
    )
    assert "which ss names by cgroup id only" not in result.stderr  # the paste's note: named here


def test_no_docker_ps_when_no_row_needs_it(docker_lab: DockerLab, tmp_path: Path) -> None:
    bin_dir = logging_docker(tmp_path / "bin")
    with socket_holder("pc-no-docker") as holder:
        rows = by_port(ask(docker_lab, str(holder.ports["tcp4"]), "-l", "--json", bin_dir=bin_dir))
    assert rows[holder.ports["tcp4"]]["container"] is None
    assert docker_calls(bin_dir) == []


def test_a_docker_ps_that_fails_is_said_and_the_rows_stay(docker_lab: DockerLab) -> None:
    web = docker_lab.web
    result = run_cli(str(web.host_port), "--json", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    rows = by_port(result)
    assert rows[web.host_port]["container"] is None and rows[web.host_port]["cmdline"]
    assert "container names unavailable (docker ps: " in result.stderr
    assert "no running docker container publishes it" not in result.stderr  # unknown is not orphaned


@contextmanager
def stray_docker_proxy() -> Iterator[tuple[int, int]]:
    """A real docker-proxy that no container publishes: what is left when dockerd died under its
    proxies (moby#7856). It needs a descriptor 3 to report readiness on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proxy = find_tool("docker-proxy")
    assert proxy is not None
    argv = [proxy, "-proto", "tcp", "-host-ip", "127.0.0.1", "-host-port", str(port)]
    argv += ["-container-ip", "172.31.255.254", "-container-port", "80"]
    child = subprocess.Popen(["sh", "-c", 'exec "$@" 3>/dev/null', "sh", *argv], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket_inodes(child.pid) & listening_inodes(port):
            assert time.monotonic() < deadline and child.poll() is None, "docker-proxy did not listen"
            time.sleep(0.02)
        yield child.pid, port
    finally:
        child.kill()
        child.wait()


def test_an_orphaned_docker_proxy_is_said(docker_lab: DockerLab) -> None:
    with stray_docker_proxy() as (pid, port):
        result = ask(docker_lab, str(port))
    assert result.code == 0, result.stderr
    assert (
        f"docker-proxy (PID {pid}) holds port {port}, but no running docker container publishes it: a proxy "
        "that outlived its container" in result.stderr
    )
    assert "the real server runs in a Docker container" not in result.stderr


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 30
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        status = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[-1].split()[:1]
        if status == [b"Z"]:
            return
        time.sleep(0.05)


def test_kill_stop_container_stops_it_and_frees_the_port(docker_lab: DockerLab) -> None:
    container = docker_lab.start_published("pc-stop")
    try:
        result = ask(docker_lab, "kill", str(container.host_port), "--yes", "--stop-container")
        assert result.code == 0, result.stderr
        assert (
            f"PID {container.proxy_pid} (docker-proxy): ended by `docker stop pc-stop` (docker container "
            "pc-stop)" in result.stdout
        )
        assert f"Port {container.host_port} is free." in result.stdout
        running = docker_lab.cli("ps", "--filter", "name=pc-stop", "--format", "{{.Names}}").stdout
        assert running == ""
        state = docker_lab.cli("inspect", "--format", "{{.State.Status}}", "pc-stop").stdout.strip()
        assert state == "exited"
    finally:
        docker_lab.remove("pc-stop")


def test_kill_names_the_container_before_it_asks(docker_lab: DockerLab) -> None:
    container = docker_lab.start_host_network("pc-kill")
    try:
        result = ask(docker_lab, "kill", str(container.host_port), "--yes", "--grace", "3")
        assert (
            f"PID {container.pid} (httpd) runs in docker container pc-kill, whose restart policy may start "
            f"it again; `portcheck kill {container.host_port} --stop-container` runs `docker stop pc-kill`"
            in result.stderr
        )
        assert f"PID {container.pid} (httpd, user root, container pc-kill)" in result.stdout
        assert result.code == 0, result.stderr  # busybox httpd ends on SIGTERM, and the container with it
        wait_gone(container.pid)
    finally:
        docker_lab.remove("pc-kill")
