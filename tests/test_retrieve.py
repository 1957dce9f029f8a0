"""The dense branch: its gate and candidates without a pass over every passage."""

import faiss
import numpy as np
import pytest

from rag.search.retrieve import DENSE_FLOOR, DENSE_GAP, Retriever
from rag.types import Chunk


class OneVector:
    """An embedder whose every query is the same vector (the one under test)."""

    def __init__(self, v: np.ndarray):
        self.v = v

    def encode_queries(self, texts):
        return np.stack([self.v for _ in texts])


def corpus(n: int, dim: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    # crowded like e5's vectors: a shared direction plus a little of their own
    x = rng.standard_normal((n, dim)).astype(np.float32) * 0.3 + 1.0
    x[n // 2] = x[n // 3]  # a passage repeated word for word
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    index = faiss.IndexFlatIP(dim)
    index.add(x)
    chunks = [Chunk(id=i, source="a.txt", story=i % 5, title="标题", paragraph=1, text=f"第{i}段。", start=0, end=4,
                    runs=((0, 0),)) for i in range(n)]
    return x, index, chunks, rng


@pytest.mark.parametrize("n", [1, 7, 500])
def test_gate_is_the_mean_similarity_over_every_passage_plus_the_gap(n):
    x, index, chunks, rng = corpus(n)
    for _ in range(5):
        q = (x[rng.integers(n)] + rng.standard_normal(x.shape[1]).astype(np.float32) * 0.1).astype(np.float32)
        q /= np.linalg.norm(q)
        r = Retriever.build(chunks, index, OneVector(q))
        top, gate = r.dense("问题", 20)
        every = x @ q
        assert gate == pytest.approx(max(DENSE_FLOOR, float(every.mean()) + DENSE_GAP), abs=1e-6)
        # the candidates are the best ones, best first
        want = np.sort(every)[::-1][: min(20, n)]
        assert [s for _, s in top] == pytest.approx(list(want), abs=1e-6)
        assert len({i for i, _ in top}) == len(top)


def test_empty_index_has_no_candidates_and_a_closed_gate():
    index = faiss.IndexFlatIP(8)
    r = Retriever.build([], index, OneVector(np.ones(8, np.float32)))
    assert r.dense("问题", 5) == ([], 1.0)


def test_past_the_measured_size_the_index_is_approximate_and_still_finds_the_best(tmp_path, monkeypatch):
    """store.vector_index switches to IVF at APPROXIMATE_FROM passages; saved and
    loaded, it keeps its probes, its mean gives the gate, and a passage asked for
    by its own vector comes first."""
    from rag.store import folder as store
    from test_store import expected, make_corpus

    monkeypatch.setattr(store, "APPROXIMATE_FROM", 400)
    for n, kind in ((399, "flat"), (900, "ivf")):
        chunks, stories, vectors = make_corpus(n)
        store.save(tmp_path / kind, expected(), chunks, stories, vectors)
        loaded = store.load(tmp_path / kind, expected())
        assert loaded.manifest["search"]["kind"] == kind
        if kind == "ivf":
            assert loaded.vectors.nprobe == min(store.NPROBE, loaded.manifest["search"]["lists"]) > 1
        for row in (0, n // 2, n - 1):
            r = Retriever.build(loaded.chunks, loaded.vectors, OneVector(vectors[row]))
            top, gate = r.dense("问题", 5)
            assert top[0][0] == row and top[0][1] == pytest.approx(1.0, abs=1e-5)
            assert gate == pytest.approx(max(DENSE_FLOOR, float((vectors @ vectors[row]).mean()) + DENSE_GAP), abs=1e-5)
