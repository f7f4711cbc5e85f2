"""The console entry point: routes arguments, runs the typer app, and turns every failure into one line
on stderr and a contract exit code. Commands live in portcheck.commands, one module each.

`portcheck PORT...` is the main job; typer has no notion of a default command, so `route()` sends any
argument list that does not start with a command name to the `query` command. Typed with nothing but
port numbers and on/off flags (`--json`, `-l`, ...) it takes a fast path (`plain_query`) that runs the
query command's own function without importing typer at all.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import gc
import io
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from importlib import import_module
from types import MappingProxyType
from typing import Any, NamedTuple, NoReturn, TextIO

from portcheck.commands.shared import DEFAULT_WATCH_INTERVAL
from portcheck.core.errors import PortcheckError, excerpt
from portcheck.core.model import ExitCode
from portcheck.output.environment import Environment
from portcheck.output.report import Reporter
from portcheck.output.streams import guard_stdout

COMMAND_MODULES = {
    "ask": "portcheck.commands.ask",
    "check": "portcheck.commands.check",
    "diff": "portcheck.commands.diff",
    "free": "portcheck.commands.free",
    "info": "portcheck.commands.info",
    "kill": "portcheck.commands.kill",
    "parse": "portcheck.commands.parse",
    "query": "portcheck.commands.query",
    "wait": "portcheck.commands.wait",
}
"""Each module registers its command on `app` when imported. A run imports only the command it runs
(a query never loads kill's or info's code); help and completion import them all."""


def load_commands(args: list[str]) -> None:
    """Register the command `args` will run, or every command for group help, completion and errors.

    Start-up: importing typer and the commands leaves ~27,000 tracked objects, and the cyclic collector
    walks the survivors again and again while they pile up (an eighth of a `portcheck PORT`). None of
    them is garbage: collection is off while they are imported, and gc.freeze() then sets them aside
    for good, so later collections never walk them either."""
    wanted = args[0] if args and args[0] in COMMAND_MODULES else None
    collecting = gc.isenabled()
    gc.disable()
    try:
        from portcheck.commands.base import resolve_annotations

        for name, module in COMMAND_MODULES.items():
            if wanted is None or _completing() or name == wanted:
                import_module(module)
        resolve_annotations()
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


def _completing() -> bool:
    return any(key.startswith("_PORTCHECK_COMPLETE") for key in os.environ)


_PLAIN_PORTS = re.compile(r":?[0-9]{1,5}(?:[-,]:?[0-9]{1,5})*")
"""A port spec of digits only (`8080`, `:8080`, `80,443`, `8000-8100`): a word that can only be
`portcheck [PORT...]`'s argument, never a command, an option or a service name."""


PLAIN_FLAGS = MappingProxyType(
    {
        "--json": "json_flag",
        "-t": "tcp",
        "--tcp": "tcp",
        "-u": "udp",
        "--udp": "udp",
        "-4": "ipv4",
        "-6": "ipv6",
        "-l": "listening",
        "--listening": "listening",
        "--exposed": "exposed",
        "--exposure": "exposure",
        "--remote": "remote",
        "-q": "quiet",
        "--quiet": "quiet",
        "--no-hints": "no_hints",
        "-v": "verbose",
        "--verbose": "verbose",
        "-W": "wide",
        "--wide": "wide",
        "--no-header": "no_header",
        "--no-bind": "no_bind",
    }
)
"""The query command's on/off options, as typed, -> its parameter: the ones a script or a helpdesk adds
to a plain query (`portcheck 8080 --json`, `portcheck -l`). Each is a flag of the typer command with
the same parameter and a False default (tests/cli/test_fast_path.py compares them with the command)."""


class PlainQuery(NamedTuple):
    ports: list[str]
    flags: dict[str, bool]
    """answer_query's keyword arguments: the flags typed, each True."""


def plain_query(argv: Sequence[str]) -> PlainQuery | None:
    """`portcheck PORT...` typed with port numbers and on/off flags alone, the main job: it runs
    without typer (commands/querying.answer_query with the command's defaults, the same function the
    typer command runs), saving the ~39 ms that importing typer and click costs on Python 3.9 (~30 ms
    on 3.13). None for anything else (a service name, an option with a value, `--`, joined short
    flags, no word at all), including shell completion, which typer serves."""
    if not argv or _completing():
        return None
    ports: list[str] = []
    flags: dict[str, bool] = {}
    for word in argv:
        if _PLAIN_PORTS.fullmatch(word):
            ports.append(word)
        elif word in PLAIN_FLAGS:
            flags[PLAIN_FLAGS[word]] = True
        else:
            return None
    return PlainQuery(ports, flags)


_GROUP_OPTIONS = frozenset({"--version", "--help", "-h", "--install-completion", "--show-completion"})


def route(argv: list[str]) -> list[str]:
    """`portcheck 80 --json` -> `portcheck query 80 --json`; command names and `--help` pass through."""
    commands = COMMAND_MODULES
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
    routed: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            return routed + argv[i:]
        routed.append(arg)
        if arg in _WATCH and not _is_number(argv[i + 1] if i + 1 < len(argv) else ""):
            routed.append(f"{DEFAULT_WATCH_INTERVAL:g}")
    return routed


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() not in ("", "nan", "inf", "-inf") and not text.startswith("-")


INPUT_SIDE_COMMANDS = frozenset({"parse"})
"""Commands that read only what they are given: a bug there is reported like unreadable input (exit 2).
Every other command inspects a machine (`info` probes its port ranges and who uses the port), so a bug
there means it could not be inspected (exit 3)."""

PLUGIN_COMMANDS = frozenset({"check"})
"""Commands with the monitoring-plugin contract: every failure is `UNKNOWN: reason` on stdout, exit 3
(Nagios plugin guidelines: invalid arguments too)."""

_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})


def main(argv: list[str] | None = None) -> NoReturn:
    """Console entry point: one line on stderr and a contract exit code for every failure."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def run(argv: Sequence[str], env: Environment | None = None) -> int:
    """One run of the CLI in `env` (default: this process as it is), returning the exit status the
    process would exit with. The console script and the in-process tests both come through here, so
    routing, error mapping and exit codes are one code path; the failures below end the run with
    sys.exit (as a process ends), and the exit is turned back into its status here."""
    with (env or Environment.from_process()).installed():
        try:
            _start(list(argv))
        except SystemExit as done:
            return _exit_status(done.code)


def _exit_status(code: object) -> int:
    """What the interpreter makes of `sys.exit(code)`: None is 0, an int itself, anything else is
    printed on stderr and is 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 1


def _start(argv: list[str]) -> NoReturn:
    plain = plain_query(argv)
    if plain is not None:
        args = ["query", *argv]
        work = _plain_query(plain)
    else:
        args = route(argv)
        load_commands(args)
        work = _typer_app(args)
    replaced = _standard_streams()
    previous = _catch_termination()
    try:
        _run(args, work)
    finally:
        _restore(previous, replaced)


def _plain_query(plain: PlainQuery) -> Callable[[], object]:
    from portcheck.commands.querying import answer_query

    flags: dict[str, Any] = dict(plain.flags)  # each names a bool parameter (PLAIN_FLAGS)
    return lambda: answer_query(plain.ports or None, **flags)


def _typer_app(args: list[str]) -> Callable[[], object]:
    from portcheck.commands.base import app

    # With standalone_mode off, click returns a typer.Exit's code instead of exiting.
    return lambda: app(args=args, prog_name="portcheck", standalone_mode=False)


def _run(args: list[str], work: Callable[[], object]) -> NoReturn:
    try:
        code = work()
        sys.stdout.flush()  # here, so a full disk or a closed pipe is reported like any other failure
    except PortcheckError as error:
        Reporter().error(str(error))
        sys.exit(_signalled_or(error.exit_code))
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        sys.exit(_signalled_or(130))
    except BrokenPipeError:
        _quiet_stdout()
        sys.exit(ExitCode.MATCH)
    except Exception as error:  # the last line of defence: never show a traceback
        _typer_ending(error)
        _last_resort(error, args)
    sys.exit(_signalled_or(code if isinstance(code, int) else ExitCode.MATCH))


def _typer_ending(error: Exception) -> None:
    """typer.Exit (a command's exit status) and typer.Abort (Ctrl-D at a prompt) end the run like a
    status and like Ctrl-C; typer is looked up, not imported: the fast path never loads it."""
    typer = sys.modules.get("typer")
    if typer is None:
        return
    if isinstance(error, typer.Exit):
        _flush_or_exit()
        sys.exit(_signalled_or(error.exit_code))
    if isinstance(error, typer.Abort):
        sys.stderr.write("\n")
        sys.exit(_signalled_or(130))


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) arrived: raised where Ctrl-C's KeyboardInterrupt would be, so the same code
    cleans up (the tool's process group killed, ssh clients and ControlMasters closed, the fleet's
    temporary directory removed). `timeout 2 portcheck PORT` then leaves no tool running."""


_TERMINATING = ("SIGTERM", "SIGHUP")
_received: list[int] = []


def _on_signal(signum: int, frame: object) -> None:
    """The first signal interrupts (SIGINT as KeyboardInterrupt, the others as Terminated); a second
    one, while that unwinds and cleans up, is ignored so the cleanup completes."""
    if _received:
        return
    _received.append(signum)
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated


def _catch_termination() -> dict[int, object]:
    """Install `_on_signal` for SIGINT, SIGTERM and SIGHUP (where they exist); the handlers replaced."""
    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous  # only the main thread may set handlers (portcheck called from a thread)
    _received.clear()
    names = ("SIGINT", *_TERMINATING)
    for signum in (getattr(signal, name) for name in names if hasattr(signal, name)):
        current = signal.getsignal(signum)
        if current is signal.SIG_IGN:
            continue  # `nohup portcheck ...`, a background job: the caller asked for it to be ignored
        previous[signum] = current
        signal.signal(signum, _on_signal)
    return previous


def _signalled_or(code: int) -> int:
    """128 + the signal's number after SIGTERM or SIGHUP (143, 129), as a shell reports a process
    that signal ended; Ctrl-C keeps 130; otherwise `code`."""
    if _received and _received[0] != signal.SIGINT:
        return 128 + _received[0]
    return code


def _restore(previous: dict[int, object], replaced: TextIO | None) -> None:
    """Put back what the run changed, for a caller that runs the CLI in its own process (cli.run)."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]
    if replaced is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
        sys.stdout = replaced


def _standard_streams() -> TextIO | None:
    """A closed stderr becomes /dev/null (the exit code still speaks); a closed stdout ends the run, as
    the answer would go nowhere; a stdout that cannot encode every character (an ASCII or Latin-1
    locale) writes `\\uXXXX` for the others (valid inside JSON strings, visible in a table) instead of
    failing on a stranger's process name; a stdout whose reader leaves early keeps the exit code of
    the work done (portcheck.output.streams). Returns the stdout replaced, if it was."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    if sys.stdout is None:
        Reporter().error("standard output is closed: nowhere to write the answer")
        sys.exit(ExitCode.USAGE)
    encoding = (getattr(sys.stdout, "encoding", None) or "utf-8").lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8") and isinstance(sys.stdout, io.TextIOWrapper):
        codecs.register_error(_ESCAPE_UNENCODABLE, _json_escape)
        sys.stdout.reconfigure(errors=_ESCAPE_UNENCODABLE)
    return guard_stdout()


_ESCAPE_UNENCODABLE = "portcheck-json-escape"


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:  # a surrogate pair, as JSON writes characters beyond the BMP
            code -= 0x10000
            escaped.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


def _quiet_stdout() -> None:
    """`portcheck ... | head`: the reader left; that is not an error worth a message. stdout goes to
    /dev/null so the interpreter's final flush cannot fail again."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _flush_or_exit() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
    except OSError as error:
        _output_failed(error)


def _output_failed(error: OSError) -> NoReturn:
    _quiet_stdout()
    Reporter().error(f"cannot write the output: {error.strerror or error}")
    sys.exit(ExitCode.USAGE)


def _last_resort(error: Exception, args: list[str]) -> NoReturn:
    usage = _usage_error_message(error, args)
    if args and args[0] in PLUGIN_COMMANDS and not os.environ.get("PORTCHECK_DEBUG"):
        _unknown(usage or f"internal error: {type(error).__name__}: {excerpt(str(error), 200)}")
    if usage is not None:
        Reporter().error(usage)
        sys.exit(ExitCode.USAGE)
    if isinstance(error, OSError) and error.errno in _OUTPUT_ERRNOS and error.filename is None:
        _output_failed(error)
    if os.environ.get("PORTCHECK_DEBUG"):
        raise error
    side = ExitCode.USAGE if args and args[0] in INPUT_SIDE_COMMANDS else ExitCode.CANNOT_INSPECT
    Reporter().error(
        f"internal error: {type(error).__name__}: {excerpt(str(error), 200)}. Please report this at "
        "https://github.com/portcheck/portcheck/issues (PORTCHECK_DEBUG=1 shows the traceback)."
    )
    sys.exit(side)


def _unknown(reason: str) -> NoReturn:
    """A plugin command that could not decide: UNKNOWN, where the monitoring core reads it."""
    from portcheck.api.check import unknown_output

    sys.stdout.write(unknown_output(reason))
    sys.stdout.flush()
    sys.exit(3)


def _usage_error_message(error: Exception, args: list[str]) -> str | None:
    """Click's usage errors (unknown option, missing argument), reduced to one line. `portcheck -1`
    reaches click as an unknown option; it is a negative port, and said so."""
    exit_code = getattr(error, "exit_code", None)
    format_message = getattr(error, "format_message", None)
    option = getattr(error, "option_name", None)
    if exit_code == 2 and isinstance(option, str) and option[1:].isdigit():
        return f"invalid port {option!r}: ports cannot be negative"
    if exit_code == 2 and callable(format_message):
        return f"{format_message()} (see {_help_for(error, args)})"
    return None


def _help_for(error: Exception, args: list[str]) -> str:
    """The help that explains the mistake: the command's own (`portcheck kill --help`), or the
    group's when no command was reached. Click names the command in the error's context, except for
    a mistake its option parser finds (an option missing its value), where the routed arguments do."""
    context = getattr(error, "ctx", None)
    path = getattr(context, "command_path", None)
    if isinstance(path, str) and path != "portcheck":
        return f"{path} --help"
    if args and args[0] in COMMAND_MODULES:
        return f"portcheck {args[0]} --help"
    return "portcheck --help"
