"""Unofficial but well-known uses of ports: what a helpdesk person wants to hear that IANA does not say.

Curated by hand and kept small: every entry is something that regularly explains "why is this port
taken?". Ranges apply to every port inside them. Sources are named where the use is documented.
"""

from __future__ import annotations

from typing import NamedTuple


class KnownUse(NamedTuple):
    first: int
    last: int
    protocols: tuple[str, ...]
    text: str


TCP = ("tcp",)
UDP = ("udp",)
BOTH = ("tcp", "udp")

# fmt: off
KNOWN_USES: tuple[KnownUse, ...] = (
    KnownUse(0, 0, BOTH, "not a port to serve on: binding port 0 asks the OS for any free ephemeral port"),
    KnownUse(135, 135, TCP, "Windows RPC endpoint mapper (svchost.exe, RpcSs)"),
    KnownUse(137, 139, BOTH, "Windows NetBIOS name, datagram and session services (PID 4, System)"),
    KnownUse(445, 445, TCP, "Windows SMB file sharing, owned by the kernel (PID 4, System)"),
    KnownUse(1080, 1080, TCP, "SOCKS proxies (ssh -D, Shadowsocks clients)"),
    KnownUse(1433, 1433, TCP, "Microsoft SQL Server"),
    KnownUse(1900, 1900, UDP, "SSDP / UPnP discovery (Windows SSDPSRV, media servers, smart TVs)"),
    KnownUse(2375, 2376, TCP, "Docker Engine API (2375 plain, 2376 TLS)"),
    KnownUse(3000, 3000, TCP, "development servers: Node.js/Express, Rails, create-react-app; Grafana"),
    KnownUse(3128, 3128, TCP, "Squid and other HTTP proxies"),
    KnownUse(3306, 3306, TCP, "MySQL / MariaDB"),
    KnownUse(3389, 3389, BOTH, "Windows Remote Desktop (RDP)"),
    KnownUse(4200, 4200, TCP, "Angular development server (ng serve)"),
    KnownUse(5000, 5000, TCP, "macOS AirPlay Receiver (since macOS 12); Flask development server"),
    KnownUse(5037, 5037, TCP, "Android Debug Bridge server (adb)"),
    KnownUse(5173, 5173, TCP, "Vite development server"),
    KnownUse(5353, 5353, UDP, "mDNS / Bonjour (mDNSResponder, avahi-daemon, browsers)"),
    KnownUse(5355, 5355, UDP, "LLMNR name resolution (Windows, systemd-resolved)"),
    KnownUse(5432, 5432, TCP, "PostgreSQL"),
    KnownUse(5672, 5672, TCP, "AMQP: RabbitMQ"),
    KnownUse(5900, 5900, TCP, "VNC; macOS Screen Sharing"),
    KnownUse(5985, 5986, TCP, "Windows Remote Management, WinRM (5985 HTTP, 5986 HTTPS)"),
    KnownUse(6379, 6379, TCP, "Redis"),
    KnownUse(6443, 6443, TCP, "Kubernetes API server"),
    KnownUse(7000, 7000, TCP, "macOS AirPlay Receiver (since macOS 12); Cassandra"),
    KnownUse(8000, 8000, TCP, "development servers: Django runserver, python -m http.server"),
    KnownUse(8080, 8080, TCP, "development servers, Tomcat, Jenkins, HTTP proxies"),
    KnownUse(8443, 8443, TCP, "HTTPS alternate: Tomcat, Kubernetes dashboards, appliances"),
    KnownUse(8888, 8888, TCP, "Jupyter Notebook"),
    KnownUse(9000, 9000, TCP, "PHP-FPM, SonarQube, MinIO, Portainer"),
    KnownUse(9090, 9090, TCP, "Prometheus; Cockpit"),
    KnownUse(9092, 9092, TCP, "Apache Kafka"),
    KnownUse(9100, 9100, TCP, "Prometheus node_exporter; raw printing (JetDirect)"),
    KnownUse(9200, 9200, TCP, "Elasticsearch / OpenSearch HTTP API"),
    KnownUse(9229, 9229, TCP, "Node.js inspector (node --inspect)"),
    KnownUse(10250, 10250, TCP, "Kubernetes kubelet API"),
    KnownUse(11211, 11211, BOTH, "memcached"),
    KnownUse(17500, 17500, BOTH, "Dropbox LAN sync"),
    KnownUse(25565, 25565, TCP, "Minecraft server"),
    KnownUse(27017, 27017, TCP, "MongoDB"),
    KnownUse(32400, 32400, TCP, "Plex Media Server"),
    KnownUse(51820, 51820, UDP, "WireGuard (the usual ListenPort)"),
    KnownUse(62078, 62078, TCP, "Apple iOS device sync (lockdownd), seen on iPhones and iPads"),
    KnownUse(49152, 65535, TCP, "Apple documents Xsan filesystem access as using the dynamic range "
                               "(\"TCP and UDP ports used by Apple software products\")"),
    KnownUse(49152, 65535, TCP, "Windows dynamic RPC endpoints (services found through port 135) listen in "
                               "this range (lsass.exe, services.exe, spoolsv.exe, svchost.exe)"),
)
# fmt: on


def known_uses(port: int, proto: str | None = None) -> list[KnownUse]:
    """The curated notes that apply to `port` (and `proto`, when given), most specific first."""
    found = [u for u in KNOWN_USES if u.first <= port <= u.last and (proto is None or proto in u.protocols)]
    return sorted(found, key=lambda u: u.last - u.first)
