"""Readers of what each OS says about the processes behind sockets (issue 16): pure functions from a
probe's reply to `portcheck.core.owners.ProcessFacts` (or containers), like the format parsers but
not formats a person pastes, so they are not registered with the format detection.

linux       /proc/PID/{stat,cmdline,cgroup} and /proc/stat's btime, read here or sent back hex-encoded
            by one remote script
bsd         `ps -o pid=,lstart=,command=` (macOS, FreeBSD) and `launchctl list` (macOS)
windows     Win32_Process through PowerShell (or wmic), `tasklist /svc`, `netsh http show servicestate`
containers  `docker ps` / `podman ps`: ids, names, images and published ports

The platform modules say which reader reads which command (portcheck.platforms.base.OwnerProbe).
"""
