"""Fitted decisions: the reader's evidence in, "answer at all?" and "show it in bold?" out.

`Evidence` is the handful of numbers the reader stage measures for a question
(span and no-answer scores, how far the passage stood above the retrieval
gates, whether the span is of the kind asked, whether it repeats the question).
`Decisions` applies two logistic models and two thresholds fitted by
`python -m eval fit` on development data and stored, with the data they came
from, in rag/knowledge/decisions.json. Without that file every question with
passages is answered and every span shown: that is the state the fit starts from.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

from rag.kinds import Kind
from rag.knowledge import DECISIONS, fitted, language


@dataclass(frozen=True)
class Evidence:
    span: float  # best span's start + end score
    null: float  # the no-answer score of the window it was read in
    second: float  # the best score of a span with other text
    rank: int  # retrieval rank of the passage it came from
    dense: float  # cosine above the dense gate, that passage (0: not from the dense branch)
    lexical: float  # share of the question's term weight the passage matches
    top_dense: float  # cosine above the gate of the first hit
    typed: bool  # the span is of the kind asked for (rag.answer.decide.type_match)
    kind_known: bool  # the question asks for a known kind
    length: int  # characters of the span
    echo: float  # share of the span's characters the question uses too
    latin: bool  # the question is English
    unknown_name: bool  # the question names a thing the issues never use (GDP)
    other_year: bool  # the sentence speaks of another year than the question

    @classmethod
    def empty(cls, asked, hits) -> "Evidence":
        return cls(-20.0, 0.0, -20.0, 99, 0.0, 0.0, 0.0, False, asked.kind is not None, 0, 0.0, False, False, False)

    def vector(self) -> dict[str, float]:
        """The features the models weigh (names are the keys of the fitted weights)."""
        return {
            "margin": self.span - self.null,
            "span": self.span,
            "gap": min(self.span - self.second, 10.0),
            "first": float(self.rank == 1),
            "dense": self.dense,
            "lexical": self.lexical,
            "top_dense": self.top_dense,
            "typed": float(self.typed),
            "untyped": float(self.kind_known and not self.typed),
            "log_length": math.log1p(self.length),
            "echo": self.echo,
            "latin": float(self.latin),
            "unknown_name": float(self.unknown_name),
            "other_year": float(self.other_year),
        }

    def to_json(self) -> dict:
        return asdict(self)


FEATURES = tuple(Evidence(0, 0, 0, 1, 0, 0, 0, False, False, 0, 0, False, False, False).vector())


@dataclass(frozen=True)
class Model:
    weights: dict[str, float]
    bias: float
    mean: dict[str, float]  # features are standardised with the fit data's mean and scale
    scale: dict[str, float]

    def __call__(self, ev: Evidence) -> float:
        x = ev.vector()
        z = self.bias + sum(w * (x[k] - self.mean[k]) / self.scale[k] for k, w in sorted(self.weights.items()))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Decisions:
    def __init__(self, answerable: Model | None, right: Model | None, refuse_below: float, show_above: float,
                 about: dict | None = None):
        self._answerable, self._right = answerable, right
        self.refuse_below, self.show_above, self.about = refuse_below, show_above, about or {}

    def answerable(self, ev: Evidence) -> float:
        return self._answerable(ev) if self._answerable else 1.0

    def right(self, ev: Evidence) -> float:
        return self._right(ev) if self._right else 1.0

    @classmethod
    def load(cls, path=None) -> "Decisions":
        """The fitted decisions, or the unfitted ones (answer and show everything) when there is no file."""
        path = path or DECISIONS
        try:
            d = fitted(path)
        except FileNotFoundError:
            return cls(None, None, 0.0, 0.0, {"fitted": False})
        models = {k: Model(**d["models"][k]) for k in ("answerable", "right")}
        for m in models.values():
            unknown = set(m.weights) - set(FEATURES)
            if unknown:
                raise ValueError(f"{path}: unknown features {sorted(unknown)}")
        return cls(models["answerable"], models["right"], float(d["thresholds"]["refuse_below"]),
                   float(d["thresholds"]["show_above"]), d)


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
    if kind in (Kind.AMOUNT, Kind.DATE) and _NUMBER_RE.search(text):
        return True
    if kind is Kind.LIST and ("、" in text or "和" in text):
        return True
    return any(f.startswith(tuple(flags)) for _, f in tagged(text))

