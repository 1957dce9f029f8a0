"""The rule answer stage: Hits -> Answer by hand-written rules (an ablation now).

Extractive and deterministic. Sentences come from the paragraphs the hits
point into. Each is scored by how much of the query's IDF mass it contains,
how high its passage ranked, and whether it holds the kind of thing asked for
(rag.answer.extract). The question is refused when the best story does not
support the query's terms, when the thing asked about (GDP) never occurs in
the issues, or when no candidate sentence holds an answer of the asked kind.
This was the engine's answerer until the fitted reader (rag.answer.reading)
measured better on issues nobody here wrote; `python -m eval run --configs
rules` compares the two.
"""

from __future__ import annotations

import re

from rag.answer import credits, extract
from rag.answer.base import Asked, Library, Sentence
from rag.answer.support import NOUNISH, SUPPORT_MIN, coverage, focus_term, pos_flags, query_weights
from rag.kinds import Kind, Refusal
from rag.search.lexical import BM25
from rag.text import fold, is_latin
from rag.types import Answer, Citation, Hit, Story

YEAR_RE = re.compile(r"(\d{4})年")
PHASE_RE = re.compile(r"[一二三四五六七八九十\d]+(?:期|季度)")


def qualifier_mismatch(query: str, sentence: str) -> str | None:
    """What the sentence speaks of instead, if it answers another question than
    the one asked: another year (2022年… asked, 2021年 told), or not the phase
    or quarter asked about (二期, 一季度)."""
    asked = set(YEAR_RE.findall(query))
    told = set(YEAR_RE.findall(sentence))
    if asked and told and not asked & told:
        return "、".join(f"{y}年" for y in sorted(told))
    for phase in PHASE_RE.findall(query):
        if phase not in sentence:
            return f"不是“{phase}”"
    return None


class RuleAnswerer:
    def __init__(self, library: Library, bm25: BM25, corpus: str, source_text, extract_short: bool = True):
        self.lib, self.bm25, self.source_text = library, bm25, source_text  # source_text(name) -> decoded issue text
        self.corpus = corpus  # folded text of every paragraph and title
        self.extract_short = extract_short

    def answer(self, asked: Asked, hits: list[Hit], nearest: list[Hit]) -> Answer:
        query, kind, lib = asked.query, asked.kind, self.lib
        if not hits:
            return lib.refuse(asked, nearest, Refusal.NO_PASSAGE)
        english = is_latin(query)
        folded = fold(query)  # once: OpenCC is not free, and this loop runs per sentence
        if credits.asks_credit(folded):
            credited = credits.answer_credit(lib, asked, hits, self.source_text, self.extract_short)
            if credited:
                return credited
        weights = {} if english else query_weights(query, self.bm25, self.corpus)
        focus = None if english else focus_term(query)
        if focus and focus not in self.corpus:
            return lib.refuse(asked, nearest or hits, Refusal.UNKNOWN_NAME, focus)
        best, best_score, best_spans = None, -1.0, []
        typed = kind in extract.FINDERS
        for s in lib.sentences(hits):
            spans = extract.candidates(kind, s.text, folded)
            if typed and not spans and best_spans:
                continue  # a sentence holding an answer of the asked kind beats any without
            cov = coverage(weights, s.text) if weights else 0.0
            # the paragraph says what the sentence is about (张晖一行… / 刘勇、李炜喆参加活动)
            context = coverage(weights, s.para.text) if weights else 0.0
            score = 0.6 * cov + 0.4 * context + 0.3 / s.hit.rank + (0.2 if s.in_hit else 0.0)
            if focus and focus in fold(s.text):
                score += 0.3
            if (typed and spans and not best_spans) or score > best_score:
                best, best_score, best_spans = s, score, spans
        title = lib.titles[(best.hit.chunk.source, best.hit.chunk.story)]
        # An English question is checked by its pinyin names (rag.text.latin_terms):
        # a name the issues never use (Beijing) means it is about something else;
        # otherwise passing a retrieval gate is its evidence, and it must ask for
        # something the text can show (a figure, date, name, place, list).
        if english:
            names = self.pinyin_names(query)
            if names and not any(n in self.bm25.idf for n in names):
                return lib.refuse(asked, nearest or hits, Refusal.UNKNOWN_NAME, " ".join(names))
            if kind not in extract.FINDERS:
                return lib.refuse(asked, nearest or hits, Refusal.NO_PASSAGE)
        if not english:
            support = title + best.para.text
            if coverage(weights, support) < SUPPORT_MIN:
                return lib.refuse(asked, nearest or hits, Refusal.NOT_COVERED)
            # the question's most specific noun must be in the story the answer
            # comes from (a question about 岳程街道 is not answered from another story)
            flags = pos_flags(folded)
            seen = [t for t in weights if t in self.corpus and len(t) >= 2
                    and flags.get(t, "n").startswith(NOUNISH)]
            if seen:
                rarest = max(seen, key=lambda t: (self.bm25.term_idf(t), t))  # ties by the word itself
                story = lib.stories[(best.hit.chunk.source, best.hit.chunk.story)]
                if rarest not in fold(title + "".join(p.text for p in story.paragraphs)):
                    return lib.refuse(asked, nearest or hits, Refusal.OTHER_STORY, rarest)
        if kind in extract.FINDERS and not best_spans:
            return lib.refuse(asked, hits, Refusal.NO_ANSWER)
        mismatch = qualifier_mismatch(folded, fold(best.text))
        if mismatch:
            return lib.refuse(asked, hits, Refusal.OTHER_QUALIFIER, mismatch)
        span = self._pick(kind, best, best_spans, weights, folded) if self.extract_short else None
        return lib.answered(asked, best, span, hits)

    def _pick(self, kind, s: Sentence, spans, weights, query: str) -> tuple | None:
        """The candidate the question's words point at.

        News text names a thing, then gives its figure (签约项目31个，其中科研
        加工项目18个): a candidate scores by the weight of the query words just
        before it in the same clause, less for words after it or further away.
        A candidate that repeats the question's own words is not an answer.
        """
        text = fold(s.text)
        if len(text) != len(s.text):  # folding changed lengths (㎡ -> m2): positions must match
            text = s.text.lower()
        if not spans:
            return self._clause(s, weights)
        hits = [(m.start(), m.end(), w) for k, w in weights.items() for m in re.finditer(re.escape(k), text)]

        def score(span):
            a, b = span
            total = 0.0
            for x, y, w in hits:
                if x < b and a < y:
                    total -= w  # overlaps the question's words
                    continue
                between = text[y:a] if y <= a else text[b:x]
                gap = len(between) + (6 if re.search(r"[，。；,;]", between) else 0)
                # words before a figure name it; after a list closed by 等 they
                # name what its items are (精进电动、…等一批龙头骨干项目)
                named_after = kind == "list" and text[b:b + 1] == "等"
                total += w * (1.0 if y <= a or named_after else 0.5) / (1 + gap / 4)
            return total

        ranked = sorted(spans, key=lambda sp: (-score(sp), sp[0]))
        best = ranked[0]
        if kind == "amount":
            best = extract.with_counted(s.text, best, query)
        if kind == "person":  # several people named together in one clause: all of them
            clause = [sp for sp in spans if not re.search(r"[，。；,;]", text[min(sp[0], best[0]):max(sp[1], best[1])])]
            if len(clause) > 1:
                return (min(sp[0] for sp in clause), max(sp[1] for sp in clause), "、".join(s.text[a:b] for a, b in clause))
        return best

    def _clause(self, s: Sentence, weights) -> tuple[int, int] | None:
        """No kind asked for: the clause holding most of the query."""
        best, score, pos = None, -1.0, 0
        for part in re.split(r"(?<=[，；：。！？])", s.text):
            if part.strip():
                c = coverage(weights, part)
                if c > score:
                    best, score = (pos, pos + len(part.rstrip("，；：。！？"))), c
            pos += len(part)
        return best

    def pinyin_names(self, query: str) -> list[str]:
        """The pinyin words of an English question (Zhihe, Beijing), numbers left out."""
        from rag.text import latin_terms

        return [t for t in latin_terms(query) if not t.isdigit() and len(t) > 3]
