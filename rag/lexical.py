"""BM25 over jieba tokens, plus a coverage measure used as a threshold.

Takes token lists (rag.text.tokens of folded chunk text, headline included)
and gives, for a query, BM25 scores for every chunk. BM25 scores are not
comparable across queries, so the relevance threshold uses `coverage`: the
share of the query's IDF mass that a chunk matches. A query term that never
occurs in the corpus (GDP, 北京) keeps a high IDF and so pulls coverage down:
that is what lets unanswerable questions be refused deterministically.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self._setup([Counter(d) for d in docs], k1, b)

    @classmethod
    def from_counts(cls, counts: list[dict[str, int]], k1: float = 1.2, b: float = 0.75) -> "BM25":
        """From each document's term counts (what rag.store saves), not its token list."""
        self = cls.__new__(cls)
        self._setup([Counter(d) for d in counts], k1, b)
        return self

    def _setup(self, tf: list[Counter], k1: float, b: float) -> None:
        self.k1, self.b = k1, b
        self.n = len(tf)
        self.tf = tf
        self.len = np.array([sum(d.values()) for d in tf], dtype=np.float32)
        self.avglen = float(self.len.mean()) if self.n else 0.0
        self.norm = self.k1 * (1 - self.b + self.b * self.len / max(self.avglen, 1e-9))
        # postings: term -> (the chunks holding it, how often), so that scoring a
        # query touches only those chunks, not every chunk of the archive per term
        ids: dict[str, list[int]] = {}
        counts: dict[str, list[int]] = {}
        for i, d in enumerate(self.tf):
            for t, c in d.items():
                ids.setdefault(t, []).append(i)
                counts.setdefault(t, []).append(c)
        self.postings = {t: (np.array(ids[t], dtype=np.int64), np.array(counts[t], dtype=np.float32)) for t in ids}
        self.df = Counter({t: len(v) for t, v in ids.items()})
        # A term absent from the corpus gets the IDF of a term seen half a time:
        # rarer than anything indexed, so missing it costs the most coverage.
        self.unseen_idf = self._idf(0.5)
        self.idf = {t: self._idf(c) for t, c in self.df.items()}

    def _idf(self, df: float) -> float:
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def term_idf(self, term: str) -> float:
        return self.idf.get(term, self.unseen_idf)

    def scores(self, query: list[str]) -> np.ndarray:
        """BM25 of every chunk (0 where no query term occurs). Per term only the
        chunks of its postings are computed: a chunk without the term would add
        exactly 0, so the figures are those of the full sum, bit for bit."""
        out = np.zeros(self.n, dtype=np.float32)
        for term in sorted(set(query)):  # fixed order: float sums do not depend on the hash seed
            if term not in self.postings:
                continue
            ids, tf = self.postings[term]
            out[ids] += self.idf[term] * tf * (self.k1 + 1) / (tf + self.norm[ids])
        return out

    def weights(self, query: list[str]) -> dict[str, float]:
        """IDF per distinct query term. A term the corpus never uses weighs as
        much as the median term the corpus knows: it may be the user's own word
        (签下 for 签约) and should not outweigh everything the passage matches.
        rag.support judges separately whether it names something absent."""
        terms = sorted(set(query))
        known = sorted(self.idf[t] for t in terms if t in self.idf)
        unseen = known[len(known) // 2] if known else self.unseen_idf
        return {t: self.idf.get(t, unseen) for t in terms}

    def coverage(self, query: list[str], doc: int, weights: dict[str, float] | None = None) -> float:
        """Share of the query's term weight (see `weights`) found in chunk `doc`."""
        w = weights if weights is not None else self.weights(query)
        total = sum(w.values())
        if total <= 0:
            return 0.0
        return sum(v for t, v in w.items() if t in self.tf[doc]) / total
