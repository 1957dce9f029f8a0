"""The encoder's layers run by onnxruntime: the same arrays as rag.model.bert, a faster pass.

Takes an `Encoder` (its NumPy weights); gives `Runtime(encoder)(ids, mask)` with
the hidden states of `Encoder.__call__` (to 1e-4). The graph is built here from
the arrays (rag.model.onnxwire: no torch, no export step, nothing written to
disk). The embeddings are looked up in NumPy (the 0.2 GB word table stays
mapped from its file, shared), then one ONNX graph runs the embedding layer
norm and every layer. onnxruntime fuses the layer norms, GELU and the biases
into the products, and splits each pass over the machine's cores (two here: a
question alone is answered about twice as fast, with the same bits as on one thread).

Float32 throughout: int8 weights (per channel, all products or only the
feed-forward ones) were measured by scripts/bench_reader.py and change answers;
the README gives the figures.
"""

from __future__ import annotations

import numpy as np

from rag.model.bert import Encoder, _limit_blas_threads

OPSET = 17  # LayerNormalization is a standard op from 17


def graph(encoder: Encoder) -> tuple[bytes, dict[str, np.ndarray]]:
    """The ONNX model (serialized) of the embedding layer norm and every layer of
    `encoder`, and the arrays its weights are read from (by name): the model holds
    only their shapes, so it is built in milliseconds and never holds a second
    81 MB copy of the weights in bytes. (onnxruntime 1.32 still copies them into
    its own buffers, about 85 MB a session: measured, see the README.)"""
    from rag.model import onnxwire as W

    inits, nodes, arrays = [], [], {}
    count = iter(range(1 << 30))

    def const(a) -> str:
        name = f"c{next(count)}"
        a = np.asarray(a)
        if a.size > 16:  # a weight: read from the array (float32 and contiguous already: not copied)
            a = np.ascontiguousarray(a, dtype=np.float32)
            arrays[name] = a
            inits.append(W.external(name, a))
        else:
            inits.append(W.tensor(name, a))
        return name

    def op(kind: str, *ins: str, outputs: int = 1, **attrs):
        n = next(count)
        outs = [f"t{n}_{i}" for i in range(outputs)]
        nodes.append(W.node(kind, list(ins), outs, f"{kind}_{n}", **attrs))
        return outs[0] if outputs == 1 else outs

    def norm(x: str, wb: tuple[np.ndarray, np.ndarray]) -> str:
        return op("LayerNormalization", x, const(wb[0]), const(wb[1]), axis=-1, epsilon=float(encoder.eps))

    def dense(x: str, w: np.ndarray, b: np.ndarray) -> str:
        return op("Add", op("MatMul", x, const(w)), const(b))

    f32 = np.float32
    heads, hidden = encoder.heads, encoder.hidden
    d = hidden // heads
    x = norm("x", encoder.eln)
    # [b, 1, 1, L]: 0 for real keys, -1e9 for padding (as in the NumPy pass)
    bias = op("Mul", op("Sub", const(f32(1.0)), op("Unsqueeze", "mask", const(np.array([1, 2])))), const(f32(-1e9)))
    split = const(np.array([0, 0, heads, d]))  # 0: keep that dimension of the input
    scale = const(f32(1.0 / np.sqrt(d)))
    for L in encoder.layers:
        qkv = op("Split", dense(x, L.qkv_w, L.qkv_b), const(np.array([hidden] * 3)), axis=-1, outputs=3)
        q, k, v = [op("Transpose", op("Reshape", t, split), perm=[0, 2, 1, 3]) for t in qkv]  # b, h, L, d
        s = op("Add", op("Mul", op("MatMul", q, op("Transpose", k, perm=[0, 1, 3, 2])), scale), bias)
        ctx = op("MatMul", op("Softmax", s, axis=-1), v)
        ctx = op("Reshape", op("Transpose", ctx, perm=[0, 2, 1, 3]), const(np.array([0, 0, hidden])))
        x = norm(op("Add", x, dense(ctx, L.ao_w, L.ao_b)), L.aln)
        h = dense(x, L.fi_w, L.fi_b)
        # exact GELU, 0.5 h (1 + erf(h / sqrt 2)): onnxruntime fuses it into one BiasGelu
        g = op("Mul", op("Mul", h, op("Add", op("Erf", op("Div", h, const(f32(np.sqrt(2.0))))), const(f32(1.0)))),
               const(f32(0.5)))
        x = norm(op("Add", x, dense(g, L.fo_w, L.fo_b)), L.oln)
    nodes.append(W.node("Identity", [x], ["hidden"], "out"))
    model = W.model(nodes, "encoder",
                    [W.value_info("x", W.FLOAT, ["batch", "length", hidden]),
                     W.value_info("mask", W.FLOAT, ["batch", "length"])],
                    [W.value_info("hidden", W.FLOAT, ["batch", "length", hidden])],
                    inits, OPSET, "newsrag")
    return model, arrays


def default_threads() -> int:
    """Threads per pass: the cores this process may use, at most 4 (these products are
    small: more threads only wait on each other). The split never changes the bits of
    the result (tests/test_runtime.py): onnxruntime divides rows, not the sums."""
    import os

    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    return max(1, min(4, cores))


class Runtime:
    """`Encoder.__call__` through onnxruntime: ids and 0/1 mask in, hidden states out.

    `model`: serialized ONNX bytes (with their arrays, as `graph` gives them) to run
    instead of `graph(encoder)`; scripts/bench_reader.py passes quantized ones."""

    def __init__(self, encoder: Encoder, model: tuple[bytes, dict] | bytes | None = None,
                 threads: int | None = None):
        import onnxruntime as ort

        self.hidden = encoder.hidden
        self.word, self.pos, self.type0 = encoder.word, encoder.pos, encoder.type0
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or default_threads()
        opts.inter_op_num_threads = 1
        # no busy-waiting between products: under load the other questions need those cycles
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.log_severity_level = 3  # errors only: its warnings are about graph fusions, not for users
        # no arena: it keeps the largest batch's buffers for good (+1.5 GB over 10,000
        # fuzzed inputs, scripts/fuzz.py); plain allocation is as fast for these sizes
        opts.enable_cpu_mem_arena = False
        # prepacking keeps yet another, packed copy of every matrix (81 MB per encoder) for about 5% speed
        opts.add_session_config_entry("session.disable_prepacking", "1")
        data, arrays = model if isinstance(model, tuple) else (model, {}) if model else graph(encoder)
        names = sorted(arrays)
        # the session reads these arrays in place: they must live as long as it does
        self._arrays = [ort.OrtValue.ortvalue_from_numpy(arrays[n]) for n in names], arrays
        if names:
            opts.add_external_initializers(names, self._arrays[0])
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        _limit_blas_threads()
        length = ids.shape[1]
        x = self.word[ids].astype(np.float32) + self.pos[:length][None] + self.type0
        return self.session.run(["hidden"], {"x": x, "mask": mask.astype(np.float32)})[0]


def fast(encoder: Encoder):
    """`encoder` run by onnxruntime, or the NumPy encoder itself where onnxruntime
    is not installed (the two agree to 1e-4: tests/test_runtime.py)."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return encoder
    return Runtime(encoder)
