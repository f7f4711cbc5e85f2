"""`portcheck ask`: the commands to send someone, from each platform's plan, in a form `portcheck parse`
reads (and recognises by the command line when the answer comes back with its prompt)."""

from __future__ import annotations

import pytest

from portcheck.core.portspec import parse_port_spec
from portcheck.parsers import sections
from portcheck.platforms import platform_for
from portcheck.platforms.base import OS, Question
from tests.conftest import run_cli


def test_ask_linux_for_a_port() -> None:
    result = run_cli("ask", "8080", "--os", "linux")
    assert result.code == 0, result.stderr
    assert result.stdout == (
        "To see what uses port 8080:\n"
        "\n"
        "Please run this in a terminal on that machine (sudo asks for your password: only root sees every "
        "program):\n"
        "\n"
        "    sudo ss -tunapeH 'sport = :8080'\n"
        "\n"
        "and paste everything it prints into your reply.\n"
    )


def test_ask_windows_names_the_file_and_the_powershell_way() -> None:
    result = run_cli("ask", "60653", "--os", "Windows")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert '    netstat -anob > "%USERPROFILE%\\Desktop\\portcheck.txt"' in lines
    assert '    tasklist /svc /fo csv /nh >> "%USERPROFILE%\\Desktop\\portcheck.txt"' in lines
    assert any(
        line.startswith("    Get-NetTCPConnection -LocalPort 60653 | Format-Table -AutoSize")
        for line in lines
    )
    assert any(line.startswith("    Get-Process -Id ") for line in lines)


def test_ask_without_os_gives_every_os_under_its_name() -> None:
    result = run_cli("ask", "5432")
    assert result.code == 0, result.stderr
    titles = [line for line in result.stdout.splitlines() if line.startswith("On ")]
    assert titles == [
        f"On {name}, to see what uses port 5432:" for name in ("Linux", "macOS", "Windows", "FreeBSD")
    ]
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize("os_name", list(OS))
@pytest.mark.parametrize("port", [None, "443"])
def test_every_command_asked_is_one_portcheck_reads(os_name: OS, port: str | None) -> None:
    """Each line runs a tool whose output is a format portcheck parses: the plan's own (its answer
    pasted back with the prompt is read as that format)."""
    question = Question(parse_port_spec(port)) if port else Question()
    platform = platform_for(os_name)
    wanted = platform.plan(question, privileged=True)[0].parser
    instructions = platform.ask(question)
    assert wanted in (sections.tool_formats(instructions[0].lines[0]) or ())
    for instruction in instructions:
        for line in instruction.lines:
            assert sections.tool_formats(line), line


@pytest.mark.parametrize(
    ("args", "message"), [(["0"], "is not a port"), (["80", "--os", "beos"], "unknown OS")]
)
def test_bad_port_or_os_is_usage(args: list[str], message: str) -> None:
    result = run_cli("ask", *args)
    assert result.code == 2
    assert message in result.stderr
