"""Question -> cleaned question, the kind of answer it asks for, standalone query.

`clean` rejects what cannot be a question (empty, control characters, markup
only) and caps length (the kind of answer asked for is rag.kinds). `resolve` turns a follow-up
(那它占地多大？, 总经理是谁？) into a standalone query by carrying over the
subject of the earlier turns; no LLM involved, and the result is shown to
the user.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from rag.errors import BadQuestion
from rag.text import PUNCT_RE, STOPWORDS, fold, is_latin, tagged

TAG_RE = re.compile(r"<[^<>]{0,200}>")

# Words that point back to an earlier turn.
ANAPHORA_RE = re.compile(r"^(?:那么|那|还有|另外|此外|并且|而且)|它们|它|其|该|这个|那个|这家|那家|这里|那里|他们|他|她|此"
                         r"|\b(?:it|its|they|their|them|there|that|this|he|she|his|her)\b")
LEADING_FILLER_RE = re.compile(r"^(?:那么|那|还有|另外|此外|and|so|then)[\s，,]*", re.I)

ENTITY_FLAGS = {"nr", "ns", "nt", "nz", "j", "eng", "nrt", "nrfg"}
# A question's first LOOK_CHARS characters are what its slips are fixed in and its
# words tagged in (subject, entities). A bound on work, not a fitted number: past
# the longest Chinese question of every evaluation set and of ../shared/data (73
# characters; English questions are neither tagged nor slip-checked) and about
# what the reader reads of one (64 tokens). A pasted paragraph is still searched
# whole, but tagging and slip checks over 300-500 characters of text no issue
# holds took 0.2-1.4 s (scripts/fuzz.py), jieba's tagger trying all of its
# states on each character it does not know.
LOOK_CHARS = 80


def _hygiene(c: str) -> str:
    cat = unicodedata.category(c)
    if cat in ("Cs", "Cf"):
        return ""  # lone surrogates; zero-width, bidi and other invisible format marks
    if cat in ("Cc", "Zl", "Zp"):
        return " "  # control characters and line separators separate words
    return c


def scrub(text: str) -> str:
    """Text that is valid UTF-8 and shows what it says: lone surrogates (a bad
    client or a browser can send one) and invisible format characters (zero-width
    spaces, joiners, bidi embeddings, overrides and isolates, paired or not, BOM,
    soft hyphen, tag characters) removed; control characters and line or
    paragraph separators made spaces. Everything else is kept as typed."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(_hygiene(c) for c in text)


def clean(question: str, max_chars: int) -> str:
    """A usable question, or BadQuestion with a message for people.

    The one entrance for user text: everything after it sees scrubbed text no
    longer than max_chars (also after NFKC, which expands a few characters).
    """
    if question is None:
        raise BadQuestion("请输入一个问题。")
    q = str(question)
    if len(q) > 8 * max_chars:  # refused before any work on it
        raise BadQuestion(f"问题太长（{len(q)} 个字符），请控制在 {max_chars} 个字符以内。")
    q = scrub(html.unescape(q))
    n = max(len(q), len(unicodedata.normalize("NFKC", q)))
    if n > max_chars:
        raise BadQuestion(f"问题太长（{n} 个字符），请控制在 {max_chars} 个字符以内。")
    q = TAG_RE.sub(" ", q)
    q = re.sub(r"\s+", " ", q).strip()
    if not q or not re.search(r"\w", q):
        raise BadQuestion("请输入一个问题。")
    return q


def clean_history(history, max_turns: int, max_chars: int, turn_chars: int | None = None) -> list[str]:
    """Earlier questions, oldest first, each cleaned like a question and bounded:
    the newest `max_turns` usable turns, `max_chars` characters in all. A turn
    that is not text, is empty, or is longer than `turn_chars` (default
    max_chars) is dropped, not fatal."""
    if history is None:
        return []
    if isinstance(history, str):
        history = [history]
    try:
        turns = list(history)[-4 * max_turns:]  # a few spares for dropped turns
    except TypeError:
        return []
    kept: list[str] = []
    total = 0
    for turn in reversed(turns):
        if len(kept) >= max_turns:
            break
        if not isinstance(turn, str):
            continue
        try:
            q = clean(turn, turn_chars or max_chars)
        except BadQuestion:
            continue
        if total + len(q) > max_chars:
            break  # the older turns matter least
        kept.append(q)
        total += len(q)
    return kept[::-1]


def _corpus_prefix(q: str, corpus: str) -> str:
    """Longest prefix of q that occurs verbatim in the (folded) corpus."""
    n = 0
    while n < len(q) and q[: n + 1] in corpus:
        n += 1
    return q[:n]


def subject(question: str, corpus: str = "") -> str | None:
    """The leading noun phrase of a question: what it is about.

    When the question starts with words of the corpus (知和(山东)大药厂占地…),
    that prefix names the subject better than jieba's tags of unknown names.
    Otherwise words are taken from the start up to the first question word,
    pronoun or plain verb. Trailing verbs, numbers and dates are dropped
    (张晖一行6月2日 -> 张晖).
    """
    q = LEADING_FILLER_RE.sub("", fold(question))
    if is_latin(q):
        return None
    q = q[:LOOK_CHARS]
    prefix = _corpus_prefix(q, corpus) if corpus else ""
    if len(prefix) >= 3:
        q = prefix
    else:
        prefix = ""  # too short to name anything: read the words instead
    run: list[tuple[str, str]] = []
    for word, flag in tagged(q):
        if prefix:
            run.append((word, flag))
            continue
        if word in "()（）":
            if run:
                run.append((word, "x"))
            continue
        if word in STOPWORDS or ANAPHORA_RE.fullmatch(word):
            if run:
                break
            continue
        if flag == "v" and run and not prefix:
            break
        run.append((word, flag))
    while run and (run[-1][1] in ("m", "v", "vn", "uj", "p", "c") or PUNCT_RE.fullmatch(run[-1][0]) or run[-1][0] in ("一行", "月", "日")
                   or run[-1][0] in STOPWORDS):
        run.pop()
    text = "".join(w for w, _ in run)
    return text if len(text) >= 2 else None


def has_entity(question: str) -> bool:
    """Does the question name what it is about (a name, place, code, number)?"""
    q = fold(question)
    if is_latin(q):
        return len([w for w in re.findall(r"[a-z]+", q) if w not in STOPWORDS]) >= 3
    for word, flag in tagged(q[:LOOK_CHARS]):
        if word in STOPWORDS:
            continue
        if flag in ENTITY_FLAGS:
            return True
        # a code or a year names something (5G, 3221, 2021); 8 in 8月底 does not
        if re.fullmatch(r"\d{3,}|(?=.*\d)(?=.*[a-z])[a-z0-9]+", word):
            return True
    return False


def is_followup(question: str) -> bool:
    """Cannot stand alone: points back (它, 该, 其中, 那…; it, they) or names no
    subject of its own (总经理是谁？: no entity and at most one topic word).

    Pointing back is read by jieba words, not characters, so 其他, 应该, 因此 or
    尤其 do not count; an English question points back only by a pronoun, and
    not when it names a thing itself (capitalised words past the first).
    """
    q = fold(question).strip()
    if is_latin(q):
        pointers = re.findall(r"\b(?:it|its|they|their|them|he|she|his|her|him|this|that|these|those)\b", q)
        named = re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+", question.strip())
        return bool(pointers) and not [w for w in named if w.lower() not in STOPWORDS]
    from rag.text import content_terms, words

    if re.match(r"(?:那么|那|还有|另外|此外|并且|而且)", q):
        return True
    pointers = {"它", "它们", "其", "其中", "该", "此", "他", "她", "他们", "她们", "这个", "那个", "这家", "那家",
                "这里", "那里", "这项", "那项", "该项", "此项", "这座", "那座", "这次", "那次", "这篇", "那篇", "上述",
                "这些", "那些"}
    if any(w in pointers for w in words(q)):
        return True
    return not has_entity(q) and len([t for t in content_terms(q) if len(t) >= 2]) <= 1


@dataclass(frozen=True)
class Resolved:
    query: str
    followup: bool
    carried: str | None  # the subject carried over, if any


def resolve(question: str, history: list[str], corpus: str = "", force: bool = False) -> Resolved:
    """Standalone query for `question` given earlier user questions. `force`
    carries the subject over even when the question does not look like a
    follow-up (the engine tries that when the question alone finds nothing)."""
    return _resolve(question, list(history), corpus, force, {})


def _resolve(question: str, history: list[str], corpus: str, force: bool, memo: dict) -> Resolved:
    # memo[i] = (resolved query, subject) of history[i] given history[:i]: the same
    # for every caller, so each earlier turn is read once, not 2**turns times
    if not history or not (force or is_followup(question)):
        return Resolved(question, False, None)
    latin = is_latin(question)
    # The subject of the nearest earlier turn that has one, itself resolved; an
    # English question may also lean on a whole English turn before it.
    for i in range(len(history) - 1, -1, -1):
        if i not in memo:
            q = _resolve(history[i], history[:i], corpus, False, memo).query
            memo[i] = (q, subject(q, corpus) if not is_latin(q) else None)
        earlier, subj = memo[i]
        if subj or (latin and is_latin(earlier)):
            break
    else:
        return Resolved(question, False, None)
    body = LEADING_FILLER_RE.sub("", question.strip())
    if latin:
        # after an English turn, the whole turn says what "it" is; after a Chinese
        # one, its subject does (its question words would change what is asked)
        carried = earlier if is_latin(earlier) else subj
        return Resolved(f"{carried} {body}", True, carried)
    if subj and fold(subj) in fold(body):
        return Resolved(question, False, None)
    # a function, never a template: the subject is user text (C:\new, \1, \g<0> stay as typed)
    replaced, n = re.subn(r"它们|它|其|该|这个|那个|这家|那家|他们", lambda m: subj, body, count=1)
    query = replaced if n else f"{subj}{body}"
    return Resolved(query, True, subj)


def correct(question: str, corpus: str, names=(), index=None) -> str:
    """Fix a one-character slip (现代医要港 -> 现代医药港) against the issues' text
    (rag.search.slips; pass the engine's SlipIndex as `index` to reuse it). The question
    comes back as asked when nothing is fixed, else folded with the fix."""
    if is_latin(question) or (index is None and not corpus):
        return question
    from rag.search.slips import SlipIndex

    folded = fold(question)
    fixed = (index or SlipIndex(corpus, names)).correct(folded[:LOOK_CHARS]) + folded[LOOK_CHARS:]
    return question if fixed == folded else fixed
