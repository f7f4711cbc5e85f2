"""One module per native output format; each exposes NAME, parse(lines, ctx) and sniff(sample).

Modules are imported on demand: `--from ss` loads one parser, detection loads them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from portcheck.core.errors import UsageError
from portcheck.parsers.common import Parser

FORMATS: dict[str, str] = {
    "ss": "portcheck.parsers.ss",
    "proc": "portcheck.parsers.proc_net",
    "netstat-linux": "portcheck.parsers.netstat_linux",
    "lsof": "portcheck.parsers.lsof",
    "netstat-bsd": "portcheck.parsers.netstat_bsd",
    "sockstat": "portcheck.parsers.sockstat",
    "netstat-windows": "portcheck.parsers.windows.netstat",
    "tasklist": "portcheck.parsers.windows.tasklist",
    "powershell": "portcheck.parsers.windows.powershell",
    "fuser": "portcheck.parsers.fuser",
    "netstat-solaris": "portcheck.parsers.netstat_solaris",
    "fstat": "portcheck.parsers.fstat",
}
"""Format name (as `--from` takes it and the `source` field shows it) -> module. Detection tries them in
this order, so a format whose rows are a subset of another's shape comes later."""

READ_WITH: dict[str, str] = {"tasklist": "netstat-windows"}
"""Formats whose pastes another format's parser reads whole. A customer mails `tasklist` and
`netstat -ano` together, in either order, and detection sees only the start of the text: text that
starts as a tasklist is read by the Windows netstat parser, which reads tasklist lines too and names
its rows from them. (The tasklist parser itself reads tasklist output alone: the live query's PID
names.)"""

WINDOWS_FORMATS = frozenset({"netstat-windows", "tasklist", "powershell"})
"""Formats only Windows prints. Their PIDs name no process of a Unix tool's rows pasted alongside (and
the reverse): PID names cross between sections of one paste only within the same kind of system."""

ALIASES: dict[str, tuple[str, ...]] = {
    "netstat": ("netstat-linux", "netstat-bsd", "netstat-windows", "netstat-solaris"),
}
"""A `--from` word that covers several formats (`netstat` on any OS): detection chooses among them."""


def load(name: str) -> Parser:
    """The module of format `name`: its NAME, sniff and parse."""
    return cast(Parser, import_module(FORMATS[name]))


def reader(name: str) -> Parser:
    """The parser that reads a whole input detected (or forced) as format `name`."""
    return load(READ_WITH.get(name, name))


def resolve(name: str) -> tuple[str, ...]:
    """The formats a `--from` word stands for; a UsageError naming the choices for an unknown word."""
    key = name.lower()
    if key in FORMATS:
        return (key,)
    if key in ALIASES:
        return ALIASES[key]
    choices = ", ".join(sorted({*FORMATS, *ALIASES}))
    raise UsageError(f"unknown format {name!r}; choose one of: {choices}")
