"""Keyword matching for the staff search: what a passage literally contains.

Staff look for a word or a phrase (5G, 现代医药港, 李海欣) and want the
passages that hold it, not the ones a model finds similar. `Keywords.of(query)`
takes the phrase (the query as typed, folded) and its words (jieba words
without stopwords, and codes such as 5G kept whole); `match` says how well a
passage holds them (the whole phrase, every word, or at least half of the
words) in a form a person can read; `spans` finds them in the passage for
highlighting. Text is compared folded (rag.text.fold: full-width, Traditional,
case), so ５Ｇ finds 5G.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text import CODE_RE, STOPWORDS, content_terms, fold


class Tier:
    PHRASE = 0  # holds the query as typed
    ALL = 1  # holds every word of it
    SOME = 2  # holds at least half of its words


@dataclass(frozen=True)
class Match:
    tier: int
    found: tuple[str, ...]  # the words (or the phrase) found
    count: int  # occurrences of the phrase, or of the words found
    of: int  # words in the query


@dataclass(frozen=True)
class Keywords:
    phrase: str  # folded query, spaces collapsed
    words: tuple[str, ...]  # folded words, longest first

    @classmethod
    def of(cls, query: str) -> "Keywords":
        q = re.sub(r"\s+", " ", fold(query or "")).strip().strip("\"'“”‘’《》「」")
        parts = q.split(" ") if " " in q else [q]
        found: list[str] = []
        for part in parts:
            codes = CODE_RE.findall(part)
            for w in content_terms(part) + codes:
                if w and w not in found and w not in STOPWORDS and re.search(r"\w", w):
                    found.append(w)
        # a word inside a longer word found (5 in 5g) adds nothing
        words = [w for w in found if not any(w != o and w in o for o in found)]
        return cls(q, tuple(sorted(words, key=lambda w: (-len(w), w))))

    def match(self, text: str) -> Match | None:
        """How `text` holds the keywords, or None (less than half of the words)."""
        t = fold(text)
        n = len(self.words)
        if self.phrase and self.phrase in t:
            return Match(Tier.PHRASE, (self.phrase,), t.count(self.phrase), n)
        found = tuple(w for w in self.words if w in t)
        if not found or len(found) * 2 < n:
            return None
        return Match(Tier.ALL if len(found) == n else Tier.SOME, found, sum(t.count(w) for w in found), n)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Non-overlapping (start, end) of the phrase and words in `text`, in order."""
        t = fold(text)
        if len(t) != len(text):  # folding changed lengths (rare ligatures): compare case-insensitively
            t = text.lower()
        taken: list[tuple[int, int]] = []
        for needle in ([self.phrase] if self.phrase else []) + list(self.words):
            for m in re.finditer(re.escape(needle), t):
                a, b = m.span()
                if b > a and not any(a < y and x < b for x, y in taken):
                    taken.append((a, b))
        return sorted(taken)
