"""Source offsets for repaired text: runs in, source spans and checks out.

Repaired text (rag.ingest.issues) differs from the issue file: lines are rejoined,
pull quotes and bylines are cut out, ASCII punctuation is made full-width. Each
text carries `runs`, a tuple of (text_pos, source_pos) pairs (see rag.types):
character i comes from source offset `source_pos + (i - text_pos)` of the last
run with text_pos <= i. This module builds runs, maps positions through them,
slices them for sub-texts (chunks, answer spans) and checks a citation against
the source (`locate`).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence

from rag.types import Runs


def runs_from_positions(positions: Sequence[int]) -> Runs:
    """Compress one source offset per character into runs."""
    runs: list[tuple[int, int]] = []
    for i, pos in enumerate(positions):
        if not runs or pos != positions[i - 1] + 1:
            runs.append((i, pos))
    return tuple(runs)


def to_source(runs: Runs, i: int) -> int:
    """Source offset of character i of the repaired text."""
    if not runs:
        raise ValueError("no runs: the text has no source mapping")
    k = bisect_right([r[0] for r in runs], i) - 1
    text_pos, source_pos = runs[max(k, 0)]
    return source_pos + (i - text_pos)


def source_span(runs: Runs, i: int, j: int) -> tuple[int, int]:
    """(start, end) source offsets covering text[i:j]; end is exclusive."""
    if j <= i:
        start = to_source(runs, i)
        return start, start
    # end comes from the last character, not from j: j may fall just after a
    # gap (a cut-out pull quote), and the span must stop at the cited text.
    return to_source(runs, i), to_source(runs, j - 1) + 1


def slice_runs(runs: Runs, i: int, j: int) -> Runs:
    """Runs for text[i:j], re-based so that position 0 is character i."""
    if j <= i:
        return ()
    out = [(0, to_source(runs, i))]
    for text_pos, source_pos in runs:
        if i < text_pos < j:
            out.append((text_pos - i, source_pos))
    return tuple(out)


def _fold(ch: str) -> str:
    """Fold full-width ASCII forms (，：（ ...) and the ideographic space to ASCII."""
    o = ord(ch)
    if 0xFF01 <= o <= 0xFF5E:
        return chr(o - 0xFEE0)
    if o == 0x3000:
        return " "
    return ch


def locate(text: str, source_text: str, start: int, end: int) -> bool:
    """True if text's characters appear in order in source_text[start:end].

    Whitespace is ignored and punctuation is folded ASCII <-> full-width. The
    first character must sit at `start` and the last just before `end`, so a
    span that is too wide or too narrow fails.
    """
    chars = [_fold(c) for c in text if not c.isspace()]
    if not chars:
        return False
    if not (0 <= start < end <= len(source_text)):
        return False
    if _fold(source_text[start]) != chars[0] or _fold(source_text[end - 1]) != chars[-1]:
        return False
    if len(chars) == 1:
        return end - start == 1
    # Greedy in-order matching is enough to decide whether a subsequence exists.
    k = start + 1
    for c in chars[1:-1]:
        while k < end - 1 and _fold(source_text[k]) != c:
            k += 1
        if k >= end - 1:
            return False
        k += 1
    return k <= end - 1
