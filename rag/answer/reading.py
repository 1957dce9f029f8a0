"""The reader answer stage: Hits -> Answer by a fitted span reader and fitted decisions.

The paragraphs around the best hits are read by rag.answer.reader; its best
span, with the retrieval evidence beside it, becomes `Evidence` (numbers only).
Two decisions fitted on development data (rag.answer.decide, made by
`python -m eval fit`) turn it into an Answer: whether the issues hold an answer
at all (else a refusal that shows the nearest passages), and whether the short
answer is likely right enough to show in bold (else the supporting sentence is
shown alone). The supporting sentence is the one the span stands in.
Authorship questions are answered from bylines (rag.answer.credits).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from rag.answer import credits
from rag.answer.base import Asked, Library, Sentence, sentences_of
from rag.answer.decide import Decisions, Evidence, type_match
from rag.answer.reader import Reader, Span
from rag.answer.support import focus_term
from rag.kinds import Refusal
from rag.text import fold, is_latin, to_simplified
from rag.types import Answer, Hit

WINDOW = 360  # characters of a long paragraph read around its hit
YEAR_RE = re.compile(r"(\d{4})年")


@dataclass(frozen=True)
class Passage:
    hit: Hit
    start: int  # the piece of the hit's paragraph that is read
    end: int


class ReaderAnswerer:
    def __init__(self, library: Library, reader: Reader, decisions: Decisions, corpus: str, source_text,
                 read: int = 4, extract_short: bool = True):
        self.lib, self.reader, self.decisions = library, reader, decisions
        self.corpus, self.source_text = corpus, source_text
        self.read, self.extract_short = read, extract_short

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """The paragraphs of the first `read` hits, each at most WINDOW characters
        centred on its hit; a piece already read is not read again."""
        out: list[Passage] = []
        for h in hits[: self.read]:
            para = self.lib.paragraph(h)
            at = max(0, para.text.find(h.chunk.text))
            lo = max(0, min(at + len(h.chunk.text) // 2 - WINDOW // 2, len(para.text) - WINDOW))
            hi = min(len(para.text), lo + WINDOW)
            key = (h.chunk.source, h.chunk.story, h.chunk.paragraph)
            if any((p.hit.chunk.source, p.hit.chunk.story, p.hit.chunk.paragraph) == key and p.start <= at < p.end
                   for p in out):
                continue
            out.append(Passage(h, lo, hi))
        return out

    def evidence(self, asked: Asked, hits: list[Hit]) -> tuple[Evidence, Sentence | None, tuple | None]:
        """What the reader found: the numbers the decisions read, the sentence
        holding the best span, and the span within that sentence."""
        passages = self.passages(hits)
        texts = [self.lib.paragraph(p.hit).text[p.start:p.end] for p in passages]
        spans = self.reader.read(to_simplified(asked.query), [to_simplified(t) for t in texts], top=8)
        if not spans:
            return Evidence.empty(asked, hits), None, None
        best = spans[0]
        second = next((s.score for s in spans[1:] if texts[s.passage][s.start:s.end] != texts[best.passage][best.start:best.end]),
                      best.score - 10.0)
        p = passages[best.passage]
        para = self.lib.paragraph(p.hit)
        a, b = p.start + best.start, p.start + best.end  # in the paragraph
        sentence, span = _sentence_of(p.hit, para, a, b)
        text = para.text[a:b]
        folded_query = fold(asked.query)
        focus = None if is_latin(asked.query) else focus_term(asked.query)
        asked_years, told_years = set(YEAR_RE.findall(folded_query)), set(YEAR_RE.findall(fold(sentence.text)))
        ev = Evidence(
            span=best.score, null=best.null, second=second, rank=p.hit.rank,
            dense=_above_gate(p.hit), lexical=p.hit.lexical_coverage or 0.0, top_dense=_above_gate(hits[0]),
            typed=type_match(asked.kind, text), kind_known=asked.kind is not None,
            length=len(text), echo=_echo(text, folded_query), latin=is_latin(asked.query),
            unknown_name=bool(focus and focus not in self.corpus),
            other_year=bool(asked_years and told_years and not asked_years & told_years),
        )
        return ev, sentence, span

    def answer(self, asked: Asked, hits: list[Hit], nearest: list[Hit]) -> Answer:
        lib = self.lib
        if not hits:
            return lib.refuse(asked, nearest, Refusal.NO_PASSAGE)
        if credits.asks_credit(fold(asked.query)):
            credited = credits.answer_credit(lib, asked, hits, self.source_text, self.extract_short)
            if credited:
                return credited
        ev, sentence, span = self.evidence(asked, hits)
        if sentence is None:
            return lib.refuse(asked, nearest or hits, Refusal.NO_ANSWER)
        p_answer = self.decisions.answerable(ev)
        if p_answer < self.decisions.refuse_below:
            return lib.refuse(asked, nearest or hits, Refusal.NOT_CONFIDENT, confidence=p_answer, evidence=ev)
        p_right = self.decisions.right(ev)
        if not self.extract_short:
            span = None
        shown = p_right >= self.decisions.show_above
        return lib.answered(asked, sentence, span, hits, shown=shown, confidence=p_right, evidence=ev)


def _sentence_of(hit: Hit, para, a: int, b: int) -> tuple[Sentence, tuple[int, int]]:
    """The sentence of the paragraph holding span [a, b) (by its start), and the
    span in that sentence, cut at the sentence's end."""
    for s, e in sentences_of(para.text):
        if s <= a < e:
            return Sentence(hit, para, s, e), (a - s, min(b, e) - s)
    return Sentence(hit, para, 0, len(para.text)), (a, b)


def _above_gate(h: Hit) -> float:
    """How far the passage's cosine stands above the question's dense gate (0 when the dense branch missed it)."""
    return (h.dense - h.dense_gate) if h.dense is not None and h.dense_gate is not None else 0.0


def _echo(text: str, folded_query: str) -> float:
    """Share of the span's characters that the question itself uses: an answer
    that repeats the question is seldom the answer."""
    t = fold(text)
    return sum(1 for c in t if c in folded_query) / max(len(t), 1)


def logistic(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
