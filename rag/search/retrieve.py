"""Query -> ranked Hits: dense (FAISS) and lexical (BM25) fused by reciprocal rank.

Each branch has its own relevance gate, so neither can push an irrelevant
passage into the answer: a dense candidate needs a cosine similarity of at
least `dense_min`; a lexical candidate needs to cover at least `lexical_min`
of the query's IDF mass (rag.search.lexical.BM25.coverage). Passages that pass are
fused with RRF; an optional story boost keeps a follow-up on the story the
conversation is about.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from rag.search.lexical import BM25, Terms
from rag.text import fold, is_latin, latin_terms, passage_terms, tokens
from rag.types import Chunk, Hit

RRF_K = 60
# e5 similarities are compressed (unrelated Chinese news still scores 0.80-0.85
# against a Chinese question, an English question scores 0.70-0.80 against
# everything), so the dense gate is relative: a passage must stand out from the
# question's mean similarity over the whole index by DENSE_GAP. Measured on the
# real model: related passages 0.036-0.09 above the mean, off-topic questions'
# best passages 0.018-0.034 (see README "Figures" and /eval).
DENSE_GAP = 0.035
# An English question is compared with Chinese text: its best passages stand out
# less (0.036-0.05 on the pharmaceutical-port questions, 0.021-0.034 off-topic),
# so it gets a lower gap, and rag.answer asks more of it (an answer of the kind asked).
DENSE_GAP_LATIN = 0.025
DENSE_FLOOR = 0.65
LEXICAL_MIN = 0.34
STORY_BOOST = 1.0 / RRF_K  # as much as one extra first place
# The dense branch embeds a question's first QUERY_CHARS characters. A bound on work,
# not a fitted number: past the longest question of every evaluation set and of
# ../shared/data (112 characters); a pasted 500-character text took 160 ms to embed
# and a follow-up question embeds up to four texts (scripts/fuzz.py). BM25 still
# reads all of it.
QUERY_CHARS = 150


def _mean_vector(index, block: int = 65536) -> np.ndarray:
    """The mean of the passage vectors of a FAISS index (float64), read in blocks."""
    total = np.zeros(index.d, dtype=np.float64)
    if hasattr(index, "make_direct_map"):  # IVF: rows are read back through a map of ids to lists
        index.make_direct_map()
    for lo in range(0, index.ntotal, block):
        total += index.reconstruct_n(lo, min(block, index.ntotal - lo)).sum(0, dtype=np.float64)
    return total / max(index.ntotal, 1)


def term_counts(chunks: list[Chunk]) -> Terms:
    """Each chunk's BM25 term counts, terms in first-seen order."""
    return Terms.of([Counter(passage_terms(c.title, c.text)) for c in chunks])


@dataclass
class Retriever:
    chunks: list[Chunk]
    vectors: object  # faiss.Index over normalised passage vectors
    embedder: object  # encode_queries(list[str]) -> np.ndarray
    bm25: BM25
    dense_gap: float = DENSE_GAP
    lexical_min: float = LEXICAL_MIN

    def __post_init__(self):
        self._recent: dict[str, np.ndarray] = {}
        self._mean = _mean_vector(self.vectors) if self.chunks else None

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding. A question is searched, then its nearest passages
        listed, its story looked up for a follow-up: it is embedded once, and the
        last few vectors are kept (the embedding is ~90% of the time per question).
        Only its first QUERY_CHARS characters are embedded."""
        key = fold(query)[:QUERY_CHARS]
        if key not in self._recent:
            if len(self._recent) >= 8:
                self._recent.pop(next(iter(self._recent)))  # oldest first: insertion order
            self._recent[key] = np.ascontiguousarray(self.embedder.encode_queries([key]), dtype=np.float32)
        return self._recent[key]

    @classmethod
    def build(cls, chunks: list[Chunk], vectors, embedder, terms: Terms | None = None) -> "Retriever":
        """`terms`: the chunks' term counts as saved with the index (rag.store.folder),
        or None to work them out (rag.text.passage_terms; the slow part of opening)."""
        return cls(chunks, vectors, embedder, BM25.from_terms(terms if terms is not None else term_counts(chunks)))

    def dense(self, query: str, n: int) -> tuple[list[tuple[int, float]], float]:
        """Top n (chunk id, cosine) and the dense gate for this query."""
        if not self.chunks:
            return [], 1.0
        q = self.query_vector(query)
        scores, ids = self.vectors.search(q, min(n, len(self.chunks)))
        gap = DENSE_GAP_LATIN if is_latin(query) else self.dense_gap
        # the mean similarity over every passage is the similarity to the mean
        # passage vector: one dot product, whatever the size of the archive
        gate = max(DENSE_FLOOR, float(q[0].astype(np.float64) @ self._mean) + gap)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0], gate

    def query_terms(self, query: str) -> list[str]:
        """BM25 terms of a question; for English, its numbers and pinyin names,
        a run (zhanghui) replacing its parts (zhang, hui) when the index has it."""
        q = fold(query)
        if not is_latin(q):
            return tokens(q)
        terms = latin_terms(query)  # case kept: capitals mark the names
        known = [t for t in terms if t in self.bm25.idf]
        return [t for t in terms if not any(t != k and t in k for k in known)]

    def lexical(self, query: str, n: int) -> tuple[list[tuple[int, float]], dict[int, float]]:
        q = self.query_terms(query)
        scores = self.bm25.scores(q)
        order = np.argsort(-scores)[:n]
        ranked = [(int(i), float(scores[i])) for i in order if scores[i] > 0]
        weights = self.bm25.weights(q)
        coverage = {i: self.bm25.coverage(q, i, weights) for i, _ in ranked}
        return ranked, coverage

    def search(
        self,
        query: str,
        k: int = 5,
        mode: str = "hybrid",
        candidates: int = 20,
        boost: tuple[str, int] | None = None,
        keep=None,
    ) -> list[Hit]:
        """Top k hits; `boost` = (source, story index) to favour; `keep(chunk)` filters."""
        dense, gate = self.dense(query, candidates) if mode in ("hybrid", "dense") else ([], 1.0)
        lexical, coverage = self.lexical(query, candidates) if mode in ("hybrid", "lexical") else ([], {})
        def on_topic(i: int) -> bool:  # the story a follow-up is about
            return boost is not None and (self.chunks[i].source, self.chunks[i].story) == boost

        # a follow-up names less (他说工程交给几家企业): within its story the gates are halved
        dense = [(i, s) for i, s in dense if s >= gate or (on_topic(i) and s >= gate - self.dense_gap / 2)]
        lexical = [(i, s) for i, s in lexical
                   if coverage[i] >= self.lexical_min or (on_topic(i) and coverage[i] >= self.lexical_min / 2)]
        fused: dict[int, float] = {}
        for ranked in (dense, lexical):
            for rank, (i, _) in enumerate(ranked, 1):
                fused[i] = fused.get(i, 0.0) + 1.0 / (RRF_K + rank)
        if boost:
            for i in fused:
                c = self.chunks[i]
                if (c.source, c.story) == boost:
                    fused[i] += STORY_BOOST
        dmap, lmap = dict(dense), dict(lexical)
        order = sorted(fused, key=lambda i: (-fused[i], i))
        if keep is not None:
            order = [i for i in order if keep(self.chunks[i])]
        return [
            Hit(self.chunks[i], fused[i], r, dmap.get(i), lmap.get(i), gate if i in dmap else None, coverage.get(i))
            for r, i in enumerate(order[:k], 1)
        ]

    def nearest(self, query: str, k: int = 3) -> list[Hit]:
        """The closest passages regardless of thresholds (shown with a refusal)."""
        if not self.chunks:
            return []
        dense, _ = self.dense(query, k)
        if not dense:
            lex, _ = self.lexical(query, k)
            dense = lex
        return [Hit(self.chunks[i], s, r, s, None) for r, (i, s) in enumerate(dense[:k], 1)]
