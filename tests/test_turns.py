"""Turns: small talk, follow-ups only when needed, the assumed referent,
authorship without context, and the staff search's keyword order and strict
filters (fast: the fake embedder on the tiny made-up issue)."""

from __future__ import annotations

import pytest

from conftest import FakeEmbedder
from rag.config import Settings
from rag.engine import Engine
from rag.search.keywords import Keywords
from rag.search.query import is_followup, resolve
from rag.search.turns import Turn, example_questions, lang_of, names_no_story, referent, small_talk, strip_small_talk

SECOND_ISSUE = """\
北岭镇建成5G智慧农场

本报讯(通讯员 刘洋)5月20日,北岭镇5G智慧农场建成投用,农场占地45亩,总投资1800万元。

农场负责人介绍,农场接入5G网络后,灌溉用水减少三成。
"""


@pytest.fixture
def engine(tiny_data, tmp_path):
    (tiny_data / "z-second.txt").write_text(SECOND_ISSUE, encoding="utf-8")
    return Engine.open(Settings(data_dir=tiny_data, index_dir=tmp_path / "index", answerer="rules"),
                       progress=lambda *a: None, embedder=FakeEmbedder())


# ------------------------------------------------------------ what a turn is

@pytest.mark.parametrize("message, turn", [
    ("你好", Turn.GREETING), ("您好！", Turn.GREETING), ("hi", Turn.GREETING), ("Hello there!", Turn.GREETING),
    ("谢谢", Turn.THANKS), ("谢谢你啊~", Turn.THANKS), ("Thank you!", Turn.THANKS), ("好的，谢谢", Turn.THANKS),
    ("你是谁？", Turn.IDENTITY), ("Who are you?", Turn.IDENTITY),
    ("help", Turn.HELP), ("你好，你能做什么？", Turn.HELP), ("能问什么", Turn.HELP),
    ("再见", Turn.BYE), ("bye", Turn.BYE),
])
def test_small_talk_is_recognised(message, turn):
    assert small_talk(message) is turn


@pytest.mark.parametrize("message", ["你好，请问现代医药港计划投资多少？", "现代医药港计划投资多少？谢谢",
                                     "Hi, how much is the port going to invest?", "好的投资是多少", "谢谢谁",
                                     "help desk phone number?"])
def test_questions_are_not_small_talk(message):
    assert small_talk(message) is None


def test_pleasantries_come_off_a_question():
    assert strip_small_talk("你好，请问现代医药港计划投资多少？") == "请问现代医药港计划投资多少？"
    assert strip_small_talk("现代医药港计划投资多少？谢谢！") == "现代医药港计划投资多少？"
    assert strip_small_talk("Hi! How big is it?") == "How big is it?"
    assert strip_small_talk("招聘会在哪天举行？") == "招聘会在哪天举行？"


@pytest.mark.parametrize("text, lang", [("现代医药港计划投资多少？", "zh"), ("現代醫藥港投資多少？", "zh"),
                                        ("How much will the port invest?", "en"), ("5G", "zh"),
                                        ("What is 现代医药港?", "zh")])
def test_language_of_the_asker(text, lang):
    assert lang_of(text) == lang


def test_authorship_naming_no_story():
    assert names_no_story("这篇报道是谁写的？") and names_no_story("Who wrote this story?")
    assert names_no_story("照片是谁拍的？")
    assert not names_no_story("招聘会的报道是谁写的？")
    assert not names_no_story("Who wrote the story about the job fair?")


def test_referent_is_what_the_sentence_says_it_of():
    assert referent("知和（山东）大药厂占地150亩，计划今年年底建成投产。", ["占地"]) == "知和（山东）大药厂"
    assert referent("现代医药港占地4平方公里，计划投资300亿元。", ["投资"]) == "现代医药港"
    assert referent("", ["投资"]) is None


# ------------------------------------------------------------ follow-ups only when needed

@pytest.mark.parametrize("question", ["其他企业有哪些？", "应该在哪里办理？", "因此投资多少家企业参加招聘会？",
                                      "How much is the Modern Medicine Port going to invest?",
                                      "What did Zhang Hui say about it?", "Is there a job fair in Nanhu?"])
def test_questions_that_stand_alone_are_not_followups(question):
    assert not is_followup(question)


@pytest.mark.parametrize("question", ["该项目投资多少？", "其中有多少家企业？", "这篇报道是谁写的？", "How big is it?"])
def test_questions_that_point_back_are_followups(question):
    assert is_followup(question)


def test_english_question_after_a_chinese_one_is_not_glued_to_it():
    q = "How much is the Modern Medicine Port going to invest?"
    assert resolve(q, ["菏泽的GDP是多少？"]).query == q
    r = resolve("How much land does it cover?", ["青石湾湿地公园投资多少？"])
    assert r.followup and r.query == "青石湾湿地公园 How much land does it cover?"  # the subject, not the question


# ------------------------------------------------------------ the engine's turns

def test_small_talk_after_a_question_is_answered_without_a_search(engine, monkeypatch):
    monkeypatch.setattr(engine.retriever, "search", lambda *a, **k: pytest.fail("searched"))
    a = engine.ask("你好", ["城东污水处理厂二期总投资多少？"])
    assert a.turn == "greeting" and a.query == "" and not a.answerable and a.refusal is None
    assert a.to_json()["turn"] == "greeting"


def test_greeting_before_a_question_is_dropped_and_small_talk_is_no_subject(engine):
    a = engine.ask("你好，请问城东污水处理厂二期总投资多少？")
    assert a.answerable and a.answer == "2.6亿元" and a.turn is None
    b = engine.ask("总投资多少？", ["城东污水处理厂二期日处理能力多大？", "谢谢"])
    assert "城东污水处理厂二期" in b.query and "谢谢" not in b.query


def test_a_pointer_in_an_empty_chat_says_what_it_was_taken_to_mean(engine):
    a = engine.ask("那它总投资多少？")
    assert a.answerable and a.assumed, a
    assert a.assumed in a.sentence or a.assumed == a.citations[0].story
    assert "assumed" in a.to_json()
    plain = engine.ask("城东污水处理厂二期总投资多少？")
    assert plain.assumed is None and "assumed" not in plain.to_json() and "turn" not in plain.to_json()


def test_authorship_without_context_lists_the_bylines(engine):
    a = engine.ask("这篇报道是谁写的？")
    assert a.turn == "which_story" and not a.answerable and a.refusal is None
    names = {c.text[c.highlight[0]:c.highlight[1]] for c in a.citations}
    assert {"王明", "陈晨", "刘洋"} <= names
    tiny = (engine.settings.data_dir / "tiny-issue.txt").read_text(encoding="utf-8")
    c = next(c for c in a.citations if "陈晨" in c.text)
    assert tiny[c.start:c.end] == c.text  # cited at its place in the file
    # with a story in the conversation, the byline of that story
    b = engine.ask("这篇报道是谁写的？", ["城东污水处理厂二期总投资多少？"])
    assert b.answerable and b.answer == "陈晨", b


def test_example_questions_come_from_the_stories(engine):
    exs = example_questions(engine.stories)
    qs = [e.question for e in exs]
    assert any("总投资多少" in q for q in qs) and any("谁写的" in q for q in qs)
    hit = next(e for e in exs if e.question.startswith("城东污水处理厂二期"))
    assert hit.answer == "2.6亿元" and "城东污水处理厂" in hit.story


# ------------------------------------------------------------ staff search

def test_exact_keyword_comes_first_and_nothing_pads_the_list(engine):
    hits = engine.search("5G", k=10)
    assert hits and all("5G" in h.chunk.text for h in hits)
    assert engine.search("５Ｇ", k=10)[0].chunk.id == hits[0].chunk.id  # full-width folded
    assert engine.search("火星基地", k=10) == []


def test_phrase_before_words_before_some_words(engine):
    kw = Keywords.of("污水处理厂 投资")
    assert kw.words == ("污水处理", "投资") or set(kw.words) >= {"投资"}
    hits = engine.search("总投资", k=10)
    assert {h.chunk.source for h in hits} == {"tiny-issue.txt", "z-second.txt"}
    assert all(h.score == 1.0 for h in hits)


def test_filters_are_strict(engine):
    assert engine.search("5G", story="城东污水处理厂二期投产") == []  # the story never says 5G
    assert engine.search("5G", source="tiny-issue.txt") == []
    only = engine.search("总投资", source="z-second.txt")
    assert only and {h.chunk.source for h in only} == {"z-second.txt"}


def test_keyword_spans_for_highlighting():
    kw = Keywords.of("5g")
    text = "接入5G网络，５Ｇ基站"
    assert [text[a:b] for a, b in kw.spans(text)] == ["5G", "５Ｇ"]
