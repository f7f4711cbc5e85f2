"""The rules of portcheck.live.enrich that are pure functions of rows and owners: which container a
forwarder's row belongs to, and which hints the owners give (the live tests run them for real)."""

from __future__ import annotations

from portcheck.core.model import NO_EXTRAS, Family, Proto, Socket, State, make_socket
from portcheck.core.owners import Container, ProcessFacts, Published
from portcheck.live.enrich import Owners, explained_forwarders, owner_hints, publisher
from portcheck.output.render import owner_label
from portcheck.platforms import platform_for
from portcheck.platforms.base import OS

LINUX = platform_for(OS.LINUX)


def listener(address: str, port: int, pid: int, process: str, **fields: object) -> Socket:
    family = Family.IPV6 if ":" in address else Family.IPV4
    row = make_socket(
        (Proto.TCP, family, address, port, None, None, State.LISTEN, pid, process, "root", "ss", *NO_EXTRAS)
    )
    return row._replace(**fields)


def owners_with(*containers: Container) -> Owners:
    owners = Owners()
    owners.containers = list(containers)
    owners.listed = {c.runtime for c in containers} or {"docker"}
    return owners


WEB = Container("docker", "a" * 64, "web", "nginx:1.27", (Published("127.0.0.1", 8080, 8080, "tcp"),))
ALL = Container(
    "docker",
    "b" * 64,
    "api",
    "api:2",
    (Published("0.0.0.0", 9000, 9001, "tcp"), Published("::", 9000, 9001, "tcp")),
)


def test_a_forwarder_belongs_to_the_container_publishing_its_address_and_port() -> None:
    owners = owners_with(WEB, ALL)
    assert publisher(listener("127.0.0.1", 8080, 5, "docker-proxy"), "docker", owners) is WEB
    assert publisher(listener("::1", 8080, 6, "docker-proxy"), "docker", owners) is None  # another address
    assert publisher(listener("::", 9001, 7, "docker-proxy"), "docker", owners) is ALL  # a range, IPv6
    assert (
        publisher(listener("0.0.0.0", 9001, 7, "docker-proxy"), "podman", owners) is None
    )  # another runtime
    assert publisher(listener("0.0.0.0", 8080, 8, "docker-proxy"), "docker", owners) is None


def test_hints_for_a_named_and_an_orphaned_forwarder() -> None:
    owners = owners_with(WEB)
    named = listener("127.0.0.1", 8080, 5, "docker-proxy", container="web")
    orphan = listener("127.0.0.1", 8081, 9, "docker-proxy")
    hints = owner_hints([named, orphan], LINUX, owners)
    assert hints[0] == (
        "docker-proxy (PID 5) only forwards port 8080: the server runs in docker container web (nginx:1.27)"
    )
    assert hints[1].startswith(
        "docker-proxy (PID 9) holds port 8081, but no running docker container publishes it"
    )
    assert explained_forwarders([named, orphan], LINUX, owners) == {"docker-proxy"}
    unlisted = Owners()  # docker ps did not answer: unknown, not orphaned
    assert owner_hints([orphan], LINUX, unlisted) == []
    assert explained_forwarders([orphan], LINUX, unlisted) == set()


def test_kubectl_port_forward_and_systemd_resolved() -> None:
    forward = listener(
        "127.0.0.1",
        8080,
        11,
        "kubectl",
        cmdline="/usr/local/bin/kubectl -n shop port-forward svc/web 8080:80",
    )
    resolved = listener("127.0.0.53", 53, 12, "systemd-resolve")
    hints = owner_hints([forward, resolved], LINUX, Owners())
    assert hints[0].startswith(
        "kubectl (PID 11) on port 8080 is a `kubectl port-forward` to svc/web 8080:80, left running"
    )
    assert hints[1].startswith("systemd-resolved listens on 127.0.0.53:53 (its local DNS stub)")
    not_forwarding = listener("127.0.0.1", 8081, 13, "kubectl", cmdline="kubectl proxy --port 8081")
    assert owner_hints([not_forwarding], LINUX, Owners()) == []


def test_the_table_label() -> None:
    row = listener("127.0.0.1", 8080, 5, "docker-proxy", container="web")
    assert owner_label(row, "nginx:1.27") == "docker-proxy → web (nginx:1.27)"
    assert owner_label(row) == "docker-proxy → web"
    assert owner_label(listener("0.0.0.0", 135, 1040, "svchost.exe", service="RpcEptMapper, RpcSs")) == (
        "svchost.exe (RpcEptMapper, RpcSs)"
    )
    assert owner_label(listener("0.0.0.0", 80, 4, "System")) == "System"


def test_a_supervisor_is_the_platforms_reading_of_the_facts() -> None:
    unit = ProcessFacts(1, service="nginx.service", cgroup="/system.slice/nginx.service")
    supervisor = LINUX.supervisor(unit, privileged=True)
    assert supervisor is not None and supervisor.stop is not None
    assert supervisor.stop.argv == ("systemctl", "stop", "nginx.service")
    user_unit = ProcessFacts(
        2, service="dev.service", cgroup="/user.slice/user-1000.slice/user@1000.service/app.slice/dev.service"
    )
    mine = LINUX.supervisor(user_unit, privileged=False)
    theirs = LINUX.supervisor(user_unit, privileged=True)
    assert (
        mine is not None
        and mine.stop is not None
        and mine.stop.argv == ("systemctl", "--user", "stop", "dev.service")
    )
    assert theirs is not None and theirs.stop is not None
    assert theirs.stop.argv == ("systemctl", "--user", "--machine=1000@", "stop", "dev.service")
    windows = platform_for(OS.WINDOWS)
    several = windows.supervisor(ProcessFacts(3, service="CryptSvc, Dnscache"), privileged=True)
    assert several is not None and several.stop is None  # which one holds the port? not stopped blindly
    one = windows.supervisor(ProcessFacts(4, service="W3SVC"), privileged=True)
    assert one is not None and one.stop is not None and one.stop.argv == ("sc.exe", "stop", "W3SVC")
    macos = platform_for(OS.MACOS)
    job = macos.supervisor(ProcessFacts(5, service="com.example.dev"), privileged=False)
    assert (
        job is not None
        and job.stop is not None
        and job.stop.argv == ("launchctl", "remove", "com.example.dev")
    )
    freebsd = platform_for(OS.FREEBSD)
    daemon = freebsd.supervisor(ProcessFacts(6, service="nginx"), privileged=True)
    assert daemon is not None and daemon.stop is not None and daemon.stop.argv == ("service", "nginx", "stop")
    assert (daemon.kind, daemon.advice, daemon.restart_check) == ("rc.d", "service nginx stop", None)
    assert freebsd.supervisor(ProcessFacts(7), privileged=True) is None
