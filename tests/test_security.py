"""The promises of SECURITY.md, each checked the way a reviewer would check it:

- no shell anywhere: the source is read as Python syntax trees (not grepped), every place that starts
  a process is listed, and none uses shell=True, os.system/popen/exec/spawn, a command string, or an
  argv that starts a shell;
- the port is an int before any tool sees it: any text either is refused or becomes argv words made of
  digits, letters and a few punctuation marks, for every OS's plan;
- no network: only portcheck.parsers.proc_net imports socket (for inet_ntop), nothing imports an
  HTTP, TLS or mail client, and under strace the main commands make no IPv4/IPv6 connection at all;
- --sudo: the password never reaches the tool's argv or environment, nor a traceback with
  PORTCHECK_DEBUG=1;
- kill signals only PIDs that hold the port when it asks: `--pid` of a process elsewhere is ignored.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import traceback
from pathlib import Path

import pexpect
import pytest
from hypothesis import given, strategies as st

from portcheck.core.errors import UsageError
from portcheck.core.portspec import parse_port_spec
from portcheck.platforms import platform_for
from portcheck.platforms.base import OS, Question
from portcheck.platforms.linux import OWNERSHIP_SCRIPT
from tests.conftest import FIXTURES, ROOT, run_cli

SRC = ROOT / "src" / "portcheck"
SOURCES = sorted(SRC.rglob("*.py"))


def _trees() -> list[tuple[str, ast.Module]]:
    return [(p.relative_to(SRC).as_posix(), ast.parse(p.read_text(encoding="utf-8"))) for p in SOURCES]


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


# --- no shell ---------------------------------------------------------------------------------------

PROCESS_STARTERS = {
    "subprocess.Popen",
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "pexpect.spawn",
    "pexpect.run",
    "pexpect.popen_spawn.PopenSpawn",
    "PopenSpawn",
}
FORBIDDEN = re.compile(r"^(os\.(system|popen|startfile|exec\w*|spawn\w*|posix_spawn\w*)|subprocess\.getoutput"
                       r"|subprocess\.getstatusoutput|pexpect\.run|commands\.\w+)$")  # fmt: skip
SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "csh", "tcsh", "fish", "cmd", "cmd.exe", "powershell", "pwsh"}
STARTING_MODULES = {"live/runner.py", "live/sudo.py", "fleet/sshauth.py", "fleet/ssh.py"}
"""Where processes start. A new one must be reviewed against SECURITY.md, then added here."""
FIXED_SHELL_SCRIPTS = {
    "fleet/kill.py": {"SESSION_CHAIN"},
    "platforms/linux.py": {"OWNERSHIP_SCRIPT", "OWNERS_SCRIPT"},
    "platforms/macos.py": {"OWNERS_SCRIPT"},
    "platforms/freebsd.py": {"OWNERS_SCRIPT"},
}
"""argvs that start `sh -c` on purpose, with a fixed script (a module constant, no input in it); after
it only `$0` (the constant "sh") and numbers: `str(...)` of one (kill's ownership check passes the
PID, an int, as $1), `*map(str, ...)` of several (the Linux owner probe's PIDs), or
`",".join(map(str, ...))` (macOS's and FreeBSD's, one comma list for ps). The Linux ones run only on
an ssh host (here /proc is read in-process); the macOS and FreeBSD owner probes also run locally, and
call their tools by absolute path (/bin/ps, /bin/launchctl) or use shell builtins (FreeBSD's pid-file
loop), so no PATH is consulted, through --sudo either."""
ENCODED_POWERSHELL = {"platforms/windows.py": "_encoded"}
"""PowerShell given `-EncodedCommand F(...)`: F base64-encodes a script built from a module constant and
PIDs (ints) only (platforms.windows.CIM_SCRIPT); nothing else reaches PowerShell."""


def _is_command_string(node: ast.expr) -> bool:
    return isinstance(node, (ast.JoinedStr, ast.BinOp)) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def test_no_shell_anywhere() -> None:
    starting: set[str] = set()
    problems: list[str] = []
    for module, tree in _trees():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _dotted(node.func)
                where = f"{module}:{node.lineno}"
                if any(k.arg == "shell" and not _false(k.value) for k in node.keywords):
                    problems.append(f"{where}: shell= keyword")
                if FORBIDDEN.match(name):
                    problems.append(f"{where}: {name}")
                if name in PROCESS_STARTERS:
                    starting.add(module)
                    if node.args and _is_command_string(node.args[0]):
                        problems.append(f"{where}: {name} given a command string")
                    if name == "pexpect.spawn" and len(node.args) < 2:
                        problems.append(f"{where}: pexpect.spawn without an argument list")
            if isinstance(node, (ast.List, ast.Tuple)) and node.elts:
                first = node.elts[0]
                shell = isinstance(first, ast.Constant) and str(first.value).rsplit("/", 1)[-1] in SHELLS
                if shell and not _fixed_remote_script(module, node):
                    problems.append(f"{module}:{node.lineno}: an argv that starts {ast.unparse(first)}")
    assert problems == []
    assert starting == STARTING_MODULES


def _fixed_remote_script(module: str, argv: ast.List | ast.Tuple) -> bool:
    if _encoded_powershell(module, argv):
        return True
    scripts = FIXED_SHELL_SCRIPTS.get(module, set())
    return (
        len(argv.elts) >= 3
        and isinstance(argv.elts[1], ast.Constant)
        and argv.elts[1].value == "-c"
        and isinstance(argv.elts[2], ast.Name)
        and argv.elts[2].id in scripts
        and all(_script_argument(i, node) for i, node in enumerate(argv.elts[3:]))
    )


def _encoded_powershell(module: str, argv: ast.List | ast.Tuple) -> bool:
    encoder = ENCODED_POWERSHELL.get(module)
    words = [e.value if isinstance(e, ast.Constant) else None for e in argv.elts]
    last = argv.elts[-1]
    return (
        encoder is not None
        and words[:-1] == ["powershell", "-NoProfile", "-NonInteractive", "-EncodedCommand"]
        and isinstance(last, ast.Call)
        and _dotted(last.func) == encoder
    )


def _str_of_numbers(node: ast.expr) -> bool:
    """`map(str, NAME)`: the PIDs, ints, as words."""
    return (
        isinstance(node, ast.Call)
        and _dotted(node.func) == "map"
        and len(node.args) == 2
        and _dotted(node.args[0]) == "str"
    )


def _script_argument(index: int, node: ast.expr) -> bool:
    """`$0` is the constant "sh"; the others are `str(<int>)`, `*map(str, <ints>)` or
    `",".join(map(str, <ints>))`."""
    if index == 0:
        return isinstance(node, ast.Constant) and node.value == "sh"
    if isinstance(node, ast.Starred):
        return _str_of_numbers(node.value)
    if isinstance(node, ast.Call) and _dotted(node.func) == "str" and len(node.args) == 1:
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Constant)
        and node.func.value.value == ","
        and node.func.attr == "join"
        and len(node.args) == 1
        and _str_of_numbers(node.args[0])
    )


def _false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def test_the_runner_hands_popen_a_list() -> None:
    """The one Popen call converts whatever sequence it got into a list: never a string."""
    source = (SRC / "live" / "runner.py").read_text()
    assert "subprocess.Popen(list(argv), **kwargs)" in source


SAFE_WORD = re.compile(r"[A-Za-z0-9 _./:,=+()<>-]*")
"""Everything a plan's argv may hold: no quote, $, `, ;, |, &, *, ?, backslash, newline."""


@given(st.text(max_size=40), st.sampled_from(list(OS)), st.booleans(), st.booleans())
def test_the_port_is_an_int_before_any_tool_sees_it(
    text: str, os_name: OS, remote: bool, privileged: bool
) -> None:
    try:
        spec = parse_port_spec(text)
    except UsageError:
        return
    assert all(isinstance(p, int) and 0 <= p <= 65535 for p in spec.ports)
    for step in platform_for(os_name).plan(Question(spec, remote), privileged=privileged):
        for command in (*step.commands, *((step.pid_names.command,) if step.pid_names else ())):
            for word in command.argv:
                assert SAFE_WORD.fullmatch(word), (text, word)
    if not spec.ports:
        return
    check = platform_for(os_name).ownership_check(4242, Question(spec, remote))
    words = [w for w in check.command.argv if w != OWNERSHIP_SCRIPT]  # the fixed script (test_no_shell)
    assert all(SAFE_WORD.fullmatch(word) for word in words), (text, words)


@pytest.mark.parametrize("text", ["80;reboot", "80 && id", "$(id)", "`id`", "80|nc", "80\n81", "0x50", "1e3"])
def test_shell_syntax_in_a_port_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_port_spec(text)


# --- no network ---------------------------------------------------------------------------------------

NETWORK_MODULES = {
    *("socket", "ssl", "http", "urllib", "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc"),
    *("asyncio", "socketserver", "requests", "httpx", "aiohttp", "urllib3"),
}
SOCKET_USES_ALLOWED = {"inet_ntop", "inet_pton", "AF_INET", "AF_INET6"}
FREE_USES_ALLOWED = {
    "socket",
    "AF_INET",
    "AF_INET6",
    "SOCK_STREAM",
    "SOCK_DGRAM",
    "IPPROTO_IPV6",
    "IPV6_V6ONLY",
}
"""`portcheck free` proves a port free by binding it (never listening, connecting or sending)."""


def test_nothing_imports_a_network_client() -> None:
    importers: dict[str, set[str]] = {}
    for module, tree in _trees():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in NETWORK_MODULES:
                    importers.setdefault(module, set()).add(name)
    assert importers == {"parsers/proc_net.py": {"socket"}, "live/bindtest.py": {"socket"}}
    tree = dict(_trees())["parsers/proc_net.py"]
    used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute) and _dotted(n.value) == "socket"}
    assert used <= SOCKET_USES_ALLOWED, used


BIND_TEST_SOCKET_USES = {
    *("socket", "AF_INET", "AF_INET6", "SOCK_STREAM", "SOCK_DGRAM"),
    *("IPPROTO_IPV6", "IPV6_V6ONLY", "SOL_SOCKET", "SO_REUSEADDR"),
}
NEVER_ON_A_SOCKET = {"connect", "connect_ex", "listen", "accept", "send", "sendto", "sendall", "sendmsg"}


def test_the_bind_test_only_binds() -> None:
    """live/bindtest.py, the one module that opens an internet socket: it creates, binds and closes,
    and nothing in it connects, listens, accepts or sends."""
    tree = dict(_trees())["live/bindtest.py"]
    attributes = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    used = {n.attr for n in attributes if _dotted(n.value) == "socket"}
    assert used <= BIND_TEST_SOCKET_USES, used
    assert not {n.attr for n in attributes} & NEVER_ON_A_SOCKET


def _strace() -> str | None:
    strace = shutil.which("strace")
    if strace is None or not sys.platform.startswith("linux"):
        return None
    probe = subprocess.run([strace, "-f", "-o", os.devnull, "true"], capture_output=True, check=False)
    return strace if probe.returncode == 0 else None


@pytest.mark.skipif(_strace() is None, reason="needs strace with ptrace allowed (Linux)")
@pytest.mark.parametrize(
    "args",
    [
        ["parse", str(FIXTURES / "linux" / "ss-old-no-pid-labels.txt"), "--json"],
        ["22", "--json"],
        [],
        ["info", "22"],
    ],
    ids=["parse", "query", "listing", "info"],
)
def test_no_network_connection_is_ever_made(tmp_path: Path, args: list[str]) -> None:
    """Every connect/sendto/sendmsg of portcheck and every tool it runs (strace -f): only AF_UNIX (the
    name service cache) and AF_NETLINK (ss asking the kernel) may appear, never AF_INET or AF_INET6.
    The one exception is the bind test of a port no tool listed: a bind() of the IPv4 or IPv6 wildcard,
    and never a listen() (the socket is closed at once)."""
    log = tmp_path / "strace.log"
    strace = _strace()
    assert strace is not None
    traced = ["-e", "trace=execve,connect,sendto,sendmsg,bind,listen", "-o", str(log)]
    result = subprocess.run(
        [strace, "-f", "-qq", *traced, sys.executable, "-m", "portcheck", *args],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr
    calls = log.read_text().splitlines()
    assert any("execve(" in line for line in calls), "strace traced nothing"
    # The address each call goes to is its sockaddr's sa_family (ss's netlink requests also carry
    # sdiag_family=AF_INET in their payload: that is the question, not a destination).
    bind_test = re.compile(
        r'bind\(\d+, \{sa_family=(AF_INET, sin_port=htons\(\d+\), sin_addr=inet_addr\("0\.0\.0\.0"\)'
        r'|AF_INET6, sin6_port=htons\(\d+\), sin6_flowinfo=htonl\(0\), inet_pton\(AF_INET6, "::",)'
    )
    others = [line for line in calls if not bind_test.search(line)]
    families = {family for line in others for family in re.findall(r"\bsa_family=(AF_\w+)", line)}
    assert families <= {"AF_UNIX", "AF_NETLINK"}, families
    assert not any(re.search(r"\blisten\(", line) for line in calls)
    if args[:1] == ["22"] and result.returncode == 1:  # free: the bind test ran, on the wildcards only
        assert any(bind_test.search(line) for line in calls)


@pytest.mark.skipif(_strace() is None, reason="needs strace with ptrace allowed (Linux)")
def test_free_only_binds(tmp_path: Path) -> None:
    """`portcheck free` binds IPv4 and IPv6 sockets to prove ports free: it never connects or sends."""
    log = tmp_path / "strace.log"
    traced = ["-e", "trace=connect,sendto,sendmsg,bind,listen", "-o", str(log)]
    strace = _strace()
    assert strace is not None
    argv = [strace, "-f", "-qq", *traced, sys.executable, "-m", "portcheck", "free", "-n", "2"]
    result = subprocess.run(argv, capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()
    binds = [line for line in calls if " bind(" in line or line.startswith("bind(")]
    assert any("AF_INET6" in line for line in binds) and any("sa_family=AF_INET," in line for line in binds)
    others = [line for line in calls if line not in binds and "sa_family=AF_INET" in line]
    assert others == [] and not any("listen(" in line for line in calls)


# --- sudo: the password goes to sudo's terminal and nowhere else -------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty and a fake sudo")
def test_the_password_reaches_no_argv_or_environment(tmp_path: Path) -> None:
    """A fake sudo (tests/live/test_live_sudo.py) in the system directories execs a fake ss there that logs
    its argv and environment; portcheck runs under a pty and the right password is typed."""
    from tests.live.test_live_sudo import PASSWORD, WRAPPER, _fake_sudo

    system = tmp_path / "system"
    _fake_sudo(system)
    tool_log = tmp_path / "tool.log"
    fake_ss = system / "ss"
    fake_ss.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"open({str(tool_log)!r}, 'a').write(json.dumps([sys.argv, dict(os.environ)]) + '\\n')\n"
    )
    fake_ss.chmod(0o755)
    child = pexpect.spawn(
        sys.executable, [str(WRAPPER), str(system), "8080", "--sudo"], timeout=30, encoding="utf-8"
    )
    child.expect("password for")
    child.sendline(PASSWORD)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1, child.before  # the fake ss printed nothing: port free
    assert PASSWORD not in child.before  # portcheck's stdout and stderr
    assert PASSWORD not in (system / "sudo.log").read_text()  # sudo's argv and environment
    runs = [json.loads(line) for line in tool_log.read_text().splitlines()]
    assert [run[0][0] for run in runs] == [str(fake_ss)]  # resolved in the system directory
    assert all(PASSWORD not in json.dumps(run) for run in runs)  # the tool's argv and environment


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pty and a fake sudo")
def test_the_password_is_in_no_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wrong password ends in SudoError: its message, its arguments and every local variable of every
    frame of its traceback (what PORTCHECK_DEBUG or a crash reporter could show) lack the password."""
    from portcheck.live import runner
    from portcheck.live.sudo import SudoError, SudoExecutor
    from tests.live.test_live_sudo import PASSWORD, _fake_sudo

    system = tmp_path / "system"
    _fake_sudo(system)
    monkeypatch.setattr(runner, "SYSTEM_DIRS", (str(system), *runner.SYSTEM_DIRS))
    wrong = "wrong " + PASSWORD
    executor = SudoExecutor(ask=lambda prompt: wrong, terminal=True)
    with pytest.raises(SudoError) as caught:
        executor.run(["ss", "-tlnH"], timeout=20)
    shown = "".join(traceback.format_exception(type(caught.value), caught.value, caught.value.__traceback__))
    assert "wrong password" in shown and PASSWORD not in shown
    assert PASSWORD not in repr(caught.value.args)
    for frame_locals in _portcheck_frame_locals(caught.value):
        assert PASSWORD not in repr(frame_locals)


def _portcheck_frame_locals(error: BaseException) -> list[dict[str, object]]:
    """The local variables of every portcheck frame the exception (and any it chains) went through."""
    found = []
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            if (
                "portcheck" in tb.tb_frame.f_code.co_filename
                and "tests" not in tb.tb_frame.f_code.co_filename
            ):
                found.append(dict(tb.tb_frame.f_locals))
            tb = tb.tb_next
        pending += [current.__cause__, current.__context__]
    assert found, "no portcheck frame in the traceback"
    return found


# --- kill: only what holds the port now -------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux processes")
def test_kill_never_signals_a_pid_that_does_not_hold_the_port() -> None:
    from tests.helpers.cli import listener

    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with listener("pc-holder") as held:
            result = run_cli("kill", str(held.port), "--pid", str(bystander.pid), "--yes")
            assert held.process.poll() is None  # --pid narrowed the targets to nobody
        assert bystander.poll() is None, "a process that did not hold the port was signalled"
        assert result.code == 1, result.stderr
        assert f"Nothing to end: no process with PID {bystander.pid} holds port {held.port}." in result.stdout
    finally:
        bystander.kill()
        bystander.wait()
