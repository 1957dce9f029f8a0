"""rag.model.runtime (the encoder on onnxruntime) against rag.model.bert's NumPy pass,
and rag.model.onnxwire's bytes against onnx.helper's."""

import numpy as np
import pytest

from rag.model.bert import Encoder


def tiny_encoder(seed: int = 0, layers: int = 2, hidden: int = 32, heads: int = 4, vocab: int = 60) -> Encoder:
    """A random BERT in the Hugging Face layout (weights [out, in]), as safetensors gives it."""
    rng = np.random.default_rng(seed)
    r = lambda *s: (rng.standard_normal(s) * 0.2).astype(np.float32)  # noqa: E731
    w = {"embeddings.word_embeddings.weight": r(vocab, hidden).astype(np.float16),
         "embeddings.position_embeddings.weight": r(64, hidden),
         "embeddings.token_type_embeddings.weight": r(2, hidden),
         "embeddings.LayerNorm.weight": 1 + r(hidden), "embeddings.LayerNorm.bias": r(hidden)}
    for n in range(layers):
        p = f"encoder.layer.{n}."
        for k in ("query", "key", "value"):
            w[p + f"attention.self.{k}.weight"], w[p + f"attention.self.{k}.bias"] = r(hidden, hidden), r(hidden)
        w[p + "attention.output.dense.weight"], w[p + "attention.output.dense.bias"] = r(hidden, hidden), r(hidden)
        w[p + "intermediate.dense.weight"], w[p + "intermediate.dense.bias"] = r(4 * hidden, hidden), r(4 * hidden)
        w[p + "output.dense.weight"], w[p + "output.dense.bias"] = r(hidden, 4 * hidden), r(hidden)
        for ln in ("attention.output.LayerNorm", "output.LayerNorm"):
            w[p + ln + ".weight"], w[p + ln + ".bias"] = 1 + r(hidden), r(hidden)
    return Encoder(w, heads)


def batch(seed: int = 1, rows: int = 3, length: int = 17, vocab: int = 60):
    rng = np.random.default_rng(seed)
    ids = rng.integers(2, vocab, size=(rows, length))
    mask = np.ones_like(ids)
    mask[1, 11:] = 0  # padded rows: the padding must not change the real tokens' states
    mask[2, 5:] = 0
    ids[mask == 0] = 1
    return ids, mask


def test_runtime_gives_the_numpy_encoders_hidden_states():
    from rag.model.runtime import Runtime

    enc = tiny_encoder()
    ids, mask = batch()
    want, got = enc(ids, mask), Runtime(enc)(ids, mask)
    assert got.shape == want.shape and got.dtype == np.float32
    real = mask.astype(bool)
    assert np.abs(got - want)[real].max() < 1e-4
    # a padded row's real tokens read as the same row alone, unpadded
    alone = Runtime(enc)(ids[2:3, :5], mask[2:3, :5])
    assert np.abs(alone[0] - got[2, :5]).max() < 1e-5


def test_runtime_bits_do_not_depend_on_the_thread_count():
    from rag.model.runtime import Runtime

    enc = tiny_encoder(seed=3, hidden=64, heads=8)
    ids, mask = batch(seed=4, rows=4, length=40)
    one, two = Runtime(enc, threads=1)(ids, mask), Runtime(enc, threads=2)(ids, mask)
    assert np.array_equal(one, two)
    assert np.array_equal(Runtime(enc, threads=2)(ids, mask), two)  # and again: same input, same output


def test_runtime_reads_the_encoders_arrays_in_place():
    """The session is given the weights, not a copy in the model: the model bytes stay small."""
    from rag.model.runtime import graph

    enc = tiny_encoder(hidden=64, heads=8)
    data, arrays = graph(enc)
    weights = sum(a.nbytes for a in arrays.values())
    assert weights > 100_000 and len(data) < weights / 10
    assert any(a is enc.layers[0].fi_w or np.shares_memory(a, enc.layers[0].fi_w) for a in arrays.values())


def test_fast_falls_back_to_numpy_without_onnxruntime(monkeypatch):
    import builtins

    from rag.model import runtime

    real_import = builtins.__import__

    def no_ort(name, *a, **k):
        if name == "onnxruntime":
            raise ImportError("no onnxruntime")
        return real_import(name, *a, **k)

    enc = tiny_encoder()
    monkeypatch.setattr(builtins, "__import__", no_ort)
    assert runtime.fast(enc) is enc
    monkeypatch.undo()
    assert isinstance(runtime.fast(enc), runtime.Runtime)


def test_wire_bytes_are_onnx_helpers():
    onnx = pytest.importorskip("onnx")  # in the test extras
    from onnx import TensorProto, helper, numpy_helper

    from rag.model import onnxwire as W

    for a in (np.arange(6, dtype=np.float32).reshape(2, 3), np.asarray(np.float32(-1e9)), np.array([0, -1, 12])):
        assert W.tensor("w", a) == numpy_helper.from_array(a, "w").SerializeToString()
    attrs = dict(axis=-1, perm=[0, 2, 1, 3], epsilon=1e-12)
    node = helper.make_node("Split", ["a", "b"], ["o1", "o2"], name="Split_3", **attrs)
    assert W.node("Split", ["a", "b"], ["o1", "o2"], "Split_3", **attrs) == node.SerializeToString()
    vi = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "length", 384])
    assert W.value_info("x", W.FLOAT, ["batch", "length", 384]) == vi.SerializeToString()
    a = np.ones((2, 2), np.float32)
    model = helper.make_model(helper.make_graph([node], "g", [vi], [vi], [numpy_helper.from_array(a, "w")]),
                              opset_imports=[helper.make_opsetid("", 17)], producer_name="newsrag",
                              ir_version=W.IR_VERSION)
    assert W.model([W.node("Split", ["a", "b"], ["o1", "o2"], "Split_3", **attrs)], "g", [W.value_info(
        "x", W.FLOAT, ["batch", "length", 384])], [W.value_info("x", W.FLOAT, ["batch", "length", 384])],
        [W.tensor("w", a)], 17, "newsrag") == model.SerializeToString()
    # the external form names the same tensor, its data elsewhere
    t = onnx.TensorProto.FromString(W.external("w", a))
    assert (t.name, list(t.dims), t.data_location, t.raw_data) == ("w", [2, 2], onnx.TensorProto.EXTERNAL, b"")
    assert {e.key: e.value for e in t.external_data}["length"] == str(a.nbytes)
