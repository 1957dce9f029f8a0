"""The slip index (rag.search.slips) against a plain reading of its rule, written the
slow way: Python sets of every string and every candidate tried by pinyin."""

import random
import re
from pathlib import Path

import numpy as np
from pypinyin import lazy_pinyin
from pypinyin.pinyin_dict import pinyin_dict

from rag.search.slips import WIDTHS, Grams, SlipIndex
from rag.text import fold

ROOT = Path(__file__).resolve().parents[1]
RUN = re.compile(r"[\u4e00-\u9fff]+")


def plain_fixes(corpus: str, window: str, run: str, lo: int) -> set[str]:
    """Corpus strings equal to the window but at one position whose character pairs
    with neither neighbour in the run, and that sound like it."""
    grams = {n: {r[i:i + n] for r in RUN.findall(corpus) for i in range(len(r) - n + 1)} for n in (2, len(window))}
    found = set()
    for k in range(len(window)):
        at = lo + k
        if any(len(p) == 2 and p in grams[2] for p in (run[max(at - 1, 0):at + 1], run[at:at + 2])):
            continue
        found |= {g for g in grams[len(window)]
                  if g[:k] == window[:k] and g[k + 1:] == window[k + 1:] and g != window}
    return {f for f in found if lazy_pinyin(f) == lazy_pinyin(window)}


def test_grams_hold_exactly_the_strings_of_the_text():
    text = fold("现代医药港项目开工。Ａ区2021年投产，总投资58亿元！现代医药港")
    grams = Grams(text)
    runs = RUN.findall(text)
    for n in (2, 3, 4, 5):
        inside = {r[i:i + n] for r in runs for i in range(len(r) - n + 1)}
        assert len(grams.table[n]) == len(inside)
        assert all(s in grams for s in inside)
    for s in ("医药港项", "港项目开工", "开工总投", "元现代", "代医药", "亿元现代医"):
        assert (s in grams) == any(s in r for r in runs), s


def test_slips_found_as_the_plain_rule_finds_them():
    """Real text (the shipped issue); slips made by swapping a character for one
    of the same reading. Whenever the rule finds exactly one fix, the index makes it."""
    text = fold((ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(encoding="utf-8"))
    index = SlipIndex(text)
    same: dict[str, list[str]] = {}
    for cp in sorted(pinyin_dict):
        if 0x4E00 <= cp <= 0x9FFF:
            same.setdefault(lazy_pinyin(chr(cp))[0], []).append(chr(cp))
    rng = random.Random(3)
    runs = [r for r in RUN.findall(text) if len(r) >= 6]
    checked = fixed = 0
    for _ in range(60):
        r = rng.choice(runs)
        lo = rng.randrange(len(r) - 4)
        w = r[lo:lo + 5]
        k = rng.randrange(5)
        slip = w[:k] + rng.choice(same.get(lazy_pinyin(w[k])[0], [w[k]])) + w[k + 1:]
        if slip in text or any(c in "哪谁几吗呢么何啥怎多少" for c in slip):
            continue
        expected = plain_fixes(text, slip, slip, 0)
        got = index.correct(slip)
        checked += 1
        if len(expected) == 1:
            fixed += 1
            assert got == expected.pop(), slip
        elif len(plain_fixes(text, slip[:4], slip, 0)) != 1 and len(plain_fixes(text, slip[1:], slip, 1)) != 1:
            assert got == slip, slip
    assert checked >= 30 and fixed >= 10  # the sample holds real slips, not only misses


def test_lookups_are_binary_searches_of_sorted_codes():
    grams = Grams(fold("青石湾湿地公园开放。") * 3)
    for n in WIDTHS + (2, 3):
        table = grams.table[n]
        assert table.dtype == np.uint64 and np.all(table[1:] > table[:-1])
