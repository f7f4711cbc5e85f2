"""What every parser shares: the Parser protocol, line clean-up, sniff scoring and record building.

Parsers are pure functions from lines to records. They never print; what they notice goes into the
`ParseNotes` of the `ParseContext` they are given (portcheck.core.parsing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from portcheck.core.addresses import local_address, remote_endpoint
from portcheck.core.model import Family, Proto, Socket, State, make_socket
from portcheck.core.parsing import ParseContext
from portcheck.core.redaction import redacted as redacted  # the parsers' columns blanked out
from portcheck.core.states import STATE_BY_WORD


class Parser(Protocol):
    """The shape of every module in portcheck.parsers."""

    NAME: str

    def parse(self, lines: Iterable[str], ctx: ParseContext | None = None) -> Iterator[Socket]: ...

    def sniff(self, sample: list[str]) -> float: ...

    def is_header(self, line: str) -> bool: ...


OWNER_COMMANDS: dict[str, str] = {
    "ss": "sudo ss -tunap",
    "netstat-linux": "sudo netstat -tunap",
    "proc": "sudo ss -tunap",
    "lsof": "sudo lsof -nP -i",
    "sockstat": "sudo sockstat -46",
    "fstat": "sudo fstat -n",
}
"""For a paste whose rows show no process: the command that, run as root on the machine the text came
from, names every socket's owner. Formats that show every PID without root (Windows netstat -ano,
macOS netstat -anv, PowerShell) or never any (netstat -an) have no entry."""


def owner_hint(source: str) -> str | None:
    """Why some rows of a paste in this format show no process, and the command to run there instead.
    Said of the paste, never of the live query (whose own hints name --sudo)."""
    command = OWNER_COMMANDS.get(source)
    if command is None:
        return None
    return (
        f"some sockets show no process: if the {source} output was made without root (or without its "
        f"process option), run `{command}` on the machine it came from to see every owner"
    )


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


MAX_PID_DIGITS = 10
"""A PID has at most this many digits (leading zeros aside): Windows' are 32-bit (10 digits), Linux's at
most 4,194,304, the BSDs' 99,999. Anything longer in a PID column is no PID."""


def pid_number(text: str) -> int | None:
    """The PID a column holds, or None: not decimal digits (what int() reads, not every character
    str.isdigit() accepts), or more than MAX_PID_DIGITS of them. int() is never handed a long run
    (it refuses more than 4,300 digits, which a hostile paste would turn into an internal error). A
    row whose PID column is no PID keeps its socket and shows no PID: the port answer stands, and
    nothing is ever signalled on a guess."""
    if not text.isdecimal():
        return None
    if len(text) > MAX_PID_DIGITS:
        text = text.lstrip("0")
        if len(text) > MAX_PID_DIGITS:
            return None
    return int(text) if text else 0


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
    dual_stack: bool | None = None,
) -> Socket:
    """A record from a local (host, port) and a peer (host, port text) as printed: the wildcard local
    host named by family, a wildcard peer as no peer at all."""
    host, port = local
    remote_address, remote_port = remote_endpoint(*peer, proto)
    return make_socket(
        (proto, family, local_address(host, family), port, remote_address, remote_port, state, pid, process,
         user, source, dual_stack, None, None, None, None)
    )  # fmt: skip
