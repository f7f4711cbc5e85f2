"""Fields an author blanked out before pasting a tool's output (`****/java`, `x.x.x.x:443`,
`<redacted>`): the parsers read such a PID, user or fd as unknown and keep the rest of the row, and an
address so blanked has no known exposure."""

from __future__ import annotations

_REDACTION_MARKS = frozenset("*xX#?.")
_REDACTION_WORDS = frozenset({"redacted", "hidden", "removed", "pid", "snip", "censored"})


def redacted(token: str) -> bool:
    """A column an author blanked out before pasting: one mark repeated (`****`, `xxxx`, `XXX`, `##`,
    `...`, `…`), an IPv4 address of marks (`x.x.x.x`, `xxx.xxx.xxx.xxx`), or a word in brackets
    (`<redacted>`, `[hidden]`, `<pid>`). The rest of the row still holds (a PID redacted keeps its
    command, port and state); the blanked column reads as unknown. No tool prints such a token where a
    PID or user goes; BSD's wildcard `*.*` is none (two marks, one dot)."""
    if token == "…" or (len(token) >= 2 and _one_mark(token)):
        return True
    if token.count(".") == 3:
        return all(part and part[0] != "." and _one_mark(part) for part in token.split("."))
    if token[:1] in "<[" and token[-1:] in ">]":
        return token[1:-1].lower() in _REDACTION_WORDS
    return token in ("REDACTED", "redacted")


def _one_mark(text: str) -> bool:
    return text[0] in _REDACTION_MARKS and len(set(text.lower())) == 1
