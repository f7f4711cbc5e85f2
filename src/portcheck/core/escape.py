"""Make text from other programs safe to print: process names and pasted lines are chosen by strangers."""

from __future__ import annotations

import re

# C0 and C1 controls and DEL: the terminal acts on them (ESC starts a command sequence, so does the C1
# CSI 0x9b). Tab is escaped too: inside a table cell it would break alignment. Also the Unicode
# direction overrides and isolates: they make a terminal show `exe.live` for `evil.exe` reversed, or
# swap table cells around (the "Trojan Source" trick), and no tool prints them in a name.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """Replace every control character with a visible `\\xNN` (`\\uNNNN` for a direction control), so
    `\\x1b[2J` cannot clear the screen."""
    if text.isprintable():
        return text
    return _CONTROL.sub(_escape_char, text)
