"""Text normalisation and tokenisation shared by indexing and querying.

`fold` makes a question and a passage comparable (full-width ASCII folded,
Traditional -> Simplified, lower case); `tokens` turns folded text into BM25
terms: jieba's search-mode words plus whole numbers, amounts and codes (5G,
3221, 300亿元) so that exact figures match exactly.
"""

from __future__ import annotations

import os
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

CACHE = Path(__file__).resolve().parent.parent / ".cache" / "jieba"

CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CODE_RE = re.compile(r"[a-z0-9][a-z0-9.%]*[a-z0-9%]|[a-z0-9]")
AMOUNT_RE = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?(?:元|亩|个|人|年|平方公里|平方米|家|项|周年|%)")
PUNCT_RE = re.compile(r"[\s\W_]+", re.UNICODE)

# Words that carry no topic: question words, particles, pronouns, fillers.
STOPWORDS = frozenset(
    """的 了 是 在 和 与 及 或 有 也 都 就 还 又 被 把 对 为 于 从 到 向 由 以 等 这 那 其 此 之 个 吗 呢 吧 啊 呀 么
    什么 多少 多大 几 哪 哪里 哪儿 哪些 哪个 哪天 哪位 谁 怎么 怎样 如何 为什么 何时 何地 多久 多长 多远 是否 有没有
    什么样 请问 一下 告诉 我 我们 你 你们 它 它们 他 他们 她 该 这个 那个 这些 那些 一个 请 呢 吗 嘛 哦 啦
    一共 总共 大概 大约 大致 已经 到底 究竟 能 会 要 得 呗 啊 吧
    the a an of in on at to for is are was were what who when where which how much many does do did
    will would with and or by from it its that this be been has have had""".split()
)


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def fold(text: str) -> str:
    """NFKC (full-width digits and letters to ASCII), Simplified, lower case."""
    text = unicodedata.normalize("NFKC", text)
    try:
        text = _t2s().convert(text)
    except Exception:  # opencc missing or broken: Simplified input still works
        pass
    return text.lower()


def _cache_dir() -> str | None:
    """Where jieba keeps its 9 MB dictionary cache: .cache/jieba if we may read the
    cache there or write one, else a private folder in the system temp folder,
    else None (no cache: jieba builds the dictionary in memory, about 1 s)."""
    import tempfile

    try:
        CACHE.mkdir(parents=True, exist_ok=True)
    except OSError:
        pass
    if os.access(CACHE / "jieba.cache", os.R_OK) or os.access(CACHE, os.W_OK | os.X_OK):
        return str(CACHE)
    try:
        uid = os.getuid()
        own = Path(tempfile.gettempdir()) / f"newsrag-jieba-{uid}"
        own.mkdir(mode=0o700, exist_ok=True)
        st = own.lstat()
        # ours alone: a folder someone else made there could feed us a cache
        if not own.is_symlink() and st.st_uid == uid and not st.st_mode & 0o022 and os.access(own, os.W_OK | os.X_OK):
            return str(own)
    except OSError:
        pass
    return None


def to_simplified(text: str) -> str:
    """Traditional -> Simplified, only where that keeps every character's place
    (so offsets into the converted text are offsets into the original)."""
    try:
        out = _t2s().convert(text)
    except Exception:  # opencc missing or broken: read the text as it is
        return text
    return out if len(out) == len(text) else text


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(60)  # before anything can fail: a cache it cannot write is no traceback
    where = _cache_dir()
    if where is None:
        # jieba always tries to dump its cache; a path that cannot exist makes that
        # fail at once, and the failure is only logged (silenced above)
        jieba.dt.tmp_dir = str(CACHE / "unwritable")
    else:
        jieba.dt.tmp_dir = where
    jieba.initialize()
    return jieba


@lru_cache(maxsize=1)
def _posseg():
    """jieba.posseg, its word-tag table read from a cache beside jieba's own.

    Importing jieba.posseg reads jieba's 350,000-line dictionary again for the
    tags (0.2-0.4 s, every start); the table is kept as marshal data (0.1 s),
    named by jieba's version and the dictionary file's size and mtime, and made
    from the file when there is none (tests/test_text.py checks it equals the file's)."""
    import importlib
    import io
    import marshal
    import sys

    jb = _jieba()
    where = _cache_dir()
    if "jieba.posseg" in sys.modules or jb.dt.dictionary != jb.DEFAULT_DICT or where is None:
        return importlib.import_module("jieba.posseg")
    try:
        st = (Path(jb.__file__).resolve().parent / jb.DEFAULT_DICT_NAME).stat()
    except OSError:
        return importlib.import_module("jieba.posseg")
    cache = Path(where) / f"posseg-tags-{jb.__version__}-{st.st_size}-{st.st_mtime_ns}.marshal"
    try:
        table = marshal.loads(cache.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        table = None
    if not isinstance(table, dict):
        pseg = importlib.import_module("jieba.posseg")
        tmp = cache.with_name(f"{cache.name}.tmp-{os.getpid()}")
        try:
            tmp.write_bytes(marshal.dumps(pseg.dt.word_tag_tab))
            os.replace(tmp, cache)
        except OSError:
            tmp.unlink(missing_ok=True)
        return pseg
    jb.dt.get_dict_file = lambda: io.BytesIO()  # the import's own read of the file reads nothing ...
    try:
        pseg = importlib.import_module("jieba.posseg")
    finally:
        del jb.dt.get_dict_file
    pseg.dt.word_tag_tab = table  # ... and the table comes from the cache
    return pseg


NAME_FREQ = 2000


class Lexicon:
    """jieba's dictionary as one archive needs it: the shared one, plus the names
    its issues hold (taught so BM25 and the readers keep them whole).

    The names go into a copy of the dictionary (about 20 ms and 30 MB), never
    into jieba's own, so opening an archive changes nothing for the rest of the
    process: two archives in one process (the eval opens one per set) cut text
    exactly as each would alone. Text functions below cut with the lexicon made
    active by `with lexicon.active():` in this thread or task (the engine does it
    around its work), else with jieba's own dictionary.

    jieba's total frequency is kept at the shared dictionary's: add_word raises
    it, and the total weighs every word of every cut, so each archive's names
    would shift the cut of text that holds none of them. Kept fixed, a text is
    cut the same under any set of names that it does not contain, which is what
    lets a build reuse the terms of an issue no new name occurs in."""

    def __init__(self, names=(), tag: str = "nr"):
        import copy
        import threading

        jb = _jieba()
        pseg = _posseg()

        self.names = tuple(sorted(set(names)))
        if not self.names:
            self.cutter, self.tagger = jb.dt, pseg.dt
            return
        cutter = copy.copy(jb.dt)  # the shared dictionary's words and settings ...
        cutter.FREQ, cutter.user_word_tag_tab = dict(jb.dt.FREQ), {}  # ... in a table of its own
        cutter.lock = threading.RLock()
        for w in self.names:
            cutter.add_word(w, freq=NAME_FREQ, tag=tag)
        cutter.total = jb.dt.total  # see above
        tagger = pseg.POSTokenizer.__new__(pseg.POSTokenizer)  # its __init__ rereads the dictionary file
        tagger.tokenizer = cutter
        tagger.word_tag_tab = {**pseg.dt.word_tag_tab, **cutter.user_word_tag_tab}
        cutter.user_word_tag_tab = {}  # merged now, so cutting never writes to shared tables
        self.cutter, self.tagger = cutter, tagger

    @staticmethod
    def base_fingerprint() -> str:
        """What every cut depends on, names aside: this file's code, the versions
        of jieba, pypinyin and OpenCC, and jieba's dictionary."""
        import hashlib
        import json
        from importlib.metadata import PackageNotFoundError, version

        def ver(name: str) -> str:
            try:
                return version(name)
            except PackageNotFoundError:
                return ""

        state = {"code": hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
                 "versions": [ver("jieba"), ver("pypinyin"), ver("opencc"), ver("opencc-python-reimplemented")],
                 "total": _jieba().dt.total, "words": len(_jieba().dt.FREQ), "freq": NAME_FREQ}
        return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode("utf-8")).hexdigest()

    def fingerprint(self) -> str:
        """Everything `passage_terms` depends on: the base fingerprint and the names.
        Terms saved under one fingerprint are reused only under the same one (rag.store.folder)."""
        import hashlib
        import json

        state = [self.base_fingerprint(), list(self.names)]
        return hashlib.sha256(json.dumps(state, ensure_ascii=False).encode("utf-8")).hexdigest()

    @contextmanager
    def active(self):
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


_ACTIVE: ContextVar[Lexicon | None] = ContextVar("rag_lexicon", default=None)


@lru_cache(maxsize=1)
def plain() -> Lexicon:
    """jieba's own dictionary, no names."""
    return Lexicon()


def _lexicon() -> Lexicon:
    return _ACTIVE.get() or plain()


def passage_terms(title: str, text: str) -> list[str]:
    """A passage's BM25 terms: the words of its folded headline and text, and their pinyin."""
    folded = fold(title + "\n" + text)
    return tokens(folded) + pinyin_terms(folded)


def tagged(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech flag) pairs, jieba's tag set (n, v, ns, nr, m …); the words
    are pieces of `text` itself, in order.

    Traditional text is tagged in its Simplified form (place for place, to_simplified):
    jieba's tagger knows Simplified characters, and for one it does not know its HMM
    tries every pair of its 256 states, so a DRCD paragraph took 0.9 s a question
    (scripts/bench_scale.py text-tag) where a Simplified one takes 10 ms."""
    simple = to_simplified(text)
    pairs = [(w.word, w.flag) for w in _lexicon().tagger.cut(simple)]
    if simple == text:
        return pairs
    if "".join(w for w, _ in pairs) != simple:  # never seen: the tagger dropped or changed a character
        return [(w.word, w.flag) for w in _lexicon().tagger.cut(text)]
    out, at = [], 0
    for word, flag in pairs:
        out.append((text[at : at + len(word)], flag))
        at += len(word)
    return out


def in_dictionary(word: str) -> bool:
    """Is this a word jieba knows, rather than one it guessed from characters?"""
    return bool(_lexicon().cutter.FREQ.get(word))


def words(text: str) -> list[str]:
    """jieba words of folded text, punctuation dropped."""
    return [w for w in _lexicon().cutter.cut(text) if not PUNCT_RE.fullmatch(w)]


def tokens(text: str) -> list[str]:
    """BM25 terms of already-folded text."""
    out = [w for w in _lexicon().cutter.cut_for_search(text) if not PUNCT_RE.fullmatch(w) and w not in STOPWORDS]
    out += CODE_RE.findall(text)
    out += AMOUNT_RE.findall(text)
    return out


def content_terms(text: str) -> list[str]:
    """Distinct topic words of folded text (no stopwords, no single CJK particles)."""
    seen: list[str] = []
    for w in words(text):
        if w in STOPWORDS or w in seen:
            continue
        if len(w) == 1 and not w.isalnum():
            continue
        seen.append(w)
    return seen


# ---------------------------------------------------------------- pinyin
# An English question about Chinese local news names its places and people in
# pinyin (Heze, Zhang Hui, Zhihe). Indexing each Chinese word's pinyin as well
# gives those names lexical evidence the multilingual model alone does not.

@lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    from pypinyin import lazy_pinyin

    # interjection readings (n, m, ng, hm) would make English words look like pinyin
    return frozenset(lazy_pinyin([chr(c) for c in range(0x4E00, 0x9FA6)])) - {"n", "m", "ng", "hm", "hng"}


def is_pinyin(word: str) -> bool:
    """Can the word be split into pinyin syllables (zhanghui, heze)?"""
    syl = _syllables()
    ok = [True] + [False] * len(word)
    for i in range(len(word)):
        if ok[i]:
            for j in range(i + 1, min(len(word), i + 6) + 1):
                if word[i:j] in syl:
                    ok[j] = True
    return ok[len(word)]


def pinyin_terms(text: str) -> list[str]:
    """Pinyin of each Chinese word of two or more characters (菏泽 -> heze), and
    of runs of single characters, which is how jieba cuts names it does not
    know (知/和 -> zhihe)."""
    out, run = [], ""
    for w in words(text) + [""]:
        if len(w) == 1 and re.fullmatch(f"[{CJK}]", w):
            run += w
            continue
        if len(run) >= 2:
            out.append(_pinyin(run))
        run = ""
        if len(w) >= 2 and re.fullmatch(f"[{CJK}]+", w):
            out.append(_pinyin(w))
    return out


@lru_cache(maxsize=1 << 16)
def _pinyin(word: str) -> str:
    # a word's pinyin depends on the word alone; news repeats its words, and
    # pypinyin took most of the time of indexing
    from pypinyin import lazy_pinyin

    return "".join(lazy_pinyin(word))


def latin_terms(text: str) -> list[str]:
    """Terms of an English question that can match the index: numbers, and
    words or runs of two or three words that read as pinyin (Zhang Hui ->
    zhanghui). When the question capitalises names, only capitalised words
    count: "along" or "change" read as pinyin too. Other English words cannot
    match Chinese text and are left out. Give the text unfolded (case kept)."""
    raw = re.findall(r"[A-Za-z]+|\d+", unicodedata.normalize("NFKC", text))
    capitalised = any(w[0].isupper() for w in raw[1:] if w.isalpha())
    ws = [w for w in raw if w.lower() not in STOPWORDS]
    out = [w for w in ws if w.isdigit()]
    for n in (1, 2, 3):
        for i in range(len(ws) - n + 1):
            run = ws[i : i + n]
            if not all(w.isalpha() for w in run) or (capitalised and not all(w[0].isupper() for w in run)):
                continue
            joined = "".join(run).lower()
            if is_pinyin(joined) and (n > 1 or len(joined) > 2):
                out.append(joined)
    return out


def is_latin(text: str) -> bool:
    """Mostly Latin letters: an English question."""
    letters = [c for c in text if c.isalpha()]
    latin = sum(1 for c in letters if c.isascii())
    return bool(letters) and latin / len(letters) > 0.6
