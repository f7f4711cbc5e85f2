"""Logging in to a host that needs a person: ssh's own prompts (password, key passphrase, the unknown
host key's yes/no, a one-time code) shown on the terminal, the answer typed there handed to ssh.

ssh asks on its terminal, so it runs on a pty (pexpect.spawn); portcheck reads what ssh writes, shows
it (control characters escaped: a server's banner is untrusted text), asks the person the same question
on /dev/tty (secrets without echo, through getpass) and writes the answer to ssh. The answer is never
stored, logged or put in argv or the environment. Only one host prompts at a time (portcheck.fleet.fleet
calls this from one thread), so prompts never interleave.

The timeout counts ssh's silences, never the person's thinking time.
"""

from __future__ import annotations

import getpass
import re
import signal
import sys
from collections.abc import Callable
from typing import Protocol

from portcheck.core.escape import escape_controls
from portcheck.fleet.ssh import Connection, HostError, Reason, classify

_HOST_KEY = re.compile(rb"\(yes/no(?:/\[fingerprint\])?\)\? ?")
_SECRET = re.compile(rb"(?i)(?:password|passphrase|pin|verification code|one-time|otp)[^\r\n]*: ?")


class Asker(Protocol):
    def __call__(self, prompt: str, *, secret: bool) -> str: ...


Teller = Callable[[str], None]
"""Shows one line of what ssh said (already escaped) where the person answers: the terminal."""


def ask_on_terminal(prompt: str, *, secret: bool) -> str:
    """Ask on /dev/tty: stdin may be a pipe (`--hosts -`) and stdout carries only data."""
    if secret:
        return getpass.getpass(prompt)
    with open("/dev/tty", "w", encoding="utf-8", errors="replace") as out:
        out.write(prompt)
    with open("/dev/tty", encoding="utf-8", errors="replace") as tty:
        answer = tty.readline()
    if not answer:
        raise EOFError
    return answer.rstrip("\r\n")


def tell_on_terminal(line: str) -> None:
    """What ssh said before its question (the host key's fingerprint): shown where the question is
    asked, even when stderr goes to a file."""
    try:
        with open("/dev/tty", "w", encoding="utf-8", errors="replace") as tty:
            tty.write(f"portcheck: {line}\n")
    except OSError:
        sys.stderr.write(f"portcheck: {line}\n")


def _ignore_hangup() -> None:
    """ssh here leads the pty's session. After logging in, `-f` forks the master, which leaves the
    session with setsid() a moment later; the parent exiting first would SIGHUP it on the way out."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


def log_in(connection: Connection, ask: Asker, tell: Teller) -> None:
    """Start the host's control master with ssh's prompts relayed; HostError says why it failed."""
    import pexpect

    argv = connection.master_argv(batch=False)
    label = connection.target.label
    timeout = connection.settings.timeout
    child = pexpect.spawn(argv[0], argv[1:], timeout=timeout, echo=False, preexec_fn=_ignore_hangup)
    said: list[bytes] = []
    try:
        while True:
            try:
                found = child.expect([_HOST_KEY, _SECRET, pexpect.EOF], timeout=timeout)
            except pexpect.TIMEOUT:
                raise HostError(Reason.TIMEOUT, f"ssh said nothing for {timeout:g} s") from None
            if found == 2:
                said.append(child.before or b"")
                break
            text = (child.before or b"") + (child.after or b"")
            said.append(text)
            lines = text.decode("utf-8", "replace").replace("\r", "").split("\n")
            for line in lines[:-1]:
                if line.strip():
                    tell(escape_controls(f"{label}: {line}"))
            prompt = f"{escape_controls(label)}: {escape_controls(lines[-1])}"
            try:
                child.sendline(ask(prompt, secret=found == 1))
            except EOFError:
                raise HostError(Reason.AUTH, "no answer to ssh's question") from None
    finally:
        child.close(force=True)
    if child.exitstatus != 0:
        transcript = b"".join(said).decode("utf-8", "replace")
        failure = classify(transcript)
        if failure.reason is Reason.SSH and "(yes/no" in transcript:
            failure = HostError(Reason.HOST_KEY_UNKNOWN, "the host key was not accepted")
        raise failure
    connection.open = True
