"""Questions: cleaning, the kind of answer asked for, follow-ups, one-character slips.

Corpora and questions are made up (a wetland park, a sewage plant, a job fair),
so nothing here leans on the real issue's wording.
"""

from __future__ import annotations

import pytest

from rag.errors import BadQuestion
from rag.kinds import kind_of as _kind_of
from rag.search.query import clean, correct, resolve
from rag.text import fold


def kind_of(q):
    return _kind_of(fold(q))
from rag.text import fold

CORPUS = fold(
    "城东污水处理厂二期工程正式投产，总投资2.6亿元，日处理能力10万吨。"
    "南湖新区春季招聘会在会展中心举行，共有120家企业参加。新区人社局局长赵立新介绍了就业情况。"
    "青石湾湿地公园占地300亩，由绿源园林公司承建，总经理孙海燕说，公园将于年底开放。"
)

# ------------------------------------------------------------------ clean

@pytest.mark.parametrize("bad", [
    "",
    "   \t\n ",
    "\x00\x01\x02\x1b",
    "\u200b\u200b\ufeff",  # zero-width characters only
    "<b></b>",
    "<div><span></span></div>",
    "&lt;script&gt;&lt;/script&gt;",  # escaped markup is markup too
    "？？？！",  # punctuation only
    None,
])
def test_clean_rejects_what_cannot_be_a_question(bad):
    with pytest.raises(BadQuestion) as e:
        clean(bad, 500)
    assert str(e.value)  # a message for people


def test_clean_rejects_over_long_input_naming_the_limit():
    with pytest.raises(BadQuestion, match="500"):
        clean("问" * 501, 500)
    assert clean("问" * 500, 500) == "问" * 500  # the limit itself is allowed


@pytest.mark.parametrize("q", ["城东污水处理厂二期总投资多少？", "Who spoke at the job fair?", "5G基站有几个？"])
def test_clean_keeps_normal_questions(q):
    assert clean(q, 500) == q


def test_clean_strips_tags_controls_and_outer_space():
    assert clean("  招聘会\x00在哪天举行？ \n", 500) == "招聘会 在哪天举行？"
    out = clean("<script>alert(1)</script>招聘会<b>在哪天</b>举行？", 500)
    assert "<" not in out and ">" not in out
    assert "招聘会" in out and "在哪天" in out and "举行" in out


# ------------------------------------------------------------------ kind_of

@pytest.mark.parametrize("question, kind", [
    ("总投资多少？", "amount"),
    ("占地多大？", "amount"),
    ("有几家企业参加？", "amount"),
    ("建设周期多久？", "amount"),
    ("招聘会在哪天举行？", "date"),
    ("什么时候开工？", "date"),
    ("哪一年建成的？", "date"),
    ("谁承建了湿地公园？", "person"),
    ("总经理是哪位？", "person"),
    ("会议在哪里召开？", "place"),
    ("在什么地方举行？", "place"),
    ("园区有哪些企业？", "list"),
    ("How much will the plant cost?", "amount"),
    ("How many companies took part?", "amount"),
    ("When did the plant open?", "date"),
    ("Who spoke at the meeting?", "person"),
    ("Where was the fair held?", "place"),
    ("What are the main industries?", "list"),
    ("哪家公司承建了湿地公园？", "which"),
    ("Which company built the park?", "which"),
    ("赵立新担任什么职务？", "title"),
    ("介绍一下湿地公园", None),
    ("Tell me about the park", None),
])
def test_kind_of(question, kind):
    assert kind_of(question) == kind


def test_kind_of_reads_traditional_and_full_width():
    assert kind_of("總投資多少？") == "amount"
    assert kind_of("ＷＨＯ spoke?") == "person"


# ------------------------------------------------------------------ resolve

@pytest.mark.parametrize("question, earlier, subject, asked", [
    ("那它占地多大？", "青石湾湿地公园投资多少？", "青石湾湿地公园", "占地多大"),  # pronoun + leading 那
    ("它的日处理能力是多少？", "城东污水处理厂二期总投资多少？", "城东污水处理厂二期", "日处理能力"),
    ("占地多大？", "青石湾湿地公园投资多少？", "青石湾湿地公园", "占地多大"),  # no subject at all
    ("谁承建的？", "青石湾湿地公园在哪里？", "青石湾湿地公园", "谁承建"),
    ("总经理是谁？", "绿源园林公司承建了什么？", "绿源园林公司", "总经理是谁"),
])
def test_followup_carries_the_earlier_subject(question, earlier, subject, asked):
    r = resolve(question, [earlier], CORPUS)
    assert r.followup is True
    assert r.carried == subject
    assert subject in r.query
    assert asked in r.query  # the question's own ask survives the rewrite
    assert "它" not in r.query


def test_followup_without_corpus_still_finds_the_subject():
    r = resolve("那它占地多大？", ["青石湾湿地公园投资多少？"])
    assert r.followup and "青石湾湿地公园" in r.query


def test_followup_of_a_followup_keeps_the_first_subject():
    history = ["城东污水处理厂二期总投资多少？", "那它日处理能力多大？"]
    r = resolve("那它什么时候投产？", history, CORPUS)
    assert r.followup and r.carried == "城东污水处理厂二期"
    assert "投产" in r.query


@pytest.mark.parametrize("question", [
    "南湖新区春季招聘会在哪天举行？",
    "赵立新介绍了什么？",
    "青石湾湿地公园占地多大？",  # names its subject itself
])
def test_standalone_question_is_left_alone(question):
    r = resolve(question, ["城东污水处理厂二期总投资多少？"], CORPUS)
    assert r.query == question
    assert r.followup is False and r.carried is None


def test_no_history_returns_the_question():
    r = resolve("那它占地多大？", [], CORPUS)
    assert r.query == "那它占地多大？" and not r.followup


def test_english_followup_carries_the_earlier_question():
    r = resolve("How big is it?", ["How much did the wetland park cost?"], CORPUS)
    assert r.followup
    assert "wetland park" in r.query and "How big" in r.query


def test_english_standalone_is_left_alone():
    q = "How many companies joined the job fair?"
    assert resolve(q, ["How much did the wetland park cost?"], CORPUS).query == q


# ------------------------------------------------------------------ correct

@pytest.mark.parametrize("slip, fixed", [
    ("城东污水处理场二期投资多少？", "城东污水处理厂二期"),
    ("青石弯湿地公园占地多大？", "青石湾湿地公园"),
    ("南湖新区春记招聘会在哪天？", "春季招聘会"),
])
def test_correct_fixes_one_character_slip(slip, fixed):
    out = correct(slip, CORPUS)
    assert fixed in out
    # only the slip changed: same length, one character differs (punctuation may be folded)
    assert len(out) == len(slip)
    assert sum(a != b for a, b in zip(fold(slip), out)) == 1


@pytest.mark.parametrize("q", [
    "城东污水处理厂二期总投资多少？",  # correct text
    "青石湾湿地公园由谁承建？",
    "火星探测器何时发射？",  # unknown topic: nothing close enough
    "How much did the wetland park cost?",
])
def test_correct_leaves_good_or_unrelated_questions_alone(q):
    assert correct(q, CORPUS) == q


def test_correct_never_changes_question_words():
    corpus = fold("招聘会有多家企业参加，现场气氛热烈。")
    # 有几家企 is one character away from 有多家企, but 几 is the user's question word
    q = "招聘会有几家企业参加？"
    assert correct(q, corpus) == q


def test_correct_leaves_ambiguous_slips_alone():
    corpus = fold("青石湾公园开放了。青石完公园也开放了。")
    q = "青石弯公园几点开放？"  # 湾 or 完, both read wan: no way to tell
    assert correct(q, corpus) == q


def test_correct_only_fixes_what_sounds_alike():
    # 签下 is a word of the question, not a slip for 启下 (承上启下) though one character apart
    corpus = fold("明年是承上启下的一年。大会集中签约项目16个。")
    q = "大会签下的项目有多少？"
    assert correct(q, corpus) == q


def test_correct_without_corpus_is_identity():
    assert correct("城东污水处理场二期投资多少？", "") == "城东污水处理场二期投资多少？"


def test_slips_are_fixed_in_the_first_look_chars_characters_only():
    """A pasted paragraph is searched whole, but its slips are looked for (and its
    words tagged) only in the first LOOK_CHARS characters: the work is bounded."""
    from rag.search.query import LOOK_CHARS, subject

    pad = "，".join(["他们说了很多话"] * (LOOK_CHARS // 8 + 1))
    early = "城东污水处理场二期投资多少？" + pad
    assert "城东污水处理厂二期" in correct(early, CORPUS)
    late = pad + "城东污水处理场二期投资多少？"
    assert correct(late, CORPUS) == late
    assert subject("城东污水处理厂二期投资多少？" + pad, CORPUS) == subject("城东污水处理厂二期投资多少？", CORPUS)
