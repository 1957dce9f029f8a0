"""Extractive reader: a question and passages in, scored answer spans out.

A span reader fine-tuned from the local multilingual-e5-small weights on
development data by eval/fit_reader.py (its provenance: rag/knowledge/reader.json).
Each passage is read in windows of `max_len` tokens (question + passage piece);
a start and an end score per token give span scores, and the score at the
first token (<s>) is the window's "no answer here" score, as in SQuAD 2.0
readers. Runs on onnxruntime (rag.model.runtime; rag.model.bert's NumPy pass where
it is missing): no torch at answer time.

Takes the question and a list of passage texts; gives Spans (character
offsets into the passage given), best first, each with its window's null score.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from rag.errors import ModelError

PAD_ID = 1
# Question tokens a window holds at most; a longer question is cut to its first
# ones. A question that leaves the passage no more room than the stride cannot
# be read (`tokenizers` panicked on it, a BaseException that no handler stops:
# scripts/fuzz.py found it); and long questions would cut passages into
# hundreds of windows. 64 as in the usual SQuAD recipe: the
# longest question of every evaluation set is 44 tokens, so none is cut.
MAX_QUESTION_TOKENS = 64


@dataclass(frozen=True)
class Span:
    passage: int  # index into the passages given
    start: int  # character offsets in that passage
    end: int
    score: float  # start score + end score
    null: float  # the no-answer score of the window it was read in


@dataclass(frozen=True)
class ReaderSpec:
    """What the fitted file says about how it reads (written by eval/fit_reader.py)."""

    max_len: int
    stride: int
    max_answer_tokens: int
    heads: int


class Reader:
    def __init__(self, encoder, head_w: np.ndarray, head_b: np.ndarray, tokens, spec: ReaderSpec):
        """`tokens`: rag.model.tokens.Tokens of the base model's folder."""
        self.encoder, self.head_w, self.head_b, self.spec = encoder, head_w, head_b, spec
        self.tokens = tokens
        # room the question may take: the passage keeps more than the stride (4 special tokens)
        self.max_question = max(1, min(MAX_QUESTION_TOKENS, spec.max_len - spec.stride - 5))

    def fit_question(self, question: str) -> str:
        """The question, cut after its first `max_question` tokens when longer."""
        enc = self.tokens.encode(question)
        if len(enc.ids) <= self.max_question:
            return question
        return question[: enc.offsets[self.max_question - 1][1]]

    @classmethod
    def load(cls, base_dir: Path, weights: Path, about: Path) -> "Reader":
        """The base model folder (rag.model.provision) plus the fitted layers and head; the
        layers it did not fit are the base encoder's own, shared with the embedder."""
        from safetensors.numpy import load_file

        from rag.model.bert import load_encoder
        from rag.model.runtime import fast
        from rag.model.tokens import Tokens

        try:
            meta = json.loads(Path(about).read_text(encoding="utf-8"))
            spec = ReaderSpec(**{k: int(meta["reader"][k]) for k in ReaderSpec.__dataclass_fields__})
            base = load_encoder(Path(base_dir))
            fitted = load_file(str(weights))
            tokens = Tokens(Path(base_dir))
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ModelError(f"could not load the reader ({weights}): {type(e).__name__}: {e}") from e
        layers = {k for k in fitted if k.startswith("encoder.layer.")}
        if not layers or len(layers) + 2 != len(fitted) or any(int(k.split(".")[2]) >= len(base.layers) for k in layers):
            raise ModelError(f"reader weights {weights} do not fit the base model")
        encoder = fast(base.with_layers(fitted))
        head_w = np.ascontiguousarray(fitted["qa.weight"].astype(np.float32).T)  # [hidden, 2]
        return cls(encoder, head_w, fitted["qa.bias"].astype(np.float32), tokens, spec)

    def windows(self, question: str, passages: Sequence[str]):
        """(passage index, token ids, per-token character offsets or None) for each window."""
        q = self.tokens.encode(self.fit_question(question))
        return [(i, ids, offs) for i, text in enumerate(passages)
                for ids, offs in self.tokens.windows(q, text, self.spec.max_len, self.spec.stride)]

    def logits(self, windows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        length = max(len(ids) for _, ids, _ in windows)
        ids = np.full((len(windows), length), PAD_ID, dtype=np.int64)
        mask = np.zeros((len(windows), length), dtype=np.int64)
        for r, (_, w, _) in enumerate(windows):
            ids[r, : len(w)] = w
            mask[r, : len(w)] = 1
        h = self.encoder(ids, mask) @ self.head_w + self.head_b
        return h[..., 0], h[..., 1], mask

    def read(self, question: str, passages: Sequence[str]) -> "Reading":
        """Start and end scores of every token of every window of the passages."""
        if not passages:
            return Reading([], self.spec.max_answer_tokens)
        windows = self.windows(question, passages)
        starts, ends, _ = self.logits(windows)
        return Reading([Window(p, offs, starts[r], ends[r]) for r, (p, _, offs) in enumerate(windows)],
                       self.spec.max_answer_tokens)


@dataclass
class Window:
    passage: int
    offsets: list  # per token: (start, end) in the passage, or None outside it
    start: np.ndarray  # start score per token
    end: np.ndarray

    @property
    def null(self) -> float:
        return float(self.start[0] + self.end[0])


@dataclass
class Reading:
    windows: list[Window]
    max_answer_tokens: int

    def spans(self, top: int = 8) -> list[Span]:
        """The best `top` spans over all passages (ties broken by position, so the
        result never depends on anything but the input)."""
        spans: dict[tuple[int, int, int], Span] = {}
        for w in self.windows:
            tokens = [k for k, o in enumerate(w.offsets) if o is not None]
            best_s = sorted(tokens, key=lambda k: (-w.start[k], k))[:20]
            best_e = sorted(tokens, key=lambda k: (-w.end[k], k))[:20]
            for a in best_s:
                for b in best_e:
                    if b < a or b - a >= self.max_answer_tokens:
                        continue
                    key = (w.passage, w.offsets[a][0], w.offsets[b][1])
                    score = float(w.start[a] + w.end[b])
                    if key not in spans or spans[key].score < score:
                        spans[key] = Span(w.passage, key[1], key[2], score, w.null)
        return sorted(spans.values(), key=lambda x: (-x.score, x.passage, x.start, x.end))[:top]

    def score(self, passage: int, a: int, b: int) -> tuple[float, float] | None:
        """(span score, no-answer score) the reader gives characters [a, b) of a
        passage: the start score of the first token touching a, plus the end
        score of the last token touching b - 1, in the window that scores it best."""
        best = None
        for w in self.windows:
            if w.passage != passage:
                continue
            inside = [k for k, o in enumerate(w.offsets) if o is not None and o[1] > a and o[0] < b]
            if not inside or w.offsets[inside[0]][0] > a or w.offsets[inside[-1]][1] < b:
                continue  # the window does not hold the whole span
            value = float(w.start[inside[0]] + w.end[inside[-1]])
            if best is None or value > best[0]:
                best = (value, w.null)
        return best


@lru_cache(maxsize=2)
def _load(base_dir: str, weights: str, about: str, stamp: tuple) -> Reader:
    return Reader.load(Path(base_dir), Path(weights), Path(about))


def load_default(settings) -> Reader:
    """The shipped reader over the default model's weights. Read-only, so engines
    of one process share one copy (the weights are ~0.3 GB); a changed file is reloaded."""
    from rag.knowledge import READER_ABOUT, READER_WEIGHTS
    from rag.model.provision import default_model_dir

    base = default_model_dir(settings)
    try:
        stamp = tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in (READER_WEIGHTS, READER_ABOUT))
    except OSError as e:
        raise ModelError(f"the reader's fitted files are missing ({READER_WEIGHTS.name}): {e.strerror}; "
                         f"run `python -m eval fit-reader`") from None
    return _load(str(base), str(READER_WEIGHTS), str(READER_ABOUT), stamp)
