"""What a paste adds around a tool's lines, taken off before any parser reads them.

Text reaches portcheck through chat clients, ticket systems, web pages and terminals, each of which
leaves its mark on every line: HTML tags and entities (`<p>tcp ...</p>`, `<br>`, `&nbsp;`, `&lt;`),
Markdown (inline code, bold `**`, list bullets and numbers, code fences), chat exports
(`[10:42] alice: tcp ...`), numbered code listings (`12 | tcp ...`, `12. tcp ...`), terminal colours
and line clearing (`ESC[1;32m`, `ESC[K`), and non-breaking or zero-width spaces. `unwrap` removes them
and splits a line where HTML or a lost newline glued two rows together (`<br>`, `tcp ... 1/sshd tcp
...`, two /proc/net/tcp rows on one line), so the parsers only ever see lines as the tool printed them.

Only the offline reading (`portcheck parse`) calls this: live output is the tool's own. Each rule
removes only marks that no tool prints at that place, and every pattern is linear on a 64 KiB line.
"""

from __future__ import annotations

import re
from html import unescape

_ANSI = re.compile(
    r"\x1b(?:\[[0-9;:?<=>]{0,32}[ -/]{0,4}[@-~]|\][^\x07\x1b]{0,512}(?:\x07|\x1b\\)?|[()][0-9A-Za-z]|[=>78])"
)
"""CSI sequences (SGR colours, `ESC[K` line clearing, cursor moves), OSC titles and hyperlinks,
character-set selection and keypad modes: what `ls --color`, grep, PowerShell 7 and prompts emit."""
_CARET_ANSI = re.compile(r"\^\[\[[0-9;]{0,32}[A-Za-z]")
"""The same as `less` or `cat -v` shows them: `^[[1;32m`."""
_INVISIBLE = str.maketrans(
    {**dict.fromkeys("\u00a0\u202f\u2007\u3000\t", " "), **dict.fromkeys("\u200b\u200c\u200d\u2060\ufeff")}
)
"""Spaces a web page or word processor puts in place of blanks, and zero-width characters."""

_HTML_TAGS = (
    "a|abbr|b|blockquote|body|br|code|dd|del|div|dl|dt|em|font|h[1-6]|hr|html|i|ins|kbd|li|mark|ol|p|pre|"
    "s|samp|small|span|strong|sub|sup|table|tbody|td|tfoot|th|thead|tr|tt|u|ul|var"
)
_HTML_BREAK = re.compile(r"<(?:br|hr)\b[^<>]{0,256}>|</(?:p|div|pre|li|tr|h[1-6]|blockquote)\s*>", re.I)
"""Tags that end a line where the page showed one."""
_HTML_TAG = re.compile(rf"</?(?:{_HTML_TAGS})\b[^<>]{{0,256}}>|<!--.{{0,256}}?-->", re.IGNORECASE)
"""Tags of text formatting only, by name: a `<redacted>` or `<ip>` an author wrote is no tag."""
_ENTITY = re.compile(r"&(?:[A-Za-z]{2,8}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")

_FENCE = re.compile(r"\s*(?:```|~~~)[\w+.-]{0,32}\s*")
"""A Markdown code fence, with or without its language word: no tool prints it."""
_CODE_SPAN = re.compile(r"`([^`]{1,4096})`")
_BOLD = re.compile(r"\*\*([^*\s](?:(?:[^*]|\*(?!\*)){0,4096}?[^*\s])?)\*\*")
"""`**text**` around words: Markdown bold, rendered as stars when pasted as plain text.
A `**` standing alone (or `**:*`) is an author's redaction and stays, and so does text between the
stars that holds no letter or digit (`10.**.**.5`). A single star inside is the row's own (`0.0.0.0:*`)."""
_BULLET_BOLD = re.compile(r"\s{0,8}[-*•]\s{0,4}(?=\*\*)")

_CHAT = re.compile(
    r"\s{0,8}\[?(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4},?[ T])?"  # a date
    r"\d{1,2}:\d\d(?::\d\d)?(?:\s?[AaPp]\.?[Mm]\.?)?\]?\s{1,8}"  # a time
    r"(?:<[^<>\s]{1,32}>\s{1,8}|[A-Za-z@_][^:<>\[\]]{0,31}?:\s{1,8})?"
)
"""A chat export's line head: a time (maybe a date) in brackets or not, then `<nick>` or `name:`."""
_LISTING = re.compile(r"\s{0,8}(?:\d{1,5}\s{0,4}[|│]\s?|\d{1,5}[.)]\s{1,8}|[-*•]\s{1,8})")
"""A numbered code listing (`12 | `, `12 │ `), a Markdown ordered list item (`2. `, `2) `) or a bullet
(`- `, `* `, `• `; not `+ `, which PowerShell starts its error details with)."""

_GLUED = re.compile(
    r"(?<=\S)\s{1,64}(?="
    r"(?:tcp|udp|raw|sctp)(?:4|6|46)?\s{1,32}\d{1,12}\s{1,32}\d{1,12}\s{1,32}\S{1,256}[:.]\S"  # netstat
    r"|(?:TCP|UDP)(?:v6)?\s{1,32}(?:\[[0-9A-Fa-f:.%]{0,64}\]|[0-9.]{7,15}):\d{1,5}\s{1,32}"  # Windows netstat
    r"(?:\[[0-9A-Fa-f:.%*]{0,64}\]|[0-9.]{7,15}|\*):(?:\d{1,5}|\*)\s"
    r"|\d{1,6}:\s{1,32}[0-9A-F]{8,32}:[0-9A-F]{4}\s{1,32}[0-9A-F]{8,32}:[0-9A-F]{4}\s"  # /proc/net/tcp
    r"|(?:tcp|udp|raw|sctp|mptcp)\s{1,32}(?:LISTEN|ESTAB|UNCONN|TIME-WAIT|SYN-SENT|SYN-RECV|FIN-WAIT-[12]|"
    r"CLOSE-WAIT|LAST-ACK|CLOSING|CLOSED)\s{1,32}\d{1,12}\s{1,32}\d{1,12}\s"  # ss
    r")"
)
"""Where a second row starts inside a line: two rows glued by a lost newline. Each alternative is the
start of a row as its tool prints it (the protocol and two queue numbers of netstat and ss, a Windows
protocol and address, a /proc/net/tcp slot with two hex endpoints), which no column of a row holds."""

TRIGGERS = re.compile(
    r"[<&`\x1b\u00a0\u202f\u2007\u3000\u200b\u200c\u200d\u2060\ufeff│•]|\*\*|\^\[\["
    r"|^\s{0,8}(?:\[\d|\d{1,2}:\d\d[\s\]:]|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}[, T]"  # chat
    r"|\d{1,5}\s{0,4}[|│]|\d{1,5}[.)]\s|[-*]\s)"  # listing, list
)
"""A line that may hold something `unwrap` removes. Tool output has none of these (lsof's `->` has no
`<`; fstat's arrows are `<--`, which no rule changes), so a clean dump is passed through untouched."""


def needs_unwrap(line: str) -> bool:
    """True when `unwrap` may change the line (a glued row is checked for apart: see `glued`)."""
    return TRIGGERS.search(line) is not None


def glued(line: str) -> bool:
    """True when the line holds the start of a second row."""
    return len(_unglue(line)) > 1


def unwrap(line: str) -> list[str]:
    """The tool's line(s) in a pasted line: the marks above removed, split where tags or lost
    newlines glued lines together. A line that was only a mark (a code fence, `<p>`) gives [""]."""
    if "\x1b" in line:
        line = _ANSI.sub("", line)
    if "^[[" in line:
        line = _CARET_ANSI.sub("", line)
    line = line.translate(_INVISIBLE)
    if "<" in line:
        pieces = _HTML_BREAK.split(line)
        if len(pieces) > 1:
            return [out for piece in pieces for out in unwrap(piece)]
        line = _HTML_TAG.sub("", line)
    if "&" in line:
        line = _ENTITY.sub(lambda m: unescape(m.group()), line).translate(_INVISIBLE)
    if "`" in line:
        line = _code(line)
    line = _strip_heads(line)
    if "**" in line:
        bullet = _BULLET_BOLD.match(line)
        line = _BOLD.sub(_unbold, line[bullet.end() :] if bullet else line)
        line = _strip_heads(line)
    return _unglue(line)


def _code(line: str) -> str:
    """A code fence is no line of output; inline code is: the longest span of several words is the row
    quoted in a sentence (`` I get `tcp4 0 0 *.5000 *.* LISTEN` here ``), else the backticks go."""
    if _FENCE.fullmatch(line):
        return ""
    spans = [m.group(1) for m in _CODE_SPAN.finditer(line)]
    rows = [span for span in spans if len(span.split()) >= 4]
    if rows:
        return max(rows, key=len)
    return line.replace("`", " ")


def _unbold(match: re.Match[str]) -> str:
    text = match.group(1)
    return text if any(char.isalnum() for char in text) else match.group()


def _strip_heads(line: str) -> str:
    """A chat line's time and name, then a listing's number or a bullet, from the start of the line."""
    head = _CHAT.match(line)
    if head is not None and head.end() < len(line):
        line = line[head.end() :]
    listing = _LISTING.match(line)
    if listing is not None and listing.end() < len(line):
        line = line[listing.end() :]
    return line


MIN_ROW_WORDS = 4
"""Words of a row before the next can start: a Windows UDP row has four (`UDP 0.0.0.0:500 *:* 4`), the
others more. macOS's `netstat -A` puts two words (the socket's addresses) before the protocol, which
thus starts no second row."""


def _unglue(line: str) -> list[str]:
    if len(line) < 40:
        return [line]
    pieces = []
    start = 0
    for match in _GLUED.finditer(line):
        if len(line[start : match.start()].split()) >= MIN_ROW_WORDS:
            pieces.append(line[start : match.start()])
            start = match.end()
    pieces.append(line[start:])
    return pieces
