"""The real default model on the real issue (slow: loads the model, embeds the issue once).

Questions and expected figures are the ones the project was asked to answer;
the index is built in a temporary folder once for the whole module.
"""

from __future__ import annotations

import pytest

from conftest import REAL_ISSUE
from rag.config import Settings
from rag.engine import Engine
from rag.ingest.issues import read_issue
from rag.ingest.spans import locate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    index = tmp_path_factory.mktemp("real-index")
    return Engine.open(Settings(data_dir=REAL_ISSUE.parent, index_dir=index), progress=lambda m: None)


@pytest.fixture(scope="module")
def source():
    return read_issue(REAL_ISSUE)


def assert_traceable(ans, source):
    assert ans.citations
    for c in ans.citations:
        assert c.source == REAL_ISSUE.name
        assert locate(c.text, source, c.start, c.end), (c.rank, c.text[:30], c.start, c.end)


def assert_answer(ans, source, figure, story_word="现代医药港"):
    assert ans.answerable, ans.reason
    assert ans.answer == figure
    assert story_word in ans.citations[0].story
    assert figure in ans.citations[0].text
    assert source[ans.answer_start:ans.answer_end] == figure
    assert ans.citations[0].start <= ans.answer_start < ans.answer_end <= ans.citations[0].end
    assert_traceable(ans, source)


def test_index_covers_the_issue(engine):
    d = engine.describe()
    assert d["issues"][0]["source"] == REAL_ISSUE.name
    assert d["stories"] == 4 and d["chunks"] > 4
    assert d["skipped"] == []


def test_investment(engine, source):
    assert_answer(engine.ask("现代医药港计划投资多少"), source, "300亿元")


def test_followup_pair(engine, source):
    first = "现代医药港计划投资多少？"
    assert_answer(engine.ask(first), source, "300亿元")
    ans = engine.ask("那它占地多大？", [first])
    assert ans.followup
    assert "现代医药港" in ans.query and "占地" in ans.query
    assert_answer(ans, source, "4平方公里")


def test_english_question(engine, source):
    assert_answer(engine.ask("How much will the pharmaceutical port invest?"), source, "300亿元")


def test_traditional_chinese(engine, source):
    assert_answer(engine.ask("現代醫藥港計劃投資多少？"), source, "300亿元")


@pytest.mark.parametrize("question", ["菏泽市2021年的GDP是多少？", "北京明天会下雨吗？"])
def test_refusals_show_nearest_passages(engine, source, question):
    ans = engine.ask(question)
    assert not ans.answerable
    assert ans.answer is None and ans.reason
    assert 1 <= len(ans.citations) <= 3
    assert_traceable(ans, source)


def test_bad_question_with_real_model(engine):
    ans = engine.ask("<script>alert(1)</script>")
    assert not ans.answerable and ans.reason


def test_long_question_is_cut_for_the_reader_not_a_panic(engine, source):
    """A question of a few hundred characters once made the reader's tokenizer
    panic (stride not below the room left for the passage): it is cut to its
    first tokens for reading, and the answer is still traceable."""
    reader = engine.answerer.reader
    filler = "党障升港民思刘物度步学料发港区班展上要装思间济做制通全直四环业没优工持营步坚菏宜大展务产秆信机速"
    long_q = "现代医药港计划投资多少？" + filler * 8
    cut = reader.fit_question(long_q)
    assert long_q.startswith(cut) and len(reader.tokens.encode(cut).ids) == reader.max_question
    assert reader.fit_question("现代医药港计划投资多少？") == "现代医药港计划投资多少？"
    windows = reader.windows(long_q, ["现代医药港占地4平方公里，规划建设周期5年，计划投资300亿元。" * 6])
    assert 1 <= len(windows) <= 4
    for q in (long_q[:500], filler * 6, "投资" * 250):
        ans = engine.ask(q)
        if ans.answerable:
            assert_traceable(ans, source)


# The questions of issue 21, as a new user asked them in the browser.

@pytest.mark.xfail(strict=True, reason="known miss: 300亿元 is right but its pick probability (0.56) is below "
                   "show_above (0.59, fitted on held-out development questions); see README, Evaluation")
def test_investment_is_bold(engine, source):
    ans = engine.ask("现代医药港计划投资多少？")
    assert_answer(ans, source, "300亿元")
    assert ans.answer_shown, ans.confidence


def test_area_alone(engine, source):
    assert_answer(engine.ask("现代医药港占地多大？"), source, "4平方公里")


@pytest.mark.parametrize("question", ["现代医药港的董事长是谁？", "美华5G光芯片项目投资多少？", pytest.param(
    "What is the weather in Heze tomorrow?", marks=pytest.mark.xfail(
        strict=True, reason="known miss: answered with a date (4月17日) the answerable model lets through"))])
def test_issue_does_not_say(engine, question):
    ans = engine.ask(question)
    assert not ans.answerable, (ans.answer, ans.sentence)


@pytest.mark.xfail(strict=True, reason="known miss: refused (answerable 0.51 below refuse_below 0.66)")
def test_named_manager_is_found(engine, source):
    ans = engine.ask("侯军旗是哪家企业的总经理？")
    assert ans.answerable, ans.reason
    assert "侯军旗" in ans.citations[0].text
    assert_traceable(ans, source)


@pytest.mark.xfail(strict=True, reason="known miss: refused, like the question it follows")
def test_what_he_said(engine, source):
    first = "侯军旗是哪家企业的总经理？"
    ans = engine.ask("他说了什么？", [first])
    assert ans.answerable, ans.reason
    assert any("侯军旗" in c.text for c in ans.citations[:2])
    assert_traceable(ans, source)
