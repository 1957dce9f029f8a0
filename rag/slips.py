"""One-character slips in a question, fixed against the issues' own words (现代医要港 -> 现代医药港).

Takes the folded corpus (titles and paragraphs) and the names found in it;
builds, once, the sets of its Chinese 2-, 3-, 4- and 5-character strings and a
wildcard index (each 4- or 5-character string with one character replaced by
`?` -> the strings it stands for), so that correcting a question costs a few
dictionary lookups per window, whatever the size of the corpus or the
question: no scan of the corpus per question.

A window of the question the issues never contain is replaced when exactly one
corpus string fits it with one character changed, that character forms no
known pair with either neighbour, and the two sound alike (a pinyin keyboard
slip: 医要港 for 医药港, 秸杆 for 秸秆; 签下 is not a slip for 启下). Windows
holding a question word are the user's own. A 3-character name of the issues
with one changed character after its first (练建君 -> 练建军) is restored too.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable

CJK_RUN_RE = re.compile(r"[\u4e00-\u9fff]+")
QUESTION_CHARS = set("哪谁几吗呢么何啥怎多少")
WIDTHS = (5, 4)  # shorter windows are left alone: too much would match


def _sounds_alike(a: str, b: str) -> bool:
    """Same length and the same pinyin, tones aside."""
    from pypinyin import lazy_pinyin

    return len(a) == len(b) and lazy_pinyin(a) == lazy_pinyin(b)


class SlipIndex:
    def __init__(self, corpus: str, names: Iterable[str] = ()):
        self.grams: dict[int, set[str]] = {n: set() for n in (2, 3, *WIDTHS)}
        for run in CJK_RUN_RE.findall(corpus):
            for n, found in self.grams.items():
                found.update(run[i : i + n] for i in range(len(run) - n + 1))
        self.wild: dict[str, set[str]] = defaultdict(set)
        for n in WIDTHS:
            for g in self.grams[n]:
                for k in range(n):
                    self.wild[g[:k] + "?" + g[k + 1:]].add(g)
        self.names: dict[str, set[str]] = defaultdict(set)
        for name in names:
            if len(name) == 3:
                for k in (1, 2):
                    self.names[name[:k] + "?" + name[k + 1:]].add(name)

    def correct(self, folded: str) -> str:
        """The (folded) question with its slips fixed; unchanged when none is found."""
        fixed = folded
        for width in WIDTHS:
            for run in CJK_RUN_RE.findall(fixed):
                for lo in range(0, len(run) - width + 1):
                    window = run[lo : lo + width]
                    if window in self.grams[width] or QUESTION_CHARS & set(window):
                        continue
                    found: set[str] = set()
                    for k in range(width):
                        at = lo + k  # neighbours are looked up in the whole run
                        pairs = (run[max(at - 1, 0):at + 1], run[at:at + 2])
                        if any(len(p) == 2 and p in self.grams[2] for p in pairs):
                            continue  # the character fits a neighbour: not the slip
                        found |= self.wild.get(window[:k] + "?" + window[k + 1:], set())
                    found = {f for f in found if _sounds_alike(f, window)}
                    if len(found) == 1:
                        fixed = fixed.replace(window, found.pop(), 1)
        for run in CJK_RUN_RE.findall(fixed):
            for lo in range(0, len(run) - 2):
                window = run[lo : lo + 3]
                if window in self.grams[3]:
                    continue
                names = sorted(self.names.get(window[:1] + "?" + window[2:], set())
                               | self.names.get(window[:2] + "?", set()))
                name = next((n for n in names if _sounds_alike(n, window)), None)
                if name:
                    fixed = fixed.replace(window, name, 1)
        return fixed
