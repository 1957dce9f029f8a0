"""Hits -> Answer: the supporting sentence, the short answer in it, citations,
or a refusal with the nearest passages.

Extractive and deterministic, no LLM. Sentences come from the paragraphs the
hits point into (so a sentence longer than a chunk is still whole). Each is
scored by how much of the query's IDF mass it contains, how high its passage
ranked, and whether it holds the kind of thing asked for (rag.extract). The
question is refused, never answered from thin air, when the best story does
not support the query's terms, when the thing asked about (GDP) never occurs
in the issues, or when no candidate sentence holds an answer of the asked kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag import credits, extract
from rag.lexical import BM25
from rag.spans import source_span
from rag.support import NOUNISH, SUPPORT_MIN, pos_flags, query_weights, coverage, focus_term
from rag.text import fold, is_latin
from rag.types import Answer, Citation, Hit, Paragraph, Story

SENTENCE_RE = re.compile(r"[^。！？!?]*(?:[。！？!?]+[”’」』）)]*|$)")


YEAR_RE = re.compile(r"(\d{4})年")
PHASE_RE = re.compile(r"[一二三四五六七八九十\d]+(?:期|季度)")


def qualifier_mismatch(query: str, sentence: str) -> str | None:
    """Why the sentence answers another question than the one asked, if it does:
    it speaks of another year (2022年… asked, 2021年 told), or it does not
    mention the phase or quarter asked about (二期, 一季度)."""
    asked = set(YEAR_RE.findall(query))
    told = set(YEAR_RE.findall(sentence))
    if asked and told and not asked & told:
        return f"报道里说的是{'、'.join(sorted(told))}年的情况，没有提到{'、'.join(sorted(asked))}年的。"
    for phase in PHASE_RE.findall(query):
        if phase not in sentence:
            return f"找到了相关报道，但没有提到“{phase}”。"
    return None


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


def sentences_of(para: Paragraph) -> list[tuple[int, int]]:
    out = []
    for m in SENTENCE_RE.finditer(para.text):
        a, b = m.span()
        while a < b and para.text[a].isspace():
            a += 1
        if b > a:
            out.append((a, b))
    return out


class Composer:
    def __init__(self, stories: list[Story], bm25: BM25, corpus: str, source_text, top_k: int = 5,
                 extract_short: bool = True):
        self.stories = {(s.source, s.index): s for s in stories}
        self.titles = {k: s.title for k, s in self.stories.items()}
        self.paragraphs = {(s.source, s.index, n): p for s in stories for n, p in enumerate(s.paragraphs, 1)}
        self.bm25, self.source_text = bm25, source_text  # source_text(name) -> decoded issue text
        self.corpus = corpus  # folded text of every paragraph and title
        self.top_k, self.extract_short = top_k, extract_short

    def _sentences(self, hits: list[Hit]) -> list[Sentence]:
        """Sentences of the hits' paragraphs: a passage often names the subject
        and the next sentence of its paragraph holds the answer."""
        seen, out = set(), []
        for h in hits:
            c = h.chunk
            para = self.paragraphs[(c.source, c.story, c.paragraph)]
            at = para.text.find(c.text)
            lo, hi = (at, at + len(c.text)) if at >= 0 else (0, len(para.text))
            for a, b in sentences_of(para):
                key = (c.source, c.story, c.paragraph, a)
                if key not in seen:
                    seen.add(key)
                    out.append(Sentence(h, para, a, b, b > lo and a < hi))
        return out

    def compose(self, question: str, query: str, kind: str | None, hits: list[Hit], nearest: list[Hit],
                followup: bool = False) -> Answer:
        base = dict(question=question, query=query, kind=kind, followup=followup)
        if not hits:
            return self.refuse(base, nearest, "这几期报纸中没有找到与问题相关的内容。")
        english = is_latin(query)
        folded = fold(query)  # once: OpenCC is not free, and this loop runs per sentence
        if credits.asks_credit(folded):
            credited = self._credit(base, query, hits)
            if credited:
                return credited
        weights = {} if english else query_weights(query, self.bm25, self.corpus)
        focus = None if english else focus_term(query)
        if focus and focus not in self.corpus:
            return self.refuse(base, nearest or hits, f"这几期报纸没有提到“{focus}”。")
        best, best_score, best_spans = None, -1.0, []
        typed = kind in extract.FINDERS
        for s in self._sentences(hits):
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
        title = self.titles[(best.hit.chunk.source, best.hit.chunk.story)]
        # An English question is checked by its pinyin names (rag.text.latin_terms):
        # a name the issues never use (Beijing) means it is about something else;
        # otherwise passing a retrieval gate is its evidence, and it must ask for
        # something the text can show (a figure, date, name, place, list).
        if english:
            names = self.pinyin_names(query)
            if names and not any(n in self.bm25.idf for n in names):
                return self.refuse(base, nearest or hits, "这几期报纸没有提到问题里的地名或人名。")
            if kind not in extract.FINDERS:
                return self.refuse(base, nearest or hits, "这几期报纸中没有找到与问题相关的内容。")
        if not english:
            support = title + best.para.text
            if coverage(weights, support) < SUPPORT_MIN:
                return self.refuse(base, nearest or hits, "这几期报纸中没有足够的内容回答这个问题。")
            # the question's most specific noun must be in the story the answer
            # comes from (a question about 岳程街道 is not answered from another story)
            flags = pos_flags(folded)
            seen = [t for t in weights if t in self.corpus and len(t) >= 2
                    and flags.get(t, "n").startswith(NOUNISH)]
            if seen:
                rarest = max(seen, key=lambda t: (self.bm25.term_idf(t), t))  # ties by the word itself
                story = self.stories[(best.hit.chunk.source, best.hit.chunk.story)]
                if rarest not in fold(title + "".join(p.text for p in story.paragraphs)):
                    return self.refuse(base, nearest or hits, f"找到的报道没有讲“{rarest}”的这方面内容。")
        if kind in extract.FINDERS and not best_spans:
            return self.refuse(base, hits, "找到了相关报道，但其中没有提到问题所问的内容。")
        mismatch = qualifier_mismatch(folded, fold(best.text))
        if mismatch:
            return self.refuse(base, hits, mismatch)
        span = self._pick(kind, best, best_spans, weights, folded) if self.extract_short else None
        return self._answer(base, best, span, hits)

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

    def _answer(self, base: dict, s: Sentence, span, hits: list[Hit]) -> Answer:
        c = s.hit.chunk
        runs = s.para.runs
        start, end = source_span(runs, s.start, s.end)
        answer = answer_start = answer_end = highlight = None
        if span is not None:
            a, b = span[0], span[1]
            highlight = (a, b)
            answer_start, answer_end = source_span(runs, s.start + a, s.start + b)
            # several names: 刘勇、李炜喆, highlighted from the first to the last
            answer = span[2] if len(span) > 2 else s.text[a:b]
        title = self.titles[(c.source, c.story)]
        cites = [Citation(1, title, c.paragraph, s.text, s.hit.score, c.source, start, end, highlight)]
        for h in hits:
            if len(cites) >= self.top_k:
                break
            hc = h.chunk
            if hc.source == c.source and hc.story == c.story and hc.paragraph == c.paragraph and hc.start <= start < hc.end:
                continue  # this passage is the sentence already cited
            cites.append(self._cite(len(cites) + 1, h))
        return Answer(answerable=True, answer=answer, sentence=s.text, citations=tuple(cites),
                      answer_start=answer_start, answer_end=answer_end, **base)

    def pinyin_names(self, query: str) -> list[str]:
        """The pinyin words of an English question (Zhihe, Beijing), numbers left out."""
        from rag.text import latin_terms

        return [t for t in latin_terms(query) if not t.isdigit() and len(t) > 3]

    def _credit(self, base: dict, query: str, hits: list[Hit]) -> Answer | None:
        """Authorship questions: the byline or photo credit of the best story."""
        c = hits[0].chunk
        story = self.stories[(c.source, c.story)]
        found = credits.find_credit(story, self.source_text(c.source), bool(credits.ASKS_PHOTO_RE.search(fold(query))))
        if not found:
            return None
        text, start, end, para = found
        name = credits.credit_name(text.strip("()（）本报讯"))
        at = text.rfind(name)
        cite = Citation(1, story.title, para, text, hits[0].score, c.source, start, end,
                        (at, at + len(name)) if at >= 0 else None)
        others = [self._cite(i, h) for i, h in enumerate(hits[: self.top_k - 1], 2)]
        if not self.extract_short:  # the ablation: sentence and citations only
            return Answer(answerable=True, answer=None, sentence=text, citations=(cite, *others),
                          **{**base, "kind": "person"})
        return Answer(answerable=True, answer=name, sentence=text, citations=(cite, *others),
                      answer_start=start + at if at >= 0 else None,
                      answer_end=start + at + len(name) if at >= 0 else None, **{**base, "kind": "person"})

    def _cite(self, rank: int, h: Hit) -> Citation:
        c = h.chunk
        return Citation(rank, self.titles[(c.source, c.story)], c.paragraph, c.text, h.score, c.source, c.start, c.end)

    def refuse(self, base: dict, nearest: list[Hit], reason: str) -> Answer:
        cites = tuple(self._cite(i, h) for i, h in enumerate(nearest[: min(3, self.top_k)], 1))
        return Answer(answerable=False, answer=None, sentence=None, citations=cites, reason=reason, **base)
