"""The bookkeeping of a parse that every layer shares: the context a parser runs in (the port
pre-filter in, the notes out) and the notes themselves.

Parsers never print; what they notice (lines they could not read, state words they do not know,
columns cut short) goes into `ParseNotes`, which the caller turns into one line each on stderr after
the rows are out (portcheck.output.report). It lives in core, not with the parsers, because the live
query, `portcheck parse` and the reporter all read it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from portcheck.core.addresses import is_wildcard_peer
from portcheck.core.errors import excerpt
from portcheck.core.model import Proto, Socket, State
from portcheck.core.states import lookup_state

MAX_UNKNOWN_WORDS = 16
"""Distinct unknown state words kept, each with its count; a hostile paste with a new word on every row
adds to one count of "other words" instead (3M such rows kept 561 MB of words before)."""
MAX_WORD = 64
"""Characters of an unknown state word kept for the message."""


class PidNames:
    """PID -> process name, from a tasklist in the same input (a paste of `netstat -ano` and `tasklist`
    together, in either order, or `portcheck parse netstat.txt tasklist.txt`), in bounded memory: the
    names of at most MAX_PID_NAMES distinct PIDs are kept, the rest counted (`dropped`) for the caller
    to say so.

    A bounded map rather than "only the PIDs rows need": a tasklist that comes first is read before any
    row says which PIDs it needs, and stdin cannot be read twice; remembering the PIDs of the rows
    read before a tasklist cost a tenth of a 100,000-row parse, for inputs no machine prints. A real
    machine runs a few thousand processes; 1.5M lines of tasklist kept 629 MB before."""

    __slots__ = ("dropped", "names")

    MAX_PID_NAMES = 65_536

    def __init__(self) -> None:
        self.names: dict[int, str] = {}
        self.dropped = 0

    def add(self, pid: int, name: str) -> None:
        names = self.names
        if len(names) < self.MAX_PID_NAMES or pid in names:
            names[pid] = name
        else:
            self.dropped += 1

    def get(self, pid: int | None) -> str | None:
        return self.names.get(pid) if pid is not None else None

    def name(self, rows: Iterable[Socket], services: Mapping[int, str] | None = None) -> list[Socket]:
        """The rows, each with a PID and no process name named from here: a tasklist read beside a
        `netstat -ano` (a paste, or the live plan's second command), and their `services` (`tasklist
        /svc`) where the row names none. A name the row has (`-b`'s `[name.exe]`) stays."""
        names = self.names
        if not services:
            return [
                r._replace(process=names.get(r.pid)) if r.pid is not None and r.process is None else r
                for r in rows
            ]
        return [
            r._replace(process=names.get(r.pid), service=r.service or services.get(r.pid))
            if r.pid is not None and r.process is None
            else r
            for r in rows
        ]

    def update(self, other: PidNames) -> None:
        for pid, name in other.names.items():
            self.add(pid, name)
        self.dropped += other.dropped

    def __bool__(self) -> bool:
        return bool(self.names)

    def __len__(self) -> int:
        return len(self.names)


class ParseNotes:
    """Diagnostics collected while parsing; rendered by the CLI, never printed by a parser."""

    __slots__ = (
        "first_skipped",
        "messages",
        "other_unknown_rows",
        "pid_names",
        "refused",
        "skipped",
        "unknown_states",
    )

    def __init__(self) -> None:
        self.skipped = 0
        self.first_skipped: tuple[int, str] | None = None
        self.unknown_states: dict[str, int] = {}
        """The first MAX_UNKNOWN_WORDS distinct unknown state words (cut to MAX_WORD) and their rows."""
        self.other_unknown_rows = 0
        """Rows with an unknown state word beyond those: counted, the words not kept."""
        self.messages: dict[str, None] = {}  # an ordered set: each warning once
        self.pid_names = PidNames()  # PID -> process name found in the same input (tasklist)
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

    def unknown_state(self, word: str, rows: int = 1) -> None:
        word = word[:MAX_WORD]
        states = self.unknown_states
        if word in states:
            states[word] += rows
        elif len(states) < MAX_UNKNOWN_WORDS:
            states[word] = rows
        else:
            self.other_unknown_rows += rows

    def merge(self, other: ParseNotes) -> None:
        """Fold the notes of another input (the second file of `portcheck parse a b`) into these."""
        if self.first_skipped is None:
            self.first_skipped = other.first_skipped
        self.skipped += other.skipped
        for word, count in other.unknown_states.items():
            self.unknown_state(word, count)
        self.other_unknown_rows += other.other_unknown_rows
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

    __slots__ = ("match_remote", "notes", "ports", "proto", "screening", "wide")

    def __init__(
        self,
        ports: frozenset[int] | None = None,
        *,
        match_remote: bool = False,
        notes: ParseNotes | None = None,
        screening: bool = True,
        wide: bool = False,
        proto: Proto | None = None,
    ) -> None:
        self.ports = ports
        self.match_remote = match_remote
        self.notes = notes if notes is not None else ParseNotes()
        self.screening = screening
        self.wide = wide
        """The text answers a live plan's command, which asks for untruncated columns (`netstat -W`):
        a parser then never guesses that a column was cut, nor tells anyone to add -W."""
        self.proto = proto
        """The one transport the tool was asked for, when the live query knows it (`ss -u`): what a
        row that does not say its protocol is (ss prints no Netid column when asked one protocol).
        None for a paste, whose rows or sections must tell."""

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
