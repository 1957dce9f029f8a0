"""The Python API shared by the chat, the eval and the CLI.

`Engine.open(settings)` loads the embedding model once, then loads the index
or (when the issues, the model or the chunk settings changed, or the index is
damaged) rebuilds it. `ask(question, history)` gives an Answer and never
raises for a bad question; `search` lists passages for staff look-ups.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Sequence

from rag.store import folder as store
from rag.answer import credits, extract
from rag.answer.base import Asked, Library
from rag.config import Settings, from_env, offline_hub_default
from rag.errors import BadQuestion
from rag.kinds import Refusal, kind_of
from rag.search.query import Resolved, clean, clean_history, correct, resolve, scrub
from rag.search.retrieve import Retriever
from rag.search.slips import SlipIndex
from rag.text import Lexicon, fold, plain
from rag.types import Answer, Chunk, Hit, Story

Progress = Callable[[str], None]
MAX_HISTORY = 6  # earlier turns considered when resolving a follow-up
MAX_HISTORY_CHARS = 1500  # and their characters in all, newest kept
PERSON_PRONOUN_RE = re.compile(r"他们|她们|他|她|\b(?:he|she|him|her)\b", re.I)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def people(stories: list[Story]) -> list[str]:
    """The people the issues name, found with jieba's own dictionary (whatever
    archive is active), sorted: slip correction tries names in this order,
    whatever the hash seed."""
    with plain().active():
        return sorted({p.text[a:b] for s in stories for p in s.paragraphs for a, b in extract.people(p.text)})


def saved_terms(stored: store.Stored | None, lexicon: Lexicon):
    """The build's saved BM25 term counts when jieba, the code and the names are
    now as they were then (same Lexicon fingerprint), else None: worked out again."""
    if stored is None or stored.manifest.get("lexicon") != lexicon.fingerprint():
        return None
    try:
        return store.load_terms(stored)
    except store.IndexStale:
        return None


def _in_lexicon(method):
    """Run an Engine method with the engine's names taught to jieba, for this call alone."""
    import functools

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        with self.lexicon.active():
            return method(self, *args, **kwargs)

    return run


class Engine:
    def __init__(self, settings: Settings, embedder, stories: list[Story], chunks: list[Chunk], vectors,
                 manifest: dict, reader=None, stored: store.Stored | None = None, lexicon: Lexicon | None = None):
        self.settings, self.embedder = settings, embedder
        self.stories, self.chunks, self.manifest = stories, chunks, manifest
        self.skipped: list[tuple[str, str]] = [tuple(x) for x in manifest.get("skipped", [])]
        # BM25 and the readers keep the issues' names whole (a build passes the lexicon it cut with)
        self.lexicon = lexicon or Lexicon(people(stories))
        self.names = list(self.lexicon.names)
        with self.lexicon.active():
            self.retriever = Retriever.build(chunks, vectors, embedder, saved_terms(stored, self.lexicon))
            self.corpus = fold("\n".join([s.title for s in stories] + [p.text for s in stories for p in s.paragraphs]))
            self.slips = SlipIndex(self.corpus, self.names)
            self.library = Library(stories, settings.top_k)
            self._sources: dict[str, str] = {}
            self.answerer = self._answerer(settings, reader)

    def _answerer(self, settings: Settings, read_with=None):
        """The answer stage the settings name: the fitted reader (default) or the rules."""
        if settings.answerer == "rules":
            from rag.answer.rules import RuleAnswerer

            return RuleAnswerer(self.library, self.retriever.bm25, self.corpus, self._source_text,
                                extract_short=settings.extract)
        from rag.answer import reader
        from rag.answer.decide import Decisions
        from rag.answer.reading import ReaderAnswerer

        return ReaderAnswerer(self.library, read_with or reader.load_default(settings), Decisions.load(settings.decisions),
                              self.corpus,
                              self._source_text, read=settings.read, extract_short=settings.extract,
                                    read_chars=settings.read_chars)

    def _source_text(self, name: str) -> str:
        """The issue file's text, as offsets count it (read once, on demand)."""
        if name not in self._sources:
            from rag.errors import IssueReadError
            from rag.ingest.issues import read_issue

            # only a file the manifest lists, by plain name, inside the data folder
            if name not in self.manifest.get("issues", {}) or name in ("", ".", "..") or "/" in name or "\\" in name:
                return ""
            try:
                self._sources[name] = read_issue(self.settings.data_dir / name)
            except IssueReadError:
                return ""  # gone or no longer a regular file: no credit lookup, no error
        return self._sources[name]

    # ------------------------------------------------------------ building

    @classmethod
    def open(cls, settings: Settings | None = None, progress: Progress | None = None, embedder=None, reader=None,
             rebuild: bool = False) -> "Engine":
        from rag.ingest.issues import issue_hashes

        settings = settings or from_env()
        progress = progress or _stderr
        offline_hub_default()
        issues = issue_hashes(settings.data_dir, settings.max_issue_bytes)  # a wrong --data fails before the model loads
        if embedder is None:
            from rag.model.embed import load_embedder

            embedder = load_embedder(settings, progress)
        expected = store.expected_manifest(
            embedder.name, embedder.dim,
            {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "splitter": "news-v1"},
            issues,
        )
        if not rebuild:
            try:
                s = store.load(settings.index_dir, expected)
                return cls(settings, embedder, s.stories, s.chunks, s.vectors, s.manifest, reader, s)
            except store.IndexStale as e:
                progress(f"Index needs a rebuild: {e}")
        # a forced rebuild starts afresh: whoever forces one may have changed what
        # the model's name does not show (files replaced at the same path)
        return cls.build(settings, embedder, expected, progress, reader, reuse=not rebuild)

    @classmethod
    def build(cls, settings: Settings, embedder, expected: dict, progress: Progress, reader=None,
              reuse: bool = True) -> "Engine":
        """Parse, chunk, embed (reading back the unchanged issues' segments when
        `reuse`), cut the BM25 terms, save, and open what was saved."""
        from rag.ingest.chunk import chunk_stories
        from rag.ingest.issues import load_issues

        t0 = time.perf_counter()
        stories, skipped = load_issues(settings.data_dir, settings.max_issue_bytes)
        for name, why in skipped:
            progress(f"Skipped {name}: {why}")
        chunks = chunk_stories(stories, settings.chunk_size, settings.chunk_overlap)
        vectors = cls._vectors(settings, embedder, expected, chunks, progress, reuse)
        lexicon = Lexicon(people(stories))  # the terms are cut with the names whole
        counts = cls._terms(settings, expected, chunks, lexicon, reuse)
        manifest = dict(expected, skipped=[list(x) for x in skipped])
        store.save(settings.index_dir, manifest, chunks, stories, vectors, counts, lexicon.fingerprint(),
                   list(lexicon.names), lexicon.base_fingerprint())
        s = store.load(settings.index_dir, expected)
        progress(f"Index built in {time.perf_counter() - t0:.1f} s: {settings.index_dir / 'current'}")
        return cls(settings, embedder, s.stories, s.chunks, s.vectors, s.manifest, reader, s, lexicon)

    @staticmethod
    def _terms(settings: Settings, expected: dict, chunks: list[Chunk], lexicon: Lexicon, reuse: bool = True):
        """Each chunk's BM25 terms, issue by issue: read back from the previous build
        where an issue's passages are unchanged and no name taught or forgotten since
        occurs in them (with jieba's total fixed, nothing else changes their cut:
        rag.text.Lexicon), cut otherwise. The same as cutting all (tests)."""
        from collections import Counter

        from rag.search.lexical import Terms
        from rag.text import passage_terms

        old = store.previous_terms(settings.index_dir, lexicon.base_fingerprint()) if reuse else None
        changed = sorted(set(old.names) ^ set(lexicon.names)) if old else []
        docs: list[dict[str, int]] = []
        with lexicon.active():
            for g in store.by_issue(chunks):
                rows = old.rows.get(store.segment_key(expected["model"], expected["dim"], g)) if old else None
                if rows is not None and changed and any(n in fold(c.embed_text) for c in g for n in changed):
                    rows = None
                if rows is not None and len(rows) == len(g):
                    docs += [old.terms.doc(i) for i in rows]
                else:  # passage_terms cuts fold(title + "\n" + text), the embed text folded
                    docs += [Counter(passage_terms(c.title, c.text)) for c in g]
        return Terms.of(docs)

    @staticmethod
    def _vectors(settings: Settings, embedder, expected: dict, chunks: list[Chunk], progress: Progress,
                 reuse: bool = True):
        """Passage vectors, issue by issue: read back from the previous build where
        an issue's passages are unchanged (rag.store.folder segments), embedded otherwise."""
        import numpy as np

        old = store.previous_segments(settings.index_dir, expected["model"], expected["dim"]) if reuse else {}
        groups = store.by_issue(chunks)
        parts = []
        for g in groups:
            seg = old.get(store.segment_key(expected["model"], expected["dim"], g))
            parts.append(store.read_segment(seg, len(g), expected["dim"]) if seg else None)
        todo = [i for i, v in enumerate(parts) if v is None]
        total = sum(len(groups[i]) for i in todo)
        kept = len(groups) - len(todo)
        progress(f"Embedding {total} passages of {len(todo)} issue(s)"
                 + (f"; {kept} unchanged issue(s) read back" if kept else "") + " ...")
        done, said = 0, [0]
        for i in todo:
            def tick(n: int, _of: int, base: int = done) -> None:
                if base + n - said[0] >= 128 or base + n == total:  # a line per 128 passages, not per issue
                    said[0] = base + n
                    progress(f"  embedded {base + n}/{total}")

            parts[i] = embedder.encode_passages([c.embed_text for c in groups[i]], progress=tick)
            done += len(groups[i])
        if not parts:
            return np.zeros((0, expected["dim"]), dtype=np.float32)
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    # ------------------------------------------------------------ asking

    def _story_of(self, query: str) -> tuple[str, int] | None:
        hits = self.retriever.search(query, k=1, mode=self.settings.mode, candidates=self.settings.candidates)
        return (hits[0].chunk.source, hits[0].chunk.story) if hits else None

    @_in_lexicon
    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        return self._ask(question, history, chase=True)

    def _ask(self, question: str, history: Sequence[str], chase: bool) -> Answer:
        """`ask`; with chase=False a 他/她 is not looked up in the turn before
        (see below), so the work per question is bounded: a chain of such turns
        once asked every earlier turn again, each with the reader (4.6 s)."""
        from dataclasses import replace

        from rag.search import turns
        from rag.search.query import is_followup, subject
        from rag.text import content_terms

        s = self.settings
        try:
            q = clean(question, s.max_question_chars)
        except BadQuestion as e:
            shown = scrub(str(question)[:200]) if question is not None else ""
            return Answer(question=shown, query="", answerable=False, answer=None, sentence=None, reason=str(e),
                          refusal=Refusal.BAD_QUESTION, detail=str(e))
        shown = scrub(str(question))[:s.max_question_chars]  # as asked, so callers can match their input
        talk = turns.small_talk(q)
        if talk is not None:  # 你好, 谢谢, help: a reply saying what the chat can do, and nothing searched
            return Answer(question=shown, query="", answerable=False, answer=None, sentence=None, turn=talk.value)
        q = turns.strip_small_talk(q)  # 你好，请问… asks what follows the greeting
        # bad turns dropped; small talk names no subject (你好 once became the search 现代医药港你好)
        earlier = [turns.strip_small_talk(t) for t in clean_history(history, MAX_HISTORY, MAX_HISTORY_CHARS,
                                                                     s.max_question_chars)
                   if turns.small_talk(t) is None]
        if credits.asks_credit(fold(q)) and turns.names_no_story(q) and not (s.followups and earlier):
            return self._which_story(shown, q)  # 这篇报道是谁写的？ with nothing before it: which story?
        asked = correct(q, self.corpus, index=self.slips)  # 现代医要港 -> 现代医药港, shown as the query searched
        resolved = resolve(asked, earlier, self.corpus) if s.followups and earlier else Resolved(asked, False, None)
        if chase and s.followups and earlier and PERSON_PRONOUN_RE.search(asked):
            # 他/她 points at the person the previous answer named, if it named one;
            # that answer is found without chasing its own 他/她 further back
            prev = self._ask(earlier[-1], earlier[:-1], chase=False)
            if prev.answerable and prev.kind == "person" and prev.answer:
                person = prev.answer.split("、")[0]
                # a function, not a template: the name is issue text (a backslash would be read as a group)
                resolved = Resolved(PERSON_PRONOUN_RE.sub(lambda m: person, asked, count=1), True, person)
        answer = self._answer(shown, resolved, earlier)
        if not answer.answerable and earlier and s.followups and not resolved.followup:
            # 街上一共有多少家商户？ names a subject of its own, yet finds nothing alone:
            # try it as a follow-up of the earlier turns before refusing
            forced = resolve(asked, earlier, self.corpus, force=True)
            if forced.followup:
                retry = self._answer(shown, forced, earlier)
                # kept only when it speaks of what the question names: a question that
                # stands alone (足球队拿了几次冠军？) is not answered about the earlier subject
                own = [t for t in content_terms(fold(asked)) if len(t) >= 2]
                said = fold((retry.sentence or "") + "".join(c.text for c in retry.citations[:1]))
                if retry.answerable and 2 * sum(t in said for t in own) >= len(own):
                    answer, resolved = retry, forced
        if not answer.answerable and credits.asks_credit(fold(q)) and turns.names_no_story(q):
            return self._which_story(shown, q)  # the conversation did not say which story either
        if not answer.answerable or not s.followups:
            return answer
        # Say what a question that points back was taken to be about, when it
        # could be several things: the conversation named more than one subject,
        # or nothing came before it (那它占地多大？ in an empty chat).
        assumed = None
        if resolved.followup and resolved.carried and len(earlier) > 1:
            subjects = {subject(t, self.corpus) for t in earlier} - {None}
            assumed = resolved.carried if len(subjects) > 1 else None
        elif not earlier and is_followup(asked):
            terms = sorted(content_terms(fold(asked)), key=len, reverse=True)
            assumed = turns.referent(answer.sentence or "", terms) or (
                answer.citations[0].story if answer.citations else None)
        return replace(answer, assumed=assumed) if assumed else answer

    def _which_story(self, shown: str, query: str) -> Answer:
        """Authorship asked with no story named: the stories' bylines, and a
        request to say which (rag.search.turns.Turn.WHICH_STORY); nothing is refused."""
        from rag.search import turns

        return Answer(question=shown, query=query, answerable=False, answer=None, sentence=None,
                      citations=tuple(self.bylines()), kind="person", turn=turns.Turn.WHICH_STORY.value)

    @_in_lexicon
    def bylines(self) -> list:
        """Every story's byline (or, without one, its photo credit) as a Citation
        at its place in the issue file, the name highlighted; issue order.
        Stories that name no author are left out."""
        from rag.types import Citation

        out = []
        for st in self.stories:
            found = credits.find_credit(st, self._source_text(st.source), photo=False)
            if not found:
                continue
            text, start, end, para = found
            name = credits.credit_name(text.strip("()（）本报讯"))
            at = text.rfind(name) if name else -1
            out.append(Citation(len(out) + 1, st.title, para, text, 0.0, st.source, start, end,
                                (at, at + len(name)) if at >= 0 else None))
        return out

    def _answer(self, shown: str, resolved: Resolved, earlier: list[str]) -> Answer:
        s = self.settings
        boost = None
        if resolved.followup:  # stay on the story the conversation was about
            prev = resolve(earlier[-1], earlier[:-1], self.corpus).query
            boost = self._story_of(prev)
        kind = kind_of(fold(resolved.query))
        # "who wrote the piece on X": search for X, the credit comes from its story
        searched = credits.topic(resolved.query) if credits.asks_credit(fold(resolved.query)) else resolved.query
        hits = self.retriever.search(searched, k=max(s.top_k, 8), mode=s.mode,
                                     candidates=s.candidates, boost=boost)
        nearest = self.retriever.nearest(resolved.query, 3)
        return self.answerer.answer(Asked(shown, resolved.query, kind, resolved.followup), hits, nearest)

    @_in_lexicon
    def search(self, query: str, k: int = 10, source: str | None = None, story: str | None = None) -> list[Hit]:
        """Passages for staff look-ups, within one issue or story when asked.

        Passages holding the query as typed come first, then those holding all
        its words, then at least half of them (rag.search.keywords; within a group, more
        occurrences first, then the retriever's order). When no passage holds
        any and the query is in English, those BM25 finds by pinyin. Never
        padded with passages that only resemble the query: a filter that
        matches nothing gives nothing. Hit.score is the share of the query's
        words the passage holds (1.0 for the whole phrase).
        """
        from rag.search.keywords import Keywords
        from rag.text import is_latin, latin_terms

        q = clean(query, self.settings.max_question_chars)

        def keep(c: Chunk) -> bool:
            return (source is None or c.source == source) and (story is None or story in c.title)

        kept = [c for c in self.chunks if keep(c)]
        if not kept:
            return []
        words = Keywords.of(q)
        matched = [(c, m) for c in kept for m in [words.match(c.text)] if m is not None]
        order: dict[int, int] = {}
        if len(matched) > 1:  # the retriever's order breaks ties within a group
            ranked = self.retriever.search(q, k=len(self.chunks), mode=self.settings.mode,
                                           candidates=len(self.chunks), keep=keep)
            order = {h.chunk.id: h.rank for h in ranked}
        found = []
        for c, m in matched:
            share = 1.0 if m.tier == 0 else len(m.found) / max(m.of, 1)
            found.append(((m.tier, -m.count, order.get(c.id, len(self.chunks) + 1), c.id), c, share))
        if not found:
            if not is_latin(q) or not [t for t in latin_terms(q) if t.isalpha()]:
                return []
            # English letters cannot be found in Chinese text; pinyin names can (Heze -> 菏泽)
            hits = self.retriever.search(q, k=k, mode="lexical", candidates=max(self.settings.candidates, 4 * k),
                                         keep=keep)
            return [Hit(h.chunk, round(h.lexical_coverage or 0.0, 3), h.rank) for h in hits]
        found.sort(key=lambda x: x[0])
        return [Hit(c, round(share, 3), r) for r, (_, c, share) in enumerate(found[:k], 1)]

    def describe(self) -> dict:
        issues: dict[str, dict] = {}
        for st in self.stories:
            d = issues.setdefault(st.source, {"source": st.source, "stories": 0, "dates": []})
            d["stories"] += 1
            if st.date and st.date not in d["dates"]:
                d["dates"].append(st.date)
        return {"issues": list(issues.values()), "stories": len(self.stories), "chunks": len(self.chunks),
                "model": self.manifest.get("model"), "skipped": [list(x) for x in self.skipped]}
