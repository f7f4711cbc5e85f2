"""What every parser shares: the context it reports into, the port pre-filter, and line clean-up.

Parsers are pure functions from lines to records. They never print; what they notice (lines they could
not read, state words they do not know, columns cut short) goes into `ParseNotes`, which the CLI turns
into one line each on stderr after the rows are out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from portcheck.core.addresses import is_wildcard_peer, local_address, remote_endpoint
from portcheck.core.errors import excerpt
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.states import STATE_BY_WORD, lookup_state


class ParseNotes:
    """Diagnostics collected while parsing; rendered by the CLI, never printed by a parser."""

    __slots__ = ("first_skipped", "messages", "pid_names", "skipped", "unknown_states")

    def __init__(self) -> None:
        self.skipped = 0
        self.first_skipped: tuple[int, str] | None = None
        self.unknown_states: dict[str, int] = {}
        self.messages: dict[str, None] = {}  # an ordered set: each warning once
        self.pid_names: dict[int, str] = {}  # PID -> process name found in the same input (tasklist)

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


class ParseContext:
    """Carries the port pre-filter in and the notes out.

    The port filter is applied by the parser, before a record is built, because a filtered parse of a
    100,000-line dump is mostly rejected rows: building a record for each would be the dominant cost.
    Where a parser can, it goes further and lets `Lines` skip such rows unread (see `screen`);
    `screening=False` turns that off (tests compare both ways).
    """

    __slots__ = ("match_remote", "notes", "ports", "screening")

    def __init__(
        self,
        ports: frozenset[int] | None = None,
        *,
        match_remote: bool = False,
        notes: ParseNotes | None = None,
        screening: bool = True,
    ) -> None:
        self.ports = ports
        self.match_remote = match_remote
        self.notes = notes if notes is not None else ParseNotes()
        self.screening = screening

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


class Parser(Protocol):
    """The shape of every module in portcheck.parsers."""

    NAME: str

    def parse(self, lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]: ...

    def sniff(self, sample: list[str]) -> float: ...


_PASTE_MARKERS = ("\x1b[200~", "\x1b[201~", "[200~", "[201~", "^[[200~", "^[[201~")
_WRAPPED = (">", "[", "\x1b", "^")
"""First characters of a line that `clean` may have more to remove from than blanks."""


def clean(line: str) -> str:
    """A pasted line without the wrapping that pasting adds: bracketed-paste markers, Markdown or
    e-mail quoting (`> `), indentation, trailing blanks and carriage returns."""
    line = line.strip()
    if line.startswith(_WRAPPED):
        for marker in _PASTE_MARKERS:
            if line.startswith(marker):
                line = line[len(marker) :]
        while line.startswith(">"):
            line = line[1:].lstrip()
    if line.endswith(("~", "\x1b[201~")):
        for marker in _PASTE_MARKERS:
            if line.endswith(marker):
                line = line[: -len(marker)].rstrip()
    return line


FILTERED_OUT = "<rows the port filter rejects>"
"""What `Lines` yields (this very object) in place of a run of lines its screen skipped: to a parser,
a rejected row means no more than "a row was here" (it ends the row before it)."""


class Lines:
    """(line number from 1, raw line, cleaned line) for every line that is not blank once cleaned: the
    loop every parser runs. Most lines need only `strip`, so `clean` runs only on the few that start
    or end like pasted wrapping.

    With a `screen` (ParseContext.screen), lines it is sure the port filter rejects are skipped here,
    each run of them handed on as one FILTERED_OUT line. A parser whose state can make such a line
    mean something else (the end of a cut row) sets `screen` to None meanwhile: it is read anew for
    every line."""

    __slots__ = ("_lines", "screen")

    def __init__(self, lines: Iterable[str], screen: Callable[[str], bool] | None = None) -> None:
        self._lines = lines
        self.screen = screen

    def __iter__(self) -> Iterator[tuple[int, str, str]]:
        skipped = 0
        for lineno, raw in enumerate(self._lines, 1):
            screen = self.screen
            if screen is not None and screen(raw):
                skipped = skipped or lineno
                continue
            if skipped:
                yield skipped, "", FILTERED_OUT
                skipped = 0
            line = raw.strip()
            if line.startswith(_WRAPPED) or line.endswith("~"):
                line = clean(line)
            if line:
                yield lineno, raw, line
        if skipped:
            yield skipped, "", FILTERED_OUT


def cleaned(lines: Iterable[str]) -> Iterator[tuple[int, str, str]]:
    """Lines without a screen."""
    return iter(Lines(lines))


HEADER_ONLY_SCORE = 0.25
"""What `sniff` gives a sample holding a format's header and no row (`netstat -tlnp | grep -e Proto -e
60653` when nothing listens): recognised, so the answer is "nothing matched" (exit 1), but below any
sample with rows of another format."""


def count_matching(sample: list[str], predicate: Callable[[str], bool]) -> int:
    """How many lines of a sample look like rows of a format (for `sniff`). Predicates only ever see
    cleaned, non-empty lines (a pasted `>` alone cleans to nothing)."""
    cleaned = (clean(line) for line in sample)
    return sum(1 for line in cleaned if line and predicate(line))


def sniff_score(sample: list[str], predicate: Callable[[str], bool], header_bonus: float = 0.0) -> float:
    """The fraction of non-blank sample lines that are rows of a format, plus a bonus for its header."""
    nonblank = sum(1 for line in sample if line.strip())
    if not nonblank:
        return 0.0
    return count_matching(sample, predicate) / nonblank + header_bonus


def owner(text: str) -> str:
    """A socket's owner as a tool printed it: a login name, or a uid when the tool ran numerically
    (`netstat -ne`, `lsof -l`, `lsof -F u`). uid 0 is `root` on every Unix, so it gets its name (as ss
    rows do); any other number stays a number, because only the machine it came from can name it."""
    return "root" if text == "0" else text


def row_state(ctx: ParseContext, word: str, proto: Proto, peer_host: str, peer_port: str) -> State:
    """The state of a row whose state column may be empty: net-tools and lsof print nothing for an
    unconnected UDP socket (NONE); a TCP row without one (a cut line, `lsof -F` without T) is UNKNOWN."""
    if not word:
        return State.NONE if proto is Proto.UDP else State.UNKNOWN
    return STATE_BY_WORD.get(word) or ctx.state(word, proto, peer_host, peer_port)


def socket_row(
    source: str,
    proto: Proto,
    family: Family | None,
    local: tuple[str, int | None],
    peer: tuple[str, str],
    state: State,
    pid: int | None = None,
    process: str | None = None,
    user: str | None = None,
) -> Socket:
    """A record from a local (host, port) and a peer (host, port text) as printed: the wildcard local
    host named by family, a wildcard peer as no peer at all."""
    host, port = local
    remote_address, remote_port = remote_endpoint(*peer, proto)
    return make_socket(
        (proto, family, local_address(host, family), port, remote_address, remote_port, state, pid, process,
         user, source)
    )  # fmt: skip
