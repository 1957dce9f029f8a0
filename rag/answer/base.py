"""What every answer stage shares: the asked question, sentences, citations, refusals.

An answer stage (`Answerer`) takes the question as the engine understood it
(`Asked`), the ranked Hits and the nearest passages, and gives an Answer. The
engine does not know which stage it has (rules, a reader): both are built on
`Library`, which looks up stories and paragraphs, cuts paragraphs into
sentences, builds citations with source offsets and words refusals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from rag.kinds import Kind, Refusal, refusal_text
from rag.ingest.spans import source_span
from rag.types import Answer, Citation, Hit, Paragraph, Story

SENTENCE_RE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|$)")


@dataclass(frozen=True)
class Asked:
    question: str  # as the user typed it (echoed back)
    query: str  # the standalone query searched (follow-ups resolved, slips corrected)
    kind: Kind | None
    followup: bool = False


class Answerer(Protocol):
    def answer(self, asked: Asked, hits: list[Hit], nearest: list[Hit]) -> Answer: ...


@dataclass
class Sentence:
    hit: Hit
    para: Paragraph
    start: int  # position in the paragraph text
    end: int
    in_hit: bool = True  # inside the retrieved passage, not only its paragraph

    @property
    def text(self) -> str:
        return self.para.text[self.start : self.end]


def sentences_of(text: str) -> list[tuple[int, int]]:
    out = []
    for m in SENTENCE_RE.finditer(text):
        a, b = m.span()
        while a < b and text[a].isspace():
            a += 1
        if b > a:
            out.append((a, b))
    return out


class Library:
    """Stories and paragraphs by key, and the citations and refusals built from them."""

    def __init__(self, stories: list[Story], top_k: int = 5):
        self.stories = {(s.source, s.index): s for s in stories}
        self.titles = {k: s.title for k, s in self.stories.items()}
        self.paragraphs = {(s.source, s.index, n): p for s in stories for n, p in enumerate(s.paragraphs, 1)}
        self.top_k = top_k

    def paragraph(self, hit: Hit) -> Paragraph:
        c = hit.chunk
        return self.paragraphs[(c.source, c.story, c.paragraph)]

    def sentences(self, hits: list[Hit]) -> list[Sentence]:
        """Sentences of the hits' paragraphs, in hit order: a passage often names
        the subject and the next sentence of its paragraph holds the answer."""
        seen, out = set(), []
        for h in hits:
            c = h.chunk
            para = self.paragraph(h)
            at = para.text.find(c.text)
            lo, hi = (at, at + len(c.text)) if at >= 0 else (0, len(para.text))
            for a, b in sentences_of(para.text):
                key = (c.source, c.story, c.paragraph, a)
                if key not in seen:
                    seen.add(key)
                    out.append(Sentence(h, para, a, b, b > lo and a < hi))
        return out

    def cite(self, rank: int, h: Hit) -> Citation:
        c = h.chunk
        return Citation(rank, self.titles[(c.source, c.story)], c.paragraph, c.text, h.score, c.source, c.start, c.end)

    def answered(self, asked: Asked, s: Sentence, span: tuple | None, hits: list[Hit], shown: bool = True,
                 confidence: float | None = None, evidence=None) -> Answer:
        """An Answer citing sentence `s` first (with the short answer `span` in it,
        (start, end[, text]) in the sentence), then the other hits."""
        c = s.hit.chunk
        start, end = source_span(s.para.runs, s.start, s.end)
        answer = answer_start = answer_end = highlight = None
        if span is not None:
            a, b = span[0], span[1]
            highlight = (a, b)
            answer_start, answer_end = source_span(s.para.runs, s.start + a, s.start + b)
            answer = span[2] if len(span) > 2 else s.text[a:b]  # several names: 刘勇、李炜喆
        cites = [Citation(1, self.titles[(c.source, c.story)], c.paragraph, s.text, s.hit.score, c.source, start, end,
                          highlight)]
        for h in hits:
            if len(cites) >= self.top_k:
                break
            hc = h.chunk
            if (hc.source, hc.story, hc.paragraph) == (c.source, c.story, c.paragraph) and hc.start <= start < hc.end:
                continue  # this passage is the sentence already cited
            cites.append(self.cite(len(cites) + 1, h))
        return Answer(question=asked.question, query=asked.query, answerable=True, answer=answer, sentence=s.text,
                      citations=tuple(cites), answer_start=answer_start, answer_end=answer_end,
                      kind=asked.kind.value if asked.kind else None, followup=asked.followup,
                      answer_shown=answer is not None and shown, confidence=confidence, evidence=evidence)

    def refuse(self, asked: Asked, nearest: list[Hit], refusal: Refusal, detail: str | None = None,
               confidence: float | None = None, evidence=None) -> Answer:
        cites = tuple(self.cite(i, h) for i, h in enumerate(nearest[: min(3, self.top_k)], 1))
        return Answer(question=asked.question, query=asked.query, answerable=False, answer=None, sentence=None,
                      citations=cites, reason=refusal_text(refusal, detail), refusal=refusal, detail=detail,
                      kind=asked.kind.value if asked.kind else None, followup=asked.followup,
                      answer_shown=False, confidence=confidence, evidence=evidence)
