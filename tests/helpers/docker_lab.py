"""A private Docker daemon for the tests that need real containers (issue 16: `container` on the
docker-proxy row and on a host-network process row, `kill --stop-container`).

What `docker_lab()` starts, all of it as root and none of it shared with a system Docker:
  dockerd      with its data root, exec root, pid file, config file and API socket in a temporary
               directory /tmp/pcdocker-PID-XXXX (short: containerd's socket path must stay under 108
               bytes); it starts its own containerd there. No iptables rules, no IP forwarding or
               masquerading: the lab changes no host setting.
  a bridge     of its own (pcdPIDnN, a free 172.31.X.0/24, IPv6 off), so the host's docker0, if any, is
               never touched. Nothing is ever sent to the containers' bridge addresses: listing is enough.
  an image     portcheck-lab/busybox:static, made with `docker import` from a tar of /bin/busybox
               (statically linked: Debian's busybox-static) and its applet links. No registry is needed.
  containers   `start_published`: busybox httpd inside the container, published with
               `-p 127.0.0.1:HOSTPORT:CPORT`, so a docker-proxy process (dockerd's child) holds HOSTPORT on
               the host; `start_host_network`: busybox httpd on the host network (`--network host`) on
               127.0.0.1:HOSTPORT, so the host's ss shows `httpd` itself. `docker_lab()` starts one of each
               (`lab.web`, `lab.hostnet`).

Every container is described by a `Container`: name, full id, image, host port, the PIDs of its main
process and of its docker-proxy, and the cgroup paths of its main process as /proc/PID/cgroup shows them.

Tear-down (also when a test fails, and for a lab whose test run was killed: the next lab reaps it):
containers removed, dockerd stopped (SIGTERM, SIGKILL after 30 s), every process that outlived it killed
(containerd and shims naming the lab directory, processes in the lab containers' cgroups, the recorded
docker-proxy PIDs), mounts under the lab directory detached, the bridge deleted, the sockets of killed
shims and the cgroup and /run directories that dockerd and containerd create at fixed places removed
(the directories only when the lab created them), and the lab directory deleted. A process that outlived
a graceful stop is an error (raised after the clean-up).

Docker runs here as Debian's docker.io (dockerd 20.10 with cgroupfs on cgroup v1+v2 hybrid: a container
process's cgroup is /docker/<id>; with the systemd cgroup driver it would be
/system.slice/docker-<id>.scope). The docker CLI is the one on PATH, as portcheck would find it;
`lab.env` (DOCKER_HOST, DOCKER_CONFIG) points it at the lab.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from tests.helpers.locks import machine_lock
from tests.helpers.ports import free_port as _free_port

IMAGE = "portcheck-lab/busybox:static"
WEB = "pc-web"
HOSTNET = "pc-hostnet"
ROOT_PREFIX = "pcdocker-"
TOOLS = ("dockerd", "containerd", "runc", "containerd-shim-runc-v2", "docker-proxy", "docker", "ip")
SBIN = ("/usr/sbin", "/sbin", "/usr/local/sbin")
# Created by dockerd and containerd at fixed places whatever --exec-root says (plugin sockets, shim
# sockets); removed again only when the lab made them and they are empty.
SHIM_SOCKETS = Path("/run/containerd/s")
FIXED_DIRS = tuple(map(Path, ("/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd")))
TIMEOUT = 30.0
_bridge_count = iter(range(1, 100))
Process = tuple[int, Optional[int]]
"""(PID, start time or None when any process with that PID will do)."""


class DockerLabUnavailable(Exception):
    """dockerd is missing or cannot run on this machine (the tests skip, or fail in CI)."""


def find_tool(name: str) -> str | None:
    """PATH first, then the sbin directories a non-root PATH may lack (dockerd, docker-proxy live there)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def is_static_elf(path: Path) -> bool:
    """An ELF executable without a PT_INTERP header needs no dynamic loader, so it runs in an image
    that holds nothing else."""
    try:
        with open(path, "rb") as binary:
            head = binary.read(64)
            if len(head) < 64 or head[:4] != b"\x7fELF":
                return False
            order = "<" if head[5] == 1 else ">"
            if head[4] == 2:  # ELFCLASS64
                (table,) = struct.unpack_from(order + "Q", head, 32)
                size, count = struct.unpack_from(order + "HH", head, 54)
            else:
                (table,) = struct.unpack_from(order + "I", head, 28)
                size, count = struct.unpack_from(order + "HH", head, 42)
            binary.seek(table)
            headers = binary.read(size * count)
    except OSError:
        return False
    pt_interp = 3
    return len(headers) == size * count and all(
        struct.unpack_from(order + "I", headers, i * size)[0] != pt_interp for i in range(count)
    )


def static_busybox() -> Path | None:
    found = find_tool("busybox")
    if found is None:
        return None
    path = Path(found).resolve()
    return path if is_static_elf(path) else None


def docker_lab_unavailable() -> str | None:
    """Why no lab can start here (checked before trying), or None."""
    if not sys.platform.startswith("linux"):
        return "the Docker lab runs on Linux"
    if os.geteuid() != 0:
        return "the Docker lab needs root (dockerd)"
    missing = [tool for tool in TOOLS if find_tool(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (.ci/run installs Debian's docker.io)"
    if static_busybox() is None:
        return "no statically linked busybox for the lab image (.ci/run installs busybox-static)"
    return None


# --- /proc ------------------------------------------------------------------------------------------


def _pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent PID, start time in clock ticks): the start time tells a PID from a later reuse of it."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), int(fields[19])


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return [arg.decode(errors="replace") for arg in cmdline.read().split(b"\0")[:-1]]
    except OSError:
        return []


def cgroup_paths(pid: int) -> dict[str, str]:
    """/proc/PID/cgroup as {controllers: path}; the cgroup v2 (unified) line has the key ''."""
    paths = {}
    with open(f"/proc/{pid}/cgroup") as cgroup:
        for line in cgroup:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            paths[controllers] = path
    return paths


def listening_inodes(port: int) -> set[int]:
    """Inodes of TCP sockets listening on PORT in this network namespace (/proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as rows:
            next(rows)
            for row in rows:
                cells = row.split()
                if cells[3] == "0A" and int(cells[1].rsplit(":", 1)[1], 16) == port:
                    found.add(int(cells[9]))
    return found


def socket_inodes(pid: int) -> set[int]:
    found = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    found.add(int(target[8:-1]))
    return found


def _mount_points_under(root: Path) -> list[str]:
    """Mount points at or below ROOT, deepest first (mountinfo escapes blanks as octal)."""
    prefix = str(root)
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"), reverse=True)


def _cgroup_roots() -> list[Path]:
    roots = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            fields = line.split()
            fstype = fields[fields.index("-") + 1]
            if fstype in ("cgroup", "cgroup2"):
                roots.append(Path(fields[4]))
    return roots


# --- the lab ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Container:
    name: str
    id: str
    """Full 64-hex id, as cgroup paths carry it."""
    image: str
    host_port: int
    """The port it holds on the host's 127.0.0.1: published (through docker-proxy) or its own."""
    container_port: int | None
    """The port inside the container for a published one; None on the host network."""
    network: str
    """"bridge" or "host"."""
    pid: int
    """Main process as the host sees it (`docker inspect` .State.Pid)."""
    proxy_pid: int | None
    """The docker-proxy that holds host_port (a child of dockerd); None on the host network."""
    cgroup: dict[str, str]
    """/proc/PID/cgroup of the main process: {controllers: path}, '' for the cgroup v2 line."""

    @property
    def cgroup_path(self) -> str:
        """The unified (v2) path when the host has one, which is what ss -e prints as cgroup:."""
        return self.cgroup.get("") or self.cgroup.get("name=systemd") or next(iter(self.cgroup.values()))


@dataclass
class DockerLab:
    root: Path
    bridge: str
    subnet: str
    dockerd: subprocess.Popen[bytes] | None = None
    docker: str = "docker"
    containers: dict[str, Container] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds: dockerd (start to API ready), image (import), containers, stop (whole tear-down)."""
    server_version: str = ""
    client_version: str = ""
    storage_driver: str = ""
    cgroup_driver: str = ""
    cgroup_version: str = ""
    absent_before: list[str] = field(default_factory=list)
    proxies: list[tuple[int, int]] = field(default_factory=list)
    """(PID, start time) of every docker-proxy seen, to kill any that outlives dockerd."""

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def env(self) -> dict[str, str]:
        """What points a docker CLI (portcheck's too) at this lab's daemon."""
        return {"DOCKER_HOST": f"unix://{self.socket}", "DOCKER_CONFIG": str(self.root / "client")}

    @property
    def web(self) -> Container:
        return self.containers[WEB]

    @property
    def hostnet(self) -> Container:
        return self.containers[HOSTNET]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """The docker CLI against the lab's daemon."""
        done = subprocess.run(
            [self.docker, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            env={**os.environ, **self.env},
            timeout=TIMEOUT * 2,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done

    def start_published(self, name: str, container_port: int = 80) -> Container:
        """httpd in the container's own network, published on 127.0.0.1:FREE (held by docker-proxy)."""

        def attempt(port: int) -> Container | None:
            publish = f"127.0.0.1:{port}:{container_port}"
            httpd = ("httpd", "-f", "-p", str(container_port))
            started = self.cli("run", "-d", "--name", name, "-p", publish, IMAGE, *httpd, check=False)
            if started.returncode != 0:
                self.cli("rm", "-f", name, check=False)
                if "address already in use" in started.stderr:
                    return None
                raise RuntimeError(f"docker run {name}: {started.stderr.strip()}")
            proxy = self._wait_proxy(port)
            return self._describe(name, port, container_port, "bridge", proxy)

        return self._on_a_free_port(attempt)

    def start_host_network(self, name: str) -> Container:
        """httpd on the host network, on 127.0.0.1:FREE: the host's ss shows it under its own name."""

        def attempt(port: int) -> Container | None:
            httpd = ("httpd", "-f", "-p", f"127.0.0.1:{port}")
            self.cli("run", "-d", "--name", name, "--network", "host", IMAGE, *httpd)
            pid = self._main_pid(name)
            deadline = time.monotonic() + TIMEOUT
            while not socket_inodes(pid) & listening_inodes(port):
                if time.monotonic() > deadline or not _alive(pid):
                    self.cli("rm", "-f", name, check=False)
                    return None  # most likely the port was taken meanwhile; httpd exited
                time.sleep(0.02)
            return self._describe(name, port, None, "host", None)

        return self._on_a_free_port(attempt)

    def remove(self, name: str) -> None:
        self.cli("rm", "-f", name)
        self.containers.pop(name, None)

    # -- internals --

    def _on_a_free_port(self, attempt: Callable[[int], Container | None]) -> Container:
        for _ in range(5):
            container = attempt(_free_port())
            if container is not None:
                return container
        raise RuntimeError("no free port could be published after 5 tries")

    def _main_pid(self, name: str) -> int:
        return int(self.cli("inspect", "--format", "{{.State.Pid}}", name).stdout)

    def _wait_proxy(self, port: int) -> int:
        """The docker-proxy child of dockerd whose argv names PORT, once it listens there."""
        assert self.dockerd is not None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            found = _proxy_listening(self.dockerd.pid, port)
            if found is not None:
                self.proxies.append(found)
                self._save_state()
                return found[0]
            time.sleep(0.02)
        raise RuntimeError(f"no docker-proxy listens on 127.0.0.1:{port}")

    def _describe(
        self, name: str, port: int, container_port: int | None, network: str, proxy: int | None
    ) -> Container:
        described = self.cli("inspect", "--format", "{{.Id}} {{.State.Pid}} {{.Config.Image}}", name)
        fields = described.stdout.split()
        container = Container(
            name=name,
            id=fields[0],
            image=fields[2],
            host_port=port,
            container_port=container_port,
            network=network,
            pid=int(fields[1]),
            proxy_pid=proxy,
            cgroup=cgroup_paths(int(fields[1])),
        )
        self.containers[name] = container
        self._save_state()
        return container

    def _save_state(self) -> None:
        """What a later lab needs to clean up after this one if this test run is killed."""
        state = {
            "bridge": self.bridge,
            "containers": [c.id for c in self.containers.values()],
            "proxies": self.proxies,
            "absent_before": self.absent_before,
        }
        (self.root / "state.json").write_text(json.dumps(state))


def _proxy_listening(dockerd: int, port: int) -> tuple[int, int] | None:
    """(PID, start time) of the docker-proxy that DOCKERD started for PORT, once it listens."""
    for pid in _pids():
        stat = _stat(pid)
        argv = _cmdline(pid)
        if stat is None or stat[0] != dockerd or "-host-port" not in argv[:-1]:
            continue
        if argv[argv.index("-host-port") + 1] == str(port) and socket_inodes(pid) & listening_inodes(port):
            return pid, stat[1]
    return None


def _write_rootfs(busybox: Path, tar_path: Path) -> None:
    """/bin/busybox and a symlink per applet, as an uncompressed tar for `docker import`."""
    listed = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout
    with tarfile.open(tar_path, mode="w") as tar:
        for directory in ("bin", "tmp", "proc", "sys", "dev", "etc"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        tar.add(str(busybox), "bin/busybox")
        for applet in sorted(set(listed.split()) - {"busybox"}):
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type, link.linkname = tarfile.SYMTYPE, "busybox"
            tar.addfile(link)


def _free_subnet() -> str:
    """A 172.31.X.0/24 that no route of this host covers (each lab's bridge claims one)."""
    routes = []
    with open("/proc/net/route") as table:
        next(table)
        for row in table:
            cells = row.split()
            routes.append((int(cells[1], 16), int(cells[7], 16)))  # little-endian destination, mask
    mask24 = struct.unpack("<I", bytes([255, 255, 255, 0]))[0]
    for third in range(200, 255):
        network = struct.unpack("<I", bytes([172, 31, third, 0]))[0]
        if not any((network & mask & mask24) == (dest & mask & mask24) for dest, mask in routes if mask):
            return f"172.31.{third}"
    raise DockerLabUnavailable("no free 172.31.X.0/24 for the lab's bridge")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=TIMEOUT)


def _make_bridge(name: str, subnet: str) -> None:
    _ip("link", "add", name, "type", "bridge")
    with contextlib.suppress(OSError):  # no IPv6 chatter (router solicitations, DAD) on the lab's link
        Path(f"/proc/sys/net/ipv6/conf/{name}/disable_ipv6").write_text("1\n")
    _ip("addr", "add", f"{subnet}.1/24", "dev", name)
    _ip("link", "set", name, "up")


def _ping(sock: Path) -> bool:
    """Docker's /_ping over the API socket: the daemon is ready when it answers 200."""
    try:
        with socket.socket(socket.AF_UNIX) as client:
            client.settimeout(2)
            client.connect(str(sock))
            client.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            return client.recv(64).startswith((b"HTTP/1.0 200", b"HTTP/1.1 200"))
    except OSError:
        return False


def _start_dockerd(lab: DockerLab) -> None:
    """dockerd with everything in the lab directory. dockerd before 25 writes a trust key to
    /etc/docker/key.json unless told otherwise; later ones reject that option, so it goes away on retry."""
    dockerd, proxy = find_tool("dockerd"), find_tool("docker-proxy")
    assert dockerd is not None and proxy is not None
    config = lab.root / "daemon.json"
    for options in ({"deprecated-key-path": str(lab.root / "key.json")}, {}):
        config.write_text(json.dumps(options))
        log = lab.root / "dockerd.log"
        argv = [
            dockerd, "--config-file", str(config),
            "--data-root", str(lab.root / "data"), "--exec-root", str(lab.root / "exec"),
            "--pidfile", str(lab.root / "dockerd.pid"), "-H", f"unix://{lab.socket}",
            "--bridge", lab.bridge, "--iptables=false", "--ip6tables=false",
            "--ip-forward=false", "--ip-masq=false",
            "--userland-proxy=true", "--userland-proxy-path", proxy, "--log-level", "warn",
        ]  # fmt: skip
        with open(log, "wb") as errors:
            lab.dockerd = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errors, stderr=errors)
        deadline = time.monotonic() + TIMEOUT
        while lab.dockerd.poll() is None and time.monotonic() < deadline and not _ping(lab.socket):
            time.sleep(0.02)
        if lab.dockerd.poll() is None and _ping(lab.socket):
            return
        text = log.read_text(errors="replace")
        if lab.dockerd.poll() is not None and "deprecated-key-path" in text and options:
            continue
        tail = "\n".join(text.splitlines()[-5:])
        raise DockerLabUnavailable(f"dockerd did not start (exit {lab.dockerd.poll()}): {tail}")


def _describe_daemon(lab: DockerLab) -> None:
    found = find_tool("docker")
    assert found is not None
    lab.docker = found
    lab.client_version = lab.cli("version", "--format", "{{.Client.Version}}").stdout.strip()
    info = lab.cli(
        "info", "--format", "{{.ServerVersion}}|{{.Driver}}|{{.CgroupDriver}}|{{.CgroupVersion}}"
    ).stdout.strip()
    lab.server_version, lab.storage_driver, lab.cgroup_driver, lab.cgroup_version = info.split("|")


def _fixed_dirs() -> list[Path]:
    """Directories dockerd and containerd create outside --data-root/--exec-root (children first)."""
    return [*(root / "docker" for root in _cgroup_roots()), *FIXED_DIRS]


@contextlib.contextmanager
def docker_lab(*, standard_containers: bool = True) -> Iterator[DockerLab]:
    """Start a lab (see the module docstring); tear every part of it down on the way out."""
    reason = docker_lab_unavailable()
    if reason is not None:
        raise DockerLabUnavailable(reason)
    reap_stale_labs()
    root = Path(tempfile.mkdtemp(prefix=f"{ROOT_PREFIX}{os.getpid()}-", dir="/tmp"))
    lab = DockerLab(root, f"pcd{os.getpid()}n{next(_bridge_count)}", subnet="")
    lab.absent_before = [str(d) for d in _fixed_dirs() if not d.exists()]
    lab._save_state()
    try:
        with machine_lock("docker-bridges"):  # free until a bridge claims it: one lab at a time looks
            lab.subnet = _free_subnet()
            _make_bridge(lab.bridge, lab.subnet)
        started = time.perf_counter()
        _start_dockerd(lab)
        lab.timings["dockerd"] = time.perf_counter() - started
        _describe_daemon(lab)
        started = time.perf_counter()
        busybox = static_busybox()
        assert busybox is not None
        rootfs = lab.root / "rootfs.tar"
        _write_rootfs(busybox, rootfs)
        lab.cli("import", "--change", 'CMD ["sh"]', str(rootfs), IMAGE)
        lab.timings["image"] = time.perf_counter() - started
        if standard_containers:
            started = time.perf_counter()
            lab.start_published(WEB)
            lab.start_host_network(HOSTNET)
            lab.timings["containers"] = time.perf_counter() - started
        yield lab
    finally:
        started = time.perf_counter()
        try:
            _stop(lab)
        finally:
            lab.timings["stop"] = time.perf_counter() - started


def _stop(lab: DockerLab) -> None:
    graceful = lab.dockerd is not None and lab.dockerd.poll() is None
    try:
        if graceful and lab.containers:
            lab.cli("rm", "-f", *lab.containers, check=False)
    finally:
        if lab.dockerd is not None and lab.dockerd.poll() is None:
            lab.dockerd.terminate()
            try:
                lab.dockerd.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                lab.dockerd.kill()
                lab.dockerd.wait()
                graceful = False
        lab._save_state()
        outlived = clean_up(lab.root)
    if graceful and outlived:
        raise RuntimeError(f"processes outlived the Docker lab's dockerd (now killed): {outlived}")


# --- clean-up (also of a lab whose test run was killed) ---------------------------------------------


def _kill_all(candidates: Iterable[Process]) -> list[str]:
    """SIGKILL each (PID, start time) still alive as the same process, and wait until they are gone;
    their command lines."""
    killed: dict[int, str] = {}
    for pid, started in candidates:
        stat = _stat(pid)
        if pid == os.getpid() or stat is None or (started is not None and stat[1] != started):
            continue
        argv = _cmdline(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
            killed[pid] = f"{pid} {' '.join(argv)[:120]}"
    deadline = time.monotonic() + TIMEOUT
    while any(_alive(pid) for pid in killed) and time.monotonic() < deadline:
        time.sleep(0.02)  # a killed process still holds its mounts, sockets and cgroup
    return list(killed.values())


def _alive(pid: int) -> bool:
    """Running, not a zombie: a zombie holds nothing any more."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return False


def _leftover_processes(root: Path, container_ids: list[str], proxies: list[list[int]]) -> list[Process]:
    marker = str(root).encode()
    found: list[Process] = [(pid, started) for pid, started in proxies]
    for pid in _pids():
        try:
            if marker in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append((pid, None))  # dockerd, containerd, containerd-shim-runc-v2 -address ROOT/...
            elif container_ids:
                cgroup = Path(f"/proc/{pid}/cgroup").read_text()
                if any(cid in cgroup for cid in container_ids):
                    found.append((pid, None))
        except OSError:
            continue
    return found


def _umount(point: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    mnt_detach = 2
    libc.umount2(point.encode(), mnt_detach)


def shim_socket(root: Path, container_id: str) -> Path:
    """containerd (1.6) names a shim's socket sha256(ADDRESS/NAMESPACE/ID) in a fixed directory, whatever
    its own root; a shim killed with SIGKILL leaves it there."""
    address = root / "exec" / "containerd" / "containerd.sock"
    return SHIM_SOCKETS / hashlib.sha256(f"{address}/moby/{container_id}".encode()).hexdigest()


def clean_up(root: Path) -> list[str]:
    """Remove every trace of the lab in ROOT (its state.json says what it made); the processes that
    were still running (killed now)."""
    try:
        state = json.loads((root / "state.json").read_text())
    except (OSError, ValueError):
        state = {}
    ids: list[str] = state.get("containers", [])
    outlived = _kill_all(_leftover_processes(root, ids, state.get("proxies", [])))
    for point in _mount_points_under(root):
        _umount(point)
    if state.get("bridge"):
        subprocess.run(["ip", "link", "del", state["bridge"]], capture_output=True, check=False)
    for cid in ids:
        shim_socket(root, cid).unlink(missing_ok=True)
    for cgroup_root in _cgroup_roots():
        for cid in ids:
            with contextlib.suppress(OSError):
                (cgroup_root / "docker" / cid).rmdir()
    for made in state.get("absent_before", []):
        with contextlib.suppress(OSError):
            Path(made).rmdir()  # only when empty: another lab (or a system Docker since) may use it
    shutil.rmtree(root, ignore_errors=True)
    return outlived


def reap_stale_labs() -> list[Path]:
    """Clean up the labs of test runs that were killed (their PID, in the directory name, is gone)."""
    reaped = []
    for root in Path("/tmp").glob(f"{ROOT_PREFIX}*-*"):
        owner = root.name[len(ROOT_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit() or _alive(int(owner)):
            continue
        clean_up(root)
        reaped.append(root)
    return reaped
