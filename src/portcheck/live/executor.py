"""Where a plan's commands run. The query engine only needs `run(argv, timeout, env) -> ToolRun`, so the
same plans run on this machine (LocalExecutor), through sudo (portcheck.live.sudo.SudoExecutor), or on
an ssh host (portcheck.fleet.remote.SSHExecutor), without the engine knowing which.
"""

from __future__ import annotations

import io
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Protocol

from portcheck.core.decode import text_lines
from portcheck.core.errors import ParseError
from portcheck.core.model import Socket
from portcheck.live.runner import Problem, ToolError, ToolRun, output_stream, run
from portcheck.platforms import oem_encoding
from portcheck.platforms.base import Encoding


class Executor(Protocol):
    @property
    def local(self) -> bool:
        """True when commands run on this machine: only then can portcheck read /proc itself or ask
        this console for its code page."""
        ...

    @property
    def privileged(self) -> bool:
        """True when commands run as root (or elevated on Windows): every process is visible then."""
        ...

    @property
    def user(self) -> str | None:
        """Who the commands run as (their own sockets are visible without privilege), when known."""
        ...

    def run(
        self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
    ) -> ToolRun: ...

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        """Login names for uids the tools printed (ss and `netstat -e` print numbers), from the password
        database of the machine the commands run on; a uid it cannot name is left out."""
        ...


def with_user_names(rows: list[Socket], executor: Executor, timeout: float) -> list[Socket]:
    """The rows with their uids named by the machine the executor runs commands on."""
    uids = {r.user for r in rows if r.user and r.user.isdecimal()}
    if not uids:
        return rows
    names = executor.user_names(uids, timeout=timeout)
    return [r._replace(user=names[r.user]) if r.user is not None and r.user in names else r for r in rows]


def local_user_names(uids: Collection[str]) -> dict[str, str]:
    """This machine's names for `uids` (portcheck.live.users): what LocalExecutor and SudoExecutor,
    which run commands here, answer."""
    from portcheck.live.users import user_name

    return {uid: user_name(int(uid)) for uid in uids}


class LocalExecutor:
    """The plain runner on this machine, with this process's privileges."""

    local = True

    def __init__(self, *, privileged: bool | None = None) -> None:
        if privileged is None:
            from portcheck.platforms import is_elevated

            privileged = is_elevated()
        self.privileged = privileged

    @property
    def user(self) -> str | None:
        from portcheck.live.users import current_user

        return "root" if self.privileged else current_user()

    def run(self, argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> ToolRun:
        return run(argv, timeout=timeout, env=env)

    def user_names(self, uids: Collection[str], *, timeout: float) -> Mapping[str, str]:
        return local_user_names(uids)


def output_lines(result: ToolRun, encoding: Encoding, executor: Executor) -> Iterator[str]:
    """A tool's output as lines: the console code page when known (Windows), else detected. Read in
    place (runner.output_stream): a copy would double the memory of a large answer. Binary output is a
    broken tool, ToolError(UNREADABLE) like any other, for each caller to weigh: the next tool, or a
    fact left out."""
    known = oem_encoding() if encoding is Encoding.OEM and executor.local else None
    if known is None:
        try:
            return text_lines(output_stream(result.output))[1]
        except ParseError as error:
            raise ToolError(result.tool, Problem.UNREADABLE, error.describe()) from None
    text = io.TextIOWrapper(output_stream(result.output), encoding=known, errors="replace", newline=None)
    return (line.rstrip("\n") for line in text)
