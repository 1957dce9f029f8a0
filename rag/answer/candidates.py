"""Candidate short answers inside a sentence, for the fitted ranker to choose from.

Takes a sentence; gives spans that could be a short answer, generated
generously on purpose: figures with none to four following words (11年,
89比76, 2小时10分47秒, 40℃以上), runs of names by jieba's part-of-speech tags
(person, place, organisation, other proper names, with the nouns that close
them: 白鹭湾水库), quoted names (“红马甲”应急救援突击队, 《…》), lists joined
by 、, and the sentence's clauses (reasons and methods are clauses). The
reader's own spans are added by the caller. Which one answers is for the
ranker (rag.answer.decide) to say, from the reader's scores and the kind
asked: no list of units, surnames or titles is needed here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.answer.extract import lists

NUMBER_RE = re.compile(r"[\d０-９]|^[零〇一二两三四五六七八九十百千万亿几]+$")
STOP = set("，。；：！？、,;:!?（）()“”\"《》 \u3000")
NAME_FLAGS = ("nr", "ns", "nt", "nz", "j")
QUOTE_RE = re.compile(r"“[^”]{1,30}”|《[^》]{1,40}》|「[^」]{1,30}」")
CLAUSE_RE = re.compile(r"[^，；：。！？,;:!?]+")
MAX_FOLLOW = 7  # words a figure may take after it (7月15日10时20分 is 1 + 7)


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    source: str  # figure | name | quote | list | clause | reader


def _tokens(text: str) -> list[tuple[int, int, str, str]]:
    from rag.text import tagged

    out, pos = [], 0
    for word, flag in tagged(text):
        at = text.find(word, pos)
        if at < 0:
            continue
        out.append((at, at + len(word), word, flag))
        pos = at + len(word)
    return out


def candidates(text: str) -> list[Candidate]:
    """Distinct candidate spans of `text`, in a fixed order (source, position)."""
    toks = _tokens(text)
    out: list[Candidate] = []

    def add(a: int, b: int, source: str) -> None:
        while a < b and text[a] in STOP - set("“《"):
            a += 1
        while b > a and text[b - 1] in STOP - set("”》"):
            b -= 1
        if b > a:
            out.append(Candidate(a, b, source))

    for i, (a, b, w, f) in enumerate(toks):
        if NUMBER_RE.search(w) or f == "t":
            end = b
            add(a, end, "figure")
            for j in range(i + 1, min(len(toks), i + 1 + MAX_FOLLOW)):
                if toks[j][2] in STOP or toks[j][3] in ("uj", "ul", "c"):
                    break
                end = toks[j][1]
                add(a, end, "figure")
    i = 0
    while i < len(toks):
        if toks[i][3].startswith(NAME_FLAGS):
            j = i
            while j + 1 < len(toks) and (toks[j + 1][3].startswith(NAME_FLAGS) or toks[j + 1][3] in ("zg", "ng")):
                j += 1
            add(toks[i][0], toks[j][1], "name")
            k = j
            while k + 1 < len(toks) and k - j < 2 and toks[k + 1][3] in ("n", "nis", "vn") and toks[k + 1][2] not in STOP:
                k += 1
                add(toks[i][0], toks[k][1], "name")
            i = j + 1
        else:
            i += 1
    for m in QUOTE_RE.finditer(text):
        add(m.start(), m.end(), "quote")
        add(m.start() + 1, m.end() - 1, "quote")
        after = [t for t in toks if t[0] >= m.end()][:4]
        end = m.end()
        for t in after:  # the words the quoted name heads: “红马甲”应急救援突击队
            if not t[3].startswith(("n", "v")) or t[2] in STOP:
                break
            end = t[1]
            add(m.start(), end, "quote")
    for a, b in lists(text):
        add(a, b, "list")
    for m in CLAUSE_RE.finditer(text):
        add(m.start(), m.end(), "clause")
    seen, unique = set(), []
    for c in out:
        if (c.start, c.end) not in seen:
            seen.add((c.start, c.end))
            unique.append(c)
    return unique
