"""The bookkeeping of a parse that every layer shares: the context a parser runs in (the port
pre-filter in, the notes out) and the notes themselves.

Parsers never print; what they notice (lines they could not read, state words they do not know,
columns cut short) goes into `ParseNotes`, which the caller turns into one line each on stderr after
the rows are out (portcheck.output.report). It lives in core, not with the parsers, because the live
query, `portcheck parse` and the reporter all read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from portcheck.core.addresses import is_wildcard_peer
from portcheck.core.errors import excerpt
from portcheck.core.model import Proto, State
from portcheck.core.states import lookup_state


class ParseNotes:
    """Diagnostics collected while parsing; rendered by the CLI, never printed by a parser."""

    __slots__ = ("first_skipped", "messages", "pid_names", "refused", "skipped", "unknown_states")

    def __init__(self) -> None:
        self.skipped = 0
        self.first_skipped: tuple[int, str] | None = None
        self.unknown_states: dict[str, int] = {}
        self.messages: dict[str, None] = {}  # an ordered set: each warning once
        self.pid_names: dict[int, str] = {}  # PID -> process name found in the same input (tasklist)
        self.refused: str | None = None
        """Set when the input is a tool's refusal to answer rather than an answer (`netstat -b` run
        without administrator rights): what to tell the person. A parser only says so; the caller
        decides what it means (the live query and `portcheck parse`: exit 3, could not inspect)."""

    def skip(self, lineno: int, line: str) -> None:
        """A line that is neither a row, a header nor blank: counted, and the first one remembered."""
        self.skipped += 1
        if self.first_skipped is None:
            self.first_skipped = (lineno, excerpt(line))

    def warn(self, message: str) -> None:
        self.messages[message] = None

    def unknown_state(self, word: str) -> None:
        self.unknown_states[word] = self.unknown_states.get(word, 0) + 1

    def merge(self, other: ParseNotes) -> None:
        """Fold the notes of another input (the second file of `portcheck parse a b`) into these."""
        if self.first_skipped is None:
            self.first_skipped = other.first_skipped
        self.skipped += other.skipped
        for word, count in other.unknown_states.items():
            self.unknown_states[word] = self.unknown_states.get(word, 0) + count
        self.messages.update(other.messages)
        self.pid_names.update(other.pid_names)
        self.refused = self.refused or other.refused


class ParseContext:
    """Carries the port pre-filter in and the notes out.

    The port filter is applied by the parser, before a record is built, because a filtered parse of a
    100,000-line dump is mostly rejected rows: building a record for each would be the dominant cost.
    Where a parser can, it goes further and lets `Lines` skip such rows unread (see `screen`);
    `screening=False` turns that off (tests compare both ways).
    """

    __slots__ = ("match_remote", "notes", "ports", "screening", "wide")

    def __init__(
        self,
        ports: frozenset[int] | None = None,
        *,
        match_remote: bool = False,
        notes: ParseNotes | None = None,
        screening: bool = True,
        wide: bool = False,
    ) -> None:
        self.ports = ports
        self.match_remote = match_remote
        self.notes = notes if notes is not None else ParseNotes()
        self.screening = screening
        self.wide = wide
        """The text answers a live plan's command, which asks for untruncated columns (`netstat -W`):
        a parser then never guesses that a column was cut, nor tells anyone to add -W."""

    def wants(self, local_port: int | None, remote_port: int | None = None) -> bool:
        """False only when a port filter is set and neither port (remote only with --remote) is in it."""
        ports = self.ports
        if ports is None:
            return True
        return local_port in ports or (self.match_remote and remote_port in ports)

    def screen(self, row: re.Pattern[str]) -> Callable[[str], bool] | None:
        """A test of raw lines that is True only for a line the port filter is sure to reject, given a
        parser's pattern of its usual row; None when there is no filter to screen for.

        The pattern must match (fullmatch) only whole raw lines that `clean` merely strips, that the
        parser reads as a row with every port field written in ASCII digits or `*`, and whose
        rejection has no effect beyond "a row was here". Such a line holds a wanted port only if it
        holds the port's decimal digits (`060653` holds `60653`; a service name or other digits would
        not match the pattern), so a line that contains none of them is rejected without reading it:
        one substring test and one regular expression instead of splitting and decoding the line."""
        needles = port_needles(self.ports) if self.screening else None
        if needles is None:
            return None
        match = row.fullmatch
        if len(needles) == 1:
            needle = needles[0]
            return lambda raw: needle not in raw and match(raw) is not None
        search = re.compile("|".join(needles)).search
        return lambda raw: search(raw) is None and match(raw) is not None

    def state(self, word: str, proto: Proto, peer_host: str = "", peer_port: str = "") -> State:
        """The canonical state for `word`; an unknown word is noted and guessed as DESIGN.md says:
        a TCP socket with a wildcard peer is LISTEN, anything else UNKNOWN."""
        state = lookup_state(word)
        if state is not None:
            return state
        self.notes.unknown_state(word)
        if proto is Proto.TCP and is_wildcard_peer(peer_host, peer_port):
            return State.LISTEN
        return State.UNKNOWN


MAX_NEEDLES = 8
"""Beyond this many port strings to look for, looking costs more than reading the line."""


def port_needles(ports: frozenset[int] | None) -> tuple[str, ...] | None:
    """The wanted ports in decimal, without those that contain another (a line holding `8080` holds
    `80`); None for no filter or too many to look for."""
    if ports is None or len(ports) > 64:  # a wide range: not worth looking at each port
        return None
    needles: list[str] = []
    for text in sorted(map(str, ports), key=len):
        if not any(needle in text for needle in needles):
            needles.append(text)
    return tuple(needles) if len(needles) <= MAX_NEEDLES else None
