"""Metrics: pure functions from (answer JSON, gold question) to scores.

Takes the `Answer.to_json()` dict the engine (or the anchor) produced and the
gold fields of a question (`answers`, `story`, `kind`); gives per-question
scores and their aggregates. No I/O: the caller passes the source texts and the
`locate` function used for citation traceability.

Comparisons use `normalise`: Unicode NFKC (full-width digits, letters and most
punctuation become ASCII), the CJK marks NFKC leaves alone folded too
(。、「」“”‘’ and friends), whitespace removed, lower-cased. So "300亿元" matches
"３００亿元" and "知和(山东)" matches "知和（山东）", and a line break inside a
cited sentence does not hide an answer.

Per-question scores (None = not applicable to this question):
- story@1: citation 1's story title contains the gold `story` substring.
- sentence@1: the answer is not refused and its supporting sentence contains
  a gold answer.
- short: the answer is not refused and the short answer contains a gold
  answer g and is short: len(answer) <= max(2 * len(g), len(g) + 10)
  (normalised lengths), so the short answer cannot be the whole sentence.
  Not scored for kind "keyword" (staff look-ups want the sentence).
- hit@3: one of the top 3 citations' text contains a gold answer.
- rr: 1 / rank of the first citation containing a gold answer, else 0 (mean: MRR).
Retrieval scores (story@1, hit@3, rr) look at the citations even when the
answer is refused, since refusals still show the nearest passages.
Refusal: refused = `answerable` is false; the positive class is a question
without gold answers.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence

# Marks NFKC keeps as CJK forms; folded so either spelling compares equal.
_FOLD = str.maketrans(
    {
        "。": ".", "、": ",", "，": ",", "“": '"', "”": '"', "‘": "'", "’": "'",
        "「": '"', "」": '"', "『": '"', "』": '"', "《": "<", "》": ">",
        "〈": "<", "〉": ">", "【": "[", "】": "]", "〔": "(", "〕": ")",
        "—": "-", "–": "-", "－": "-", "～": "~", "…": "...", "·": ".", "・": ".",
    }
)
_SPACE = re.compile(r"\s+")

SHORT_SLACK = 10  # characters a short answer may add around the gold string


def normalise(text: str | None) -> str:
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_FOLD)
    return _SPACE.sub("", text).lower()


def contains_gold(text: str | None, answers: Iterable[str]) -> bool:
    t = normalise(text)
    return bool(t) and any(normalise(a) and normalise(a) in t for a in answers)


def is_short_answer(answer: str | None, answers: Iterable[str]) -> bool:
    """The short answer holds a gold answer g and is at most max(2|g|, |g|+10) long."""
    a = normalise(answer)
    if not a:
        return False
    for g in map(normalise, answers):
        if g and g in a and len(a) <= max(2 * len(g), len(g) + SHORT_SLACK):
            return True
    return False


# The official CMRC 2018 scorer (cmrc2018_evaluate.py v5): lower-cased, these
# marks removed, Chinese split into characters and other runs into words; F1
# from the longest common substring of the two token lists, EM on the strings
# with the marks removed; the best over the gold answers. nltk.word_tokenize,
# which it uses on non-Chinese runs, is approximated by \w+ | one mark.
CMRC_MARKS = frozenset(['-', ':', '_', '*', '^', '/', '\\', '~', '`', '+', '=', '，', '。', '：', '？', '！',
                        '“', '”', '；', '’', '《', '》', '……', '·', '、', '「', '」', '（', '）', '－', '～', '『', '』'])
_HAN = re.compile(r"[\u4e00-\u9fa5]")
_LATIN_TOKEN = re.compile(r"\w+|[^\w\s]")


def cmrc_segments(text: str) -> list[str]:
    out, run = [], ""
    for ch in text.lower().strip():
        if ch in CMRC_MARKS:
            continue
        if _HAN.match(ch):
            out += _LATIN_TOKEN.findall(run)
            run = ""
            out.append(ch)
        else:
            run += ch
    return out + _LATIN_TOKEN.findall(run)


def _lcs(a: list[str], b: list[str]) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b):
            if x == y:
                cur[j + 1] = prev[j] + 1
                best = max(best, cur[j + 1])
        prev = cur
    return best


def cmrc_f1(prediction: str | None, answers: Iterable[str]) -> float:
    pred = cmrc_segments(prediction or "")
    best = 0.0
    for g in answers:
        gold = cmrc_segments(g)
        common = _lcs(gold, pred)
        if common:
            p, r = common / len(pred), common / len(gold)
            best = max(best, 2 * p * r / (p + r))
    return best


def cmrc_em(prediction: str | None, answers: Iterable[str]) -> bool:
    def strip(t: str) -> str:
        return "".join(c for c in t.lower().strip() if c not in CMRC_MARKS)

    return prediction is not None and any(strip(g) == strip(prediction) for g in answers)


def first_gold_rank(citations: Sequence[dict], answers: Sequence[str]) -> int | None:
    """1-based position of the first citation whose text contains a gold answer."""
    for i, c in enumerate(citations, 1):
        if contains_gold(c.get("text"), answers):
            return i
    return None


def story_at_1(citations: Sequence[dict], story: str) -> bool:
    return bool(citations) and normalise(story) in normalise(citations[0].get("story"))


def hit_at(citations: Sequence[dict], answers: Sequence[str], k: int = 3) -> bool:
    rank = first_gold_rank(citations, answers)
    return rank is not None and rank <= k


def reciprocal_rank(citations: Sequence[dict], answers: Sequence[str]) -> float:
    rank = first_gold_rank(citations, answers)
    return 1.0 / rank if rank else 0.0


def traceable(
    citations: Sequence[dict],
    sources: dict[str, str | None],
    locate: Callable[[str, str, int, int], bool],
) -> tuple[int, int]:
    """(citations whose offsets locate their text in the source, citations)."""
    ok = 0
    for c in citations:
        src = sources.get(c.get("source"))
        start, end = c.get("start"), c.get("end")
        if src is None or not isinstance(start, int) or not isinstance(end, int):
            continue
        if 0 <= start <= end <= len(src) and locate(c.get("text") or "", src, start, end):
            ok += 1
    return ok, len(citations)


def score(result: dict, gold: dict, trace: tuple[int, int] = (0, 0)) -> dict:
    """Scores for one question. `gold` has answers, story, kind; `trace` from traceable()."""
    answers = list(gold.get("answers") or [])
    cites = result.get("citations") or []
    refused = not result.get("answerable")
    row = {
        "kind": gold.get("kind"),
        "gold_answerable": bool(answers),
        "refused": refused,
        "story@1": None, "sentence@1": None, "short": None, "hit@3": None, "rr": None,
        "traced": trace[0], "cited": trace[1],
        "latency_ms": result.get("latency_ms"),
        "sentence_chars": None if refused else len(normalise(result.get("sentence"))),
        "f1": None, "em": None, "shown": None, "shown_right": None,
    }
    if answers:
        if gold.get("story"):
            row["story@1"] = story_at_1(cites, gold["story"])
        row["sentence@1"] = not refused and contains_gold(result.get("sentence"), answers)
        if gold.get("kind") != "keyword":
            row["short"] = not refused and is_short_answer(result.get("answer"), answers)
            # the short answer as scored by CMRC's scorer; a refusal or no span scores 0
            short = None if refused else result.get("answer")
            row["f1"], row["em"] = cmrc_f1(short, answers), cmrc_em(short, answers)
            # shown: the span a reader sees in bold (absent field: any short answer is shown)
            row["shown"] = short is not None and result.get("answer_shown", True)
            row["shown_right"] = row["short"] if row["shown"] else None
        row["hit@3"] = hit_at(cites, answers, 3)
        row["rr"] = reciprocal_rank(cites, answers)
    return row


def percentile(values: Sequence[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default method)."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    pos = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _mean(values: Iterable) -> float | None:
    xs = [float(v) for v in values if v is not None]
    return sum(xs) / len(xs) if xs else None


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def summarise(rows: Sequence[dict]) -> dict:
    """Aggregate scores: means of applicable rows, refusal P/R, latency percentiles."""
    tp = sum(1 for r in rows if r["refused"] and not r["gold_answerable"])
    refused = sum(1 for r in rows if r["refused"])
    unanswerable = sum(1 for r in rows if not r["gold_answerable"])
    answerable = len(rows) - unanswerable
    false_refusals = sum(1 for r in rows if r["refused"] and r["gold_answerable"])
    lat = [r["latency_ms"] for r in rows]
    return {
        "n": len(rows),
        "story@1": _mean(r["story@1"] for r in rows),
        "sentence@1": _mean(r["sentence@1"] for r in rows),
        "short": _mean(r["short"] for r in rows),
        "hit@3": _mean(r["hit@3"] for r in rows),
        "mrr": _mean(r["rr"] for r in rows),
        "traceable": _ratio(sum(r["traced"] for r in rows), sum(r["cited"] for r in rows)),
        "refused": _ratio(refused, len(rows)),
        "refusal_precision": _ratio(tp, refused),
        "refusal_recall": _ratio(tp, unanswerable),
        "false_refusals": false_refusals,
        "false_refusal_rate": _ratio(false_refusals, answerable),
        "latency_p50_ms": percentile(lat, 50),
        "latency_p95_ms": percentile(lat, 95),
        "sentence_chars": _mean(r["sentence_chars"] for r in rows),
        "f1": _mean(r.get("f1") for r in rows),
        "em": _mean(r.get("em") for r in rows),
        "shown": _mean(r.get("shown") for r in rows),
        "shown_precision": _mean(r.get("shown_right") for r in rows),
    }


def by_kind(rows: Sequence[dict]) -> dict[str, dict]:
    kinds: dict[str, list[dict]] = {}
    for r in rows:
        kinds.setdefault(r["kind"] or "-", []).append(r)
    return {k: summarise(v) for k, v in sorted(kinds.items())}
