"""One module per native output format; each exposes NAME, parse(lines, ctx) and sniff(sample).

Modules are imported on demand: `--from ss` loads one parser, detection loads them all.
"""

from __future__ import annotations

from importlib import import_module
from typing import cast

from portcheck.errors import UsageError
from portcheck.parsers.common import Parser

FORMATS: dict[str, str] = {
    "ss": "portcheck.parsers.ss",
    "proc": "portcheck.parsers.proc_net",
    "netstat-linux": "portcheck.parsers.netstat_linux",
    "lsof": "portcheck.parsers.lsof",
    "netstat-bsd": "portcheck.parsers.netstat_bsd",
    "sockstat": "portcheck.parsers.sockstat",
    "netstat-windows": "portcheck.parsers.netstat_windows",
    "tasklist": "portcheck.parsers.tasklist",
    "powershell": "portcheck.parsers.powershell",
    "fuser": "portcheck.parsers.fuser",
    "netstat-solaris": "portcheck.parsers.netstat_solaris",
    "fstat": "portcheck.parsers.fstat",
}
"""Format name (as `--from` takes it and the `source` field shows it) -> module. Detection tries them in
this order, so a format whose rows are a subset of another's shape comes later."""

ALIASES: dict[str, tuple[str, ...]] = {
    "netstat": ("netstat-linux", "netstat-bsd", "netstat-windows", "netstat-solaris"),
}
"""A `--from` word that covers several formats (`netstat` on any OS): detection chooses among them."""


def load(name: str) -> Parser:
    return cast(Parser, import_module(FORMATS[name]))


def resolve(name: str) -> tuple[str, ...]:
    """The formats a `--from` word stands for; a UsageError naming the choices for an unknown word."""
    key = name.lower()
    if key in FORMATS:
        return (key,)
    if key in ALIASES:
        return ALIASES[key]
    choices = ", ".join(sorted({*FORMATS, *ALIASES}))
    raise UsageError(f"unknown format {name!r}; choose one of: {choices}")
