#!/usr/bin/env python3
"""Record tests/fixtures/linux/*.txt from real sockets, with the expected rows written from ground truth.

Run by hand, as root, on a Linux machine with ss, netstat (net-tools) and lsof; `busybox` and the
pt_BR, cs_CZ and de_DE locales (`localedef -i pt_BR -f UTF-8 pt_BR.UTF-8`) add more fixtures when present:

    sudo .venv/bin/python scripts/record_linux_fixtures.py

The test suite never runs this; it checks the committed files. What it does:

1. Starts two child processes with names it chooses (argv[0] set at exec, the kernel's comm set with
   prctl(PR_SET_NAME)): a server as root, which forks a worker that shares its TCP listener (one socket,
   two processes) and dup()s that listener (one socket, two descriptors), and a client as `nobody`.
   Between them they hold TCP and UDP, IPv4 and IPv6 (v6-only and dual-stack), listening, unconnected,
   connected UDP and established loopback pairs, all on fixed ports (PORTS below) and loopback/wildcard
   addresses only.
2. Runs each tool (as root, and as nobody via `runuser` where privilege changes what it shows), with
   stdout and stderr merged as a terminal shows them, and keeps only the header/banner lines and the rows
   of those ports (lsof: of those PIDs), so the fixtures do not depend on what else runs on the machine.
3. Writes <name>.json beside each <name>.txt from what the script itself opened (ports, PIDs, names,
   users) and from documented tool behaviour (which name each tool shows, how it cuts it, which owner it
   can see as nobody), never from a parser.

Tool behaviour the expected rows encode:
- ss and lsof show the kernel's comm; net-tools netstat shows argv[0] (its basename), and cuts
  "PID/name" at 19 characters; lsof cuts COMMAND at 9 printed characters (after `\\x20` escaping)
  unless `+c 0`; lsof -F prints the comm in full.
- A socket shared by two processes: ss and lsof list each process, netstat one of them (whichever it
  found; read from its row, as that choice is netstat's own).
- As nobody, only nobody's process can be identified (the child marks itself dumpable after changing
  uid, so its /proc/PID/fd is readable by its owner).
- ss (iproute2 >= 4.17) prints a dual-stack (not v6-only) socket as `*:PORT`; portcheck reads that as
  IPv6 `::`, as lsof and netstat call it. lsof prints no state for UDP (NONE); ss and netstat print
  ESTABLISHED for a connected UDP socket.
- `netstat -e -n` prints the numeric uid; portcheck names uid 0 `root`. ss -e shows `uid:` for non-root.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "linux"
BASE = 47310
PORTS = {
    "tcp4_shared": BASE,  # 0.0.0.0, server + its forked worker, and a dup()ed descriptor
    "tcp6_listen": BASE + 1,  # [::] v6-only
    "tcp4_server": BASE + 2,  # 127.0.0.1 listener; accepts the client's connection
    "tcp4_client": BASE + 3,  # nobody's end of that connection
    "tcp6_server": BASE + 4,  # [::1] listener; accepts the server's own connection
    "tcp6_client": BASE + 5,
    "udp4": BASE + 6,  # 0.0.0.0
    "udp6": BASE + 7,  # [::] v6-only
    "udp4_connected": BASE + 8,  # 127.0.0.1 connected to udp4
    "tcp_dual": BASE + 9,  # nobody's [::] dual-stack listener
    "udp4_nobody": BASE + 10,  # 127.0.0.1
}
SERVER_COMM, SERVER_ARGV0 = "pcfix server", "pcfix: server main"
CLIENT_COMM, CLIENT_ARGV0 = "pcfix-client", "pcfix-client"
NOBODY = "nobody"

# The children: plain standard-library Python, passed with -c so that `nobody` can run it from anywhere.
# CHILD_PRELUDE is what every recorder's children share (scripts/record_fuser_toybox.py has its own roles).
CHILD_PRELUDE = r"""
import ctypes, json, os, signal, socket, sys, threading
role, comm, ports = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(15, comm.encode(), 0, 0, 0)   # PR_SET_NAME: what ss and lsof show
libc.prctl(4, 1, 0, 0, 0)                # PR_SET_DUMPABLE: let our own user read /proc/PID/fd after setuid

def tcp(family, host, port, v6only=True, reuseport=False):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, int(v6only))
    s.bind((host, port))
    return s

def udp(family, host, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    return s
"""
CHILD = (
    CHILD_PRELUDE
    + r"""
keep = []
info = {"pid": os.getpid()}
if role == "server":
    shared = tcp(socket.AF_INET, "0.0.0.0", ports["tcp4_shared"]); shared.listen()
    worker = os.fork()
    if worker == 0:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: go when the server goes
        sys.stdin.close()
        while True:
            signal.pause()
    info["worker"] = worker
    info["dup_fd"] = os.dup(shared.fileno())
    v6 = tcp(socket.AF_INET6, "::", ports["tcp6_listen"]); v6.listen()
    server4 = tcp(socket.AF_INET, "127.0.0.1", ports["tcp4_server"]); server4.listen()
    server6 = tcp(socket.AF_INET6, "::1", ports["tcp6_server"]); server6.listen()
    client6 = tcp(socket.AF_INET6, "::1", ports["tcp6_client"])
    client6.connect(("::1", ports["tcp6_server"]))
    accepted6, _ = server6.accept()
    u4 = udp(socket.AF_INET, "0.0.0.0", ports["udp4"])
    u6 = udp(socket.AF_INET6, "::", ports["udp6"])
    u4c = udp(socket.AF_INET, "127.0.0.1", ports["udp4_connected"])
    u4c.connect(("127.0.0.1", ports["udp4"]))
    keep += [shared, v6, server4, server6, client6, accepted6, u4, u6, u4c]
    threading.Thread(target=threading.Event().wait, daemon=True).start()  # a second task for lsof -K
    print(json.dumps(info), flush=True)
    if sys.stdin.readline().strip() == "accept":
        keep.append(server4.accept()[0])
        print("accepted", flush=True)
else:
    client = tcp(socket.AF_INET, "127.0.0.1", ports["tcp4_client"])
    client.connect(("127.0.0.1", ports["tcp4_server"]))
    dual = tcp(socket.AF_INET6, "::", ports["tcp_dual"], v6only=False); dual.listen()
    keep += [client, dual, udp(socket.AF_INET, "127.0.0.1", ports["udp4_nobody"])]
    print(json.dumps(info), flush=True)
sys.stdin.read()
"""
)


@dataclass(frozen=True)
class Proc:
    pid: int
    comm: str
    argv0: str
    user: str
    uid: int


@dataclass
class Sock:
    proto: str
    family: str
    address: str
    port: int
    peer: tuple[str, int] | None
    state: str  # LISTEN / ESTABLISHED for TCP; NONE or ESTABLISHED (connected) for UDP
    owners: list[Proc]


Rows = list[dict[str, object]]
Expect = Callable[[list[Sock], str, str], Rows]
"""(the sockets, who ran the tool, the text it printed) -> the expected rows. The text is consulted only
for the one choice that is the tool's own: which owner of a shared socket netstat names."""


@dataclass
class Fixture:
    name: str
    argv: list[str]
    expected: Expect
    viewer: str = "root"
    env: dict[str, str] = field(default_factory=dict)
    keep: str = "rows"  # which lines to keep: "rows" (by port), "lsof" (by pid), "lsof-F" (by pid)


def python_for_children() -> str:
    """A Python that `nobody` may execute (a per-user install under /root is not)."""
    for candidate in ("/usr/bin/python3", "/usr/local/bin/python3"):
        if os.access(candidate, os.X_OK):
            return candidate
    return sys.executable


def start(
    py: str,
    role: str,
    comm: str,
    argv0: str,
    user: str | None,
    child: str = CHILD,
    ports: dict[str, int] = PORTS,
) -> tuple[subprocess.Popen[str], dict]:
    proc = subprocess.Popen(
        [argv0, "-c", child, role, comm, json.dumps(ports)],
        executable=py,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd="/",
        user=user,
        group=pwd.getpwnam(user).pw_gid if user else None,  # all of the user's ids, or ptrace checks
        extra_groups=[] if user else None,  # keep its own /proc/PID/fd from it
        env={"PATH": "/usr/bin:/bin", "LC_ALL": "C"},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit(f"the {role} child did not start")
    return proc, json.loads(line)


def sockets(server: Proc, worker: Proc, client: Proc) -> list[Sock]:
    p, lo, est = PORTS, "127.0.0.1", "ESTABLISHED"
    return [
        Sock("tcp", "ipv4", "0.0.0.0", p["tcp4_shared"], None, "LISTEN", [server, worker]),
        Sock("tcp", "ipv6", "::", p["tcp6_listen"], None, "LISTEN", [server]),
        Sock("tcp", "ipv4", "127.0.0.1", p["tcp4_server"], None, "LISTEN", [server]),
        Sock("tcp", "ipv4", lo, p["tcp4_server"], (lo, p["tcp4_client"]), est, [server]),
        Sock("tcp", "ipv4", lo, p["tcp4_client"], (lo, p["tcp4_server"]), est, [client]),
        Sock("tcp", "ipv6", "::1", p["tcp6_server"], None, "LISTEN", [server]),
        Sock("tcp", "ipv6", "::1", p["tcp6_server"], ("::1", p["tcp6_client"]), est, [server]),
        Sock("tcp", "ipv6", "::1", p["tcp6_client"], ("::1", p["tcp6_server"]), est, [server]),
        Sock("udp", "ipv4", "0.0.0.0", p["udp4"], None, "NONE", [server]),
        Sock("udp", "ipv6", "::", p["udp6"], None, "NONE", [server]),
        Sock("udp", "ipv4", lo, p["udp4_connected"], (lo, p["udp4"]), est, [server]),
        Sock("tcp", "ipv6", "::", p["tcp_dual"], None, "LISTEN", [client]),
        Sock("udp", "ipv4", "127.0.0.1", p["udp4_nobody"], None, "NONE", [client]),
    ]  # fmt: skip


def row(sock: Sock, source: str, **values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "proto": sock.proto,
        "family": sock.family,
        "local_address": sock.address,
        "local_port": sock.port,
        "remote_address": sock.peer[0] if sock.peer else None,
        "remote_port": sock.peer[1] if sock.peer else None,
        "state": sock.state,
        "pid": None,
        "process": None,
        "user": None,
        "source": source,
    }
    base.update(values)
    return base


def visible(owners: Iterable[Proc], viewer: str) -> list[Proc]:
    return [o for o in owners if viewer == "root" or o.user == viewer]


def uid_user(proc: Proc) -> str:
    return "root" if proc.uid == 0 else str(proc.uid)


def host_name(address: str) -> str:
    """What a tool run without -n shows for an address: the resolver's name, or the number."""
    if address in ("0.0.0.0", "::"):
        return address
    try:
        return socket.getnameinfo((address, 0), socket.NI_NAMEREQD)[0]
    except OSError:
        return address


# ---- ss -------------------------------------------------------------------------------------------


def expect_ss(*, extended: bool = False, listen_only: bool = False) -> Expect:
    def expected(socks: list[Sock], viewer: str, text: str) -> Rows:
        rows = []
        for sock in socks:
            if listen_only and (sock.proto, sock.state) != ("tcp", "LISTEN"):
                continue
            where: dict[str, object] = {}
            user = {"user": uid_user(sock.owners[0])} if extended else {}
            owners = visible(sock.owners, viewer)
            if not owners:
                rows.append(row(sock, "ss", **where, **user))
            rows += [row(sock, "ss", pid=o.pid, process=o.comm, **where, **user) for o in owners]
        return rows

    return expected


# ---- net-tools netstat ----------------------------------------------------------------------------


def netstat_program(proc: Proc) -> str:
    """net-tools prints argv[0]'s basename in a `PID/name` column cut at 19 characters."""
    name = proc.argv0.rsplit("/", 1)[-1] if proc.argv0.startswith("/") else proc.argv0
    return f"{proc.pid}/{name}"[:19].partition("/")[2].rstrip()


def expect_netstat(
    *, pids: bool = True, extended: bool = False, names: bool = False, listen_only: bool = False
) -> Expect:
    def expected(socks: list[Sock], viewer: str, text: str) -> Rows:
        rows = []
        for sock in socks:
            if listen_only and sock.state not in ("LISTEN", "NONE"):
                continue
            values: dict[str, object] = {}
            if names:
                values["local_address"] = host_name(sock.address)
                if sock.peer:
                    values["remote_address"] = host_name(sock.peer[0])
            if extended:
                values["user"] = uid_user(sock.owners[0])
            owners = visible(sock.owners, viewer) if pids else []
            if len(owners) > 1:  # netstat names one owner of a shared socket: the one it printed
                owners = [o for o in owners if re.search(rf":{sock.port}\s.*\s{o.pid}/", text)][:1]
            if owners:
                values["pid"] = owners[0].pid
                values["process"] = netstat_program(owners[0])
            rows.append(row(sock, "netstat-linux", **values))
        return rows

    return expected


# ---- lsof -----------------------------------------------------------------------------------------


def lsof_command(comm: str, full: bool) -> str:
    """lsof escapes a space as \\x20 and, without `+c 0`, prints at most 9 characters, never half an
    escape; portcheck undoes the escape."""
    if full:
        return comm
    shown, width = "", 0
    for char in comm:
        cost = 4 if char == " " else 1
        if width + cost > 9:
            break
        shown, width = shown + char, width + cost
    return shown


def expect_lsof(
    *, full: bool = False, names: bool = False, listen_only: bool = False, port: int | None = None
) -> Expect:
    def expected(socks: list[Sock], viewer: str, text: str) -> Rows:
        rows = []
        for sock in socks:
            if listen_only and sock.state != "LISTEN":
                continue
            if port is not None and port not in (sock.port, sock.peer[1] if sock.peer else None):
                continue  # `lsof -i :PORT` selects sockets with PORT at either end
            values: dict[str, object] = {"state": "NONE" if sock.proto == "udp" else sock.state}
            if names:
                values["local_address"] = host_name(sock.address)
                if sock.peer:
                    values["remote_address"] = host_name(sock.peer[0])
            for owner in visible(sock.owners, viewer):
                rows.append(
                    row(
                        sock,
                        "lsof",
                        pid=owner.pid,
                        process=lsof_command(owner.comm, full),
                        user=owner.user,
                        **values,
                    )
                )
        return rows

    return expected


# ---- recording ------------------------------------------------------------------------------------


ADDRESS = re.compile(r"^(?:\[[^\]]*\]|[\w.:%*-]*):(\d+|\*)$")


def keep_rows(text: str, ports: set[int]) -> str:
    """Header, banner and notice lines, and the rows whose local or peer address has one of our ports
    (a row is a line with `host:port` among its first columns)."""
    kept = []
    for line in text.splitlines():
        found = [m.group(1) for m in map(ADDRESS.match, line.split()[:7]) if m]
        if not found or any(port.isdigit() and int(port) in ports for port in found):
            kept.append(line)
    return "\n".join(kept) + "\n"


def keep_lsof(text: str, pids: set[int]) -> str:
    kept = []
    for line in text.splitlines():
        tokens = line.split()
        if line.startswith("COMMAND") or (len(tokens) > 1 and tokens[1].isdigit() and int(tokens[1]) in pids):
            kept.append(line)
    return "\n".join(kept) + "\n"


def keep_lsof_fields(text: str, pids: set[int]) -> str:
    kept, keeping = [], False
    for line in text.splitlines():
        if line.startswith("p"):
            keeping = line[1:].isdigit() and int(line[1:]) in pids
        if keeping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def run(fixture: Fixture) -> str:
    argv = (
        fixture.argv if fixture.viewer == "root" else ["runuser", "-u", fixture.viewer, "--", *fixture.argv]
    )
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", **fixture.env}
    done = subprocess.run(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, check=False, cwd="/"
    )
    return done.stdout.decode("utf-8", "replace")


def fixtures() -> list[Fixture]:
    have_locale = set(subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split())
    found = [
        Fixture("ss-tunap", ["ss", "-tunap"], expect_ss()),
        Fixture("ss-tunapH", ["ss", "-tunapH"], expect_ss()),
        Fixture("ss-tlnp", ["ss", "-tlnp"], expect_ss(listen_only=True)),
        Fixture("ss-tunape", ["ss", "-tunape"], expect_ss(extended=True)),
        Fixture("ss-tunap-nobody", ["ss", "-tunap"], expect_ss(), viewer=NOBODY),
        Fixture("netstat-tunap", ["netstat", "-tunap"], expect_netstat()),
        Fixture("netstat-tulpn", ["netstat", "-tulpn"], expect_netstat(listen_only=True)),
        Fixture("netstat-tunapW", ["netstat", "-tunapW"], expect_netstat()),
        Fixture("netstat-tuna", ["netstat", "-tuna"], expect_netstat(pids=False)),
        Fixture("netstat-tunaep", ["netstat", "-tunaep"], expect_netstat(extended=True)),
        Fixture("netstat-tuap", ["netstat", "-tuap"], expect_netstat(names=True)),
        Fixture("netstat-tunapo", ["netstat", "-tunapo"], expect_netstat()),  # a Timer column
        Fixture("netstat-tunap-nobody", ["netstat", "-tunap"], expect_netstat(), viewer=NOBODY),
        Fixture("lsof-nP-i", ["lsof", "-nP", "-i"], expect_lsof(), keep="lsof"),
        Fixture("lsof-c0-nP-i", ["lsof", "+c", "0", "-nP", "-i"], expect_lsof(full=True), keep="lsof"),
        Fixture("lsof-i", ["lsof", "-i"], expect_lsof(names=True), keep="lsof"),
        Fixture("lsof-nP-i-port", ["lsof", "-nP", "-i", f":{PORTS['tcp4_server']}"],
                expect_lsof(port=PORTS["tcp4_server"]), keep="lsof"),
        Fixture("lsof-nP-iTCP-sTCP-LISTEN", ["lsof", "-nP", "-iTCP", "-sTCP:LISTEN"],
                expect_lsof(listen_only=True), keep="lsof"),
        Fixture("lsof-F-pcLnPtT-i", ["lsof", "-F", "pcLnPtT", "-i"], expect_lsof(full=True, names=True),
                keep="lsof-F"),
        Fixture("lsof-K-nP-i", ["lsof", "-K", "-nP", "-i"], expect_lsof(), keep="lsof"),
        Fixture("lsof-nP-whole-system", ["lsof", "-nP"], expect_lsof(), keep="lsof"),
        Fixture("lsof-nP-i-nobody", ["lsof", "-nP", "-i"], expect_lsof(), viewer=NOBODY, keep="lsof"),
    ]  # fmt: skip
    # net-tools' own translations, where the machine has the locale
    for locale, name in (("pt_BR.utf8", "pt_BR"), ("cs_CZ.utf8", "cs"), ("de_DE.utf8", "de")):
        if locale in have_locale:
            env = {"LC_ALL": locale}
            found.append(Fixture(f"netstat-tunap-{name}", ["netstat", "-tunap"], expect_netstat(), env=env))
            found.append(Fixture(f"netstat-tunap-{name}-nobody", ["netstat", "-tunap"], expect_netstat(),
                                 viewer=NOBODY, env=env))  # fmt: skip
    if shutil.which("busybox"):
        # BusyBox as Debian builds it has no -p; it prints tcp/udp for IPv6 too (the address says which)
        found.append(
            Fixture("busybox-netstat-tuna", ["busybox", "netstat", "-tuna"], expect_netstat(pids=False))
        )
    return found


def refuse_named_ports(ports: Iterable[int]) -> None:
    """Ports with a service name would print as that name where a tool runs without -n."""
    for port in ports:
        for proto in ("tcp", "udp"):
            try:
                name = socket.getservbyport(port, proto)
            except OSError:
                continue
            raise SystemExit(f"port {port}/{proto} has a service name ({name})")


def write_fixture(stem: Path, text: str, rows: Rows) -> None:
    """<stem>.txt with what the tool printed, <stem>.json with the rows expected from it."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".txt").write_text(text, encoding="utf-8")
    body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
    stem.with_suffix(".json").write_text(f"[\n{body}\n]\n", encoding="utf-8")
    print(f"{stem.parent.name}/{stem.name}: {len(text.splitlines())} lines, {len(rows)} expected rows")


def stop(*children: subprocess.Popen[str] | None) -> None:
    for child in children:
        if child is not None:
            child.kill()
            child.wait()


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("run as root: the fixtures compare what root and nobody see")
    refuse_named_ports(PORTS.values())
    py = python_for_children()
    server_child, server_info = start(py, "server", SERVER_COMM, SERVER_ARGV0, None)
    client_child = None
    try:
        client_child, client_info = start(py, "client", CLIENT_COMM, CLIENT_ARGV0, NOBODY)
        assert server_child.stdin is not None and server_child.stdout is not None
        server_child.stdin.write("accept\n")
        server_child.stdin.flush()
        assert server_child.stdout.readline().strip() == "accepted"
        nobody_uid = int(subprocess.run(["id", "-u", NOBODY], capture_output=True, text=True).stdout)
        server = Proc(server_info["pid"], SERVER_COMM, SERVER_ARGV0, "root", 0)
        worker = Proc(server_info["worker"], SERVER_COMM, SERVER_ARGV0, "root", 0)
        client = Proc(client_info["pid"], CLIENT_COMM, CLIENT_ARGV0, NOBODY, nobody_uid)
        socks = sockets(server, worker, client)
        ports = set(PORTS.values())
        pids = {server.pid, worker.pid, client.pid}
        OUT.mkdir(parents=True, exist_ok=True)
        for fixture in fixtures():
            text = run(fixture)
            if fixture.keep == "lsof":
                text = keep_lsof(text, pids)
            elif fixture.keep == "lsof-F":
                text = keep_lsof_fields(text, pids)
            else:
                text = keep_rows(text, ports)
            write_fixture(OUT / fixture.name, text, fixture.expected(socks, fixture.viewer, text))
    finally:
        stop(client_child, server_child)


if __name__ == "__main__":
    main()
