"""sentence-transformers wrapper: texts -> L2-normalised float32 matrices.

Takes Settings (the model choice, via rag.model.provision.resolve_model); gives an
Embedder with `name` (recorded in the index manifest), `dim`,
`encode_queries(texts)` and `encode_passages(texts, progress=None)`.
E5 models need "query: " / "passage: " prefixes; they come from the model's own
prompts (config_sentence_transformers.json), so a user model without prompts
gets none. torch and sentence_transformers are imported inside functions.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from rag.config import Settings, offline_hub_default
from rag.errors import ModelError
from rag.model.provision import DEFAULT_NAME, Progress, resolve_model

BATCH_SIZE = 32  # texts per forward pass; chunks are short (well under 512 tokens)
STEP = 128  # texts per progress report


def _prompt(prompts: dict, *names: str) -> str | None:
    # sentence-transformers 6 adds an empty "document" prompt on load: skip empties.
    for n in names:
        if prompts.get(n):
            return prompts[n]
    return None


class Embedder:
    def __init__(self, model, name: str):
        self.model = model
        self.name = name
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dim = int(dim())
        prompts = dict(getattr(model, "prompts", None) or {})
        self.query_prompt = _prompt(prompts, "query")
        self.passage_prompt = _prompt(prompts, "passage", "document")

    def _encode(self, texts: Sequence[str], prompt: str | None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        v = self.model.encode(
            list(texts), prompt=prompt, batch_size=BATCH_SIZE, convert_to_numpy=True,
            normalize_embeddings=True, show_progress_bar=False,
        )
        return np.ascontiguousarray(v, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def encode_passages(self, texts: Sequence[str],
                        progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Embed in steps (sorted by length, so batches pad little), reporting (done, total)."""
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
        for start in range(0, len(order), STEP):
            idx = order[start : start + STEP]
            out[idx] = self._encode([texts[i] for i in idx], self.passage_prompt)
            if progress:
                progress(min(start + STEP, len(texts)), len(texts))
        return out


def _set_threads() -> None:
    # torch may count the host's cores in a container; more threads than the
    # cores this process may run on (2 here) only add contention. Fewer is
    # respected: the user may have set OMP_NUM_THREADS on purpose.
    import torch

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    if torch.get_num_threads() > cores:
        torch.set_num_threads(cores)


class LightEmbedder:
    """The default model with its query side on onnxruntime (rag.model.runtime): answering a
    question needs no torch. Passages (index builds) go through
    sentence-transformers, loaded on first need; the two agree to cosine 0.99999
    (tests/test_embed.py)."""

    def __init__(self, model_dir: Path, name: str):
        from rag.model.bert import load_encoder
        from rag.model.runtime import fast
        from rag.model.tokens import Tokens

        self.model_dir, self.name = Path(model_dir), name
        self.encoder = fast(load_encoder(self.model_dir))
        self.dim = self.encoder.hidden
        self.tokens = Tokens(self.model_dir)
        config = json.loads((self.model_dir / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.query_prompt = _prompt(config.get("prompts") or {}, "query") or ""
        self._full: Embedder | None = None

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        from rag.model.bert import mean_pool

        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encs = [self.tokens.query(self.query_prompt + t, 512) for t in texts]  # 512: sentence-transformers' max_seq_length
        length = max(len(e) for e in encs)
        ids = np.full((len(encs), length), self.tokens.pad, dtype=np.int64)
        mask = np.zeros((len(encs), length), dtype=np.int64)
        for r, e in enumerate(encs):
            ids[r, : len(e)] = e
            mask[r, : len(e)] = 1
        return np.ascontiguousarray(mean_pool(self.encoder(ids, mask), mask), dtype=np.float32)

    def encode_passages(self, texts: Sequence[str],
                        progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        if self._full is None:
            self._full = _sentence_transformers(str(self.model_dir), self.name)
        return self._full.encode_passages(texts, progress)


def load_embedder(settings: Settings, progress: Progress | None = None):
    """Load the configured model (the offline default unless Settings.model is set)."""
    offline_hub_default()  # before huggingface_hub is imported: hub names fail fast
    where = resolve_model(settings, progress)
    if settings.model is None:
        try:
            return LightEmbedder(Path(where), DEFAULT_NAME)
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"could not load the default model from {where}: {type(e).__name__}: {e}") from e
    return _sentence_transformers(where, settings.model)


def _sentence_transformers(where: str, name: str) -> Embedder:
    try:
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a "Loading weights" bar on every CLI call is noise
        _set_threads()
        model = SentenceTransformer(where, device="cpu")
    except Exception as e:  # noqa: BLE001 - any load failure is a ModelError for the edges
        raise ModelError(
            f"could not load the embedding model {name!r} from {where}: {type(e).__name__}: {e}"
        ) from e
    return Embedder(model, name)
