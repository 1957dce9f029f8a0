"""The reader answer stage: Hits -> Answer by a fitted span reader and fitted decisions.

The paragraphs around the best hits are read by rag.answer.reader. The
sentences holding its best spans are cut into candidate short answers
(rag.answer.candidates, plus the reader's own spans), each scored by the reader
and described by a few numbers (rag.answer.decide.pick_features); the fitted
`pick` model chooses one. Then two fitted decisions: whether the issues hold
an answer at all (else a refusal that shows the nearest passages), and whether
the chosen span is likely right enough to show in bold (else the supporting
sentence is shown alone). The supporting sentence is the one the span stands
in. Authorship questions are answered from bylines (rag.answer.credits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer import credits
from rag.answer.base import Asked, Library, Sentence, sentences_of
from rag.answer.candidates import candidates
from rag.answer.decide import Decisions, Evidence, pick_features, type_match
from rag.answer.reader import Reader
from rag.answer.support import focus_term
from rag.kinds import Refusal
from rag.text import content_terms, fold, is_latin, to_simplified
from rag.types import Answer, Hit

WINDOW = 200  # characters of a paragraph read around its hit by default (Settings.read_chars): one reader window
SENTENCES = 3  # sentences (holding the reader's best spans) whose candidates are weighed
SPANS = 8  # the reader's own best spans taken as candidates
YEAR_RE = re.compile(r"(\d{4})年")


@dataclass(frozen=True)
class Passage:
    hit: Hit
    start: int  # the piece of the hit's paragraph that is read
    end: int


@dataclass
class Choice:
    """A candidate short answer: where it is and what the pick model saw."""

    passage: int
    sentence: Sentence
    start: int  # in the sentence
    end: int
    sources: set
    features: dict
    p: float = 0.0

    @property
    def text(self) -> str:
        return self.sentence.text[self.start : self.end]


class ReaderAnswerer:
    def __init__(self, library: Library, reader: Reader, decisions: Decisions, corpus: str, source_text,
                 read: int = 4, extract_short: bool = True, read_chars: int = WINDOW):
        self.lib, self.reader, self.decisions = library, reader, decisions
        self.corpus, self.source_text = corpus, source_text
        self.read, self.extract_short, self.read_chars = read, extract_short, read_chars

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """The paragraphs of the first `read` hits, each at most `read_chars`
        characters centred on its hit (0: all of it); a piece already read is not
        read again."""
        out: list[Passage] = []
        for h in hits[: self.read]:
            para = self.lib.paragraph(h)
            at = max(0, para.text.find(h.chunk.text))
            width = self.read_chars or len(para.text)
            lo = max(0, min(at + len(h.chunk.text) // 2 - width // 2, len(para.text) - width))
            hi = min(len(para.text), lo + width)
            key = (h.chunk.source, h.chunk.story, h.chunk.paragraph)
            if any((p.hit.chunk.source, p.hit.chunk.story, p.hit.chunk.paragraph) == key and p.start <= at < p.end
                   for p in out):
                continue
            out.append(Passage(h, lo, hi))
        return out

    def choices(self, asked: Asked, passages: list[Passage], reading) -> tuple[list[Choice], object]:
        """Candidates of the sentences holding the reader's best spans, scored; and the best span."""
        spans = reading.spans(SPANS)
        if not spans:
            return [], None
        best = spans[0]
        sentences: list[tuple[int, Sentence]] = []
        for sp in spans:
            p = passages[sp.passage]
            s = _sentence_at(p, self.lib.paragraph(p.hit), p.start + sp.start)
            if all((i, x.start) != (sp.passage, s.start) for i, x in sentences) and len(sentences) < SENTENCES:
                sentences.append((sp.passage, s))
        found: dict[tuple[int, int, int], set] = {}
        for i, s in sentences:
            for c in candidates(s.text):
                found.setdefault((i, s.start + c.start, s.start + c.end), set()).add(c.source)
        for sp in spans:  # the reader's own spans, cut to their sentence
            p = passages[sp.passage]
            s = next((x for i, x in sentences if i == sp.passage and x.start <= p.start + sp.start < x.end), None)
            if s is not None:
                found.setdefault((sp.passage, p.start + sp.start, min(p.start + sp.end, s.end)), set()).add("reader")
        query = fold(asked.query)
        terms = content_terms(query)
        about = {(i, s.start): _about(s.text, terms) for i, s in sentences}
        about_best = max(about.values(), default=0.0)
        out = []
        for (i, a, b), sources in sorted(found.items(), key=lambda kv: kv[0]):
            p = passages[i]
            scored = reading.score(i, a - p.start, b - p.start)
            s = next((x for j, x in sentences if j == i and x.start <= a < x.end), None)
            if scored is None or s is None or b <= a:
                continue
            text = s.para.text[a:b]
            f = pick_features(asked.kind, sources, scored[0], best.score, scored[1], type_match(asked.kind, text),
                              _echo(text, query), len(text), s is sentences[0][1], about[(i, s.start)], about_best)
            out.append(Choice(i, s, a - s.start, b - s.start, sources, f))
        return out, best

    def evidence(self, asked: Asked, hits: list[Hit]) -> tuple[Evidence | None, Choice | None]:
        """What the reader found: the numbers the decisions read, and the chosen candidate."""
        passages = self.passages(hits)
        texts = [to_simplified(self.lib.paragraph(p.hit).text[p.start:p.end]) for p in passages]
        reading = self.reader.read(to_simplified(asked.query), texts)
        choices, best = self.choices(asked, passages, reading)
        if not choices:
            return None, None
        for c in choices:
            c.p = self.decisions.pick(c.features)
        if self.decisions.fitted:
            allowed = [c for c in choices if "reader" in c.sources] if self.decisions.reader_spans_only else choices
            chosen = max(allowed or choices, key=lambda c: (c.p, -c.passage, -c.sentence.start - c.start, c.end))
        else:  # the reader's own best span
            chosen = max(choices, key=lambda c: (c.features["score"], "reader" in c.sources, -c.passage, -c.start))
        second = max((c.features["score"] for c in choices if c.text != chosen.text), default=best.score - 10.0)
        hit = passages[best.passage].hit
        folded = fold(asked.query)
        focus = None if is_latin(asked.query) else focus_term(asked.query)
        asked_years, told_years = set(YEAR_RE.findall(folded)), set(YEAR_RE.findall(fold(chosen.sentence.text)))
        ev = Evidence(
            span=best.score, null=best.null, second=second, rank=hit.rank, dense=_above_gate(hit),
            lexical=hit.lexical_coverage or 0.0, top_dense=_above_gate(hits[0]), pick=chosen.p,
            typed=bool(chosen.features["typed"]), kind_known=asked.kind is not None, latin=is_latin(asked.query),
            unknown_name=bool(focus and focus not in self.corpus),
            other_year=bool(asked_years and told_years and not asked_years & told_years),
            pool=tuple((c.text, c.features) for c in choices),
        )
        return ev, chosen

    def answer(self, asked: Asked, hits: list[Hit], nearest: list[Hit]) -> Answer:
        lib = self.lib
        if not hits:
            return lib.refuse(asked, nearest, Refusal.NO_PASSAGE)
        if credits.asks_credit(fold(asked.query)):
            credited = credits.answer_credit(lib, asked, hits, self.source_text, self.extract_short)
            if credited:
                return credited
        ev, chosen = self.evidence(asked, hits)
        if chosen is None:
            return lib.refuse(asked, nearest or hits, Refusal.NO_ANSWER)
        p_answer = self.decisions.answerable(ev)
        if p_answer < self.decisions.refuse_below:
            return lib.refuse(asked, nearest or hits, Refusal.NOT_CONFIDENT, confidence=p_answer, evidence=ev)
        span = (chosen.start, chosen.end) if self.extract_short else None
        # show_above 1.0 is the fit's "never": no precision on the development data was vouched for
        shown = chosen.p >= self.decisions.show_above and self.decisions.show_above < 1.0
        return lib.answered(asked, chosen.sentence, span, hits, shown=shown, confidence=chosen.p, evidence=ev)


def _sentence_at(p: Passage, para, at: int) -> Sentence:
    """The sentence of the paragraph holding character `at`."""
    for s, e in sentences_of(para.text):
        if s <= at < e:
            return Sentence(p.hit, para, s, e)
    return Sentence(p.hit, para, 0, len(para.text))


def _above_gate(h: Hit) -> float:
    """How far the passage's cosine stands above the question's dense gate (0 when the dense branch missed it)."""
    return (h.dense - h.dense_gate) if h.dense is not None and h.dense_gate is not None else 0.0


def _echo(text: str, folded_query: str) -> float:
    """Share of the span's characters that the question itself uses: an answer
    that repeats the question is seldom the answer."""
    t = fold(text)
    return sum(1 for c in t if c in folded_query) / max(len(t), 1)


def _about(sentence: str, terms: list[str]) -> float:
    """Share of the question's topic words (folded) that the sentence holds."""
    if not terms:
        return 0.0
    s = fold(sentence)
    return sum(1 for t in terms if t in s) / len(terms)
