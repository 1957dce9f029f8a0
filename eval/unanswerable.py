"""Unanswerable questions made from answerable ones: the passage is there, the fact is not.

Takes a development set's articles (eval/external.py) and gives, for each
question of the chosen articles, the same question with one of its words
replaced, so that its own article, still indexed, no longer states what is asked:
an office the article never names (董事长 where it names only a 总经理), a
measure it never gives (投资 where it gives only an area), a thing it never
mentions. This is how the public's failures looked (a plausible question about
an indexed story, whose answer the story does not hold), unlike the "absent"
sets, which take the whole article away.

The word replaced is the question's last noun-like word (jieba tags n*, vn) of
two or more characters that its article uses: in Chinese questions the asked
attribute stands last (X的Y是谁). The replacement is, among the words of the
same tag that at least MIN_USES articles of the set use and this article never
uses and that shares no character with the word replaced (Chinese near-synonyms
mostly share one), the one nearest in meaning by the default model's embedding
(总经理 -> 董事长, not 星云): a question a reader could plausibly ask. Nothing is
listed by hand and nothing is random. A made question can still be answerable
(a paraphrase the article spells otherwise, or an unasked word replaced), which
the fitting data then carries as noise: of 10 answered ones read by hand from
the first version (nearest word, characters shared allowed), about half were.
"""

from __future__ import annotations

from collections import Counter

MIN_USES = 3  # a replacement other articles use this often is a word, not a slip of the segmenter
NOUNISH = ("n", "vn")


def _nounish(flag: str) -> bool:
    return flag.startswith(NOUNISH[0]) or flag == NOUNISH[1]


def vocabulary(texts: list[str], tagged) -> dict[str, Counter]:
    """Noun-like words of the texts by tag, with the number of texts using each."""
    out: dict[str, Counter] = {}
    for text in texts:
        for word, flag in set(tagged(text)):
            if _nounish(flag) and len(word) >= 2:
                out.setdefault(flag, Counter())[word] += 1
    return out


class Neighbours:
    """The nearest word of a pool by cosine, the pool's vectors embedded once.
    `embed` maps texts to normalised vectors (the engine's query embedder)."""

    def __init__(self, vocab: dict[str, Counter], embed):
        import numpy as np

        self.pools: dict[str, tuple[list[str], object]] = {}
        for flag, counts in sorted(vocab.items()):
            words = sorted(w for w, n in counts.items() if n >= MIN_USES)
            if words:
                self.pools[flag] = (words, np.vstack([embed(words[i:i + 256]) for i in range(0, len(words), 256)]))
        self.embed = embed

    def nearest(self, word: str, flag: str, allowed) -> str | None:
        import numpy as np

        words, vectors = self.pools.get(flag, ([], None))
        if not words:
            return None
        sims = vectors @ self.embed([word])[0]
        for i in np.argsort(-sims, kind="stable"):
            if allowed(words[i]):
                return words[i]
        return None


def swap(question: str, article: str, neighbours: Neighbours, tagged) -> str | None:
    """The question with its last noun-like word that `article` uses replaced by
    the nearest word of the same tag that the article never uses; None when
    there is no such word."""
    at, places = 0, []
    for word, flag in tagged(question):
        start = question.find(word, at)
        at = start + len(word) if start >= 0 else at
        if start >= 0 and _nounish(flag) and len(word) >= 2 and word in article:
            places.append((start, word, flag))
    if not places:
        return None
    start, word, flag = places[-1]
    # sharing no character with the word it replaces: Chinese near-synonyms mostly
    # share one (市区重建局/全市重建局, 作者/作家), and a synonym keeps the question answerable
    new = neighbours.nearest(word, flag, lambda w: w not in article and w not in question
                             and not set(w) & set(word))
    return None if new is None else question[:start] + new + question[start + len(word):]
