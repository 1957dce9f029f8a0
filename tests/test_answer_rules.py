"""Refusal and selection rules that are not about retrieval."""

import pytest

from rag import extract
from rag.answer import qualifier_mismatch
from rag.query import kind_of


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
