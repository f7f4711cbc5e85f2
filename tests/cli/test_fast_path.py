"""`portcheck PORT...` typed with nothing but port numbers and on/off flags runs the query command's own
function (commands/querying.answer_query) without importing typer or click (cli.plain_query). These
tests hold that path to the typer command's behaviour: which words take it, each flag the command's
own, the same bytes and exit code as the command (`portcheck query PORT`, which typer runs), the same
defaults, and no typer in the process."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

from portcheck.cli import PLAIN_FLAGS, PlainQuery, plain_query
from tests.conftest import run_cli
from tests.helpers.cli import listener
from tests.helpers.ports import free_port

FAST = [["8080"], [":8080"], ["80,443"], ["8000-8100"], ["80", "443", "1-1024"], ["0"], ["99999"]]
TYPER = [
    [],  # every listener: the command's own default
    ["ssh"],  # a service name: the IANA table, read by the command
    ["query", "8080"],
    ["8080", "--json=1"],
    ["8080", "-tl"],  # joined short flags: click's to read
    ["8080", "--format", "json"],  # an option with a value
    ["8080", "--watch"],
    ["8080", "--sudo"],
    ["-1"],  # a negative port is an option to click, and said so
    ["8080-"],
    ["--help"],
    ["info", "22"],
    ["8080", "--"],
    ["123456"],  # six digits: not a port; the command says so
    ["8080\n"],
]


@pytest.mark.parametrize("argv", FAST, ids=" ".join)
def test_port_words_alone_take_the_fast_path(argv: list[str]) -> None:
    assert plain_query(argv) == PlainQuery(argv, {})


def test_on_off_flags_take_it_too_anywhere_among_the_ports() -> None:
    assert plain_query(["8080", "--json"]) == PlainQuery(["8080"], {"json_flag": True})
    assert plain_query(["-l", "80,443", "-t", "--tcp", "-4"]) == PlainQuery(
        ["80,443"], {"listening": True, "tcp": True, "ipv4": True}
    )
    assert plain_query(["-l"]) == PlainQuery([], {"listening": True})  # every listener


@pytest.mark.parametrize("argv", TYPER, ids=repr)
def test_anything_else_goes_through_typer(argv: list[str]) -> None:
    assert plain_query(argv) is None


def test_shell_completion_is_typer_s(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_PORTCHECK_COMPLETE", "complete_bash")
    assert plain_query(["8080"]) is None


def test_every_fast_flag_is_the_command_s_own_flag() -> None:
    """Each word the fast path takes is, in the typer command, an on/off option of the same parameter
    with a False default: a renamed option or one that gains a value would make the two differ."""
    import typer

    from portcheck.cli import load_commands
    from portcheck.commands.base import app

    load_commands(["query"])
    command = typer.main.get_command(app).commands["query"]  # type: ignore[attr-defined]
    options = {word: p for p in command.params if hasattr(p, "is_flag") for word in p.opts}
    for word, parameter in PLAIN_FLAGS.items():
        option = options[word]
        assert (option.name, option.is_flag, option.default, option.secondary_opts) == (
            parameter,
            True,
            False,
            [],
        )


@pytest.mark.parametrize(
    "flags",
    [
        ["--json"],
        ["-l", "-t"],
        ["--udp", "-6"],
        ["--exposure", "-W", "--no-header"],
        ["-q"],
        ["-v", "--remote"],
    ],
    ids=" ".join,
)
def test_the_fast_path_with_flags_answers_exactly_as_the_command(flags: list[str]) -> None:
    with listener("pc-fast-flags") as held:
        nobody = free_port()
        for ports in ([str(held.port)], [f"{held.port},{nobody}"], [str(nobody)]):
            fast, command = run_cli(*flags, *ports), run_cli("query", *ports, *flags)
            assert (fast.code, fast.stdout, fast.stderr) == (command.code, command.stdout, command.stderr)


def test_the_fast_path_answers_exactly_as_the_command() -> None:
    with listener("pc-fast") as held:
        nobody = free_port()
        for ports in (
            [str(held.port)],
            [f":{held.port}"],
            [f"{held.port},{nobody}"],
            [str(nobody)],
            ["99999"],
        ):
            fast, command = run_cli(*ports), run_cli("query", *ports)
            assert (fast.code, fast.stdout, fast.stderr) == (command.code, command.stdout, command.stderr)
        assert run_cli(str(held.port)).code == 0 and "pc-fast" in run_cli(str(held.port)).stdout
        assert run_cli(str(nobody)).code == 1
        assert run_cli("99999").code == 2


def test_the_fast_path_has_the_command_s_defaults() -> None:
    """answer_query's keyword defaults are the typer command's option defaults, name for name: a new
    option on the command without the same default here would make `portcheck 8080` differ."""
    from portcheck.cli import load_commands
    from portcheck.commands.query import query_command
    from portcheck.commands.querying import answer_query

    load_commands(["query"])
    command = inspect.signature(query_command).parameters
    fast = inspect.signature(answer_query).parameters
    assert list(command) == list(fast)
    assert {n: p.default for n, p in command.items()} == {n: p.default for n, p in fast.items()}


UNNEEDED = ("typer", "click", "tabulate", "pexpect", "dataclasses", "inspect", "pathlib")
"""What a plain query's default table never uses, each a few milliseconds of start-up on Python 3.9:
typer and click (the fast path), tabulate (the default table is drawn in-house), pexpect (prompts
only), dataclasses with the inspect it imports, and pathlib (the value types on the path are plain
classes and NamedTuples)."""


def test_a_plain_query_imports_no_typer() -> None:
    with listener("pc-fast") as held:
        script = (
            "import json, sys\n"
            "from portcheck.cli import run\n"
            f"code = run([{str(held.port)!r}, '--json', '-l'])\n"
            f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {UNNEEDED!r})\n"
            "print(json.dumps([code, loaded]), file=sys.stderr)\n"
        )
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    code, loaded = json.loads(done.stderr.strip().splitlines()[-1])
    assert (code, loaded) == (0, [])
    assert "pc-fast" in done.stdout
