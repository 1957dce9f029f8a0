"""How much the issues support a question: word weights and coverage.

Takes a question (folded) and the corpus vocabulary; gives per-word weights
(IDF, adjusted for words the issues never use) and the share of that weight a
text covers. rag.answer uses coverage to choose the supporting sentence and to
refuse when the best story does not support the question.
"""

from __future__ import annotations

import re

from rag.search.lexical import BM25
from rag.search.query import LOOK_CHARS
from rag.text import STOPWORDS, fold, in_dictionary, tagged, tokens, words

SUPPORT_MIN = 0.5  # share of query IDF mass the answer's paragraph must hold
UNSEEN_WEIGHT = 2.0  # a name the issues never use is strong evidence of "not here"
QUESTION_WORDS_RE = re.compile(r"多少|多大|几|谁|哪|什么|何时|多久|多长|怎么|如何|是否|吗")


NOUNISH = ("n", "eng", "j", "nr", "ns", "nt", "nz")
# names of places, bodies and things, not common nouns; jieba's person tag is
# left out: it also lands on ordinary words (老总)
ENTITY = ("eng", "ns", "nt", "nz")
# a time still to come (明天, 后天, 下周) that the issues never mention: news
# reports what happened and what is planned, not tomorrow's weather
FUTURE_RE = re.compile(r"^(?:明天|明日|后天|下周|下星期|下个?月|明晚|明早)$")


def pos_flags(query: str) -> dict[str, str]:
    return dict(tagged(query[:LOOK_CHARS]))


ASKED_TYPE_RE = re.compile(r"(?:哪些|哪个|哪几|哪一|哪|什么|多少|几|啥)([\u4e00-\u9fff]{1,2})")
QUESTION_CHAR_RE = re.compile(r"[哪谁啥吗呢]|什么|多少")


def query_weights(query: str, bm25: BM25, corpus: str) -> dict[str, float]:
    """How much each query word says about the topic (IDF, adjusted).

    Question words (哪一年, 啥时候) and the noun naming the kind of answer
    (哪些*项目*, 什么*职务*, 多少*钱*) are not the topic and are left out. For a
    word the issues never use: a name (GDP, 北京) weighs double, being strong
    evidence the question is about something else; a common noun (老总, 地方)
    or verb (陪同) is probably the user's paraphrase and weighs like an
    ordinary word, or half for a verb; a word jieba made up from characters
    around it (港要 in 医药港要砸) is no evidence at all.
    """
    q = fold(query)
    flags = pos_flags(q)
    asked = {w for m in ASKED_TYPE_RE.finditer(q) for w in (m.group(1), m.group(1)[:1])}
    # jieba's precise cut, not the search cut: 投入使用 is one word of the
    # question, not three (投入, 使用, 投入使用) to be weighed three times
    # sorted: weights (and sums over them) come out in the same order under any hash seed
    all_terms = sorted({w for w in words(q) if w not in STOPWORDS} | {t for t in tokens(q) if t.isascii()})
    question_words = [t for t in all_terms if QUESTION_CHAR_RE.search(t)]
    terms = [t for t in all_terms if not any(t in qw for qw in question_words)
             and not (len(t) == 1 and not t.isascii())]  # a lone character (钱, 港) says little
    seen = [bm25.term_idf(t) for t in terms if t in corpus]
    ordinary = sorted(seen)[len(seen) // 2] if seen else bm25.unseen_idf
    w = {}
    for t in terms:
        if t in corpus:
            w[t] = bm25.term_idf(t)
            continue
        flag = flags.get(t, "n")
        if t.isascii() or flag.startswith(ENTITY) or FUTURE_RE.match(t):
            w[t] = bm25.unseen_idf * UNSEEN_WEIGHT
        elif not in_dictionary(t):
            continue
        else:
            w[t] = ordinary * (1.0 if flag.startswith(NOUNISH) else 0.5)
    for t in w:
        if t in asked:  # names the kind of answer (哪些*方面*) more than the topic
            w[t] *= 0.3
    return w


def coverage(weights: dict[str, float], text: str) -> float:
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    t = fold(text)
    return sum(v for k, v in weights.items() if k in t) / total


def focus_term(query: str) -> str | None:
    """The name right before the question word: what is asked about (GDP是多少 -> gdp).
    Only names (GDP, 北京): a common noun there is often the user's own word."""
    q = fold(query)
    m = QUESTION_WORDS_RE.search(q)
    if not m:
        return None
    flags = pos_flags(q[: m.start()])
    before = [w for w in words(q[: m.start()]) if w not in STOPWORDS and w not in ("的", "是", "有")]
    if before and (flags.get(before[-1], "x").startswith(ENTITY) or before[-1].isascii()):
        return before[-1]
    return None
