"""`--sudo`: the plan's commands run through sudo, so ss, netstat and lsof see every user's processes.

Rules (SECURITY.md): sudo and every tool are resolved to absolute paths in the system directories
(runner.SYSTEM_DIRS), never from PATH, so a binary planted in a user-writable directory is never run
as root. The password is asked with getpass (not echoed), written to sudo's own prompt on a pty and
dropped: it never appears in argv, the environment, a log or an exception. Without a terminal (a
script, cron) sudo runs with `-n`, which fails at once instead of waiting for a password nobody will
type.

Only here is a pty needed: sudo reads the password from a terminal. Everything else runs on pipes.
"""

from __future__ import annotations

import getpass
import os
import signal
import time
from collections.abc import Callable, Collection, Mapping, Sequence

from portcheck.core.errors import InspectError
from portcheck.live import runner
from portcheck.live.executor import local_user_names
from portcheck.live.runner import Problem, ToolError, ToolRun

PROMPT = "[portcheck-sudo-password]"
"""Given to `sudo -p`: a marker portcheck recognises, never shown to the user (getpass asks instead)."""
_PROMPT = PROMPT.encode()
_READ_SIZE = 65536
AUTH_DELAY = 5.0
"""sudo waits about two seconds after a wrong password before it asks again."""

PasswordAsker = Callable[[str], str]


class SudoError(InspectError):
    """sudo itself refused (wrong password, no terminal, not allowed): every other step would be refused
    the same way, so the plan stops here with exit 3."""


def has_terminal() -> bool:
    """True when a person can be asked for a password (a controlling terminal exists)."""
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _system_path(name: str) -> str | None:
    return runner.which(name, system_only=True)


def _where() -> str:
    return ", ".join(runner.SYSTEM_DIRS)


def _sudo_complaint(text: str) -> str | None:
    """sudo's own refusal in its output (`sudo: a password is required`), as opposed to the tool's."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("sudo:") or "not in the sudoers" in stripped or "not allowed to" in stripped:
            return stripped
    return None


class _Secret:
    """A password held for a while: its repr, and so every traceback and debugger view of a frame that
    holds it, shows nothing of it."""

    __slots__ = ("value",)

    def __init__(self, value: str) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "<password>"


class SudoExecutor:
    """Runs each command as `sudo -- /abs/tool args`; asks for the password only when sudo does.

    `keep_password` (for `--watch --sudo`): sudo keeps its ticket per terminal, and every run here gets
    a new pseudo-terminal, so sudo would ask again at every refresh. The password sudo accepted is then
    kept in this object (in memory only) and typed into sudo's later prompts, until the object is
    dropped; a password sudo refused is never kept."""

    local = True
    privileged = True
    user = "root"

    def __init__(
        self, *, ask: PasswordAsker | None = None, terminal: bool | None = None, keep_password: bool = False
    ) -> None:
        self._ask = ask or getpass.getpass
        self._terminal = has_terminal() if terminal is None else terminal
        self._keep = keep_password
        self._kept: _Secret | None = None

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        return local_user_names(uids)  # the tools run here, as root: this machine's names

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        tool = os.path.basename(argv[0])
        sudo = _system_path("sudo")
        if sudo is None:
            raise SudoError(f"--sudo: sudo is not installed in the system directories ({_where()})")
        path = _system_path(argv[0])
        if path is None:
            raise ToolError(tool, Problem.MISSING, f"--sudo runs only tools from {_where()}")
        command = [path, *argv[1:]]
        if not self._terminal:
            return self._run_batch(sudo, command, timeout, env)
        return self._run_interactive(sudo, command, timeout, env)

    def _run_batch(
        self, sudo: str, command: list[str], timeout: float, env: Mapping[str, str] | None
    ) -> ToolRun:
        result = runner.run([sudo, "-n", "--", *command], timeout=timeout, env=env)
        complaint = _sudo_complaint(result.errors.decode("utf-8", "replace"))
        if result.status != 0 and complaint is not None:
            if "password is required" in complaint or "terminal is required" in complaint:
                raise SudoError(
                    "--sudo: sudo needs a password and there is no terminal to ask for it; run portcheck "
                    "from a terminal, or allow these tools without a password in sudoers"
                )
            raise SudoError(f"--sudo refused: {complaint}")
        return ToolRun(tuple(command), result.status, result.output, result.errors, result.seconds)

    def _run_interactive(
        self, sudo: str, command: list[str], timeout: float, env: Mapping[str, str] | None
    ) -> ToolRun:
        """sudo on a pty (it asks for the password there). The output is read in chunks up to the
        runner's MAX_OUTPUT, as on pipes: a pty has no other bound."""
        import pexpect

        tool = os.path.basename(command[0])
        full_env = {**os.environ, **(env or {})}
        started = time.perf_counter()
        child = pexpect.spawn(sudo, ["-p", PROMPT, "--", *command], env=full_env, timeout=timeout, echo=False)
        output = bytearray()
        secret: _Secret | None = None
        deadline = time.monotonic() + timeout
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise pexpect.TIMEOUT("deadline")
                try:
                    output += child.read_nonblocking(_READ_SIZE, timeout=remaining)
                except pexpect.EOF:
                    break
                if len(output) > runner.MAX_OUTPUT:
                    detail = f"more than {runner.MAX_OUTPUT // 2**20} MiB of output; stopped"
                    raise ToolError(tool, Problem.UNREADABLE, detail)
                if output.endswith(_PROMPT):  # sudo waits for an answer: the prompt is the last thing
                    if secret is not None:
                        self._kept = None
                        raise SudoError("--sudo: wrong password (sudo refused it)")
                    output.clear()  # what came before the prompt was sudo's, not the tool's
                    secret = self._kept or _Secret(
                        self._ask(f"[sudo] password for {getpass.getuser()} (portcheck --sudo): ")
                    )
                    child.sendline(secret.value)
                    deadline = time.monotonic() + timeout + AUTH_DELAY
            if secret is not None and self._keep:
                self._kept = secret  # sudo accepted it: it did not ask again
        except pexpect.TIMEOUT:
            if child.isalive():
                child.kill(signal.SIGTERM)  # sudo passes it on to the command it started as root
            raise ToolError(tool, Problem.TIMEOUT, f"no answer within {timeout:g} s; stopped") from None
        finally:
            child.close(force=True)
        status = child.exitstatus if child.exitstatus is not None else -(child.signalstatus or 0)
        complaint = _sudo_complaint(output.decode("utf-8", "replace")) if status != 0 else None
        if complaint is not None:
            raise SudoError(f"--sudo refused: {complaint}")
        return ToolRun(tuple(command), status, output, b"", time.perf_counter() - started)
