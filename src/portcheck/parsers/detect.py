"""Which format is this text? Decided from the shape of the rows, not only header words, because pasted
text is often a few `grep`/`findstr` lines with no header at all."""

from __future__ import annotations

from collections.abc import Iterable

from portcheck import parsers

SAMPLE_LINES = 400
"""Lines read ahead for detection; enough to get past a screenful of non-network lsof rows or a banner."""


def detect(sample: list[str], candidates: Iterable[str] | None = None) -> str | None:
    """The best-scoring format for the sample, or None when no parser recognises a single row."""
    best: tuple[float, str] | None = None
    for name in candidates if candidates is not None else parsers.FORMATS:
        score = parsers.load(name).sniff(sample)
        if score > 0 and (best is None or score > best[0]):
            best = (score, name)
    return best[1] if best else None
