"""Engine end to end with the fake embedder on the tiny made-up issue."""

from __future__ import annotations

import pytest

from conftest import TINY_ISSUE, FakeEmbedder
from rag.config import Settings
from rag.engine import Engine
from rag.ingest.issues import read_issue
from rag.ingest.spans import locate

SECOND_ISSUE = """\
北岭镇新建文化广场投入使用

本报讯(通讯员 刘洋)5月20日,北岭镇文化广场正式投入使用,广场占地45亩,总投资1800万元。
"""


class CountingEmbedder(FakeEmbedder):
    def __init__(self):
        self.calls = 0

    def encode_passages(self, texts, progress=None):
        self.calls += 1
        return super().encode_passages(texts, progress)


def open_engine(data_dir, index_dir, embedder=None, **settings):
    """An engine on the fake embedder; the rule answer stage unless `answerer` says
    otherwise (these tests are about the engine's mechanics and the rules; the
    reader stage has tests of its own)."""
    settings.setdefault("answerer", "rules")
    messages: list[str] = []
    engine = Engine.open(Settings(data_dir=data_dir, index_dir=index_dir, **settings),
                         progress=messages.append, embedder=embedder or FakeEmbedder())
    return engine, messages


@pytest.fixture
def engine(tiny_data, tmp_path):
    return open_engine(tiny_data, tmp_path / "index")[0]


def assert_traceable(answer, data_dir):
    """Every citation's text sits at its start/end in the issue file; so does the short answer."""
    for c in answer.citations:
        source = read_issue(data_dir / c.source)
        assert locate(c.text, source, c.start, c.end), (c.text, c.start, c.end)
    if answer.answerable and answer.answer_start is not None:
        source = read_issue(data_dir / answer.citations[0].source)
        assert source[answer.answer_start:answer.answer_end] == answer.answer
        assert answer.citations[0].start <= answer.answer_start < answer.answer_end <= answer.citations[0].end


# ------------------------------------------------------------------ building

def test_index_is_built_once_then_reused(tiny_data, tmp_path):
    emb = CountingEmbedder()
    first, _ = open_engine(tiny_data, tmp_path / "index", emb)
    assert emb.calls == 1
    assert (tmp_path / "index" / "current" / "manifest.json").exists()
    second, messages = open_engine(tiny_data, tmp_path / "index", emb)
    assert emb.calls == 1, messages  # loaded, not re-embedded
    assert second.chunks == first.chunks
    assert second.stories == first.stories


def test_changed_issue_triggers_rebuild(tiny_data, tmp_path):
    emb = CountingEmbedder()
    open_engine(tiny_data, tmp_path / "index", emb)
    (tiny_data / "tiny-issue.txt").write_text(TINY_ISSUE + "\n" + SECOND_ISSUE, encoding="utf-8")
    engine, messages = open_engine(tiny_data, tmp_path / "index", emb)
    assert emb.calls == 2
    assert any("issues" in m for m in messages), messages  # says why
    assert any("文化广场" in s.title for s in engine.stories)


def test_changed_chunk_size_triggers_rebuild(tiny_data, tmp_path):
    emb = CountingEmbedder()
    open_engine(tiny_data, tmp_path / "index", emb)
    open_engine(tiny_data, tmp_path / "index", emb, chunk_size=40)
    assert emb.calls == 2


def test_second_issue_is_picked_up(tiny_data, tmp_path):
    first, _ = open_engine(tiny_data, tmp_path / "index")
    (tiny_data / "z-second.txt").write_text(SECOND_ISSUE, encoding="utf-8")
    engine, _ = open_engine(tiny_data, tmp_path / "index")
    sources = [d["source"] for d in engine.describe()["issues"]]
    assert sources == ["tiny-issue.txt", "z-second.txt"]
    assert len(engine.chunks) > len(first.chunks)
    ans = engine.ask("北岭镇文化广场占地多大？")
    assert ans.answerable and ans.answer == "45亩"
    assert ans.citations[0].source == "z-second.txt"
    assert_traceable(ans, tiny_data)


def test_unreadable_file_is_skipped_and_reported(tiny_data, tmp_path):
    (tiny_data / "broken.txt").write_bytes(b"\x00\x01\x02\xff\xfe" * 200)
    engine, messages = open_engine(tiny_data, tmp_path / "index")
    skipped = engine.describe()["skipped"]
    assert [name for name, _ in skipped] == ["broken.txt"]
    assert skipped[0][1]  # with a reason
    assert any("broken.txt" in m for m in messages)
    assert {s.source for s in engine.stories} == {"tiny-issue.txt"}
    # still reported when the index is loaded rather than built
    again, _ = open_engine(tiny_data, tmp_path / "index")
    assert [name for name, _ in again.describe()["skipped"]] == ["broken.txt"]


def test_describe(engine):
    d = engine.describe()
    assert d["model"] == FakeEmbedder.name
    assert d["stories"] == len(engine.stories) == 2
    assert d["chunks"] == len(engine.chunks) > 0
    assert d["issues"] == [{"source": "tiny-issue.txt", "stories": 2, "dates": ["3月12日", "4月8日"]}]
    assert d["skipped"] == []


# ------------------------------------------------------------------ asking

@pytest.mark.parametrize("question, answers", [
    ("城东污水处理厂二期总投资多少？", {"2.6亿元"}),
    ("春季招聘会有多少家企业参加？", {"120家", "120家企业"}),  # the count, maybe with what is counted
    ("今年计划新增多少个就业岗位？", {"1.2万个"}),  # in a paragraph rejoined across a line break
], ids=["money", "count", "rejoined-paragraph"])
def test_amount_question_answers_with_the_figure(engine, tiny_data, question, answers):
    ans = engine.ask(question)
    assert ans.answerable, ans.reason
    assert ans.answer in answers
    assert ans.kind == "amount"
    assert ans.answer in ans.sentence and ans.sentence == ans.citations[0].text
    assert ans.citations[0].rank == 1
    assert_traceable(ans, tiny_data)


def test_date_and_person_questions(engine, tiny_data):
    date = engine.ask("南湖新区春季招聘会在哪天举行？")
    assert date.answerable and date.answer == "3月12日"
    person = engine.ask("人社局局长是谁？")
    assert person.answerable and person.answer == "赵立新"
    assert_traceable(date, tiny_data)
    assert_traceable(person, tiny_data)


def test_followup_uses_history(engine, tiny_data):
    ans = engine.ask("它的日处理能力是多少？", ["城东污水处理厂二期总投资多少？"])
    assert ans.followup and "污水处理厂" in ans.query
    assert ans.answerable and ans.answer == "10万吨"
    assert_traceable(ans, tiny_data)


def test_a_chain_of_pronoun_turns_is_not_asked_again_turn_by_turn(engine, monkeypatch):
    """他/她 looks up the previous answer once; that lookup does not chase its own
    他/她 further back (six such turns once meant seven full answers)."""
    calls = []
    real = engine._answer
    monkeypatch.setattr(engine, "_answer", lambda *a, **k: calls.append(1) or real(*a, **k))
    history = ["赵立新是什么职务？"] + ["他说了什么？"] * 5
    engine.ask("他还说了什么？", history)
    assert 1 < len(calls) <= 4  # this turn, the previous one, and at most a retry of each


def test_bad_earlier_turns_are_ignored(engine):
    ans = engine.ask("城东污水处理厂二期总投资多少？", ["", "\x00", "<b></b>"])
    assert ans.answerable and ans.answer == "2.6亿元"


@pytest.mark.parametrize("question", ["北京明天会下雨吗？", "菏泽市的GDP是多少？"])
def test_off_topic_question_is_refused_with_nearest_passages(engine, tiny_data, question):
    ans = engine.ask(question)
    assert not ans.answerable
    assert ans.answer is None and ans.answer_start is None
    assert ans.reason
    assert 1 <= len(ans.citations) <= 3
    assert_traceable(ans, tiny_data)


@pytest.mark.parametrize("question", [
    "",
    "   ",
    "问" * 1_000_000,
    "\x00\x01\x02\x7f",
    "<script></script>",
    "<script>alert(1)</script>",
    None,
], ids=["empty", "blank", "1MB", "controls", "script-tag", "script-with-text", "None"])
def test_bad_questions_never_raise(engine, question):
    ans = engine.ask(question)
    assert ans.answerable is False
    assert ans.reason
    assert ans.answer is None
    assert len(ans.question) <= 1000  # a huge question is not echoed back whole
    assert "<script" not in ans.query


def test_answer_json_fields(engine):
    d = engine.ask("城东污水处理厂二期总投资多少？").to_json()
    assert set(d) == {"question", "query", "answerable", "answer", "sentence", "citations",
                      "answer_start", "answer_end", "kind", "reason", "refusal", "answer_shown", "confidence"}
    assert set(d["citations"][0]) == {"rank", "story", "paragraph", "text", "score", "source", "start", "end"}


# ------------------------------------------------------------------ search

def test_search_finds_passages(engine):
    hits = engine.search("污水处理厂")
    assert hits and "污水处理厂" in hits[0].chunk.text
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_search_story_filter(engine):
    hits = engine.search("新区", story="招聘会")
    assert hits
    assert all("招聘会" in h.chunk.title for h in hits)
    assert engine.search("新区", story="没有这个标题") == []


def test_search_source_filter(tiny_data, tmp_path):
    (tiny_data / "z-second.txt").write_text(SECOND_ISSUE, encoding="utf-8")
    engine, _ = open_engine(tiny_data, tmp_path / "index")
    everywhere = {h.chunk.source for h in engine.search("总投资", k=10)}
    assert everywhere == {"tiny-issue.txt", "z-second.txt"}
    only = engine.search("总投资", k=10, source="z-second.txt")
    assert only and {h.chunk.source for h in only} == {"z-second.txt"}


class QueryCountingEmbedder(FakeEmbedder):
    def __init__(self):
        self.queries: list[str] = []

    def encode_queries(self, texts):
        self.queries += list(texts)
        return super().encode_queries(texts)


@pytest.mark.parametrize("question, history", [
    ("污水处理厂总投资多少？", []),  # answered: searched, then cited
    ("北京的地铁有几条线？", []),  # refused: the nearest passages are listed too
    ("那它日处理能力多少？", ["污水处理厂总投资多少？"]),  # a follow-up also looks up the earlier story
])
def test_each_query_is_embedded_once(tiny_data, tmp_path, question, history):
    emb = QueryCountingEmbedder()
    engine, _ = open_engine(tiny_data, tmp_path / "index", emb)
    emb.queries.clear()
    engine.ask(question, history)
    assert emb.queries and len(emb.queries) == len(set(emb.queries)), emb.queries


# ------------------------------------------------------------------ segments

class PassageCounter(FakeEmbedder):
    """Counts the passages embedded."""

    def __init__(self):
        self.passages = 0

    def encode_passages(self, texts, progress=None):
        self.passages += len(texts)
        return super().encode_passages(texts, progress)


def test_only_the_changed_issue_is_embedded_again(tiny_data, tmp_path):
    """Adding an issue embeds its passages alone; changing one embeds that one;
    removing one embeds nothing; each time the index equals a fresh full build's."""
    import numpy as np

    emb = PassageCounter()
    first, _ = open_engine(tiny_data, tmp_path / "index", emb)
    tiny = len(first.chunks)
    assert emb.passages == tiny

    def same_as_fresh(engine):
        fresh, _ = open_engine(tiny_data, tmp_path / f"fresh{len(list(tmp_path.iterdir()))}")
        n = engine.retriever.vectors.ntotal
        assert engine.chunks == fresh.chunks
        assert np.array_equal(engine.retriever.vectors.reconstruct_n(0, n), fresh.retriever.vectors.reconstruct_n(0, n))

    (tiny_data / "z-second.txt").write_text(SECOND_ISSUE, encoding="utf-8")
    emb.passages = 0
    engine, messages = open_engine(tiny_data, tmp_path / "index", emb)
    second = len(engine.chunks) - tiny
    assert emb.passages == second and any("1 unchanged issue(s) read back" in m for m in messages), messages
    same_as_fresh(engine)

    (tiny_data / "z-second.txt").write_text(SECOND_ISSUE.replace("45亩", "46亩"), encoding="utf-8")
    emb.passages = 0
    engine, _ = open_engine(tiny_data, tmp_path / "index", emb)
    assert emb.passages == second
    assert engine.ask("北岭镇文化广场占地多大？").answer == "46亩"
    same_as_fresh(engine)

    (tiny_data / "tiny-issue.txt").unlink()
    emb.passages = 0
    engine, _ = open_engine(tiny_data, tmp_path / "index", emb)
    assert emb.passages == 0 and len(engine.chunks) == second
    same_as_fresh(engine)


def test_saved_terms_are_used_when_jieba_is_as_it_was(tiny_data, tmp_path, monkeypatch):
    """A reopened index reads its BM25 terms instead of cutting every passage
    again; they give the same index as cutting them."""
    import numpy as np

    from rag.search import retrieve

    built, _ = open_engine(tiny_data, tmp_path / "index")

    def no_cutting(chunks):
        raise AssertionError("terms cut again although saved")

    with monkeypatch.context() as m:
        m.setattr(retrieve, "term_counts", no_cutting)
        reopened, _ = open_engine(tiny_data, tmp_path / "index")
    with built.lexicon.active():  # cut with the archive's names, as the engine cuts
        fresh = retrieve.term_counts(built.chunks)
    for bm25 in (reopened.retriever.bm25, built.retriever.bm25):
        assert bm25.terms.vocab == fresh.vocab
        assert all(np.array_equal(getattr(bm25.terms, k), getattr(fresh, k)) for k in ("offsets", "ids", "counts"))
    q = "南湖新区招聘会提供多少岗位？"
    assert reopened.ask(q) == built.ask(q)


def test_saved_terms_are_cut_again_when_jieba_changed(tiny_data, tmp_path, monkeypatch):
    from rag import text

    open_engine(tiny_data, tmp_path / "index")
    monkeypatch.setattr(text.Lexicon, "fingerprint", lambda self: "0" * 64)  # another jieba, other code, other names
    cut = []
    from rag.search import retrieve

    real = retrieve.term_counts
    monkeypatch.setattr(retrieve, "term_counts", lambda chunks: cut.append(1) or real(chunks))
    engine, _ = open_engine(tiny_data, tmp_path / "index")
    assert cut and engine.ask("南湖新区招聘会提供多少岗位？").answerable


def test_forced_rebuild_embeds_every_issue_again(tiny_data, tmp_path):
    emb = PassageCounter()
    first, _ = open_engine(tiny_data, tmp_path / "index", emb)
    emb.passages = 0
    Engine.open(Settings(data_dir=tiny_data, index_dir=tmp_path / "index", answerer="rules"),
                progress=lambda m: None, embedder=emb, rebuild=True)
    assert emb.passages == len(first.chunks)


def test_an_archives_names_stay_with_its_engine(tiny_data, tmp_path):
    """Opening an archive teaches its names to its own copy of jieba's dictionary:
    jieba's own and any other archive in the process cut as before."""
    import jieba

    from rag import text
    from rag.search import retrieve

    text.plain()
    before = (len(jieba.dt.FREQ), jieba.dt.total)
    engine, _ = open_engine(tiny_data, tmp_path / "index")
    assert engine.names == ["赵立新"]
    assert (len(jieba.dt.FREQ), jieba.dt.total) == before
    assert text.words("赵立新说") == ["赵", "立新", "说"]  # jieba's own cut, outside the engine
    with engine.lexicon.active():
        assert text.words("赵立新说") == ["赵立新", "说"]

    other = tmp_path / "other"
    other.mkdir()
    (other / "plain.txt").write_text((tiny_data / "tiny-issue.txt").read_text(encoding="utf-8")
                                     .replace("赵立新", "本报记者"), encoding="utf-8")
    alone, _ = open_engine(other, tmp_path / "other-index")
    assert alone.names == [] and alone.lexicon.fingerprint() == text.plain().fingerprint()
    cut = []
    real = retrieve.term_counts
    retrieve.term_counts = lambda chunks: cut.append(1) or real(chunks)
    try:
        again, _ = open_engine(other, tmp_path / "other-index")  # after the first archive: the same terms
    finally:
        retrieve.term_counts = real
    assert not cut and again.ask("赵立新说了什么？") == alone.ask("赵立新说了什么？")


def test_a_build_cuts_again_only_issues_that_are_new_or_hold_a_new_name(tiny_data, tmp_path, monkeypatch):
    """Adding an issue cuts its passages; an older issue's terms are read back unless
    a name taught since occurs in it. Either way the terms are those of cutting all."""
    import numpy as np

    from rag import text
    from rag.search import retrieve
    issue = (tiny_data / "tiny-issue.txt").read_text(encoding="utf-8")
    index = tmp_path / "index"
    open_engine(tiny_data, index)
    cut: list[str] = []
    real = text.passage_terms
    monkeypatch.setattr(text, "passage_terms", lambda title, body: cut.append(body) or real(title, body))

    def step(name: str, person: str):
        cut.clear()
        (tiny_data / name).write_text(issue.replace("赵立新", person), encoding="utf-8")
        engine, _ = open_engine(tiny_data, index)
        with engine.lexicon.active():
            fresh = retrieve.term_counts(engine.chunks)
        terms = engine.retriever.bm25.terms
        assert terms.vocab == fresh.vocab
        assert all(np.array_equal(getattr(terms, k), getattr(fresh, k)) for k in ("offsets", "ids", "counts"))
        return engine, len(cut)  # the issues share most passages' texts: count, not match

    engine, n = step("second.txt", "孙海涛")  # a name no other issue holds
    assert "孙海涛" in engine.names and n == sum(c.source == "second.txt" for c in engine.chunks)
    engine, n = step("third.txt", "赵立")  # a new name inside the first issue's 赵立新, not in the second's text
    assert "赵立" in engine.names and n == sum(c.source in ("tiny-issue.txt", "third.txt") for c in engine.chunks)
