"""The only place that names an OS. One module per OS (linux, macos, windows, freebsd), each defining
one Platform (portcheck.platforms.base): its plan (which native commands answer "who uses this port?",
in which order, with which argv, environment, parser and encoding), its port-range probes, how it ends
a process, its traits, and how a remote shell names it. The rest of portcheck asks `platform_for(os)`
and walks what it gets, so the same plans run on this machine, through sudo, or on an ssh host.

The OS is sys.platform's. Tests point it elsewhere with the environment variable PORTCHECK_PLATFORM,
read here and nowhere else (it is not a user-facing option: on a real machine the plan must match the
machine).
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

from portcheck.core.errors import InspectError
from portcheck.platforms.base import OS, Platform

PLATFORM_VARIABLE = "PORTCHECK_PLATFORM"
LOCAL_WINDOWS = sys.platform == "win32"  # a plain bool, so the type checker keeps both branches
"""This machine (not the plan's OS) is Windows: no ptys, no Unix sockets, no process sessions. The
process-spawning code (runner, ssh, prompts) asks this rather than sys.platform."""

MODULES: dict[OS, str] = {
    OS.LINUX: "portcheck.platforms.linux",
    OS.MACOS: "portcheck.platforms.macos",
    OS.WINDOWS: "portcheck.platforms.windows",
    OS.FREEBSD: "portcheck.platforms.freebsd",
}
"""The registry. Modules are imported on demand: a query loads this machine's platform only."""


def platform_for(os_name: OS) -> Platform:
    """The OS's platform; an OS with no module is unsupported, never quietly another OS's plan."""
    module = MODULES.get(os_name)
    if module is None:
        raise InspectError(f"portcheck does not support {os_name} yet; `portcheck parse` reads saved output")
    platform: Platform = import_module(module).PLATFORM
    return platform


def platform_for_uname(name: str) -> Platform | None:
    """The platform whose remote POSIX shell prints `name` for `uname -s`."""
    for os_name in MODULES:
        platform = platform_for(os_name)
        if platform.answers_uname(name):
            return platform
    return None


def platform_for_ver(banner: bytes) -> Platform | None:
    """The platform whose cmd.exe prints `banner` for `cmd /c ver`."""
    for os_name in MODULES:
        platform = platform_for(os_name)
        if platform.ver_banner is not None and platform.ver_banner in banner:
            return platform
    return None


def current_os() -> OS:
    """The OS whose plan to use: sys.platform, unless a test set PORTCHECK_PLATFORM."""
    forced = os.environ.get(PLATFORM_VARIABLE)
    if forced:
        try:
            return OS(forced.lower())
        except ValueError:
            raise InspectError(f"{PLATFORM_VARIABLE}={forced!r} is not one of: {', '.join(OS)}") from None
    platform = sys.platform
    if platform.startswith("linux"):
        return OS.LINUX
    if platform == "darwin":
        return OS.MACOS
    if platform in ("win32", "cygwin"):
        return OS.WINDOWS
    if platform.startswith("freebsd"):
        return OS.FREEBSD
    raise InspectError(f"no plan for this OS ({platform}); `portcheck parse` reads saved tool output")


def is_forced() -> bool:
    """True when tests pointed the platform elsewhere: the machine's own facts (code page, elevation)
    then do not describe the plan's OS."""
    return bool(os.environ.get(PLATFORM_VARIABLE))


def oem_encoding() -> str | None:
    """The console's OEM code page on real Windows (what netstat and tasklist print in), else None."""
    if not LOCAL_WINDOWS or is_forced():
        return None
    import ctypes

    return f"cp{ctypes.windll.kernel32.GetOEMCP()}"  # type: ignore[attr-defined]


def is_elevated() -> bool:
    """Root on POSIX; an elevated (administrator) token on Windows. False under a forced platform: the
    plan then simulates another machine, whose privileges are not this process's."""
    if is_forced():
        return False
    if LOCAL_WINDOWS:
        import ctypes

        try:
            return bool(ctypes.windll.shell32.IsUserAnAdmin())  # type: ignore[attr-defined]
        except OSError:
            return False
    return os.geteuid() == 0
