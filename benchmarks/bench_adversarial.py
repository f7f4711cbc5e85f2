#!/usr/bin/env python3
"""How long the worst single lines take: every parser's parse and sniff, format detection, and the
whole reading of a paste (`paste`: what pasting adds taken off, sections, rows quoted in sentences,
cut lines), on lines of nearly 64 KiB (the longest line decode.py lets through) built to make
regular expressions backtrack: runs of colons, quotes, brackets, digits, separators, each behind
the prefix that gets a line past a parser's first checks.

Run by hand:  .venv/bin/python benchmarks/bench_adversarial.py
tests/parsers/test_adversarial_lines.py runs the same lines with a bound far above normal (a hang guard).
Before the fixes of this review, `("` repeated took 13 s in ss and a line of colons never finished in
the /proc parser.
"""

from __future__ import annotations

import contextlib
import time

from portcheck import parsers
from portcheck.core.decode import MAX_LINE
from portcheck.core.parsing import ParseContext
from portcheck.parsers.detect import detect

LENGTH = MAX_LINE - 256

PROC_PREFIX = "0: 00000000:0000 00000000:0000 0A "
SS_PREFIX = "tcp LISTEN 0 128 0.0.0.0:22 0.0.0.0:* users:(("


def _run(text: str, length: int = LENGTH) -> str:
    return (text * (length // len(text) + 1))[:length]


LINES: dict[str, str] = {
    "colons": _run(":"),
    "lsof -F name of colons": "n" + _run(":") + " ",
    "lsof -F name of colon pairs": "n" + _run(":a") + "\x00",
    'ss users of ("': SS_PREFIX + _run('("'),
    'ss users of ("a",': SS_PREFIX + _run('("a",'),
    'ss users of ("a",1,': SS_PREFIX + _run('("a",1,'),
    "/proc of colons": PROC_PREFIX + _run(":", LENGTH // 2 - 40) + " " + _run(":", LENGTH // 2 - 40) + " x",
    "/proc of a:": PROC_PREFIX + _run("a:", LENGTH // 3) + " " + _run("a:", LENGTH // 3) + " 1 1 x",
    "/proc of digits": PROC_PREFIX + _run("1 ", LENGTH - 40),
    "bracket then ]:": "[" + _run("]:"),
    "[]:1": _run("[]:1"),
    "hex and colons": _run("a:") + "x",
    "digits": _run("1"),
    "digit slashes": _run("1/"),
    "digit dots": _run("1."),
    "a row of spaces": "tcp " + _run(" ") + "x",
    "many tokens": _run("a "),
    "banner without its )": _run("a", LENGTH - 1000) + "(" + _run("x", 999),
    "a( repeated": _run("a("),
    "list key then spaces": "Local" + _run(" ") + ":",
    "word, spaces, word": _run("a", LENGTH - 1001) + _run(" ", 1000) + "x",
    "escape sequences": _run("\x1b[1;"),
    "dashes": _run("- "),
    "equals": _run("= "),
    "lsof escapes": _run("\\x"),
    "netstat columns": _run("tcp 0 0 "),
    "quotes": _run('"'),
    "CSV cells": _run('"a",'),
    "uid:": _run("uid:"),
    "ino:0": _run(" ino:0"),
    "ss bracket address": "udp UNCONN 0 0 " + _run("[") + " *:*",
    "Windows address": "  TCP    " + _run("0.0.0.0:") + "   0.0.0.0:0  LISTENING  4",
    "BSD address": "tcp4  0 0 " + _run("1.") + " *.* LISTEN",
    "a port of digits": "tcp 0 0 0.0.0.0:" + _run("1", LENGTH - 64) + " 0.0.0.0:* LISTEN",
    "a BSD port of digits": "tcp4 0 0 *." + _run("1", LENGTH - 64) + " *.* LISTEN",
    "fuser PIDs": "80/tcp:" + _run(" 1"),
    "fuser PIDs and users": "80/tcp:" + _run(" 1(a)"),
    "fuser name of commas": _run(",") + "/tcp: 1",
    "fuser -v rows": "80/tcp:" + _run(" root 1 F...."),
    "fuser command line": "$ fuser " + _run("-n "),
    "Solaris queues": "127.0.0.1.22 *.* " + _run("0 ") + "LISTEN",
    "Solaris dots": _run("1.") + " Idle",
    "Solaris -u PID of digits": "*.22 *.* root " + _run("1", LENGTH - 64) + " sshd 0 0 0 0 LISTEN",
    "fstat address of colons": "root sshd 1 3* internet stream tcp 0x0 " + _run("1:"),
    "fstat arrows": "root sshd 1 3* internet stream tcp 0x0 *:22 " + _run("<-- "),
    # PIDs (and uids, inodes) of thousands of digits: int() refuses more than 4,300
    "ss PID of digits": SS_PREFIX + '"a",pid=' + _run("9", LENGTH - 64) + ",fd=3))",
    "netstat PID of digits": "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN " + _run("9", LENGTH - 64) + "/sshd",
    "lsof PID of digits": "sshd " + _run("9", LENGTH - 64) + " root 3u IPv4 1 0t0 TCP *:22 (LISTEN)",
    "lsof -F PID of digits": "p" + _run("9", LENGTH - 8),
    "Windows PID of digits": "  TCP 0.0.0.0:22 0.0.0.0:0 LISTENING " + _run("9", LENGTH - 64),
    "tasklist PID of digits": '"x.exe","' + _run("9", LENGTH - 64) + '","Console","1","8 K"',
    "sockstat PID of digits": "root sshd " + _run("9", LENGTH - 64) + " 3 tcp4 *:22 *:*",
    "macOS -v PID of digits": "tcp4 0 0 *.22 *.* LISTEN 0 0 131072 131072 sshd:"
    + _run("9", LENGTH - 96)
    + " 00100",
    "/proc uid of digits": PROC_PREFIX
    + "00000000:00000000 00:00000000 00000000 "
    + _run("9", LENGTH - 128)
    + " 0 1",
    # what a paste adds (portcheck.parsers.paste, sections, quoted, cut)
    "HTML tags": _run("<p>tcp "),
    "HTML breaks": _run("tcp 0 0 <br>"),
    "HTML entities": _run("&nbsp;&#1"),
    "unclosed tags": _run("<span "),
    "bold stars": "**" + _run("*a"),
    "bold around a row": "**" + _run("tcp 0 0 *:* ") + "**",
    "inline code": _run("`a b c d "),
    "chat head": "[10:42] " + _run("a: "),
    "listing numbers": _run("12 | "),
    "glued rows": _run("tcp 0 0 1.2.3.4:5 "),
    "glued /proc rows": _run("1: 0100007F:0016 00000000:0000 "),
    "quoted row anchors": _run("tcp LISTEN "),
    "prompts": "$ " + _run("sudo "),
    "user@host prompt": _run("a@b:"),
    "PowerShell prompt": "PS C:\\" + _run("a\\"),
    "redacted PID": "tcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN " + _run("*") + "/sshd",
    "sockstat overflow": "messagebus " + _run("a1") + " 5 tcp4 127.0.0.1:5432 *:*",
    "sockstat glued addresses": "root sshd 745 4 tcp6 " + _run("[::1]:22"),
    "Get-Process row": _run("1 ") + "node",
    "unclosed users (cut)": _run('users:(("'),
}
"""Name -> one adversarial line."""


def timings() -> list[tuple[float, str, str]]:
    """(seconds, line name, what ran) for every line against every parser (parse and sniff of the
    line twice over), detection (the line three times) and a paste's reading (the line twice)."""
    results: list[tuple[float, str, str]] = []
    for key, line in LINES.items():
        for name in parsers.FORMATS:
            results.append((time_parser(name, line), key, name))
        results.append((time_detect(line), key, "detect"))
        results.append((time_paste(line), key, "paste"))
    return results


def time_paste(line: str) -> float:
    """`portcheck parse` of the line twice over: everything a paste goes through before and after
    the parsers (portcheck.parsers.offline)."""
    from portcheck.api.sockets import parse
    from portcheck.core.errors import ParseError

    started = time.perf_counter()
    with contextlib.suppress(ParseError):  # no tool's output: the answer for most of these lines
        parse(f"{line}\n{line}\n")
    return time.perf_counter() - started


def time_parser(name: str, line: str) -> float:
    parser = parsers.load(name)
    started = time.perf_counter()
    list(parser.parse([line, line], ParseContext()))
    parser.sniff([line, line])
    return time.perf_counter() - started


def time_detect(line: str) -> float:
    started = time.perf_counter()
    detect([line] * 3)
    return time.perf_counter() - started


def main() -> None:
    results = sorted(timings(), reverse=True)
    total = sum(seconds for seconds, _, _ in results)
    print(f"{len(LINES)} lines x {len(parsers.FORMATS)} parsers + detection: {total:.2f} s in all")
    print("slowest:")
    for seconds, key, what in results[:10]:
        print(f"  {seconds * 1000:8.1f} ms  {what:16s} {key}")


if __name__ == "__main__":
    main()
