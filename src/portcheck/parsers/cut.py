"""Lines cut at a terminal's width: the end of each long row is missing, and its last word may be a
piece of a value (`1127/ss` for `1127/sshd`, `*:8` for `*:8080`) that reads as a different one.

A terminal, `less -S`, `watch` or a console window cuts every line at the same column. A paste shows it
when, among the lines as long as the longest (two at least), one is a tool's column header ending in a
piece of its last column's name (`... Peer Address:Port Proc`), or one opens a bracket or quote it
does not close (`users:(("ngi`, `(LIST`): tools print neither, so something cut them.
Then every line exactly that long, not ending in a blank, lost its end: its last word is dropped and
what remains is read (the columns before it are certain; the rest is unknown: a PID, a state or a
peer the row does not show).
"""

from __future__ import annotations

from portcheck.parsers import sections
from portcheck.parsers.common import clean

MIN_WIDTH = 40
"""Narrower lines are no terminal's width."""
HEADER_ENDS = (
    *("Process", "Address:Port", "State", "PID/Program", "Timer", "Inode", "User", "NAME", "(state)"),
    *("TCP-State", "IP-Proto", "ADDRESS", "STATE", "Command", "COMMAND", "OwningProcess", "ProcessName"),
)
"""The names of the last columns of the tools' headers: ss, net-tools, lsof, the BSDs' netstat,
sockstat, Solaris' netstat, fuser, PowerShell. A header ending in a shorter piece of one was cut."""
WHOLE_ENDS = frozenset({"PID"})
"""Last column names that are whole though another's start: Windows netstat's `PID` (net-tools'
`PID/Program name` starts with it). A localised `netstat -ano` header is often exactly as long as the
rows below it (`Status           PID`), and those rows are whole."""
HINT = (
    "the paste's lines were cut at {width} characters (a terminal's width): the last column of {count} "
    "row(s) is not shown and reads as unknown; paste the tool's output to a file instead (`... > out.txt`)"
)


def cut_width(sample: list[str]) -> int | None:
    """The width the sample's lines were cut at, when it shows one (see above); None otherwise."""
    lines = [line.rstrip("\r\n") for line in sample]
    width = max(map(len, lines), default=0)
    if width < MIN_WIDTH:
        return None
    longest = [i for i, line in enumerate(lines) if len(line) == width and not line[-1].isspace()]
    if len(longest) < 2:
        return None
    for index in longest:
        cleaned = clean(lines[index])
        if not cleaned:
            continue
        last = cleaned.split()[-1]
        if _unclosed(cleaned) and not _closed_below(cleaned, lines[index + 1 : index + 1 + WRAPPED_LINES]):
            return width
        heads = sections.header_formats(cleaned)
        if (
            heads
            and _piece_of_a_name(last)
            and not _header_goes_on(cleaned, heads, lines[index + 1 : index + 2])
        ):
            return width
    return None


WRAPPED_LINES = 4
"""How many lines below an unclosed line may still close it: a mail client wrapped the line there
(ss's `users:((...))` of a pre-forked server can take three more), which no terminal cut does."""


def _header_goes_on(header: str, heads: frozenset[str], below: list[str]) -> bool:
    """Is the line below the rest of this header (names only, and a header of the same tool with it:
    net-tools' `Foreign Address` then `State PID/Program name`)? Then it was wrapped, not cut."""
    if not below:
        return False
    rest = clean(below[0])
    words = rest.split()
    return (
        bool(words)
        and not any(char.isdigit() for char in rest)
        and bool(heads & sections.header_formats(f"{header} {rest}"))
    )


def _closed_below(line: str, below: list[str]) -> bool:
    """Do the lines below close what `line` left open? Then the line was wrapped, not cut."""
    for following in below:
        line = f"{line} {clean(following)}"
        if not _unclosed(line):
            return True
    return False


def _piece_of_a_name(word: str) -> bool:
    return word not in WHOLE_ENDS and any(
        len(word) < len(name) and name.startswith(word) for name in HEADER_ENDS
    )


def _unclosed(line: str) -> bool:
    return line.count("(") > line.count(")") or line.count("[") > line.count("]") or line.count('"') % 2 == 1


def is_cut(line: str, width: int) -> bool:
    text = line.rstrip("\r\n")
    return len(text) == width and not text[-1].isspace()


def certain_part(line: str) -> str:
    """The line without its last word, which the cut may have shortened."""
    return line.rstrip("\r\n").rsplit(None, 1)[0]
