"""The console entry point: routes arguments, runs the typer app, and turns every failure into one line
on stderr and a contract exit code. Commands live in portcheck.commands, one module each.

`portcheck PORT...` is the main job; typer has no notion of a default command, so `route()` sends any
argument list that does not start with a command name to the `query` command.
"""

from __future__ import annotations

import gc
import os
import sys

# Start-up: importing typer and the commands leaves ~27,000 tracked objects, and the cyclic collector
# walks the survivors again and again while they pile up (an eighth of a `portcheck PORT`). None of
# them is garbage: collection is off while they are imported, and gc.freeze() then sets them aside
# for good, so later collections never walk them either.
_COLLECTING = gc.isenabled()
gc.disable()

import typer  # noqa: E402

from portcheck.commands import info as _info  # noqa: E402, F401  (registers the command)
from portcheck.commands import kill as _kill  # noqa: E402, F401  (registers the command)
from portcheck.commands import parse as _parse  # noqa: E402, F401  (registers the command)
from portcheck.commands import query as _query  # noqa: E402, F401  (registers the command)
from portcheck.commands import wait as _wait  # noqa: E402, F401  (registers the command)
from portcheck.commands.base import app  # noqa: E402
from portcheck.errors import PortcheckError  # noqa: E402
from portcheck.model import ExitCode  # noqa: E402
from portcheck.report import Reporter  # noqa: E402

gc.freeze()
if _COLLECTING:
    gc.enable()

_GROUP_OPTIONS = frozenset({"--version", "--help", "-h", "--install-completion", "--show-completion"})


def route(argv: list[str]) -> list[str]:
    """`portcheck 80 --json` -> `portcheck query 80 --json`; command names and `--help` pass through."""
    commands = {c.name for c in app.registered_commands}
    if "query" not in commands:
        return argv
    if not argv:
        return ["query"]
    if argv[0] == "query":
        return _watch_value(argv)
    if argv[0] in commands or argv[0] in _GROUP_OPTIONS:
        return argv
    return _watch_value(["query", *argv])


_WATCH = frozenset({"--watch", "-w"})


def _watch_value(argv: list[str]) -> list[str]:
    """`--watch` takes an optional number of seconds, which click cannot express: a bare `--watch`
    (last, or followed by something that is not a number) gets the default interval here."""
    from portcheck.commands.watch import DEFAULT_INTERVAL

    routed: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return routed + argv[i:]
        routed.append(arg)
        if arg in _WATCH and not _is_number(argv[i + 1] if i + 1 < len(argv) else ""):
            routed.append(f"{DEFAULT_INTERVAL:g}")
    return routed


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() not in ("", "nan", "inf", "-inf") and not text.startswith("-")


def main(argv: list[str] | None = None) -> None:
    """Console entry point: one line on stderr and a contract exit code for every failure."""
    args = route(list(sys.argv[1:] if argv is None else argv))
    try:
        # With standalone_mode off, click returns a typer.Exit's code instead of exiting.
        code = app(args=args, prog_name="portcheck", standalone_mode=False)
    except PortcheckError as error:
        Reporter().error(str(error))
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        sys.stderr.write("\n")
        sys.exit(130)
    except BrokenPipeError:
        # `portcheck ... | head`: the reader left; that is not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(ExitCode.MATCH)
    except Exception as error:  # the last line of defence: never show a traceback
        usage = _usage_error_message(error)
        if usage is not None:
            Reporter().error(usage)
            sys.exit(ExitCode.USAGE)
        if os.environ.get("PORTCHECK_DEBUG"):
            raise
        Reporter().error(
            f"internal error: {type(error).__name__}: {error}. Please report this at "
            "https://github.com/portcheck/portcheck/issues (PORTCHECK_DEBUG=1 shows the traceback)."
        )
        sys.exit(ExitCode.CANNOT_INSPECT)
    sys.exit(code if isinstance(code, int) else ExitCode.MATCH)


def _usage_error_message(error: Exception) -> str | None:
    """Click's usage errors (unknown option, missing argument), reduced to one line. `portcheck -1`
    reaches click as an unknown option; it is a negative port, and said so."""
    exit_code = getattr(error, "exit_code", None)
    format_message = getattr(error, "format_message", None)
    option = getattr(error, "option_name", None)
    if exit_code == 2 and isinstance(option, str) and option[1:].isdigit():
        return f"invalid port {option!r}: ports cannot be negative"
    if exit_code == 2 and callable(format_message):
        return f"{format_message()} (see portcheck --help)"
    return None
