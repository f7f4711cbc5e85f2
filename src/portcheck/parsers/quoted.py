"""Rows quoted inside prose: `netstat shows tcp 0 0 0.0.0.0:80 0.0.0.0:* LISTEN 1/nginx, why?`.

A mail or a forum post often holds a single row in a sentence. It is taken wherever a whole row of some
format is found: from each word that can start a row (a protocol word such as `tcp4` or `TCP`, or one
of ss's state words), the longest run of words that a format's parser reads as exactly one row, with
nothing it does not understand. Everything else in the line is left unread.

Only lines nothing else understood come here (portcheck.parsers.offline, step 4), and each input has a
Budget of parser runs, so a paste of thousands of sentences costs a bounded amount.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from portcheck import parsers
from portcheck.core.model import Socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.parsers.detect import detect

_ANCHOR = re.compile(
    r"(?<![\w.:/-])(?:tcp|udp|TCP|UDP)(?:4|6|46|v6)?(?![\w.:/-])|(?<!\S)(?:LISTEN|ESTAB|UNCONN)(?!\S)"
)
MAX_CHARS = 2048
"""Characters of a line looked at: a row is shorter, and a sentence around it rarely longer."""
MAX_WORDS = 32
"""Words of a candidate row: lsof's and ss's longest rows have fewer."""
_TRAILING = ".,;:!?)\"'»”’"
"""Punctuation a sentence puts after the row it quotes."""


class Budget:
    """Parser runs left for finding quoted rows in one input."""

    __slots__ = ("left",)

    def __init__(self, runs: int = 2000) -> None:
        self.left = runs


_WORD = re.compile(r"\S+")
_SENTENCE_ENDS = frozenset(",;!?.")
"""What ends a word at the end of a clause; no column of a row ends so (addresses end in a digit, `*`
or `]`, names in a letter or digit)."""


def _pieces(text: str, start: int) -> Iterator[tuple[str, int]]:
    """(words, where they end) from `start`, longest run first, without the punctuation that ends a
    sentence."""
    words = []
    for _, match in zip(range(MAX_WORDS), _WORD.finditer(text, start)):
        words.append(match)
        if match.group()[-1] in _SENTENCE_ENDS:
            break  # `... 1127/sshd, and then`: the sentence goes on, the row does not
    for end in range(len(words), 2, -1):
        piece = " ".join(match.group() for match in words[:end]).rstrip(_TRAILING)
        if piece:
            yield piece, words[end - 1].end()


def find_rows(
    line: str, candidates: tuple[str, ...], ctx: ParseContext, budget: Budget
) -> list[tuple[str, list[Socket]]]:
    """(format, rows) of every row quoted in the line; rows the port filter of `ctx` rejects are left
    out, but still make the line understood."""
    found: list[tuple[str, list[Socket]]] = []
    text = line[:MAX_CHARS]
    taken = 0  # the text before this was taken by a row already
    for anchor in _ANCHOR.finditer(text):
        if anchor.start() < taken:
            continue
        for piece, end in _pieces(text, anchor.start()):
            if budget.left <= 0:
                return found
            budget.left -= 1
            name = detect([piece], candidates)
            if name is None:
                continue
            notes = ParseNotes()
            notes.pid_names = ctx.notes.pid_names
            rows = list(parsers.reader(name).parse([piece], ParseContext(notes=notes)))
            if len(rows) != 1 or notes.skipped:
                continue
            found.append((name, [r for r in rows if ctx.wants(r.local_port, r.remote_port)]))
            ctx.notes.messages.update(notes.messages)
            taken = end
            break
    return found
