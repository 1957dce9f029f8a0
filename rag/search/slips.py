"""One-character slips in a question, fixed against the issues' own words (现代医要港 -> 现代医药港).

Takes the folded corpus (titles and paragraphs) and the names found in it. A
window of the question the issues never contain is replaced when exactly one
corpus string fits it with one character changed, that character forms no
known pair with either neighbour, and the two sound alike (a pinyin keyboard
slip: 医要港 for 医药港, 秸杆 for 秸秆; 签下 is not a slip for 启下). Windows
holding a question word are the user's own. A 3-character name of the issues
with one changed character after its first (练建君 -> 练建军) is restored too.

The corpus's 2- to 5-character Chinese strings are kept as sorted integer
codes (`Grams`: 15 bits a character, a 5-character string as its 4-character
prefix's rank and its last character), about 8 bytes each: a decade of issues
(millions of distinct strings) stays tens of megabytes, built in one
vectorised pass, where Python sets of the strings and a wildcard table of every
4- and 5-character string took about 4 GB per thousand real issues (measured:
0.9 GB for the 490,000 Chinese characters of CMRC+DRCD). A changed character's
candidates are the characters sharing one of its readings, tones aside (a
superset of what sounds alike, so the final pinyin check decides as before);
each is looked up with one binary search, so a question costs the same
whatever the size of the corpus.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

import numpy as np

CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
QUESTION_CHARS = set("哪谁几吗呢么何啥怎多少")
WIDTHS = (5, 4)  # shorter windows are left alone: too much would match
FIRST, LAST = 0x4E00, 0x9FFF  # the characters CJK_RUN_RE takes
BITS = 15  # LAST - FIRST + 1 < 2**15: code 0 marks "not Chinese"


def _sounds_alike(a: str, b: str) -> bool:
    """Same length and the same pinyin, tones aside."""
    from pypinyin import lazy_pinyin

    return len(a) == len(b) and lazy_pinyin(a) == lazy_pinyin(b)


def _codes(text: str) -> np.ndarray:
    """Each character's code: 1.. for the Chinese range, 0 for anything else."""
    a = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").astype(np.uint64)
    return np.where((a >= FIRST) & (a <= LAST), a - (FIRST - 1), 0).astype(np.uint64)


def _packed(rows: np.ndarray) -> np.ndarray:
    """Codes of up to 4 characters per row packed into one integer each."""
    out = np.zeros(len(rows), dtype=np.uint64)
    for j in range(rows.shape[1]):
        out = (out << np.uint64(BITS)) | rows[:, j]
    return out


def _windows(c: np.ndarray, n: int) -> np.ndarray:
    """Every n-character window of the code array whose characters are all Chinese, one row each."""
    if len(c) < n:
        return np.zeros((0, n), dtype=np.uint64)
    breaks = np.concatenate(([0], np.cumsum(c == 0)))  # non-Chinese characters before each position
    starts = np.flatnonzero(breaks[n:] == breaks[:-n])
    return np.lib.stride_tricks.sliding_window_view(c, n)[starts]


def _member(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each key sits in the sorted table, and whether it is there."""
    at = np.searchsorted(table, keys)
    found = np.zeros(len(keys), dtype=bool)
    inside = at < len(table)
    found[inside] = table[at[inside]] == keys[inside]
    return at, found


class Grams:
    """The distinct 2-, 3-, 4- and 5-character Chinese strings of a text, as sorted codes."""

    def __init__(self, text: str):
        c = _codes(text)
        self.table = {n: np.unique(_packed(_windows(c, n))) for n in (2, 3, 4)}
        fives = _windows(c, 5)
        prefix = np.searchsorted(self.table[4], _packed(fives[:, :4]))  # every prefix is a 4-gram of the text
        self.table[5] = np.unique((prefix.astype(np.uint64) << np.uint64(BITS)) | fives[:, 4])

    def contains(self, rows: np.ndarray) -> np.ndarray:
        """Which rows of character codes (all one width, 2 to 5) are strings of the text."""
        n = rows.shape[1]
        if n < 5:
            return _member(self.table[n], _packed(rows))[1]
        at, known = _member(self.table[4], _packed(rows[:, :4]))
        keys = (at.astype(np.uint64) << np.uint64(BITS)) | rows[:, 4]
        return known & _member(self.table[5], keys)[1]

    def __contains__(self, s: str) -> bool:
        return bool(self.contains(_codes(s)[None, :])[0])


def _toneless(reading: str) -> str:
    """zhōng -> zhong, lǜ -> lu (marks dropped)."""
    return "".join(x for x in unicodedata.normalize("NFD", reading) if not unicodedata.combining(x))


@lru_cache(maxsize=1)
def _readings() -> dict[str, np.ndarray]:
    """Toneless reading -> codes of the characters that have it (any of their readings)."""
    from pypinyin.pinyin_dict import pinyin_dict

    chars: dict[str, set[int]] = defaultdict(set)
    for cp, said in pinyin_dict.items():
        if FIRST <= cp <= LAST:
            for r in said.split(","):
                chars[_toneless(r)].add(cp - (FIRST - 1))
    return {r: np.array(sorted(cs), dtype=np.uint64) for r, cs in sorted(chars.items())}


@lru_cache(maxsize=4096)
def _homophones(ch: str) -> np.ndarray:
    """Codes of the characters sharing a reading with ch, tones aside (ch excluded)."""
    from pypinyin.pinyin_dict import pinyin_dict

    readings, own = _readings(), ord(ch) - (FIRST - 1)
    said = pinyin_dict.get(ord(ch), "")
    found = [readings[r] for r in sorted({_toneless(s) for s in said.split(",") if s}) if r in readings]
    out = np.unique(np.concatenate(found)) if found else np.zeros(0, dtype=np.uint64)
    return out[out != own]


class SlipIndex:
    def __init__(self, corpus: str, names: Iterable[str] = ()):
        self.grams = Grams(corpus)
        self.names: dict[str, set[str]] = defaultdict(set)
        for name in names:
            if len(name) == 3:
                for k in (1, 2):
                    self.names[name[:k] + "?" + name[k + 1:]].add(name)

    def _fits(self, window: str, ks: list[int]) -> set[str]:
        """Strings of the corpus equal to the window but for a homophone at one of ks."""
        codes, blocks, where = _codes(window), [], []
        for k in ks:
            cands = _homophones(window[k])
            rows = np.repeat(codes[None, :], len(cands), axis=0)
            rows[:, k] = cands
            blocks.append(rows)
            where += [k] * len(cands)
        if not where:
            return set()
        rows = np.concatenate(blocks)
        return {window[:k] + chr(int(rows[i, k]) + FIRST - 1) + window[k + 1:]
                for i in np.flatnonzero(self.grams.contains(rows)) for k in (where[i],)}

    def correct(self, folded: str) -> str:
        """The (folded) question with its slips fixed; unchanged when none is found."""
        fixed = folded
        for width in WIDTHS:
            for run in CJK_RUN_RE.findall(fixed):
                if len(run) < width:
                    continue
                codes = _codes(run)  # one lookup per run for its windows and its pairs
                known = self.grams.contains(_windows(codes, width))
                paired = self.grams.contains(_windows(codes, 2))  # paired[i]: run[i:i + 2] is known
                for lo in range(0, len(run) - width + 1):
                    window = run[lo : lo + width]
                    if known[lo] or QUESTION_CHARS & set(window):
                        continue
                    # a character that fits a neighbour (the whole run's) is not the slip
                    ks = [k for k in range(width)
                          if not ((lo + k > 0 and paired[lo + k - 1]) or (lo + k < len(run) - 1 and paired[lo + k]))]
                    found = {f for f in self._fits(window, ks) if _sounds_alike(f, window)}
                    if len(found) == 1:
                        fixed = fixed.replace(window, found.pop(), 1)
        for run in CJK_RUN_RE.findall(fixed):
            for lo in range(0, len(run) - 2):
                window = run[lo : lo + 3]
                if window in self.grams:
                    continue
                names = sorted(self.names.get(window[:1] + "?" + window[2:], set())
                               | self.names.get(window[:2] + "?", set()))
                name = next((n for n in names if _sounds_alike(n, window)), None)
                if name:
                    fixed = fixed.replace(window, name, 1)
        return fixed
