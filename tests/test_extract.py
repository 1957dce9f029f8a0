"""Short-answer finders on made-up news sentences."""

from __future__ import annotations

import pytest

from rag.answer import extract


def found(finder, text: str, question: str = "") -> list[str]:
    return [text[a:b] for a, b in finder(text, question)]


# ------------------------------------------------------------------ amounts

PARK = "青石湾湿地公园总投资3.5亿元，占地300亩，建设周期2年，共有12家企业参与建设。"


def test_amounts_without_hint_lists_every_figure_in_order():
    assert found(extract.amounts, PARK) == ["3.5亿元", "300亩", "2年", "12家"]


@pytest.mark.parametrize("question, answer", [
    ("公园总投资多少？", "3.5亿元"),
    ("how much will the park cost?", "3.5亿元"),
    ("公园占地多大？", "300亩"),
    ("公园面积有多少亩？", "300亩"),
    ("建设周期多久？", "2年"),
    ("how many companies take part?", "12家"),
])
def test_question_words_pick_the_unit(question, answer):
    assert found(extract.amounts, PARK, question) == [answer]


@pytest.mark.parametrize("question", ["有几家企业参与建设？", "有几家企业？", "参与建设的企业有多少家？"],
                         ids=["noun-then-verb", "noun-only", "no-noun"])
def test_count_may_carry_the_counted_noun_but_nothing_more(question):
    # 12家 or 12家企业 both answer; 12家企业参与 drags the question's verb along
    assert found(extract.amounts, PARK, question) in (["12家"], ["12家企业"])


def test_amount_keeps_its_qualifier():
    assert found(extract.amounts, "活动吸引了超过2000人参加。", "有多少人参加") == ["超过2000人"]
    assert found(extract.amounts, "项目总投资约30亿元。", "总投资多少") == ["约30亿元"]


def test_amount_written_with_word_number():
    assert found(extract.amounts, "园区总投资过百亿元。", "投资多少") == ["过百亿元"]


def test_day_and_year_are_not_amounts():
    assert found(extract.amounts, "6月2日，项目开工。") == []
    assert found(extract.amounts, "2021年，园区产值80亿元。", "产值多少") == ["80亿元"]


def test_prefix_is_not_borrowed_from_the_word_before():
    text = "现场签约12个项目，总投资30亿元。"
    assert found(extract.amounts, text, "签约了几个项目") == ["12个"]


# ------------------------------------------------------------------ dates

def test_day_preferred_when_asked_which_day():
    text = "公园2021年3月开工建设，5月29日上午举行开园仪式。"
    assert found(extract.dates, text, "哪天开园") == ["5月29日上午"]
    assert found(extract.dates, text, "when did the park open") == ["5月29日上午"]


def test_all_dates_when_no_day_asked():
    text = "公园2021年3月开工建设，5月29日上午举行开园仪式。"
    assert found(extract.dates, text) == ["2021年3月", "5月29日上午"]


def test_year_question_wants_a_year():
    text = "签约仪式于6月2日举行，项目计划2022年投产。"
    assert found(extract.dates, text, "项目哪一年投产") == ["2022年"]


# ------------------------------------------------------------------ people

def test_names_after_titles():
    text = "区党工委书记李向东，管委会主任王建国、副主任刘芳参加活动。"
    assert found(extract.people, text) == ["李向东", "王建国", "刘芳"]


def test_names_in_the_question_are_excluded():
    text = "区党工委书记李向东，管委会主任王建国、副主任刘芳参加活动。"
    assert found(extract.people, text, "李向东和谁参加了活动") == ["王建国", "刘芳"]


@pytest.mark.parametrize("text, name", [
    ("陈立新表示，项目将于年底投产。", "陈立新"),
    ("孙海燕说，这里环境很好。", "孙海燕"),
    ("总经理周明介绍了企业情况。", "周明"),
    ("张立强强调，要抓好落实。", "张立强"),
])
def test_name_before_speech_verb_or_after_title(text, name):
    assert found(extract.people, text) == [name]


def test_several_names_in_one_clause():
    assert found(extract.people, "区长王建国、副区长刘芳陪同调研。") == ["王建国", "刘芳"]


def test_no_name_without_a_surname():
    assert found(extract.people, "大家表示，这里环境很好。") == []


def test_three_character_name_ending_in_a_speech_character():
    assert found(extract.people, "市委书记张立强在讲话中指出，要抓好落实。") == ["张立强"]


# ------------------------------------------------------------------ places

@pytest.mark.parametrize("text, place", [
    ("全区重点工作推进会在区行政中心召开。", "区行政中心"),
    ("座谈会于区行政中心举行。", "区行政中心"),
    ("调研组来到青石湾湿地公园调研。", "青石湾湿地公园"),
])
def test_place_before_event_verb(text, place):
    assert found(extract.places, text) == [place]


def test_in_a_time_is_not_a_place():
    assert found(extract.places, "项目在今年顺利推进，进展良好。") == []


# ------------------------------------------------------------------ lists

@pytest.mark.parametrize("text, items", [
    ("园区主要发展生物医药、医疗器械、健康食品等产业。", "生物医药、医疗器械、健康食品"),
    ("项目由上海建工、中建八局、山东路桥共同承建。", "上海建工、中建八局、山东路桥"),
], ids=["closed-by-deng", "preposition-before"])
def test_list_items_joined_and_trimmed(text, items):
    assert found(extract.lists, text)[0] == items


@pytest.mark.parametrize("text, items", [
    ("活动设置了书法展示、非遗体验、亲子阅读三个板块。", "书法展示、非遗体验、亲子阅读"),
    ("参加签约的有华润医药、齐鲁制药、步长制药。", "华润医药、齐鲁制药、步长制药"),
    ("重点推进新材料、高端装备、电子信息三大产业。", "新材料、高端装备、电子信息"),
], ids=["particle-before-and-verb-after", "verb-before", "verb-before-and-count-after"])
def test_list_edges_are_words_of_the_items(text, items):
    assert found(extract.lists, text)[0] == items


def test_no_list_without_enumeration_comma():
    assert found(extract.lists, "园区主要发展生物医药产业。") == []


# ------------------------------------------------------------------ dispatch

def test_candidates_dispatch_by_kind():
    text = "4月8日，城东污水处理厂投产，总投资2.6亿元。"
    assert [text[a:b] for a, b in extract.candidates("amount", text, "投资多少")] == ["2.6亿元"]
    assert [text[a:b] for a, b in extract.candidates("date", text, "哪天投产")] == ["4月8日"]
    assert extract.candidates(None, text) == []
    assert extract.candidates("no-such-kind", text) == []


@pytest.mark.parametrize("text, question, expected", [
    ("聚焦招商引资、项目建设“两个主业”，聚力重点产业", "今年要聚焦几个主业？", "两个主业"),
    ("共有120家企业参加，提供岗位3500个。", "有多少家企业参加？", "120家企业"),
    ("共有120家参加。", "有多少家企业参加？", "120家"),
])
def test_count_takes_the_counted_noun_but_not_the_verb(text, question, expected):
    span = extract.amounts(text, question)[0]
    a, b = extract.with_counted(text, span, question)
    assert text[a:b] == expected
