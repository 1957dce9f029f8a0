"""Token ids for the encoder: a query's input, and a question with a passage in windows.

Takes a model folder; gives `Tokens`, which encodes a text to ids and character
offsets with the compact tokenizer (rag.model.pieces, from the folder's
`pieces.bin`) wherever it is exact, and with `tokenizers` (the folder's
`tokenizer.json`, loaded on first need) for the rest and for folders without
`pieces.bin`. The model's inputs are then laid out here as the folder's
XLM-R template and truncation lay them out in `tokenizers`: a query is
`<s> text </s>` cut to `max_len`; a question and passage are
`<s> question </s></s> passage </s>`, the passage cut into overlapping windows
(`only_second` truncation with a stride). tests/test_tokens.py checks both
against `tokenizers` itself.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from rag.errors import ModelError
from rag.model.pieces import FILE, Encoded, Pieces

SPECIALS = 4  # <s> question </s> </s> passage </s>: tokens a pair window adds


@lru_cache(maxsize=2)
def _pieces(path: str, stamp: tuple) -> Pieces:
    return Pieces.load(Path(path))


class Tokens:
    def __init__(self, model_dir: Path):
        self.model_dir = Path(model_dir)
        f = self.model_dir / FILE
        try:
            self.compact = _pieces(str(f), (f.stat().st_size, f.stat().st_mtime_ns)) if f.is_file() else None
        except (OSError, ValueError) as e:
            raise ModelError(f"could not read the model's tokenizer pieces ({e}); remove {self.model_dir} "
                             f"and it is built again") from None
        self._full = None
        if self.compact is not None:
            s = self.compact.specials
        else:
            full = self.full
            s = {k: full.token_to_id(t) for k, t in (("bos", "<s>"), ("eos", "</s>"), ("pad", "<pad>"))}
        self.bos, self.eos, self.pad = s["bos"], s["eos"], s["pad"]

    @property
    def full(self):
        """The `tokenizers` tokenizer of the folder (~0.9 s and ~300 MB to load, so only on need)."""
        if self._full is None:
            from rag.model.bert import load_tokenizer

            self._full = load_tokenizer(self.model_dir)
        return self._full

    def encode(self, text: str) -> Encoded:
        """Ids and character offsets of `text`, no special tokens."""
        out = self.compact.encode(text) if self.compact is not None else None
        if out is None:
            e = self.full.encode(text, add_special_tokens=False)
            out = Encoded(list(e.ids), [tuple(o) for o in e.offsets])
        return out

    def query(self, text: str, max_len: int = 512) -> list[int]:
        """`<s> text </s>`, the text cut to fit `max_len` (sentence-transformers' 512)."""
        return [self.bos, *self.encode(text).ids[: max_len - 2], self.eos]

    def windows(self, question: Encoded, passage: str, max_len: int, stride: int) -> list[tuple[list[int], list]]:
        """(ids, offsets) of each window of `passage` after `question`: offsets are the
        passage's character offsets of its tokens, None for the question's and special
        ones. A passage too long for one window is cut into pieces of what room is
        left, each starting `stride` tokens before the last one ended (tokenizers'
        Encoding.truncate)."""
        p = self.encode(passage)
        q, n = question.ids, len(p.ids)
        room = max_len - len(q) - SPECIALS
        parts = [(0, n)]
        if len(q) + n + SPECIALS > max_len:
            if room <= stride:
                raise ValueError(f"a question of {len(q)} tokens leaves no room for a stride of {stride}")
            parts = []
            for start in range(0, n, room - stride):
                parts.append((start, min(start + room, n)))
                if start + room >= n:
                    break
        head = [self.bos, *q, self.eos, self.eos]
        return [([*head, *p.ids[a:b], self.eos], [None] * len(head) + p.offsets[a:b] + [None]) for a, b in parts]
