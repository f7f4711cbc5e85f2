"""Where a plan's commands run. The query engine only needs `run(argv, timeout, env) -> ToolRun`, so the
same plans run on this machine (LocalExecutor), through sudo (portcheck.live.sudo.SudoExecutor), or on
an ssh host (portcheck.fleet.remote.SSHExecutor), without the engine knowing which.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from typing import Protocol

from portcheck.core.decode import text_lines
from portcheck.live.runner import Output, ToolRun, output_stream, run
from portcheck.platforms import oem_encoding
from portcheck.platforms.base import Encoding


class Executor(Protocol):
    @property
    def local(self) -> bool:
        """True when commands run on this machine: only then can portcheck read /proc itself, look
        uids up in this machine's password database, or ask this console for its code page."""
        ...

    @property
    def privileged(self) -> bool:
        """True when commands run as root (or elevated on Windows): every process is visible then."""
        ...

    def run(
        self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
    ) -> ToolRun: ...


class LocalExecutor:
    """The plain runner on this machine, with this process's privileges."""

    local = True

    def __init__(self, *, privileged: bool | None = None) -> None:
        if privileged is None:
            from portcheck.platforms import is_elevated

            privileged = is_elevated()
        self.privileged = privileged

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        return run(argv, timeout=timeout, env=env)


def output_lines(data: Output, encoding: Encoding, executor: Executor) -> Iterator[str]:
    """A tool's output as lines: the console code page when known (Windows), else detected. Read in
    place (runner.output_stream): a copy would double the memory of a large answer."""
    known = oem_encoding() if encoding is Encoding.OEM and executor.local else None
    if known is None:
        return text_lines(output_stream(data))[1]
    text = io.TextIOWrapper(output_stream(data), encoding=known, errors="replace", newline=None)
    return (line.rstrip("\n") for line in text)
