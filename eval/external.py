"""Outside reading-comprehension sets laid out as issues, with unanswerable cases.

Takes a SQuAD-v1 file (CMRC 2018 trial, DRCD dev; see eval/data/README.md) and
gives folders the engine and `python -m eval run` read as they read a newspaper:
`issues/*.txt` (an article is a story: its title as the headline, each passage
a paragraph; 16 stories an issue file) and `questions.jsonl` in our questions
format (eval/questions.py), each gold `story` being the article title.

Articles are put in five groups by their position in id order (deterministic).
Group 0 is for reporting, group 4 for fitting, groups 1-3 for training a model;
an unanswerable case is a question asked against an index that lacks its
article ("absent" variants leave the group out of the issues), or one whose
article is indexed but does not state what it asks ("made" variants: one word
of each question replaced, eval/unanswerable.py). The CMRC dev pool (`cmrc-dev`,
../shared/data, see eval/reader_data.py) gives fitting sets only. Nothing here
depends on the engine (the made variants use the default model's query embedder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
GROUPS = 5
PER_ISSUE = 16
SENTENCE_END = "。！？!?」』”"


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    passages: tuple[str, ...]
    qas: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, question, answers)
    group: int


@dataclass(frozen=True)
class Variant:
    """One laid-out set: which articles are indexed, which questions are asked."""

    source: str  # "cmrc" or "drcd"
    indexed: frozenset[int] | None  # groups in the issues (None: all)
    answerable: frozenset[int]  # groups whose questions are asked with their article indexed
    absent: frozenset[int]  # groups whose questions are asked without it
    made: frozenset[int] = frozenset()  # groups whose questions are asked with a word replaced (article indexed)


SOURCES = {"cmrc": DATA / "cmrc2018" / "cmrc2018_trial.json", "drcd": DATA / "drcd" / "DRCD_dev.json"}
ALL = frozenset(range(GROUPS))
VARIANTS = {
    # reported: CMRC is never fitted on, so all its questions are reported
    "cmrc": Variant("cmrc", None, ALL, frozenset()),
    "cmrc-absent": Variant("cmrc", ALL - {0}, frozenset(), frozenset({0})),
    "drcd": Variant("drcd", None, frozenset({0}), frozenset()),
    "drcd-absent": Variant("drcd", ALL - {0}, frozenset(), frozenset({0})),
    # fitting (thresholds, weights): group 4 only
    "drcd-fit": Variant("drcd", None, frozenset({4}), frozenset()),
    "drcd-fit-absent": Variant("drcd", ALL - {4}, frozenset(), frozenset({4})),
    "drcd-fit-made": Variant("drcd", None, frozenset(), frozenset(), frozenset({4})),
    # CMRC dev pool group 4: the reader never trains on it (eval/reader_data.py `select`)
    "cmrc-fit": Variant("cmrc-dev", None, frozenset({4}), frozenset()),
    "cmrc-fit-absent": Variant("cmrc-dev", ALL - {4}, frozenset(), frozenset({4})),
    "cmrc-fit-made": Variant("cmrc-dev", None, frozenset(), frozenset(), frozenset({4})),
}


class ExternalError(Exception):
    """The source file is missing or not SQuAD-shaped."""


def load_articles(path: Path) -> list[Article]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ExternalError(f"cannot read SQuAD-style set {path}: {e}") from None
    rows = sorted(data, key=lambda a: str(a.get("id", a.get("title"))))
    out = []
    for n, a in enumerate(rows):
        passages, qas = [], []
        for p in a["paragraphs"]:
            passages.append(p["context"].strip())
            for qa in p["qas"]:
                answers = tuple(dict.fromkeys(x["text"].strip() for x in qa["answers"] if x["text"].strip()))
                if answers and qa["question"].strip():  # CMRC trial has one empty question
                    qas.append((str(qa["id"]), qa["question"].strip(), answers))
        out.append(Article(str(a.get("id", n)), a["title"].strip(), tuple(passages), tuple(qas), n % GROUPS))
    return out


def _story(a: Article) -> str:
    """Headline, then each passage as a paragraph ending a sentence (a passage
    cut off mid-sentence would otherwise run into the next headline)."""
    parts = [a.title]
    for p in a.passages:
        p = " ".join(p.split())
        parts.append(p if p.endswith(tuple(SENTENCE_END)) else p + "。")
    return "\n\n".join(parts)


def layout(name: str, out: Path) -> tuple[Path, Path]:
    """Write out/issues/*.txt and out/questions.jsonl for a variant; returns both paths."""
    if name not in VARIANTS:
        raise ExternalError(f"unknown external set {name!r}; choose from {', '.join(VARIANTS)}")
    v = VARIANTS[name]
    articles = load_articles(source_path(v.source))
    indexed = [a for a in articles if v.indexed is None or a.group in v.indexed]
    issues = Path(out) / "issues"
    issues.mkdir(parents=True, exist_ok=True)
    for old in issues.glob("*.txt"):
        old.unlink()
    for i in range(0, len(indexed), PER_ISSUE):
        text = "\n\n\n".join(_story(a) for a in indexed[i : i + PER_ISSUE]) + "\n"
        (issues / f"{v.source}-{i // PER_ISSUE + 1:03d}.txt").write_text(text, encoding="utf-8")
    lines = []
    neighbours = made_vocabulary(articles) if v.made else None
    for a in articles:
        if a.group in v.answerable:
            lines += [{"id": qid, "q": q, "kind": v.source, "story": a.title, "answers": list(ans)}
                      for qid, q, ans in a.qas]
        elif a.group in v.absent:
            lines += [{"id": qid, "q": q, "kind": "unanswerable", "answers": []} for qid, q, _ in a.qas]
        elif a.group in v.made:
            lines += made_questions(a, neighbours)
    questions = Path(out) / "questions.jsonl"
    questions.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    return issues, questions


def source_path(source: str) -> Path:
    """A source's SQuAD file: in eval/data, or (the CMRC dev pool) in ../shared/data."""
    if source == "cmrc-dev":
        from eval.reader_data import FILES, SHARED

        return SHARED.joinpath(*FILES["cmrc-dev-pool"])
    return SOURCES[source]


def _simple_text(a: Article) -> str:
    from rag.text import to_simplified

    return to_simplified("\n".join((a.title, *a.passages)))


def made_vocabulary(articles: list[Article]):
    """Neighbours over the set's noun-like words, embedded by the default model."""
    from eval.unanswerable import Neighbours, vocabulary
    from rag.config import from_env
    from rag.model.embed import load_embedder
    from rag.text import tagged

    embedder = load_embedder(from_env().with_(model=None))
    embed = lambda words: embedder.encode_queries(words)  # noqa: E731
    return Neighbours(vocabulary([_simple_text(a) for a in articles], tagged), embed)


def made_questions(a: Article, neighbours) -> list[dict]:
    """The article's questions with one word replaced (Simplified), where one could be."""
    from eval.unanswerable import swap
    from rag.text import tagged, to_simplified

    text, out = _simple_text(a), []
    for qid, q, _ in a.qas:
        made = swap(to_simplified(q), text, neighbours, tagged)
        if made is not None:
            out.append({"id": f"{qid}-made", "q": made, "kind": "unanswerable", "answers": []})
    return out
