"""Where one tool's output ends and another's begins in a paste of several.

People paste `ss -tulnp` and then `netstat -tulnp`, or `netstat -ano` and then `tasklist`, or three
commands with their prompts, as one block. Two kinds of line start a new section:

- a prompt line (`$ ss -tlnp`, `root@web:~# netstat -tlnp`, `[root@web ~]# lsof -i :80`,
  `PS C:\\> Get-NetTCPConnection`, `C:\\Users\\x>netstat -ano`, `generic_x86:/ $ netstat -an`): always;
  the tool it runs, when portcheck knows it, says which formats the section can be in;
- a tool's title or column header (`Active Connections`, `Netid State Recv-Q ...`, `COMMAND PID USER
  ...`) that is not one of the format already being read: `is_header` of each format says whose it is.

This module only recognises such lines; portcheck.parsers.offline cuts the text at them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

from portcheck import parsers

_STRICT_PROMPT = re.compile(
    r"(?:\([^()\s]{1,64}\)\s{1,4})?"  # a virtualenv or conda name before the prompt
    r"(?:PS(?:\s{1,4}[A-Za-z]:\\[^>\n]{0,256}|\s{1,4}[/~][^>\n]{0,256})?>{1,2}"  # PowerShell
    r"|[A-Za-z]:\\[^>\n]{0,256}>"  # cmd.exe
    r"|\[?[\w.-]{1,64}@[\w.-]{1,64}(?:[: ][^\n$#%>\]]{0,256})?\]?\s?[$#%>]"  # user@host:~$, [root@web ~]#
    r"|[\w.-]{1,64}:[~/][^\s$#]{0,256}\s[\w.-]{1,64}[$#]"  # macOS bash: MacBook:~ alice$
    r"|[\w.-]{1,64}:/[^\s$#]{0,256}\s?[$#]"  # Android: generic_x86:/ $
    r")"
)
"""Prompts no tool prints at the start of a line: a section starts here even when the command is
not one portcheck knows (its output is then detected like any text)."""
_LOOSE_PROMPT = re.compile(
    r"(?:\([^()\s]{1,64}\)\s{1,4})?"
    r"(?:(?:ba|z|k|c|tc|da|a)?sh(?:-[0-9.]{1,8})?[$#%]"  # bash-5.1$
    r"|[~/][^\s$#%]{0,256}\s?[$#%]|[\w.-]{1,64}\s?[$#%>]|[$#%❯➜»λ])"  # ~ $, / #, host$, $
    r"(?:\s{1,4}[~/][^\s]{0,256})?(?=\s)"  # oh-my-zsh prints the directory after its arrow
)
"""Prompts that could also begin a sentence (`# Output`, `% of users`): a prompt only when the
command after it runs a tool portcheck reads."""

_POWERSHELL = "powershell"  # the format's name (a tuple starting with the literal would read as an argv)
TOOLS: dict[str, tuple[str, ...]] = {
    "ss": ("ss",),
    "netstat": parsers.ALIASES["netstat"],
    "lsof": ("lsof",),
    "sockstat": ("sockstat",),
    "fstat": ("fstat",),
    "fuser": ("fuser",),
    "tasklist": ("tasklist",),
    "get-nettcpconnection": (_POWERSHELL,),
    "get-netudpendpoint": (_POWERSHELL,),
    "get-process": (_POWERSHELL,),
}
"""A command's program (lower case, without a path or `.exe`) -> the formats its output can be in.
`cat` counts when it reads /proc/net (the `proc` format)."""
_WRAPPERS = frozenset(
    {
        *("sudo", "doas", "env", "time", "command", "nice", "watch", "nsenter"),  # how it runs
        *("busybox", "toybox", "adb", "shell", "docker", "podman", "kubectl", "oc", "exec", "ssh"),  # where
        *("runas", "powershell", "pwsh", "cmd", "c"),  # Windows: `cmd /c netstat -ano`
    }
)
"""Words before the tool that only say where or how it runs (`sudo`, `adb shell`, `docker exec web`)."""
_TARGETED = frozenset({"exec", "ssh"})
"""Wrappers followed by a container or host name."""


class Prompt(NamedTuple):
    command: str
    """What was typed after the prompt (may be empty)."""
    formats: tuple[str, ...] | None
    """The formats the command's output can be in; None when the command runs no tool portcheck reads."""


def prompt(line: str) -> Prompt | None:
    """The prompt a cleaned line starts with, and the command typed after it; None for any other line."""
    strict = _STRICT_PROMPT.match(line)
    if strict is not None:
        command = line[strict.end() :].strip()
        return Prompt(command, tool_formats(command))
    loose = _LOOSE_PROMPT.match(line)
    if loose is None:
        return None
    command = line[loose.end() :].strip()
    formats = tool_formats(command)
    return Prompt(command, formats) if formats is not None else None


def tool_formats(command: str) -> tuple[str, ...] | None:
    """The formats the output of a command line can be in, from the tool its first stage runs
    (`sudo ss -tlnp | grep 80` -> ss); None when it runs none portcheck reads."""
    words = command.split("|", 1)[0].split()[:12]
    argument = target = False  # the next word is an option's argument, or a container or host name
    for index, word in enumerate(words):
        name = word.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower().removesuffix(".exe")
        if name in TOOLS:
            return TOOLS[name]
        if name == "cat":
            return ("proc",) if any("/net/" in arg for arg in words[index + 1 :]) else None
        if name.startswith("-"):
            argument = len(name) == 2 and name != "--"
        elif "=" in name or name in _WRAPPERS:
            target = target or name in _TARGETED
        elif argument or target:
            argument, target = False, target and not argument
        else:
            return None
    return None


def header_formats(line: str) -> frozenset[str]:
    """The formats whose title or column header this cleaned line is (none for any other line)."""
    return frozenset(name for name, is_header in _header_tests() if is_header(line))


@cache
def _header_tests() -> tuple[tuple[str, Callable[[str], bool]], ...]:
    return tuple((name, parsers.load(name).is_header) for name in parsers.FORMATS)
