"""`portcheck ask`: the commands to send someone whose machine's port is in question, ready to paste
into a ticket; their output is what `portcheck parse` reads best. The commands are each platform's
own (Platform.ask: its plan's first step, as a person types it)."""

# No `from __future__ import annotations`: typer would eval() every parameter's annotation string
# on every run; evaluated once at import they cost nothing there.

import sys
from typing import Annotated, Optional

import typer

from portcheck.commands.base import app
from portcheck.core.errors import UsageError

EPILOG = """\
\b
Examples:
  portcheck ask 8080 --os windows      what to send a Windows user about port 8080
  portcheck ask --os macos             every listening port of a Mac
  portcheck ask 5432                   the commands for every OS, when you do not know which

\b
The text is plain (no colour) and goes to stdout: `portcheck ask 8080 --os linux | pbcopy`.
Exit status: 0, or 2 for a bad port or OS.
"""

OS_TITLES = {"linux": "Linux", "macos": "macOS", "windows": "Windows", "freebsd": "FreeBSD"}
"""How the text names each OS, in the order it lists them."""


@app.command("ask", epilog=EPILOG)
def ask_command(
    port: Annotated[
        Optional[str], typer.Argument(help="The port in question (1-65535); none: every listener.")
    ] = None,
    os_name: Annotated[
        Optional[str],
        typer.Option(
            "--os",
            help="Their OS: windows, macos, linux or freebsd (default: every one, each under its name).",
        ),
    ] = None,
) -> None:
    """Print the commands to ask someone to run on their machine, for `portcheck parse` to read."""
    from portcheck.core.portspec import parse_port_spec
    from portcheck.platforms import platform_for
    from portcheck.platforms.base import OS, Question

    if port is not None and not (port.isdecimal() and 1 <= int(port) <= 65535):
        raise UsageError(f"{port!r} is not a port: give one number from 1 to 65535")
    if os_name is not None and os_name.lower() not in OS_TITLES:
        raise UsageError(f"unknown OS {os_name!r}; choose one of: {', '.join(OS_TITLES)}")
    question = Question(parse_port_spec(port)) if port is not None else Question()
    wanted = [os_name.lower()] if os_name is not None else list(OS_TITLES)
    what = f"what uses port {port}" if port is not None else "which programs listen on which ports"
    parts = []
    for name in wanted:
        title = f"On {OS_TITLES[name]}, to see {what}:" if len(wanted) > 1 else f"To see {what}:"
        text = [title]
        for instruction in platform_for(OS(name)).ask(question):
            text += [
                "",
                instruction.where,
                "",
                *(f"    {line}" for line in instruction.lines),
                "",
                instruction.then,
            ]
        parts.append("\n".join(text))
    sys.stdout.write("\n\n".join(parts) + "\n")
