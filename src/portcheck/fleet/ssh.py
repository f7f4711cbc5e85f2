"""One remote machine reached through the system OpenSSH client.

Authentication is entirely OpenSSH's: keys, the agent, ~/.ssh/config (or `--ssh-config`), known_hosts,
jump hosts. portcheck never reads a key or a password file; it only runs `ssh` with an argv list (no
local shell) and reads what it prints.

Each host gets ONE authenticated connection: a ControlMaster started with `ssh -M -N -f`, whose
control socket lives in a private (0700) temporary directory. Every later command for the host (the
OS probe, then the plan's tools) is a multiplexed `ssh -o ControlMaster=no` client that reuses it, so
a host asks for a password at most once and each command costs a channel, not a handshake. The master
is told to exit (`ssh -O exit`) when the host is done; `ControlPersist` makes an orphaned master (a
killed portcheck) exit on its own after a while. A connection kept open across a wait of unknown
length (a person's y/N) is `hold`-ed by one idle client session, so the idle timer never starts.

Without a terminal every ssh runs with `BatchMode=yes`: a script never hangs on a prompt, and a host
that would need one fails with a reason (see `classify`). With a terminal, portcheck.fleet.sshauth relays
the prompts to the person.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from portcheck.core.errors import InspectError, UsageError, excerpt, quote
from portcheck.core.strenum import StrEnum
from portcheck.live.runner import Problem, ToolError, ToolRun, run
from portcheck.platforms import LOCAL_WINDOWS

PERSIST_SECONDS = 120
"""How long a master with no client stays up: long enough for a host whose query waits for a free
worker after its interactive login, short enough that an orphan from a killed portcheck goes away."""
MASTER_GRACE = 2.0
"""Extra seconds the runner gives a connecting ssh beyond ConnectTimeout, so ssh's own (clearer)
timeout message normally wins over the runner's kill."""
QUIET_SESSION = (
    *("-o", "ClearAllForwardings=yes", "-o", "ForwardAgent=no", "-o", "ForwardX11=no"),
    *("-o", "PermitLocalCommand=no"),
)
"""A query needs no forwarded ports, agent or display, and no LocalCommand (run through a local
shell), whatever ~/.ssh/config says for interactive use of the host; authentication settings
(keys, agent, ProxyJump, known_hosts) are left exactly as configured."""
SSH_FAILURE = 255
"""ssh's exit status for its own errors (a remote command's status is passed through otherwise)."""

_HOST = re.compile(r"[A-Za-z0-9_.%:-]+")
"""Host names, IPv4 and IPv6 addresses (with a %zone), ssh_config aliases."""
_USER = re.compile(r"[A-Za-z0-9_.@\\-]+")
"""POSIX user names, plus `user@domain` and `DOMAIN\\user` for Windows OpenSSH."""


class Reason(StrEnum):
    """Why a host could not be inspected: the summary line groups hosts by these."""

    REFUSED = "connection refused"
    TIMEOUT = "timed out"
    AUTH = "authentication failed"
    HOST_KEY_UNKNOWN = "host key not known"
    HOST_KEY_CHANGED = "host key changed"
    UNKNOWN_HOST = "host name not found"
    UNREACHABLE = "host unreachable"
    CLOSED = "connection closed"
    UNSUPPORTED = "unsupported OS"
    NOT_INSPECTED = "no tool answered"
    SSH = "ssh failed"
    INTERNAL = "internal error"


PROMPTABLE = frozenset({Reason.AUTH, Reason.HOST_KEY_UNKNOWN})
"""Failures in BatchMode that a person at a terminal may fix by answering ssh's prompt."""

_CLUES: tuple[tuple[str, Reason], ...] = (
    # Order matters: a changed key also says "Host key verification failed".
    ("remote host identification has changed", Reason.HOST_KEY_CHANGED),
    ("host key verification failed", Reason.HOST_KEY_UNKNOWN),
    ("permission denied", Reason.AUTH),
    ("too many authentication failures", Reason.AUTH),
    ("no more authentication methods", Reason.AUTH),
    ("incorrect passphrase", Reason.AUTH),
    ("connection refused", Reason.REFUSED),
    ("timed out", Reason.TIMEOUT),
    ("could not resolve hostname", Reason.UNKNOWN_HOST),
    ("no route to host", Reason.UNREACHABLE),
    ("network is unreachable", Reason.UNREACHABLE),
    ("host is down", Reason.UNREACHABLE),
    ("connection closed", Reason.CLOSED),
    ("connection reset", Reason.CLOSED),
    ("closed by remote host", Reason.CLOSED),
)


class HostError(InspectError):
    """The host itself could not be reached or logged into: no other tool of its plan would fare better."""

    def __init__(self, reason: Reason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)

    @property
    def promptable(self) -> bool:
        return self.reason in PROMPTABLE


def classify(text: str) -> HostError:
    """ssh's complaint (its stderr, or a prompt transcript) as a reason and the one line that says it."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for clue, reason in _CLUES:
        for line in lines:
            if clue in line.lower():
                return HostError(reason, excerpt(line, 160))
    return HostError(Reason.SSH, excerpt(lines[0], 160) if lines else "ssh exited without a message")


@dataclass(frozen=True)
class Target:
    """A host as the user named it: `[user@]host[:port]`, `[v6addr]:port`, or an ssh_config alias."""

    label: str
    """Exactly what the user typed: the `host` field of every row and every message."""
    host: str
    user: str | None = None
    port: int | None = None


def _bad_target(text: str, why: str) -> UsageError:
    return UsageError(f"invalid host {quote(text)}: {why}")


def parse_target(text: str) -> Target:
    """Validate before anything runs: the host goes into ssh's argv, so it must never look like an
    option (`-oProxyCommand=...`) or carry characters a shell or ssh's %-expansion would act on."""
    label = text.strip()
    user, at, rest = label.rpartition("@")
    port_text: str | None = None
    if rest.startswith("["):
        host, bracket, tail = rest[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise _bad_target(text, "expected [address]:port")
        port_text = tail[1:] if tail else None
    elif rest.count(":") == 1:
        host, _, port_text = rest.partition(":")
    else:
        host = rest  # a name, or a bare IPv6 address (no port)
    if not host or host.startswith("-") or not _HOST.fullmatch(host):
        raise _bad_target(text, "expected [user@]host[:port]")
    if at and (not user or user.startswith("-") or not _USER.fullmatch(user)):
        raise _bad_target(text, "the user name has characters ssh would not accept")
    port = None
    if port_text is not None:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) <= 65535:
            raise _bad_target(text, "the ssh port must be a number 1-65535")
        port = int(port_text)
    return Target(label, host, user or None, port)


@dataclass(frozen=True)
class Settings:
    """How every ssh of one fleet query is run."""

    timeout: float
    """Seconds for the connection (ConnectTimeout) and, separately, for each remote command."""
    config: str | None = None
    """`ssh -F FILE` instead of ~/.ssh/config (and /etc/ssh/ssh_config)."""
    multiplex: bool = not LOCAL_WINDOWS
    """ControlMaster needs Unix sockets: Windows' OpenSSH client has none, so each command connects."""

    @property
    def connect_timeout(self) -> int:
        return max(1, math.ceil(self.timeout))


class ControlDir:
    """A private directory for the control sockets. Socket paths are short on purpose: a Unix socket
    path is limited to ~104 bytes, and macOS's $TMPDIR alone takes half of that."""

    def __init__(self) -> None:
        base = tempfile.gettempdir()
        if (len(base) > 40 or any(c.isspace() for c in base)) and os.path.isdir("/tmp"):
            base = "/tmp"  # a space would also split ControlPath=... as ssh reads -o values
        self.path = tempfile.mkdtemp(prefix="portcheck-ssh-", dir=base)  # mode 0700

    def socket(self, index: int) -> str:
        return os.path.join(self.path, str(index))

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class Connection:
    """ssh argv building and the connection's life: open (batch or relayed prompts), run, close."""

    def __init__(self, target: Target, settings: Settings, control_path: str | None) -> None:
        self.target = target
        self.settings = settings
        self.control_path = control_path if settings.multiplex else None
        self.open = False
        self._keeper: subprocess.Popen[bytes] | None = None

    def argv(self, *options: str) -> list[str]:
        """`ssh [-F cfg] -o ... [-p port] [-l user] OPTIONS --`; the caller appends host and command."""
        argv = ["ssh"]
        if self.settings.config:
            argv += ["-F", self.settings.config]
        argv += ["-o", f"ConnectTimeout={self.settings.connect_timeout}", *QUIET_SESSION]
        if self.control_path:
            argv += ["-o", "ControlPath=" + self.control_path.replace("%", "%%")]
        if self.target.port is not None:
            argv += ["-p", str(self.target.port)]
        if self.target.user is not None:
            argv += ["-l", self.target.user]
        return [*argv, *options]

    def master_argv(self, *, batch: bool) -> list[str]:
        """Log in, then go to the background as the control master, running no command."""
        options = ["-o", "ControlMaster=yes", "-o", f"ControlPersist={PERSIST_SECONDS}", "-N", "-f"]
        if batch:
            options = ["-o", "BatchMode=yes", *options]
        return [*self.argv(*options), "--", self.target.host]

    def open_batch(self) -> None:
        """Log in without any prompt; HostError says why not (PROMPTABLE ones may retry interactively)."""
        if not self.control_path:
            return  # no master to start: the first command logs in itself
        timeout = self.settings.timeout + MASTER_GRACE
        try:
            result = run(self.master_argv(batch=True), timeout=timeout, leaves_daemon=True)
        except ToolError as error:
            if error.problem is Problem.TIMEOUT:
                raise HostError(Reason.TIMEOUT, f"no answer within {timeout:g} s") from None
            raise HostError(Reason.SSH, str(error)) from None
        if result.status != 0:
            raise classify(result.errors.decode("utf-8", "replace"))
        self.open = True

    def run(self, command: str, timeout: float) -> ToolRun:
        """Run one remote command line (already quoted for the remote shell) over the master.
        BatchMode: should the master have gone, the client fails instead of prompting."""
        argv = [
            *self.argv("-o", "ControlMaster=no", "-o", "BatchMode=yes", "-T"),
            "--",
            self.target.host,
            command,
        ]
        try:
            result = run(argv, timeout=timeout)
        except ToolError as error:
            if error.problem is Problem.TIMEOUT:
                raise  # the remote tool took too long: the plan's next tool may not
            raise HostError(Reason.SSH, str(error)) from None
        if result.status == SSH_FAILURE:
            raise classify(result.errors.decode("utf-8", "replace"))
        return result

    def hold(self, command: str) -> None:
        """Keep the master up however long portcheck waits (a person reading a kill confirmation):
        one idle client session runs `command`, a remote program that reads its stdin until EOF
        (`cat`), so ControlPersist's idle timer never starts. The stdin is a pipe from portcheck:
        when portcheck ends, even killed, the pipe closes, the remote command exits, and the master
        goes PERSIST_SECONDS later as usual."""
        if not self.open or not self.control_path or self._keeper is not None:
            return
        argv = [
            *self.argv("-o", "ControlMaster=no", "-o", "BatchMode=yes", "-T"),
            "--",
            self.target.host,
            command,
        ]
        with contextlib.suppress(OSError):
            self._keeper = subprocess.Popen(
                argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )

    def _release(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is None:
            return
        with contextlib.suppress(OSError):
            if keeper.stdin is not None:
                keeper.stdin.close()
        try:
            keeper.wait(timeout=self.settings.timeout)
        except subprocess.TimeoutExpired:
            keeper.kill()
            keeper.wait()

    def close(self) -> None:
        """Tell the master to exit, if its control socket is there: also after an interruption, when
        the login was cut short after ssh had already gone to the background as the master (`-f`
        leaves the process group the runner ends, and would otherwise live ControlPersist's two
        minutes). Best effort: ControlPersist ends it anyway."""
        self._release()
        self.open = False
        if not self.control_path or not os.path.exists(self.control_path):
            return
        with contextlib.suppress(ToolError):
            run([*self.argv("-O", "exit"), "--", self.target.host], timeout=self.settings.timeout)
