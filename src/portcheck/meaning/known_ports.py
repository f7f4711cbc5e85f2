"""Unofficial but well-known uses of ports: what a helpdesk person wants to hear that IANA does not say.

Curated by hand: every entry is something that regularly explains "why is this port taken?" or "what
is this listener?", for the ports helpdesks see most (the common services, the development servers,
and what the operating systems themselves hold: systemd-resolved on 53, macOS's AirPlay Receiver on
5000 and 7000, Windows' HTTP.sys behind PID 4). Ranges apply to every port inside them. Sources are
named where the use is documented (FIELD-NOTES.md of the project lists them).
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

HTTP_SYS = (
    "on Windows a listener with PID 4 (System) here is HTTP.sys, which IIS, WinRM, WCF and SSRS share: "
    "`netsh http show servicestate view=requestq` names the process behind each URL"
)
AIRPLAY = (
    "macOS AirPlay Receiver (ControlCenter, macOS 12 and later) listens here; turn it off in System "
    "Settings > General > AirDrop & Handoff > AirPlay Receiver"
)
NODE_LOCALHOST = (
    "Node 17+ resolves `localhost` to ::1 first, so a server bound to 127.0.0.1 only is not reached at "
    "http://localhost (nodejs/node#40537)"
)
PORT_FORWARD = "`kubectl port-forward` left running in the background holds such local ports"

# fmt: off
KNOWN_USES: tuple[KnownUse, ...] = (
    KnownUse(0, 0, BOTH, "no server listens on port 0 itself: programs bind it to be given a free port "
                         "(test suites, `python3 -m http.server 0`), then listen on that one"),
    KnownUse(20, 21, TCP, "FTP (vsftpd, ProFTPD, FileZilla Server, IIS FTP); 20 carries active-mode data"),
    KnownUse(22, 22, TCP, "SSH: sshd (OpenSSH; on Windows the OpenSSH Server service), also Git over SSH"),
    KnownUse(23, 23, TCP, "Telnet: old network gear and embedded devices; unencrypted"),
    KnownUse(25, 25, TCP, "SMTP between mail servers: Postfix, Exim, Sendmail, Exchange"),
    KnownUse(53, 53, BOTH, "DNS: BIND, dnsmasq, unbound, Windows DNS Server, Pi-hole, libvirt's dnsmasq"),
    KnownUse(53, 53, BOTH, "Linux: systemd-resolved listens on 127.0.0.53:53 (and 127.0.0.54), which "
                           "stops a DNS server, Pi-hole or container binding 0.0.0.0:53; set "
                           "DNSStubListener=no in /etc/systemd/resolved.conf"),
    KnownUse(67, 68, UDP, "DHCP: 67 the server (dnsmasq, isc-dhcp, libvirt, Windows DHCP), 68 the client "
                          "(dhclient, NetworkManager, systemd-networkd)"),
    KnownUse(69, 69, UDP, "TFTP: PXE boot servers, network equipment firmware"),
    KnownUse(80, 80, TCP, "HTTP: nginx, Apache httpd, Caddy, IIS, Traefik, a Docker container's published "
                          "port"),
    KnownUse(80, 80, TCP, HTTP_SYS),
    KnownUse(88, 88, BOTH, "Kerberos: Active Directory domain controllers, MIT/Heimdal KDCs"),
    KnownUse(110, 110, TCP, "POP3: Dovecot, Exchange"),
    KnownUse(111, 111, BOTH, "rpcbind / portmapper: NFS and other Sun RPC services (`rpcinfo -p` lists "
                             "them)"),
    KnownUse(123, 123, UDP, "NTP: chronyd, ntpd, Windows Time (W32Time); systemd-timesyncd is a client only"),
    KnownUse(135, 135, TCP, "Windows RPC endpoint mapper (svchost.exe, RpcSs)"),
    KnownUse(137, 139, BOTH, "Windows NetBIOS name, datagram and session services (PID 4, System); Samba's "
                             "nmbd and smbd"),
    KnownUse(143, 143, TCP, "IMAP: Dovecot, Cyrus, Exchange"),
    KnownUse(161, 162, UDP, "SNMP: 161 agents (snmpd, printers, switches), 162 traps to the manager"),
    KnownUse(389, 389, BOTH, "LDAP: Active Directory domain controllers (lsass.exe), OpenLDAP slapd, 389 "
                             "Directory Server"),
    KnownUse(443, 443, TCP, "HTTPS: nginx, Apache httpd, Caddy, IIS, Traefik, VPN servers (SSTP, "
                            "OpenConnect), a Docker container's published port"),
    KnownUse(443, 443, TCP, HTTP_SYS),
    KnownUse(443, 443, UDP, "HTTP/3 (QUIC) servers and clients"),
    KnownUse(445, 445, TCP, "Windows SMB file sharing, owned by the kernel (PID 4, System); Samba's smbd"),
    KnownUse(465, 465, TCP, "SMTP over TLS (submissions) from mail clients"),
    KnownUse(500, 500, UDP, "IPsec IKE: strongSwan, Libreswan, Windows IKEEXT, VPN gateways"),
    KnownUse(514, 514, UDP, "syslog from network devices: rsyslog, syslog-ng"),
    KnownUse(587, 587, TCP, "mail submission from mail clients (SMTP with STARTTLS): Postfix, Exim, "
                            "Exchange"),
    KnownUse(631, 631, BOTH, "IPP printing: CUPS (cupsd on 127.0.0.1:631 and [::1]:631; cups-browsed on "
                             "UDP)"),
    KnownUse(636, 636, TCP, "LDAP over TLS: Active Directory domain controllers, OpenLDAP"),
    KnownUse(853, 853, TCP, "DNS over TLS: unbound, systemd-resolved as a client, Android Private DNS"),
    KnownUse(873, 873, TCP, "rsync daemon"),
    KnownUse(993, 993, TCP, "IMAP over TLS: Dovecot, Exchange"),
    KnownUse(995, 995, TCP, "POP3 over TLS: Dovecot, Exchange"),
    KnownUse(1080, 1080, TCP, "SOCKS proxies (ssh -D, Shadowsocks clients)"),
    KnownUse(1194, 1194, BOTH, "OpenVPN (UDP by default)"),
    KnownUse(1433, 1433, TCP, "Microsoft SQL Server"),
    KnownUse(1434, 1434, UDP, "Microsoft SQL Server Browser (named instances)"),
    KnownUse(1521, 1521, TCP, "Oracle Database listener (tnslsnr)"),
    KnownUse(1883, 1883, TCP, "MQTT: Mosquitto, EMQX, Home Assistant add-ons (8883 with TLS)"),
    KnownUse(1900, 1900, UDP, "SSDP / UPnP discovery (Windows SSDPSRV, media servers, smart TVs)"),
    KnownUse(2049, 2049, BOTH, "NFS: served by the kernel, so no process owns the socket even for root"),
    KnownUse(2375, 2376, TCP, "Docker Engine API (2375 plain, 2376 TLS)"),
    KnownUse(2379, 2380, TCP, "etcd (2379 clients, 2380 peers): Kubernetes control planes"),
    KnownUse(3000, 3000, TCP, "development servers: Node.js/Express, Next.js, create-react-app, Rails; "
                              "Grafana"),
    KnownUse(3000, 3000, TCP, NODE_LOCALHOST),
    KnownUse(3128, 3128, TCP, "Squid and other HTTP proxies"),
    KnownUse(3268, 3269, TCP, "Active Directory global catalog (3269 over TLS)"),
    KnownUse(3306, 3306, TCP, "MySQL / MariaDB"),
    KnownUse(3389, 3389, BOTH, "Windows Remote Desktop (RDP): TermService in svchost.exe"),
    KnownUse(3478, 3478, BOTH, "STUN / TURN: coturn, WebRTC, Microsoft Teams, Zoom"),
    KnownUse(4200, 4200, TCP, "Angular development server (ng serve)"),
    KnownUse(4369, 4369, TCP, "Erlang port mapper (epmd): RabbitMQ, CouchDB, Elixir nodes"),
    KnownUse(4500, 4500, UDP, "IPsec NAT traversal: strongSwan, Windows IKEEXT, VPN gateways"),
    KnownUse(5000, 5000, TCP, AIRPLAY),
    KnownUse(5000, 5000, TCP, "Flask development server; Docker registry; Synology DSM"),
    KnownUse(5037, 5037, TCP, "Android Debug Bridge server (adb)"),
    KnownUse(5060, 5061, BOTH, "SIP (VoIP): Asterisk, FreeSWITCH, phones (5061 over TLS)"),
    KnownUse(5173, 5173, TCP, "Vite development server"),
    KnownUse(5173, 5173, TCP, NODE_LOCALHOST),
    KnownUse(5222, 5222, TCP, "XMPP clients: ejabberd, Prosody"),
    KnownUse(5353, 5353, UDP, "mDNS / Bonjour (mDNSResponder, avahi-daemon, browsers)"),
    KnownUse(5355, 5355, BOTH, "LLMNR name resolution: Windows, and systemd-resolved on Linux (LLMNR=no in "
                               "/etc/systemd/resolved.conf turns it off)"),
    KnownUse(5432, 5432, TCP, "PostgreSQL"),
    KnownUse(5601, 5601, TCP, "Kibana / OpenSearch Dashboards"),
    KnownUse(5672, 5672, TCP, "AMQP: RabbitMQ"),
    KnownUse(5900, 5900, TCP, "VNC; macOS Screen Sharing"),
    KnownUse(5938, 5938, BOTH, "TeamViewer"),
    KnownUse(5985, 5986, TCP, "Windows Remote Management, WinRM (5985 HTTP, 5986 HTTPS)"),
    KnownUse(5985, 5986, TCP, HTTP_SYS),
    KnownUse(6000, 6063, TCP, "X11 displays (6000 is :0); ssh -X forwards start at 6010"),
    KnownUse(6379, 6379, TCP, "Redis"),
    KnownUse(6443, 6443, TCP, "Kubernetes API server"),
    KnownUse(7000, 7000, TCP, AIRPLAY),
    KnownUse(7000, 7000, TCP, "Cassandra inter-node traffic"),
    KnownUse(8000, 8000, TCP, "development servers: Django runserver, python -m http.server, uvicorn"),
    KnownUse(8080, 8080, TCP, "development servers, Tomcat, Jenkins, HTTP proxies; a Docker container's "
                              "published port"),
    KnownUse(8080, 8080, TCP, PORT_FORWARD),
    KnownUse(8086, 8086, TCP, "InfluxDB HTTP API"),
    KnownUse(8443, 8443, TCP, "HTTPS alternate: Tomcat, Kubernetes dashboards, UniFi, appliances"),
    KnownUse(8443, 8443, TCP, PORT_FORWARD),
    KnownUse(8888, 8888, TCP, "Jupyter Notebook"),
    KnownUse(9000, 9000, TCP, "PHP-FPM, SonarQube, MinIO, Portainer"),
    KnownUse(9042, 9042, TCP, "Cassandra / ScyllaDB CQL clients"),
    KnownUse(9090, 9090, TCP, "Prometheus; Cockpit"),
    KnownUse(9092, 9092, TCP, "Apache Kafka"),
    KnownUse(9100, 9100, TCP, "Prometheus node_exporter; raw printing (JetDirect)"),
    KnownUse(9200, 9200, TCP, "Elasticsearch / OpenSearch HTTP API"),
    KnownUse(9229, 9229, TCP, "Node.js inspector (node --inspect)"),
    KnownUse(9300, 9300, TCP, "Elasticsearch / OpenSearch node-to-node transport"),
    KnownUse(9418, 9418, TCP, "git daemon (git://)"),
    KnownUse(10250, 10250, TCP, "Kubernetes kubelet API"),
    KnownUse(11211, 11211, BOTH, "memcached"),
    KnownUse(15672, 15672, TCP, "RabbitMQ management web UI"),
    KnownUse(17500, 17500, BOTH, "Dropbox LAN sync"),
    KnownUse(25565, 25565, TCP, "Minecraft server"),
    KnownUse(27017, 27017, TCP, "MongoDB"),
    KnownUse(32400, 32400, TCP, "Plex Media Server"),
    KnownUse(41641, 41641, UDP, "Tailscale (tailscaled's WireGuard port)"),
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
