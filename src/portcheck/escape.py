"""Make text from other programs safe to print: process names and pasted lines are chosen by strangers."""

from __future__ import annotations

import re

# C0 and C1 controls and DEL. Tab is escaped too: inside a table cell it would break alignment.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}"


def escape_controls(text: str) -> str:
    """Replace every control character with a visible `\\xNN`, so `\\x1b[2J` cannot clear the screen."""
    if text.isprintable():
        return text
    return _CONTROL.sub(_escape_char, text)
