"""Make text from other programs safe to print: process names and pasted lines are chosen by strangers."""

from __future__ import annotations

import re
from functools import cache

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""Unicode's Bidi_Control characters: the Arabic letter mark, the marks, embeddings, overrides and
isolates. They make a terminal show `exe.live` for `evil.exe` reversed, or swap table cells around
(the "Trojan Source" trick), and no tool prints them in a name."""


# C0 and C1 controls and DEL: the terminal acts on them (ESC starts a command sequence, so does the C1
# CSI 0x9b). Tab is escaped too: inside a table cell it would break alignment. And the bidi controls.
# Both patterns are compiled on first use (~0.3-0.5 ms each at start-up on 3.9): nearly every name is
# printable and ASCII, so most runs never need either.
@cache
def _control() -> re.Pattern[str]:
    return re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")


@cache
def _json_unescaped() -> re.Pattern[str]:
    """What json.dumps leaves raw in a string (it escapes C0 only): DEL, C1 and the bidi controls."""
    return re.compile(f"[\x7f-\x9f{_BIDI}]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """Replace every control character with a visible `\\xNN` (`\\uNNNN` for a direction control), so
    `\\x1b[2J` cannot clear the screen."""
    if text.isprintable():
        return text
    return _control().sub(_escape_char, text)


def _json_char(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_json_text(encoded: str) -> str:
    """JSON text (already encoded, ensure_ascii off) with DEL, C1 and bidi controls written `\\u00XX`
    / `\\uXXXX` as well: lossless (a JSON reader decodes them back to the same characters), and a
    terminal or a log viewer showing the JSON never meets a raw CSI (U+009B) or an override. Outside
    strings JSON text is printable ASCII, so every such character found is inside a string. ASCII text
    without DEL, what nearly every record is, is recognised without a scan for the others (isascii is
    a flag of the string): the rows are escaped a batch at a time (output.render)."""
    if (encoded.isascii() and "\x7f" not in encoded) or not _json_unescaped().search(encoded):
        return encoded
    return _json_unescaped().sub(_json_char, encoded)
