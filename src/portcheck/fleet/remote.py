"""A plan's commands on another machine: what the remote is (OS, shell, privilege), how each argv
becomes a command line for its shell, and the Executor that runs them over a portcheck.fleet.ssh.Connection.

Locally nothing goes through a shell (ssh gets an argv list). The remote side is different: sshd hands
the command to the user's login shell as ONE string. Every word is therefore quoted for that shell:
shlex.quote for POSIX shells (sh, bash, zsh, fish and csh all read single quotes literally for the
characters portcheck sends), and for Windows cmd.exe only words from a safe alphabet, double-quoted
when they hold spaces; anything else is refused rather than escaped. The port is an int by then.

On POSIX remotes each tool runs as `env PATH=<system dirs> LC_ALL=C tool ...`: a non-interactive ssh
session often has no /usr/sbin in PATH (Debian's sshd default for users), and `env` works whatever the
login shell (csh has no `VAR=value command` syntax).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from portcheck.core.strenum import StrEnum
from portcheck.fleet.ssh import Connection, HostError, Reason
from portcheck.live.runner import Problem, ToolError, ToolRun
from portcheck.platforms import platform_for, platform_for_uname, platform_for_ver
from portcheck.platforms.base import OS

REMOTE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POSIX_PROBE = "uname -s && id -u"
"""One round trip: the kernel name and whether we are root. A fixed string, no user input in it."""
WINDOWS_PROBE = "cmd /c ver"
WINDOWS_ELEVATED = ("whoami", "/groups")
_ELEVATED_LEVELS = ("S-1-16-12288", "S-1-16-16384")
"""Mandatory labels of an elevated token (High) and of SYSTEM: netstat -b works for both."""
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]*")
_CMD_PLAIN = re.compile(r"[A-Za-z0-9_./:=,+-]+")
_CMD_QUOTABLE = re.compile(r"[A-Za-z0-9_./:=,+\- ]+")
_EXIT_NOT_FOUND = 127
"""`env` (and every POSIX shell) exits 127 when the command does not exist."""


class Shell(StrEnum):
    POSIX = "posix"
    CMD = "cmd"


def cmd_quote(word: str) -> str:
    """A word for cmd.exe: plain, or double-quoted when it holds spaces. `"`, `%`, `^`, `&`, `|`, `<`,
    `>`, `!` and control characters have meanings cmd cannot be made to forget reliably: refused."""
    if _CMD_PLAIN.fullmatch(word):
        return word
    if _CMD_QUOTABLE.fullmatch(word):
        return f'"{word}"'
    raise ValueError(f"cannot pass {word!r} safely to cmd.exe")


def cmd_line(argv: Sequence[str]) -> str:
    return " ".join(cmd_quote(word) for word in argv)


def command_line(argv: Sequence[str], env: Mapping[str, str] | None, shell: Shell, os_name: OS) -> str:
    """The string the remote shell will run for this argv."""
    if shell is Shell.CMD:
        return cmd_line(argv)  # cmd.exe's tools need no environment
    settings = dict(env or {})
    if platform_for(os_name).traits.posix:
        settings = {"PATH": REMOTE_PATH, **settings}
    for name in settings:
        if not _ENV_NAME.fullmatch(name):
            raise ValueError(f"not an environment variable name: {name!r}")
    words = ["env", *(f"{k}={v}" for k, v in settings.items()), *argv] if settings else list(argv)
    return " ".join(shlex.quote(word) for word in words)


@dataclass(frozen=True)
class RemoteSystem:
    os: OS
    shell: Shell
    privileged: bool


def detect(connection: Connection, timeout: float) -> RemoteSystem:
    """Ask the remote what it is: `uname -s` (every POSIX shell, and Git/Cygwin shells on Windows),
    else `cmd /c ver` (Windows OpenSSH, whose shell is cmd.exe or PowerShell). Each platform says
    which answer is its own (portcheck.platforms.base.Platform: unames, ver_banner)."""
    probe = connection.run(POSIX_PROBE, timeout)
    # The answer is the LAST two lines: a chatty rc file may print before the command runs.
    lines = [line.strip() for line in probe.output.decode("utf-8", "replace").splitlines() if line.strip()]
    if probe.status == 0 and len(lines) >= 2:
        name = lines[-2]
        found = platform_for_uname(name)
        if found is None:
            raise HostError(Reason.UNSUPPORTED, f"portcheck has no plan for {name!r} (uname -s)")
        # uid 0 means root only where the OS has uids: a POSIX shell on Windows says nothing of elevation.
        return RemoteSystem(found.os, Shell.POSIX, privileged=found.traits.posix and lines[-1] == "0")
    version = connection.run(WINDOWS_PROBE, timeout)
    found = platform_for_ver(bytes(version.output)) if version.status == 0 else None
    if found is not None:
        return RemoteSystem(found.os, Shell.CMD, _elevated(connection, timeout))
    said = probe.error_line() or version.error_line() or "no output"
    raise HostError(Reason.UNSUPPORTED, f"cannot tell the OS: uname -s and cmd /c ver failed ({said})")


def _elevated(connection: Connection, timeout: float) -> bool:
    """An administrator's ssh session on Windows has an elevated token: then netstat -b works."""
    try:
        groups = connection.run(cmd_line(WINDOWS_ELEVATED), timeout)
    except ToolError:
        return False
    return groups.status == 0 and any(level.encode() in groups.output for level in _ELEVATED_LEVELS)


class SSHExecutor:
    """The query engine's Executor for a remote host: the plan's argv, quoted for the remote shell."""

    local = False
    user = None
    """Unknown; the hints for a host do not need it (they name no user)."""

    def __init__(self, connection: Connection, system: RemoteSystem) -> None:
        self.connection = connection
        self.system = system
        self.privileged = system.privileged
        self._names: dict[str, str | None] = {}
        """uid -> the host's name for it (None: it has none), kept for the connection's life: kill's
        re-checks before each signal ask no getent again."""

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        """One `getent passwd` for the uids not asked before (macOS and Windows have no getent: their
        tools print names already, or no users)."""
        new = sorted((u for u in uids if u not in self._names), key=int)
        if new and platform_for(self.system.os).traits.getent:
            try:
                result = self.run(["getent", "passwd", *new], timeout=timeout)
            except (ToolError, HostError):
                return {}  # asked again next time
            self._names.update(dict.fromkeys(new))
            self._names.update(_passwd_entries(result.output.decode("utf-8", "replace").splitlines()))
        return {uid: name for uid in uids if (name := self._names.get(uid)) is not None}

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        tool = argv[0].rsplit("/", 1)[-1]
        line = command_line(argv, env, self.system.shell, self.system.os)
        try:
            result = self.connection.run(line, timeout)
        except ToolError as error:  # timed out: keep the tool's name for the plan's report
            raise ToolError(tool, error.problem, error.detail) from None
        if self.system.shell is Shell.POSIX and result.status == _EXIT_NOT_FOUND:
            raise ToolError(tool, Problem.MISSING, f"not found on the host in {REMOTE_PATH}")
        return ToolRun(tuple(argv), result.status, result.output, result.errors, result.seconds)


def _passwd_entries(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """(uid, name) from `getent passwd` lines (`name:x:uid:gid:...`)."""
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[2].isdecimal():
            yield fields[2], fields[0]
