"""Refusal and selection rules that are not about retrieval."""

import pytest

from rag.answer import extract
from rag.answer.rules import qualifier_mismatch
from rag.kinds import kind_of as _kind_of
from rag.text import fold


def kind_of(q):
    return _kind_of(fold(q))


@pytest.mark.parametrize("query, sentence, refused", [
    ("北川县2023年一季度粮食总产量是多少", "2020年，全县粮食总产量首次突破50万吨。", True),
    ("2020年粮食总产量是多少", "2020年，全县粮食总产量首次突破50万吨。", False),
    ("粮食总产量是多少", "2020年，全县粮食总产量首次突破50万吨。", False),
    ("2023年计划投资多少", "总投资5.6亿元，规划占地1800亩。", False),  # the sentence names no year: not judged
    ("物流园二期计划投资多少", "该物流园总投资5.6亿元，一期建成仓库40座。", True),
    ("物流园一期建成多少座仓库", "该物流园总投资5.6亿元，一期建成仓库40座。", False),
])
def test_qualifier_mismatch(query, sentence, refused):
    assert (qualifier_mismatch(query, sentence) is not None) is refused


def test_organisation_name_is_not_a_person_question():
    q = "幸福里小区改造的施工单位叫什么名字？"
    assert kind_of(q) == "which"
    # a person's name in the sentence is no answer; nor is any word ending in 单
    assert extract.candidates("which", "居民张秀兰说，采取居民点单、街道派单的模式。", q) == []


def test_which_takes_the_proper_name_before_a_bare_noun():
    text = "揭牌仪式在北关街道和平里小区举行。"
    assert [text[a:b] for a, b in extract.which(text, "揭牌仪式在哪个小区办的？")] == ["和平里小区"]


def test_a_list_of_figures_is_not_a_list_of_things():
    text = "今年计划修缮校舍12所，涉及教室96间、宿舍310间。配套建设食堂、浴室、图书室等用房。"
    found = [text[a:b] for a, b in extract.lists(text)]
    assert found == ["食堂、浴室、图书室"]


@pytest.mark.parametrize("text, question, expected", [
    # the words just before the question word say what is measured
    ("总投资2.45亿元，新建道路全长8.3公里。", "这次道路工程总投资多大？", "2.45亿元"),
    ("占地1800亩，总投资5.6亿元。", "物流园占地多大？", "1800亩"),
    # 多少 + a counted noun: a count when the sentence gives one, else any figure
    ("活动室面积180平方米，每天接待90余名学生。", "一天有多少学生来活动？", "90余名"),
    ("改造中低产田2.8万亩。", "今年准备改造多少中低产田？", "2.8万亩"),
    # a fee is money: a count is no answer
    ("已组建巡河队伍8支，队员65名。", "每次巡河补贴多少钱？", None),
])
def test_unit_of_the_answer_follows_the_question(text, question, expected):
    found = [text[a:b] for a, b in extract.amounts(text, question)]
    if expected is None:
        assert found == []
    else:
        assert found and found[0] == expected


def test_which_noun_is_the_whole_noun_phrase():
    text = "新馆总建筑面积1.8万平方米。"
    assert extract.which(text, "新馆是哪家建筑公司承建的？") == []
