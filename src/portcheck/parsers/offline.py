"""`portcheck parse`: saved or pasted text -> the tools' own lines -> sections -> detected formats -> rows.

A paste is rarely one tool's clean output. The text is read in four steps, each bounded in memory:

1. Lines as the tools printed them (portcheck.parsers.paste): HTML, Markdown, chat heads, listing
   numbers and terminal colours are taken off, rows glued by a lost newline split apart. When the first
   SAMPLE_LINES lines hold none of that, the rest is passed on untouched (a clean 1 GiB dump pays
   nothing); a later line a parser cannot read is cleaned in step 4 instead.
2. Sections (portcheck.parsers.sections): the text is cut at prompt lines and at another tool's title
   or header. Within the first SAMPLE_LINES lines of a section every line is looked at; after that,
   only the lines its parser does not understand, so the usual row costs nothing more.
3. Each section is detected on its own (from its first lines; the prompt's command, when it names a
   tool, narrows the choice) and read by its format's parser. All sections share one ParseNotes for
   PID names, so a tasklist or Get-Process section names the PIDs of a netstat section.
4. The lines a section's parser did not understand (the first KEEP_LINES of them) are read again: as
   the format they look like (two tools' rows without a header between them), then one by one for a
   row quoted inside a sentence (portcheck.parsers.quoted). Only what is left is "not understood".
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import BinaryIO, NamedTuple

from portcheck import parsers
from portcheck.core.decode import text_lines
from portcheck.core.errors import ParseError, excerpt
from portcheck.core.model import Socket
from portcheck.core.parsing import ParseContext, ParseNotes
from portcheck.parsers import cut, paste, quoted, rewrap, sections
from portcheck.parsers.common import clean
from portcheck.parsers.detect import SAMPLE_LINES, detect

SAMPLE_CHARS = 1 << 20
"""Characters read ahead for a section's detection at most: SAMPLE_LINES lines of nearly MAX_LINE
characters each would hold 100 MB."""
KEEP_LINES = SAMPLE_LINES
"""Lines not understood that a section keeps to read again (step 4); the rest are only counted."""
MAX_CUT_CHECKS = 8
"""Header lines in one section's sample for which detection runs to decide whether they start
another tool's output; past that, a section is cut only at a prompt or where its parser stumbles."""
MAX_REREADS = 3
"""Formats tried in turn on the lines a section did not understand."""
MAX_SECTIONS_SHOWN = 32
"""Sections remembered for --verbose; a paste of thousands of prompts is summed up."""


def supported_formats() -> str:
    return ", ".join(parsers.FORMATS)


class Section(NamedTuple):
    """Lines `first` to `last` of the input (numbered from 1) and the format they were read as
    (None: no format; their lines are counted as not understood). `how` says why, for --verbose."""

    first: int
    last: int | None
    """None: to the end of the input."""
    format: str | None
    how: str


@dataclass
class ParsedInput:
    encoding: str
    format: str | None
    """The format of the first section (detected before any row is read), else of the first section
    with one, once `rows` has been read; None when the input held no text at all (empty or only blank
    lines)."""
    rows: Iterator[Socket]
    sections: list[Section] = field(default_factory=list)
    """Every section read (the first MAX_SECTIONS_SHOWN), filled while `rows` is read."""
    more_sections: int = 0


class KeepingNotes(ParseNotes):
    """The notes of a whole input, which also keep the first lines nobody understood (as many as a
    detection sample), so the caller can tell when they look like some tool's output after all."""

    __slots__ = ("_kept_chars", "kept")

    def __init__(self) -> None:
        super().__init__()
        self.kept: list[str] = []
        self._kept_chars = 0

    def skip(self, lineno: int, line: str) -> None:
        super().skip(lineno, line)
        if len(self.kept) < SAMPLE_LINES and self._kept_chars < SAMPLE_CHARS:
            self.kept.append(line)
            self._kept_chars += len(line)


def other_format(notes: ParseNotes, read_as: str) -> str | None:
    """The format most lines not understood are in, when that is not the one the input was read as.
    Step 4 reads such lines; this is what remains of them (more than KEEP_LINES of another tool's
    lines, say), for a hint to give each tool's output its own file."""
    kept = notes.kept if isinstance(notes, KeepingNotes) else []
    if not kept:
        return None
    other = detect(kept)
    if other is None or other == read_as or parsers.load(other).sniff(kept) < 0.5:
        return None
    return other


# --- step 1: the tools' own lines ------------------------------------------------------------------


class _Source:
    """The input's lines as the tools printed them, each with the number of the input line it came
    from; lines read ahead and not used can be handed back."""

    __slots__ = ("ahead", "cut_lines", "lines", "number", "unwrap", "unwrapping", "width")

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines
        self.ahead: deque[tuple[int, str]] = deque()
        self.number = 0
        """The number of the last input line taken from `lines`."""
        sample: list[str] = []
        size = 0
        for line in lines:
            sample.append(line)
            size += len(line)
            if len(sample) >= SAMPLE_LINES or size >= SAMPLE_CHARS:
                break
        self.unwrap = any(paste.needs_unwrap(line) or paste.glued(line) for line in sample)
        self.width = cut.cut_width(sample)
        """The width the paste's lines were cut at (portcheck.parsers.cut), or None."""
        self.cut_lines = 0
        self.unwrapping = self.unwrap or self.width is not None
        """Every line goes through _add (else, past the sample, lines come straight from the decoder)."""
        for line in sample:
            self._add(line)

    def _add(self, line: str) -> None:
        self.number += 1
        if self.width is not None and cut.is_cut(line, self.width):
            line = cut.certain_part(line)
            self.cut_lines += 1
        if self.unwrap:
            for piece in paste.unwrap(line):
                self.ahead.append((self.number, piece))
        else:
            self.ahead.append((self.number, line))

    def next(self) -> tuple[int, str] | None:
        ahead = self.ahead
        while not ahead:
            line = next(self.lines, None)
            if line is None:
                return None
            self._add(line)
        return ahead.popleft()

    def give_back(self, items: Iterable[tuple[int, str]]) -> None:
        self.ahead.extendleft(reversed(list(items)))


# --- step 2: sections ------------------------------------------------------------------------------


def starts_section(line: str, read_as: str | None) -> bool:
    """A line not understood where another tool's output starts: a prompt, or a title or header that
    is not of the format being read."""
    cleaned = clean(line)
    if not cleaned:
        return False
    if sections.prompt(cleaned) is not None:
        return True
    heads = sections.header_formats(cleaned)
    return bool(heads) and not _reads_headers_of(read_as, heads)


def _reads_headers_of(read_as: str | None, heads: frozenset[str]) -> bool:
    """The parser of `read_as` reads output with these headers: they are its own, or its parser
    reads theirs (parsers.READ_WITH: the Windows netstat parser reads a tasklist pasted with it)."""
    if read_as is None:
        return False
    reader = parsers.READ_WITH.get(read_as, read_as)
    return any(parsers.READ_WITH.get(head, head) == reader for head in heads)


class _Head(NamedTuple):
    lines: list[tuple[int, str]]
    ended: bool
    """The section ends with these lines (a boundary or the end of the input came next)."""


def _read_head(source: _Source, candidates: tuple[str, ...]) -> _Head:
    """A section's first lines, up to where another tool's output starts or a sample's worth."""
    lines: list[tuple[int, str]] = []
    size = 0
    content = False  # a line that is neither blank, a prompt nor a header: the section has begun
    checks = 0
    while len(lines) < SAMPLE_LINES and size < SAMPLE_CHARS:
        item = source.next()
        if item is None:
            return _Head(lines, True)
        cleaned = clean(item[1])
        if cleaned:
            if sections.prompt(cleaned) is not None:
                if lines:
                    source.give_back([item])
                    return _Head(lines, True)
                heads: frozenset[str] = frozenset(("",))
            else:
                heads = sections.header_formats(cleaned)
                if heads and content and checks < MAX_CUT_CHECKS:
                    checks += 1
                    if _another_tools(heads, cleaned, [line for _, line in lines], candidates):
                        source.give_back([item])
                        return _Head(lines, True)
            content = content or not heads
        lines.append(item)
        size += len(item[1])
    return _Head(lines, False)


def _another_tools(heads: frozenset[str], line: str, before: list[str], candidates: tuple[str, ...]) -> bool:
    """A header `line` starts another tool's output when the lines before it are in a format it is no
    header of, and that format does not read it as a row either."""
    read_as = detect(before, candidates)
    return (
        read_as is not None
        and not _reads_headers_of(read_as, heads)
        and not parsers.load(read_as).sniff([line])
    )


class _Feed:
    """One section's lines as its parser pulls them: its head, then (when the head did not reach the
    section's end) the input's next lines. When the parser skips a line that starts another section
    (`cut_here`), that line and any unread head lines go back to the source for the next section.

    Past the head, lines that need no unwrapping come straight from the decoder, at C speed (the
    usual row of a large dump costs nothing here), to the end of the input: there no section is cut,
    and another tool's lines are what step 4 reads again."""

    __slots__ = ("_fast_base", "_fast_from", "_head", "_source", "count", "cut", "ended", "line", "recent")

    def __init__(self, source: _Source, head: _Head) -> None:
        self._source = source
        self._head = head.lines
        self.ended = head.ended
        self.count = 0
        """Lines handed out one by one (the head, lines read ahead or unwrapped)."""
        self.cut = False
        self.line = ""  # the line last handed out one by one
        self.recent: deque[int] = deque(maxlen=64)  # input line numbers of the last `count` lines
        self._fast_from: int | None = None  # `count` when the lines began to come straight
        self._fast_base = 0  # the input line number before the first of them

    def lines(self) -> Iterator[str]:
        return chain.from_iterable(self._parts())

    def _parts(self) -> Iterator[Iterable[str]]:
        yield self._one_by_one()
        source = self._source
        if not (self.cut or self.ended or source.unwrapping):
            self._fast_from = self.count
            self._fast_base = source.number
            yield source.lines

    def _one_by_one(self) -> Iterator[str]:
        recent = self.recent
        for number, line in self._head:
            if self.cut:
                return
            self.count += 1
            self.line = line
            recent.append(number)
            yield line
        if self.ended:
            return
        source = self._source
        while not self.cut and (source.ahead or source.unwrapping):
            item = source.next()
            if item is None:
                self.ended = True
                return
            self.count += 1
            self.line = item[1]
            recent.append(item[0])
            yield item[1]

    def number(self, lineno: int) -> int:
        """The input line number of the section's line `lineno` (counted from 1 by the parser)."""
        fast_from = self._fast_from
        if fast_from is not None and lineno > fast_from:
            return self._fast_base + lineno - fast_from
        back = self.count - lineno
        recent = self.recent
        if 0 <= back < len(recent):
            return recent[-1 - back]
        return max(1, (recent[-1] if recent else 1) - back)

    def cut_here(self) -> None:
        """End the section before the line last handed out one by one."""
        self.cut = True
        number = self.recent[-1]
        unread = self._head[self.count :] if self.count <= len(self._head) else []
        self._source.give_back([(number, self.line), *unread])

    def can_cut(self, lineno: int, line: str) -> bool:
        """The parser skips the line last handed out one by one (not an earlier one, late)."""
        return self._fast_from is None and lineno == self.count and line is self.line and lineno > 1

    @property
    def last(self) -> int | None:
        """The input line number of the section's last line; None when it ran to the end of the input."""
        if self._fast_from is not None:
            return None
        if self.cut:
            return max(1, self._source.ahead[0][0] - 1)
        return self.recent[-1] if self.recent else None


class _SectionNotes(ParseNotes):
    """The notes of one section: skipped lines renumbered to the input's, the first KEEP_LINES kept
    to read again, and a skipped line that starts another section turned into a cut instead."""

    __slots__ = ("_kept_chars", "feed", "first_unkept", "kept", "own_prompt", "read_as")

    def __init__(self, shared: ParseNotes, feed: _Feed | None, read_as: str | None, own_prompt: bool) -> None:
        super().__init__()
        self.pid_names = shared.pid_names
        self.feed = feed
        self.read_as = read_as
        self.own_prompt = own_prompt
        self.kept: list[tuple[int, str]] = []
        self.first_unkept: tuple[int, str] | None = None
        self._kept_chars = 0

    def skip(self, lineno: int, line: str) -> None:
        feed = self.feed
        if feed is not None:
            if lineno == 1 and self.own_prompt:
                return  # the prompt the section starts with: read, not misunderstood
            if feed.can_cut(lineno, line) and starts_section(line, self.read_as):
                feed.cut_here()
                return
            lineno = feed.number(lineno)
        self.keep(lineno, line)

    def keep(self, lineno: int, line: str) -> None:
        self.skipped += 1
        if len(self.kept) < KEEP_LINES and self._kept_chars < SAMPLE_CHARS:
            self.kept.append((lineno, line))
            self._kept_chars += len(line)
        elif self.first_unkept is None:
            self.first_unkept = (lineno, line)


# --- steps 3 and 4: reading ------------------------------------------------------------------------


class _Reading:
    """Reads an input section by section; `rows` yields every row, `sections` says what was read."""

    def __init__(self, source: _Source, ctx: ParseContext, forced: tuple[str, ...] | None) -> None:
        self.source = source
        self.ctx = ctx
        self.candidates = forced or tuple(parsers.FORMATS)
        self.forced = forced
        self.parsed = ParsedInput("", None, iter(()))
        self.recognised = False
        self.first_text: tuple[int, str] | None = None
        self.quoted_budget = quoted.Budget()
        self.detected: tuple[_Head, str | None] | None = None  # by first_head, for the first section

    def first_head(self) -> _Head:
        """The first section's head, its format detected ahead of reading (ParsedInput.format)."""
        head = _read_head(self.source, self.candidates)
        read_as = self._format([line for _, line in head.lines], _prompt_of(head))
        self.parsed.format = read_as
        self.detected = (head, read_as)
        return head

    def rows(self, head: _Head) -> Iterator[Socket]:
        source = self.source
        while head.lines:
            if self.first_text is None:
                self.first_text = next(((n, line) for n, line in head.lines if line.strip()), None)
            yield from self._section(head)
            self._check_recognised(head)
            head = _read_head(source, self.candidates)
        self._check_recognised(None)
        if source.cut_lines:
            self.ctx.notes.warn(cut.HINT.format(width=source.width, count=source.cut_lines))

    def _check_recognised(self, head: _Head | None) -> None:
        """No format and no quoted row in a first sample's worth of text: it is no tool's output."""
        if self.recognised or self.first_text is None:
            return
        if head is None or head.lines[-1][0] >= SAMPLE_LINES:
            self._fail()

    def _fail(self) -> None:
        wanted = ", ".join(self.forced) if self.forced else supported_formats()
        line, text = self.first_text or (None, None)
        raise ParseError(f"not output of a supported tool (supported: {wanted})", line, text)

    def _format(self, lines: list[str], command: sections.Prompt | None) -> str | None:
        candidates = self.candidates
        if len(candidates) == 1:
            return candidates[0]
        if command is not None and command.formats:
            narrowed = tuple(name for name in command.formats if name in candidates)
            found = detect(lines, narrowed) if narrowed else None
            if found is not None:
                return found
        return detect(lines, candidates)

    def _section(self, head: _Head) -> Iterator[Socket]:
        ctx = self.ctx
        command = _prompt_of(head)
        if self.detected is not None and self.detected[0] is head:
            read_as = self.detected[1]
        else:
            read_as = self._format([line for _, line in head.lines], command)
        feed = _Feed(self.source, head)
        notes = _SectionNotes(ctx.notes, feed, read_as, command is not None)
        section_ctx = ParseContext(
            ctx.ports, match_remote=ctx.match_remote, notes=notes, screening=ctx.screening
        )
        if read_as is None:
            for lineno, line in enumerate(feed.lines(), 1):
                if line.strip():
                    notes.skip(lineno, line)
                if lineno == len(head.lines) and not head.ended and not self.recognised:
                    yield from self._quoted(notes)  # a sample's worth of text no parser reads
                    if not self.recognised:
                        self._fail()
        else:
            self.recognised = True
            if self.parsed.format is None:
                self.parsed.format = read_as
            yield from parsers.reader(read_as).parse(feed.lines(), section_ctx)
        how = f"after `{command.command}`" if command is not None and command.command else ""
        if read_as is None and command is not None and not notes.skipped:
            how = "a prompt, and no output after it"  # the paste's last line, often
        self._record(Section(head.lines[0][0], feed.last, read_as, how))
        yield from self._reread(notes, read_as)
        self._merge(notes)

    def _record(self, section: Section) -> None:
        parsed = self.parsed
        if len(parsed.sections) < MAX_SECTIONS_SHOWN:
            parsed.sections.append(section)
        else:
            parsed.more_sections += 1

    def _reread(self, notes: _SectionNotes, read_as: str | None) -> Iterator[Socket]:
        """Step 4: the kept lines as another format, then each line for a quoted row."""
        tried = {read_as}
        prompts = [item for item in notes.kept if _is_prompt(item[1])]
        if prompts:  # past a section's head a prompt cuts nothing: it is read here, as a prompt
            notes.kept = [item for item in notes.kept if not _is_prompt(item[1])]
            notes.skipped -= len(prompts)
        for _ in range(MAX_REREADS):
            if not notes.kept:
                return
            lines = [_cleaned_up(line) for _, line in notes.kept]
            others = tuple(name for name in self.candidates if name not in tried)
            other = detect(lines, others) if others else None
            if other is None:
                break
            tried.add(other)
            again = _SectionNotes(notes, None, other, False)
            rows = list(parsers.reader(other).parse(lines, self._context(again)))
            if again.skipped == len(lines) and not rows:
                continue
            self.recognised = True
            self.parsed.format = self.parsed.format or other  # the first rows may come from here
            kept = notes.kept
            notes.kept = [kept[index - 1] for index, _ in again.kept]
            notes.skipped -= len(kept) - len(notes.kept)
            self._absorb(again)
            self._record(Section(kept[0][0], kept[-1][0], other, "lines not understood above, read again"))
            yield from rows
        yield from self._quoted(notes)

    def _quoted(self, notes: _SectionNotes) -> Iterator[Socket]:
        remaining: list[tuple[int, str]] = []
        for lineno, line in notes.kept:
            found = quoted.find_rows(_cleaned_up(line), self.candidates, self.ctx, self.quoted_budget)
            if found:
                self.recognised = True
                notes.skipped -= 1
                for name, rows in found:
                    self.parsed.format = self.parsed.format or name
                    self._record(Section(lineno, lineno, name, "a row quoted in the line"))
                    yield from rows
            else:
                remaining.append((lineno, line))
        notes.kept = remaining

    def _context(self, notes: ParseNotes) -> ParseContext:
        ctx = self.ctx
        return ParseContext(ctx.ports, match_remote=ctx.match_remote, notes=notes, screening=ctx.screening)

    def _absorb(self, other: ParseNotes) -> None:
        """What a re-reading noticed, other than its skipped lines (counted by the section's notes)."""
        shared = self.ctx.notes
        for word, count in other.unknown_states.items():
            shared.unknown_state(word, count)
        shared.other_unknown_rows += other.other_unknown_rows
        shared.messages.update(other.messages)

    def _merge(self, notes: _SectionNotes) -> None:
        """A section's notes into the input's: its lines still not understood, in order."""
        shared = self.ctx.notes
        self._absorb(notes)
        shared.refused = shared.refused or notes.refused
        for lineno, line in notes.kept:
            shared.skip(lineno, line)
        unkept = notes.skipped - len(notes.kept)
        if unkept > 0:
            shared.skipped += unkept
            if shared.first_skipped is None and notes.first_unkept is not None:
                shared.first_skipped = (notes.first_unkept[0], excerpt(notes.first_unkept[1]))


def _is_prompt(line: str) -> bool:
    cleaned = clean(line)
    return bool(cleaned) and sections.prompt(cleaned) is not None


def _prompt_of(head: _Head) -> sections.Prompt | None:
    first = clean(head.lines[0][1]) if head.lines else ""
    return sections.prompt(first) if first else None


def _cleaned_up(line: str) -> str:
    """A kept line with a paste's marks removed, when step 1 passed the input on untouched."""
    return " ".join(paste.unwrap(line)) if paste.needs_unwrap(line) else line


def parse_stream(stream: BinaryIO, ctx: ParseContext, forced: tuple[str, ...] | None = None) -> ParsedInput:
    """Decode, and start reading section by section. Rows are produced lazily, so a filtered parse of
    a huge file holds only the rows that match; `format` and `sections` are known once they are all
    read. ParseError (while reading) when the text is no supported tool's output."""
    encoding, lines = text_lines(stream)
    source = _Source(rewrap.joined(lines))
    first = source.next()
    while first is not None and not first[1].strip():
        first = source.next()
    if first is None:
        return ParsedInput(encoding, None, iter(()))
    source.give_back([first])
    reading = _Reading(source, ctx, forced)
    reading.parsed.encoding = encoding
    reading.parsed.rows = reading.rows(reading.first_head())
    return reading.parsed
