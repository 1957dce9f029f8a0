"""sentence-transformers wrapper: texts -> L2-normalised float32 matrices.

Takes Settings (the model choice, via rag.model.resolve_model); gives an
Embedder with `name` (recorded in the index manifest), `dim`,
`encode_queries(texts)` and `encode_passages(texts, progress=None)`.
E5 models need "query: " / "passage: " prefixes; they come from the model's own
prompts (config_sentence_transformers.json), so a user model without prompts
gets none. torch and sentence_transformers are imported inside functions.
"""

from __future__ import annotations

import os
from typing import Callable, Sequence

import numpy as np

from rag.config import Settings, offline_hub_default
from rag.errors import ModelError
from rag.model import DEFAULT_NAME, Progress, resolve_model

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


def load_embedder(settings: Settings, progress: Progress | None = None) -> Embedder:
    """Load the configured model (the offline default unless Settings.model is set)."""
    offline_hub_default()  # before huggingface_hub is imported: hub names fail fast
    where = resolve_model(settings, progress)
    name = DEFAULT_NAME if settings.model is None else settings.model
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
