"""Fitted decisions: which candidate is the short answer, whether to answer at all, whether to bold it.

`pick_features` describes one candidate span (rag.answer.candidates, or one of
the reader's own spans): the reader's start + end score for it, against the
best span's and the no-answer score, where it came from (a figure, a name, a
quote, a list, a clause), whether it is of the kind asked, whether it repeats
the question, how much of what the question names its sentence holds.
`Evidence` describes the question: the reader's best span and no-answer
scores, how far the passages stood above the retrieval gates, the chosen
candidate's probability.

`Decisions` applies logistic models fitted by `python -m eval fit` on
development data and stored with the data they came from in
rag/knowledge/decisions.json: `pick` (is this candidate right?), `answerable`
(do the issues hold the answer?), and two thresholds, `refuse_below` and
`show_above`. Without that file the reader's best span is taken, every
question with passages is answered and every span shown: the state the fit
starts from.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from rag.kinds import Kind
from rag.knowledge import DECISIONS, fitted, language

SOURCES = ("reader", "figure", "name", "quote", "list", "clause")
FIGURE_KINDS = (Kind.AMOUNT, Kind.DATE)
NAME_KINDS = (Kind.PERSON, Kind.PLACE, Kind.WHICH, Kind.TITLE)
CLAUSE_KINDS = (Kind.REASON, Kind.METHOD)


def pick_features(kind: Kind | None, sources: set[str], score: float, best: float, null: float, typed: bool,
                  echo: float, length: int, first_sentence: bool, about: float = 0.0,
                  about_best: float = 0.0) -> dict[str, float]:
    """`about`: the share of the question's topic words that the candidate's
    sentence holds (现代医药港占地多大: 现代医药港占地4平方公里 holds both, 大药厂占地150亩
    one); `about_best`: the most any candidate's sentence holds."""
    f = {
        "score": score,
        "below_best": score - best,
        "above_null": score - null,
        "typed": float(typed),
        "untyped": float(kind is not None and not typed),
        "echo": echo,
        "log_length": math.log1p(length),
        "first_sentence": float(first_sentence),
        # the kind asked and where the span came from, together
        "figure_for_figure": float(kind in FIGURE_KINDS and "figure" in sources),
        "name_for_name": float(kind in NAME_KINDS and bool(sources & {"name", "quote"})),
        "list_for_list": float(kind is Kind.LIST and "list" in sources),
        "clause_for_clause": float(kind in CLAUSE_KINDS and "clause" in sources),
        "open_question": float(kind is None),
        # is the sentence about what the question names? (a figure of another subject loses)
        "about": about,
        "about_gap": about_best - about,
    }
    for s in SOURCES:
        f[f"from_{s}"] = float(s in sources)
    return f


PICK_FEATURES = tuple(pick_features(None, set(), 0, 0, 0, False, 0, 0, False))


@dataclass(frozen=True)
class Evidence:
    span: float  # the reader's best span: start + end score
    null: float  # the no-answer score of the window it was read in
    second: float  # the best score of a span with other text
    rank: int  # retrieval rank of the passage the best span came from
    dense: float  # that passage's cosine above the dense gate (0: not from the dense branch)
    lexical: float  # share of the question's term weight that passage matches
    top_dense: float  # cosine above the gate of the first hit
    pick: float  # the chosen candidate's probability (1.0 unfitted)
    typed: bool  # the chosen candidate is of the kind asked for
    kind_known: bool  # the question asks for a known kind
    latin: bool  # the question is English
    unknown_name: bool  # the question names a thing the issues never use (GDP)
    other_year: bool  # the sentence speaks of another year than the question
    # every candidate's (text, features), for fitting `pick`; not a decision input
    pool: tuple = ()

    def vector(self) -> dict[str, float]:
        """The features the answerable model weighs (names are the keys of its fitted weights)."""
        return {
            "margin": self.span - self.null,
            "span": self.span,
            "gap": min(self.span - self.second, 10.0),
            "first": float(self.rank == 1),
            "dense": self.dense,
            "lexical": self.lexical,
            "top_dense": self.top_dense,
            "pick": self.pick,
            "typed": float(self.typed),
            "untyped": float(self.kind_known and not self.typed),
            "latin": float(self.latin),
            "unknown_name": float(self.unknown_name),
            "other_year": float(self.other_year),
        }

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("pool")
        return d


EVIDENCE_FEATURES = tuple(Evidence(0, 0, 0, 1, 0, 0, 0, 0, False, False, False, False, False).vector())


@dataclass(frozen=True)
class Model:
    weights: dict[str, float]
    bias: float
    mean: dict[str, float]  # features are standardised with the fit data's mean and scale
    scale: dict[str, float]

    def __call__(self, x: dict[str, float]) -> float:
        z = self.bias + sum(w * (x[k] - self.mean[k]) / self.scale[k] for k, w in sorted(self.weights.items()))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Decisions:
    def __init__(self, pick: Model | None, answerable: Model | None, refuse_below: float, show_above: float,
                 about: dict | None = None, reader_spans_only: bool = False):
        """`reader_spans_only`: the pick chooses among the reader's own spans only (the
        hand-cut candidates still count as rivals in the evidence), when the fit found
        that to be right more often on held-out questions (eval/fit.py, `pick_variant`)."""
        self._pick, self._answerable = pick, answerable
        self.refuse_below, self.show_above, self.about = refuse_below, show_above, about or {}
        self.reader_spans_only = reader_spans_only

    @property
    def fitted(self) -> bool:
        return self._pick is not None

    def pick(self, features: dict[str, float]) -> float:
        """Probability that a candidate is the right short answer (unfitted: the reader's order decides)."""
        return self._pick(features) if self._pick else 1.0

    def answerable(self, ev: Evidence) -> float:
        return self._answerable(ev.vector()) if self._answerable else 1.0

    @classmethod
    def load(cls, path=None) -> "Decisions":
        """The fitted decisions, or the unfitted ones when there is no file."""
        path = path or DECISIONS
        try:
            d = fitted(path)
        except FileNotFoundError:
            return cls(None, None, 0.0, 0.0, {"fitted": False})
        models = {k: Model(**d["models"][k]) for k in ("pick", "answerable")}
        for name, known in (("pick", PICK_FEATURES), ("answerable", EVIDENCE_FEATURES)):
            unknown = set(models[name].weights) - set(known)
            if unknown:
                raise ValueError(f"{path}: unknown features {sorted(unknown)} in model {name}")
        variant = d.get("pick_variant", {}).get("candidates", "all")
        if variant not in ("all", "reader"):
            raise ValueError(f"{path}: unknown pick candidates {variant!r}")
        return cls(models["pick"], models["answerable"], float(d["thresholds"]["refuse_below"]),
                   float(d["thresholds"]["show_above"]), d, reader_spans_only=variant == "reader")


_NUMBER_RE = re.compile(r"\d|[一二两三四五六七八九十百千万亿零〇]")


def type_match(kind: Kind | None, text: str) -> bool:
    """Is the span of the kind asked for? By jieba's part-of-speech tags (which
    tags fit which kind: rag/knowledge/zh.json), figures by their digits."""
    if kind is None or not text:
        return False
    from rag.text import tagged

    flags = language()["type_flags"].get(kind.value)
    if flags is None:
        return True  # clause kinds (reason, method): any span may be one
    if kind in FIGURE_KINDS and _NUMBER_RE.search(text):
        return True
    if kind is Kind.LIST and ("、" in text or "和" in text):
        return True
    return any(f.startswith(tuple(flags)) for _, f in tagged(text))
