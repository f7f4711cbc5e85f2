"""`portcheck parse --clipboard`: the clipboard's text, from the tool this OS reads it with.

Which tools, in which order and with which session, is platform data (Platform.clipboard): pbpaste
on macOS, PowerShell's Get-Clipboard on Windows, wl-paste under Wayland and xclip or xsel under X11
on Linux and FreeBSD. The first that is installed and has its session answers. The text is bounded
like any tool's output (portcheck.live.runner), and every failure is one line on stderr and exit 2:
the input could not be read.
"""

from __future__ import annotations

import os

from portcheck.core.errors import UsageError
from portcheck.live import runner
from portcheck.platforms.base import ClipboardReader, Platform

TIMEOUT = 10.0
"""A clipboard tool answers at once; one that waits is waiting for a clipboard owner that hangs."""


def read_clipboard(platform: Platform) -> bytes:
    """The clipboard's text as its tool printed it; UsageError (exit 2) when it cannot be read."""
    installed = [reader for reader in platform.clipboard if runner.which(reader.command.argv[0])]
    if not installed:
        raise UsageError(
            f"cannot read the clipboard: no clipboard tool found; install {platform.clipboard_install}"
        )
    usable = [reader for reader in installed if _has_session(reader)]
    if not usable:
        names = " or ".join(sorted({name for reader in installed for name in reader.session}))
        raise UsageError(
            f"cannot read the clipboard: no desktop session ({names} is not set); "
            "save the text to a file and run `portcheck parse FILE`"
        )
    reader = usable[0]
    command = reader.command
    try:
        run = runner.run(command.argv, timeout=TIMEOUT, env=dict(command.env) if command.env else None)
    except runner.ToolError as error:
        raise UsageError(f"cannot read the clipboard: {error}") from None
    if run.status != 0:
        said = run.error_line()
        detail = f": {said}" if said else ""
        raise UsageError(
            f"cannot read the clipboard: {command.tool} exited with status {run.status}{detail} "
            "(is there text on the clipboard?)"
        )
    return bytes(run.output)


def _has_session(reader: ClipboardReader) -> bool:
    return not reader.session or any(os.environ.get(name) for name in reader.session)
