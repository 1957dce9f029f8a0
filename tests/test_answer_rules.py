"""Refusal and selection rules that are not about retrieval."""

import pytest

from rag.answer import extract
from rag.answer.rules import qualifier_mismatch
from rag.kinds import kind_of as _kind_of
from rag.text import fold


def kind_of(q):
    return _kind_of(fold(q))


@pytest.mark.parametrize("query, sentence, refused", [
    ("水城县2022年一季度地区生产总值是多少", "2021年，地区生产总值首次突破300亿元大关。", True),
    ("2021年地区生产总值是多少", "2021年，地区生产总值首次突破300亿元大关。", False),
    ("地区生产总值是多少", "2021年，地区生产总值首次突破300亿元大关。", False),
    ("2022年计划投资多少", "总投资3.2亿元，规划占地2600亩。", False),  # the sentence names no year: not judged
    ("产业园二期计划投资多少", "该产业园总投资3.2亿元，一期建成大棚120座。", True),
    ("产业园一期建成多少座大棚", "该产业园总投资3.2亿元，一期建成大棚120座。", False),
])
def test_qualifier_mismatch(query, sentence, refused):
    assert (qualifier_mismatch(query, sentence) is not None) is refused


def test_organisation_name_is_not_a_person_question():
    q = "幸福里小区改造的施工单位叫什么名字？"
    assert kind_of(q) == "which"
    # a person's name in the sentence is no answer; nor is any word ending in 单
    assert extract.candidates("which", "居民张秀兰说，采取居民点单、街道派单的模式。", q) == []


def test_which_takes_the_proper_name_before_a_bare_noun():
    text = "开工仪式在城东街道幸福里小区举行。"
    assert [text[a:b] for a, b in extract.which(text, "开工仪式在哪个小区办的？")] == ["幸福里小区"]


def test_a_list_of_figures_is_not_a_list_of_things():
    text = "全县计划改造老旧小区26个，涉及楼栋185栋、居民4300余户。重点实施雨污分流、外墙保温、加装电梯等项目。"
    found = [text[a:b] for a, b in extract.lists(text)]
    assert found == ["雨污分流、外墙保温、加装电梯"]


@pytest.mark.parametrize("text, question, expected", [
    # the words just before the question word say what is measured
    ("总投资1.26亿元，整治河道全长14.5公里。", "这次综合整治总投资多大？", "1.26亿元"),
    ("占地2600亩，总投资3.2亿元。", "产业园占地多大？", "2600亩"),
    # 多少 + a counted noun: a count when the sentence gives one, else any figure
    ("食堂面积320平方米，每天为150余名老人供餐。", "一天有多少老人来吃饭？", "150余名"),
    ("新建高标准农田4.6万亩。", "今年打算新建多少高标准农田？", "4.6万亩"),
    # a fee is money: a count is no answer
    ("已招募送餐志愿者65名。", "每次收多少配送费？", None),
])
def test_unit_of_the_answer_follows_the_question(text, question, expected):
    found = [text[a:b] for a, b in extract.amounts(text, question)]
    if expected is None:
        assert found == []
    else:
        assert found and found[0] == expected


def test_which_noun_is_the_whole_noun_phrase():
    text = "新校区总建筑面积6.2万平方米。"
    assert extract.which(text, "新校区是哪家建筑公司承建的？") == []
