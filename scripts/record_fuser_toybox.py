#!/usr/bin/env python3
"""Record fuser (psmisc, BusyBox), toybox netstat (Android's) and /proc/net/tcp6 fixtures from real
sockets, with the expected rows written from ground truth.

Run by hand, as root, on a Linux machine with psmisc (`apt-get install psmisc toybox`):

    sudo .venv/bin/python scripts/record_fuser_toybox.py

Optional tools, found through the environment:
- BUSYBOX=/path/to/busybox: a BusyBox with the fuser applet (Debian's has none; build one from the
  BusyBox source with `make allnoconfig`, CONFIG_FUSER=y).
- TOYBOX_OLD=/path/to/toybox: toybox built from git 878ff2f3^ (June 2016, the netstat of Android 6 and 7,
  `make allnoconfig` + CONFIG_NETSTAT=y), which cuts addresses at 23 characters, port included, and
  prints `tcp` for IPv6 sockets too.

The test suite never runs this; it checks the committed files. Like tests/record_linux_fixtures.py it:
1. starts a server as root (its process name, comm, holds a space: `pcfix server`; its argv[0] is
   `pcfix: server main`), which forks a worker sharing one TCP listener and opening its own
   SO_REUSEPORT socket beside the server's, and a client as `nobody` (setpriv) with a dual-stack
   listener that accepts two connections from long IPv4 source addresses (127.0.100.100,
   127.100.100.100), whose IPv4-mapped forms fill or overflow toybox's 23-character column;
2. runs each tool (stdout and stderr merged as a terminal shows them, or captured apart where a paste
   shows them apart, as noted per fixture), keeping header lines and the rows of its own ports; fuser's
   `Cannot stat file /proc/N/fd/M` lines about processes outside the test (this sandbox's PID 1) are
   cut to the first three;
3. writes <name>.json from what it opened and from the tools' documented behaviour, never from a parser.

Tool behaviour the expected rows encode:
- fuser names no address, state or peer: local_address is `?`, TCP rows are UNKNOWN, UDP rows NONE;
  family only from -4/-6 on the command line. The PIDs go to stdout, the rest to stderr. -v adds USER
  and COMMAND (the comm); -u appends `(user)` to each PID. As nobody, fuser sees only nobody's sockets.
- `-nv udp P` is read by psmisc as `-n udp` (the `v` after `n` is dropped): no verbose columns.
- BusyBox fuser prints only PIDs (all names together): the port is known from the command line alone.
- toybox netstat -p shows `PID/basename(argv[0])`, one owner for a shared socket (the first PID it
  scans), `-` for a socket it cannot attribute. 0.8.x prints `tcp6`/`udp6`, `[::]`, and keeps the
  port of a long address whole by overwriting the end of the host; the 2016 netstat prints `tcp`/`udp`
  for both families, cuts the argv[0] at its first space and cuts the address (port included) at 23.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts.record_linux_fixtures import (  # noqa: E402  (the recorders share their children's code)
    CHILD_PRELUDE,
    Expect,
    Proc,
    Rows,
    Sock,
    keep_rows,
    python_for_children,
    refuse_named_ports,
    row,
    start,
    stop,
    uid_user,
    visible,
    write_fixture,
)

LINUX = ROOT / "tests" / "fixtures" / "linux"
ANDROID = ROOT / "tests" / "fixtures" / "android"
BASE = 47410
PORTS = {
    "tcp4_shared": BASE,  # 0.0.0.0, server + its forked worker
    "tcp6_listen": BASE + 1,  # [::] v6-only, server
    "tcp4_server": BASE + 2,  # 127.0.0.1, server; accepts the client's connection
    "tcp4_client": BASE + 3,  # nobody's end of that connection
    "udp4": BASE + 4,  # 0.0.0.0, server
    "udp6": BASE + 5,  # ::1, server
    "tcp4_reuseport": BASE + 6,  # 0.0.0.0, one SO_REUSEPORT socket in the server, one in the worker
    "tcp_dual": BASE + 7,  # nobody's [::] dual-stack listener
    "mapped_a": BASE + 8,  # server's connection from 127.0.100.100 to tcp_dual
    "mapped_b": BASE + 9,  # server's connection from 127.100.100.100 to tcp_dual
    "unused": BASE + 10,  # nothing: fuser -a prints the name alone
}
SERVER_COMM, SERVER_ARGV0 = "pcfix server", "pcfix: server main"
CLIENT_COMM, CLIENT_ARGV0 = "pcfix-client", "pcfix-client"
NOBODY = "nobody"
UNKNOWN_ADDRESS = "?"

CHILD = (
    CHILD_PRELUDE
    + r"""
keep = []
info = {"pid": os.getpid()}
if role == "server":
    shared = tcp(socket.AF_INET, "0.0.0.0", ports["tcp4_shared"]); shared.listen()
    mine = tcp(socket.AF_INET, "0.0.0.0", ports["tcp4_reuseport"], reuseport=True); mine.listen()
    worker = os.fork()
    if worker == 0:
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        mine.close()
        theirs = tcp(socket.AF_INET, "0.0.0.0", ports["tcp4_reuseport"], reuseport=True); theirs.listen()
        sys.stdin.close()
        while True:
            signal.pause()
    info["worker"] = worker
    v6 = tcp(socket.AF_INET6, "::", ports["tcp6_listen"]); v6.listen()
    server4 = tcp(socket.AF_INET, "127.0.0.1", ports["tcp4_server"]); server4.listen()
    u4 = udp(socket.AF_INET, "0.0.0.0", ports["udp4"])
    u6 = udp(socket.AF_INET6, "::1", ports["udp6"])
    keep += [shared, mine, v6, server4, u4, u6]
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        if line.strip() == "accept":
            keep.append(server4.accept()[0])
        elif line.strip() == "connect":
            for name, source in (("mapped_a", "127.0.100.100"), ("mapped_b", "127.100.100.100")):
                c = tcp(socket.AF_INET, source, ports[name])
                c.connect(("127.0.0.1", ports["tcp_dual"]))
                keep.append(c)
        print("done", flush=True)
else:
    client = tcp(socket.AF_INET, "127.0.0.1", ports["tcp4_client"])
    client.connect(("127.0.0.1", ports["tcp4_server"]))
    dual = tcp(socket.AF_INET6, "::", ports["tcp_dual"], v6only=False); dual.listen()
    keep += [client, dual]
    print(json.dumps(info), flush=True)
    for line in sys.stdin:
        if line.strip() == "accept":
            keep += [dual.accept()[0], dual.accept()[0]]
        print("done", flush=True)
"""
)


def sockets(server: Proc, worker: Proc, client: Proc) -> list[Sock]:
    p, lo, est = PORTS, "127.0.0.1", "ESTABLISHED"
    mapped = "::ffff:127.0.0.1"
    return [
        Sock("tcp", "ipv4", "0.0.0.0", p["tcp4_shared"], None, "LISTEN", [server, worker]),
        Sock("tcp", "ipv6", "::", p["tcp6_listen"], None, "LISTEN", [server]),
        Sock("tcp", "ipv4", lo, p["tcp4_server"], None, "LISTEN", [server]),
        Sock("tcp", "ipv4", lo, p["tcp4_server"], (lo, p["tcp4_client"]), est, [server]),
        Sock("tcp", "ipv4", lo, p["tcp4_client"], (lo, p["tcp4_server"]), est, [client]),
        Sock("udp", "ipv4", "0.0.0.0", p["udp4"], None, "NONE", [server]),
        Sock("udp", "ipv6", "::1", p["udp6"], None, "NONE", [server]),
        Sock("tcp", "ipv4", "0.0.0.0", p["tcp4_reuseport"], None, "LISTEN", [server]),
        Sock("tcp", "ipv4", "0.0.0.0", p["tcp4_reuseport"], None, "LISTEN", [worker]),
        Sock("tcp", "ipv6", "::", p["tcp_dual"], None, "LISTEN", [client]),
        Sock("tcp", "ipv4", "127.0.100.100", p["mapped_a"], (lo, p["tcp_dual"]), est, [server]),
        Sock("tcp", "ipv4", "127.100.100.100", p["mapped_b"], (lo, p["tcp_dual"]), est, [server]),
        Sock("tcp", "ipv6", mapped, p["tcp_dual"], ("::ffff:127.0.100.100", p["mapped_a"]), est, [client]),
        Sock("tcp", "ipv6", mapped, p["tcp_dual"], ("::ffff:127.100.100.100", p["mapped_b"]), est, [client]),
    ]  # fmt: skip


def record(**values: object) -> dict[str, object]:
    base: dict[str, object] = dict.fromkeys(
        ("proto", "family", "local_address", "local_port", "remote_address", "remote_port", "state", "pid",
         "process", "user", "source")
    )  # fmt: skip
    base.update(values)
    return base


# ---- fuser ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    """One fuser name: `PORT/PROTO` or `[PORT][,[HOST][,[PORT]]]/PROTO`."""

    proto: str
    port: int | None
    peer: tuple[str, int] | None = None


def fuser_rows(socks: list[Sock], viewer: str, names: list[Name], *, verbose: bool = False,
               users: bool = False, family: str | None = None, pids: bool = True) -> Rows:  # fmt: skip
    """One row per process per name, as fuser lists them (each PID once per name). A remote host given
    as an IPv4 address makes fuser search IPv4 sockets only (getaddrinfo gives no IPv6 form of it)."""
    rows: Rows = []
    for name in names:
        family_shown = family or ("ipv4" if name.peer and name.peer[0].count(".") == 3 else None)
        seen: set[int] = set()
        for sock in socks:
            if sock.proto != name.proto or (family_shown and sock.family != family_shown):
                continue
            if name.port is not None and sock.port != name.port:
                continue
            if name.peer is not None and sock.peer != name.peer:
                continue
            for owner in visible(sock.owners, viewer):
                if owner.pid in seen:
                    continue
                seen.add(owner.pid)
                rows.append(
                    record(
                        proto=name.proto,
                        family=family_shown,
                        local_address=UNKNOWN_ADDRESS,
                        local_port=name.port,
                        remote_address=name.peer[0] if name.peer else None,
                        remote_port=name.peer[1] if name.peer else None,
                        state="UNKNOWN" if name.proto == "tcp" else "NONE",
                        pid=owner.pid if pids else None,
                        process=owner.comm if verbose else None,
                        user=owner.user if verbose or users else None,
                        source="fuser",
                    )
                )
    return rows


def expect_fuser(names: list[Name], **options: object) -> Expect:
    def expected(socks: list[Sock], viewer: str, text: str) -> Rows:
        return fuser_rows(socks, viewer, names, **options)  # type: ignore[arg-type]

    return expected


# ---- toybox netstat -------------------------------------------------------------------------------

ADDRESS_WIDTH = 23


def toybox_address(host: str, port: int | None, old: bool) -> str:
    """What toybox prints in a 23-character address column (numeric, -n)."""
    shown = host
    if not old and host == "::":
        shown = "[::]"
    suffix = f":{port}" if port else ":*"
    if old:
        return (host + suffix)[:ADDRESS_WIDTH]
    if len(shown) + len(suffix) > ADDRESS_WIDTH:  # 0.8: the port stays, the host's end is overwritten
        shown = shown[: ADDRESS_WIDTH - len(suffix)]
    return shown + suffix


def read_back(printed: str) -> tuple[str, int | None]:
    """What a reader can know from a printed `host:port` that toybox may have cut: the host as printed,
    the port only if it is whole (not cut to nothing, and not a prefix of a longer valid port)."""
    host, _, port = printed.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if len(printed) < ADDRESS_WIDTH or (port.isdigit() and int(port) * 10 > 65535):
        return host, int(port) if port.isdigit() else None
    return host, None


def toybox_program(proc: Proc, old: bool) -> str:
    name = proc.argv0.split(" ")[0] if old else proc.argv0
    return name.rsplit("/", 1)[-1]


def shown_by_l(sock: Sock, old: bool) -> bool:
    """Which sockets `netstat -l` lists. The 2016 netstat: those with no peer, listening (TCP) or
    unconnected (UDP). 0.8's test is `(l && !rport && state&0xA) || a || rport&0x70`: it also lists
    every connection whose peer port has one of the bits 0x70 set (a bug, recorded as it behaves)."""
    if sock.peer is None:
        return sock.state in ("LISTEN", "NONE")
    return not old and bool(sock.peer[1] & 0x70)


def expect_toybox(
    *,
    old: bool = False,
    pids: bool = True,
    listen_only: bool = False,
    protos: tuple[str, ...] = ("tcp", "udp"),
) -> Expect:
    def expected(socks: list[Sock], viewer: str, text: str) -> Rows:
        rows: Rows = []
        for sock in socks:
            if sock.proto not in protos or (listen_only and not shown_by_l(sock, old)):
                continue
            values: dict[str, object] = {}
            printed = toybox_address(sock.address, sock.port, old)
            if len(printed) == ADDRESS_WIDTH:
                values["local_address"], values["local_port"] = read_back(printed)
            if sock.peer:
                printed = toybox_address(*sock.peer, old)
                if len(printed) == ADDRESS_WIDTH:
                    values["remote_address"], values["remote_port"] = read_back(printed)
            owners = visible(sock.owners, viewer) if pids else []
            if len(owners) > 1:  # one owner per socket: the one toybox printed
                owners = [o for o in owners if re.search(rf":{sock.port}\s.*\s{o.pid}/", text)][:1]
            if owners:
                values["pid"] = owners[0].pid
                values["process"] = toybox_program(owners[0], old)
            rows.append(row(sock, "netstat-linux", **values))
        return rows

    return expected


# ---- /proc/net/tcp6 -------------------------------------------------------------------------------


def expect_proc_tcp6(socks: list[Sock], viewer: str, text: str) -> Rows:
    """The kernel's own table: every IPv6 TCP socket and its owner's uid (0 is `root` everywhere, any
    other uid stays a number); no process (the table holds inodes only)."""
    rows: Rows = []
    for sock in socks:
        if (sock.proto, sock.family) != ("tcp", "ipv6"):
            continue
        rows.append(row(sock, "proc", user=uid_user(sock.owners[0])))
    return rows


# ---- recording ------------------------------------------------------------------------------------


@dataclass
class Fixture:
    folder: Path
    name: str
    argv: list[str]
    expected: Expect
    viewer: str = "root"
    capture: str = "merged"  # "merged" (a terminal); "stdout", "stderr" alone; or both, one after the other
    prompt: str = ""  # a shell prompt line written first, as a paste of a terminal shows it
    keep: str = "rows"  # "rows": header lines and rows of our ports; "fuser": fuser's lines; "all"


NOISE = re.compile(r"^Cannot stat file /proc/(\d+)/")
MAX_NOISE = 3


def keep_fuser(text: str, pids: set[int]) -> str:
    """fuser's output with its `Cannot stat file /proc/N/...` lines about other processes cut to three."""
    kept, noise = [], 0
    for line in text.splitlines():
        match = NOISE.match(line)
        if match and int(match.group(1)) not in pids:
            noise += 1
            if noise > MAX_NOISE:
                continue
        kept.append(line)
    return "\n".join(kept) + "\n"


def keep_proc(text: str, ports: set[int]) -> str:
    kept = []
    for line in text.splitlines():
        tokens = line.split()
        header = bool(tokens) and tokens[0] == "sl"
        if header or (len(tokens) > 2 and any(int(t.rpartition(":")[2], 16) in ports for t in tokens[1:3])):
            kept.append(line)
    return "\n".join(kept) + "\n"


def run(fixture: Fixture) -> str:
    argv = fixture.argv
    if fixture.viewer != "root":
        argv = ["setpriv", f"--reuid={fixture.viewer}", "--regid=nogroup", "--clear-groups", *argv]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    if fixture.capture == "merged":
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd="/",
                              check=False)  # fmt: skip
        text = done.stdout.decode("utf-8", "replace")
    else:
        done = subprocess.run(argv, capture_output=True, env=env, cwd="/", check=False)
        out, err = done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")
        if fixture.capture in ("stdout", "stderr"):
            text = out if fixture.capture == "stdout" else err
        elif fixture.capture == "stderr-then-stdout":
            text = err + out
        else:
            text = out + ("\n" if out and not out.endswith("\n") else "") + err
    if text and not text.endswith("\n"):
        text += "\n"
    return fixture.prompt + text


def fixtures() -> list[Fixture]:
    p = PORTS
    tcp, udp = "tcp", "udp"
    shared, v6, server, client = p["tcp4_shared"], p["tcp6_listen"], p["tcp4_server"], p["tcp4_client"]
    found = [
        Fixture(LINUX, "fuser-v-n-tcp", ["fuser", "-v", "-n", "tcp", str(shared)],
                expect_fuser([Name(tcp, shared)], verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-v-port-tcp", ["fuser", "-v", f"{p['tcp_dual']}/tcp"],
                expect_fuser([Name(tcp, p["tcp_dual"])], verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-nv-udp", ["fuser", "-nv", "udp", str(p["udp4"])],
                expect_fuser([Name(udp, p["udp4"])]), keep="fuser"),
        Fixture(LINUX, "fuser-vn-tcp-two-ports", ["fuser", "-vn", "tcp", str(shared), str(v6)],
                expect_fuser([Name(tcp, shared), Name(tcp, v6)], verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-terse", ["fuser", f"{shared}/tcp", f"{p['udp6']}/udp"],
                expect_fuser([Name(tcp, shared), Name(udp, p["udp6"])]), keep="fuser"),
        Fixture(LINUX, "fuser-u", ["fuser", "-u", f"{server}/tcp"],
                expect_fuser([Name(tcp, server)], users=True), keep="fuser"),
        Fixture(LINUX, "fuser-v-reuseport-and-udp", ["fuser", "-v", f"{p['tcp4_reuseport']}/tcp",
                f"{p['udp4']}/udp"], expect_fuser([Name(tcp, p["tcp4_reuseport"]), Name(udp, p["udp4"])],
                verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-a-v-unused", ["fuser", "-a", "-v", f"{p['unused']}/tcp", f"{client}/tcp"],
                expect_fuser([Name(tcp, client)], verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-v-4", ["fuser", "-v", "-4", f"{shared}/tcp"],
                expect_fuser([Name(tcp, shared)], verbose=True, family="ipv4"), keep="fuser",
                prompt=f"root@host:~# fuser -v -4 {shared}/tcp\n"),
        Fixture(LINUX, "fuser-v-6", ["fuser", "-v", "-6", f"{p['tcp_dual']}/tcp"],
                expect_fuser([Name(tcp, p["tcp_dual"])], verbose=True, family="ipv6"), keep="fuser",
                prompt=f"# fuser -v -6 {p['tcp_dual']}/tcp\n"),
        Fixture(LINUX, "fuser-v-remote", ["fuser", "-v", f",127.0.0.1,{server}/tcp"],
                expect_fuser([Name(tcp, None, ("127.0.0.1", server))], verbose=True), keep="fuser"),
        Fixture(LINUX, "fuser-v-nobody", ["fuser", "-v", f"{p['tcp_dual']}/tcp", f"{shared}/tcp"],
                expect_fuser([Name(tcp, p["tcp_dual"]), Name(tcp, shared)], verbose=True), viewer=NOBODY,
                keep="fuser"),
        Fixture(LINUX, "fuser-stdout-only", ["fuser", f"{shared}/tcp"],
                expect_fuser([Name(tcp, shared)]), capture="stdout", keep="fuser",
                prompt=f"$ sudo fuser {shared}/tcp 2>/dev/null\n"),
        Fixture(LINUX, "fuser-stderr-then-stdout", ["fuser", f"{shared}/tcp"],
                expect_fuser([Name(tcp, shared)]), capture="stderr-then-stdout", keep="fuser"),
        Fixture(LINUX, "fuser-stdout-then-stderr", ["fuser", f"{p['udp4']}/udp"],
                expect_fuser([Name(udp, p["udp4"])]), capture="stdout-then-stderr", keep="fuser"),
        Fixture(LINUX, "fuser-v-stderr-only", ["fuser", "-v", f"{shared}/tcp"],
                expect_fuser([Name(tcp, shared)], verbose=True, pids=False), capture="stderr", keep="fuser"),
    ]  # fmt: skip
    busybox = os.environ.get("BUSYBOX") or shutil.which("busybox")
    if busybox and subprocess.run([busybox, "fuser", "--help"], capture_output=True).returncode != 127:
        found.append(
            Fixture(LINUX, "busybox-fuser", [busybox, "fuser", f"{shared}/tcp"],
                    expect_fuser([Name(tcp, shared)]), keep="fuser", prompt=f"/ # fuser {shared}/tcp\n")
        )  # fmt: skip
    toyboxes = [(shutil.which("toybox"), False), (os.environ.get("TOYBOX_OLD"), True)]
    for toybox, old in toyboxes:
        if not toybox:
            continue
        suffix = "-2016" if old else ""
        listening: dict[str, object] = {"listen_only": True, "protos": ("tcp",)}
        for flags, options in (("-an", {"pids": False}), ("-tlnp", listening), ("-tuanp", {})):
            if flags == "-an" and not old:
                flags = "-tuan"  # 0.8's -an lists UNIX sockets too: all of the machine's, not ours
            found.append(Fixture(ANDROID, f"toybox-netstat{flags}{suffix}", [toybox, "netstat", flags],
                                 expect_toybox(old=old, **options)))  # type: ignore[arg-type]  # fmt: skip
        found.append(Fixture(ANDROID, f"toybox-netstat-tuanp-nobody{suffix}", [toybox, "netstat", "-tuanp"],
                             expect_toybox(old=old), viewer=NOBODY))  # fmt: skip
    found.append(Fixture(ANDROID, "proc-net-tcp6", ["cat", "/proc/net/tcp6"], expect_proc_tcp6, keep="proc"))
    return found


def tell(child: subprocess.Popen[str], command: str) -> None:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write(command + "\n")
    child.stdin.flush()
    if child.stdout.readline().strip() != "done":
        raise SystemExit(f"child did not {command}")


def main() -> None:
    if os.geteuid() != 0:
        raise SystemExit("run as root: the fixtures compare what root and nobody see")
    refuse_named_ports(PORTS.values())
    py = python_for_children()
    server_child, server_info = start(py, "server", SERVER_COMM, SERVER_ARGV0, None, CHILD, PORTS)
    client_child = None
    try:
        client_child, client_info = start(py, "client", CLIENT_COMM, CLIENT_ARGV0, NOBODY, CHILD, PORTS)
        tell(server_child, "accept")
        tell(server_child, "connect")
        tell(client_child, "accept")
        nobody_uid = int(subprocess.run(["id", "-u", NOBODY], capture_output=True, text=True).stdout)
        server = Proc(server_info["pid"], SERVER_COMM, SERVER_ARGV0, "root", 0)
        worker = Proc(server_info["worker"], SERVER_COMM, SERVER_ARGV0, "root", 0)
        client = Proc(client_info["pid"], CLIENT_COMM, CLIENT_ARGV0, NOBODY, nobody_uid)
        socks = sockets(server, worker, client)
        ports = set(PORTS.values())
        pids = {server.pid, worker.pid, client.pid}
        for fixture in fixtures():
            text = run(fixture)
            if fixture.keep == "fuser":
                text = keep_fuser(text, pids)
            elif fixture.keep == "proc":
                text = keep_proc(text, ports)
            elif fixture.keep == "rows":
                text = keep_rows(text, ports)
            write_fixture(fixture.folder / fixture.name, text, fixture.expected(socks, fixture.viewer, text))
    finally:
        stop(client_child, server_child)


if __name__ == "__main__":
    main()
