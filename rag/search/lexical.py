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
from dataclasses import dataclass

import numpy as np


@dataclass
class Terms:
    """Each document's term counts as flat arrays (what rag.store.folder saves): document
    d holds terms `vocab[ids[k]]`, `counts[k]` times, for k in offsets[d]:offsets[d+1]."""

    vocab: list[str]
    offsets: np.ndarray  # int64, documents + 1
    ids: np.ndarray  # int32
    counts: np.ndarray  # int32

    @classmethod
    def of(cls, docs: list[dict[str, int]]) -> "Terms":
        """From term counts per document; the vocabulary in first-seen order."""
        index: dict[str, int] = {}
        ids, counts, offsets = [], [], [0]
        for d in docs:
            for t, c in d.items():
                ids.append(index.setdefault(t, len(index)))
                counts.append(c)
            offsets.append(len(ids))
        return cls(list(index), np.array(offsets, dtype=np.int64), np.array(ids, dtype=np.int32),
                   np.array(counts, dtype=np.int32))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def doc(self, d: int) -> dict[str, int]:
        lo, hi = int(self.offsets[d]), int(self.offsets[d + 1])
        return {self.vocab[i]: int(c) for i, c in zip(self.ids[lo:hi].tolist(), self.counts[lo:hi].tolist())}


class BM25:
    def __init__(self, docs: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self._setup(Terms.of([Counter(d) for d in docs]), k1, b)

    @classmethod
    def from_terms(cls, terms: Terms, k1: float = 1.2, b: float = 0.75) -> "BM25":
        """From saved term counts (rag.store.folder), not token lists: nothing is cut again."""
        self = cls.__new__(cls)
        self._setup(terms, k1, b)
        return self

    def _setup(self, terms: Terms, k1: float, b: float) -> None:
        self.k1, self.b = k1, b
        self.terms = terms
        self.n = len(terms)
        total = np.concatenate([[0], np.cumsum(terms.counts, dtype=np.int64)])
        self.len = (total[terms.offsets[1:]] - total[terms.offsets[:-1]]).astype(np.float32)
        self.avglen = float(self.len.mean()) if self.n else 0.0
        self.norm = self.k1 * (1 - self.b + self.b * self.len / max(self.avglen, 1e-9))
        # postings: for each term, the documents holding it (ascending) and how
        # often, so that scoring a query touches only those documents, not every
        # document of the archive per term. A stable sort of the entries by term
        # keeps each term's documents in order.
        doc_of = np.repeat(np.arange(self.n, dtype=np.int64), np.diff(terms.offsets))
        order = np.argsort(terms.ids, kind="stable")
        self._docs = doc_of[order]
        self._tf = terms.counts[order].astype(np.float32)
        df = np.bincount(terms.ids, minlength=len(terms.vocab))
        self._start = np.concatenate([[0], np.cumsum(df)])
        self._row = {t: i for i, t in enumerate(terms.vocab)}
        # A term absent from the corpus gets the IDF of a term seen half a time:
        # rarer than anything indexed, so missing it costs the most coverage.
        self.unseen_idf = self._idf(0.5)
        self.idf = {t: self._idf(c) for t, c in zip(terms.vocab, df.tolist())}
        self._doc_terms: dict[int, dict[str, int]] = {}

    def posting(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(documents holding `term`, ascending; its count in each, float32)."""
        i = self._row[term]
        lo, hi = int(self._start[i]), int(self._start[i + 1])
        return self._docs[lo:hi], self._tf[lo:hi]

    def tf(self, doc: int) -> dict[str, int]:
        """Term counts of one document (kept for the few a question looks at)."""
        got = self._doc_terms.get(doc)
        if got is None:  # read into a local: a concurrent question may clear the cache meanwhile
            got = self.terms.doc(doc)
            if len(self._doc_terms) >= 4096:
                self._doc_terms.clear()
            self._doc_terms[doc] = got
        return got

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
            if term not in self._row:
                continue
            ids, tf = self.posting(term)
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
        held = self.tf(doc)
        return sum(v for t, v in w.items() if t in held) / total
