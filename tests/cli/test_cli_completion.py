"""Shell completion (typer's) for every command, including the default `query` that cli.route()
inserts: the shell's words reach the completion machinery without route(), so the group resolves
`portcheck 8080 --js<TAB>` to query itself. And `--help` of every command shows real examples."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli


def complete_bash(line: str) -> list[str]:
    words = line.split(" ")
    result = run_cli(
        env={
            "_PORTCHECK_COMPLETE": "complete_bash",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        }
    )
    assert result.code == 0, result.stderr
    return result.stdout.split()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("portcheck ", ["ask", "check", "diff", "free", "info", "kill", "parse", "query", "wait"]),
        ("portcheck ki", ["kill"]),
        ("portcheck 8080 --js", ["--json"]),  # the default command: query's options
        ("portcheck 8080 --wa", ["--watch"]),
        ("portcheck query 80 --sta", ["--state"]),
        ("portcheck parse --fr", ["--from"]),
        ("portcheck info 80 --no-", ["--no-check"]),
        ("portcheck kill 80 --gr", ["--grace"]),
        ("portcheck wait 80 --fr", ["--free"]),
        ("portcheck check 443 --ex", ["--expect", "--exposed"]),
        ("portcheck 80 --expo", ["--exposed", "--exposure"]),
    ],
)
def test_bash_completion(line: str, expected: list[str]) -> None:
    assert complete_bash(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("portcheck 80 --format ", ["table", "json", "ndjson", "csv"]),
        ("portcheck 80 -f n", ["ndjson"]),
        ("portcheck 80 --state TIME", ["TIME_WAIT"]),
        ("portcheck 80 --state fin", ["fin_wait1", "fin_wait2"]),  # in the case typed
        ("portcheck 80 --table-format gi", ["github"]),
        (
            "portcheck parse --from netstat",
            ["netstat-linux", "netstat-bsd", "netstat-windows", "netstat-solaris", "netstat"],
        ),
        ("portcheck parse x.txt --format c", ["csv"]),
        ("portcheck kill 80 --signal ", ["TERM", "INT", "HUP", "QUIT", "KILL", "USR1", "USR2"]),
        ("portcheck kill 80 -s K", ["KILL"]),
        ("portcheck kill 80 -s k", ["kill"]),
    ],
)
def test_option_values_complete(line: str, expected: list[str]) -> None:
    """Not file names: the values each option takes, through the same protocol bash uses."""
    assert complete_bash(line) == expected


def test_zsh_completion_of_the_default_command() -> None:
    result = run_cli(env={"_PORTCHECK_COMPLETE": "complete_zsh", "_TYPER_COMPLETE_ARGS": "portcheck 80 --js"})
    assert result.code == 0
    assert '"--json":"Shorthand for --format json."' in result.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_show_completion_prints_the_script(shell: str) -> None:
    result = run_cli("--show-completion", shell, env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert result.code == 0
    assert f"_PORTCHECK_COMPLETE=complete_{shell}" in result.stdout


@pytest.mark.parametrize(
    ("command", "example"),
    [
        ("query", "portcheck 8080 --watch"),
        ("parse", "ss -tunap | portcheck parse"),
        ("info", "portcheck info 60653"),
        ("kill", "portcheck kill 8080 --yes"),
        ("wait", "portcheck wait 8080 --free"),
        ("check", "portcheck check 443 --process nginx"),
        ("free", "portcheck free --count 3 --json"),
        ("diff", "portcheck diff baseline.json"),
    ],
)
def test_help_has_examples(command: str, example: str) -> None:
    result = run_cli(command, "--help")
    assert result.code == 0
    assert "Examples:" in result.stdout and example in result.stdout
    assert "Exit status" in result.stdout
