"""What pasting adds around a tool's lines (HTML, Markdown, chat heads, listing numbers, terminal
colours), rows glued by a lost newline, and rows quoted inside sentences: every row is read, and only
the prose around it is counted as not understood."""

from __future__ import annotations

import pytest

from portcheck.api.sockets import parse

SSHD = "tcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN      1127/sshd"
NGINX = "tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      99/nginx"
PROC_22 = "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1"
PROC_5432 = "   1: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   107      0 2 1"

BOTH = [("0.0.0.0", 22, 1127, "sshd"), ("0.0.0.0", 80, 99, "nginx")]

CASES = {
    "html tags, breaks and entities": (f"<p>{SSHD}</p><br>{NGINX.replace('  ', '&nbsp; ')}<br/>", BOTH, 0),
    "markdown fence and list": (f"2. In my shell\n```bash\n{SSHD}\n{NGINX}\n```", BOTH, 1),
    "markdown bold": (f"**{SSHD}**\n- {NGINX}", BOTH, 0),
    "chat export": (f"[10:42] alice: {SSHD}\n10:43 <bob> {NGINX}", BOTH, 0),
    "numbered listing": (f"12 | {SSHD}\n13 │ {NGINX}", BOTH, 0),
    "numbered list": (f"1. {SSHD}\n2) {NGINX}", BOTH, 0),
    "terminal colours": (f"\x1b[1;32m{SSHD}\x1b[0m\x1b[K\n^[[31m{NGINX}^[[0m", BOTH, 0),
    "two rows glued": (f"{SSHD} {NGINX}", BOTH, 0),
    "row in a sentence": (f"netstat says {SSHD}, and then {NGINX}", BOTH, 0),
    "inline code": (
        "On my Mac I get `tcp4 0 0 *.5000 *.* LISTEN` and nothing else, why?",
        [("0.0.0.0", 5000, None, None)],
        0,
    ),
    "two /proc/net/tcp rows glued": (
        f"{PROC_22}{PROC_5432}",
        [("0.0.0.0", 22, None, None), ("127.0.0.1", 5432, None, None)],
        0,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_every_row_of_a_messy_paste_is_read(name: str) -> None:
    text, expected, prose_lines = CASES[name]
    result = parse(text + "\n")
    got = [(r.local_address, r.local_port, r.pid, r.process) for r in result.rows]
    assert sorted(got, key=repr) == sorted(expected, key=repr)  # a quoted row is found after the others
    assert result.skipped == prose_lines, result.first_skipped


def test_a_sentence_without_a_whole_row_is_not_understood() -> None:
    result = parse(f"{SSHD}\nthe port is tcp 8080 but nothing LISTEN there\n")
    assert [r.local_port for r in result.rows] == [22]
    assert result.skipped == 1
