"""Short answers inside a sentence: amounts, dates and lists here; people,
offices, places and named things in rag.entities.

Each finder takes a (repaired, Simplified) sentence and gives candidate spans
(start, end) of the kind the question asks for. Patterns are about how news
text writes these things (number + unit, 5月29日, title + name, 在…召开,
items joined by 、), not about any one issue.
"""

from __future__ import annotations

import re

from rag.answer.entities import DATE_RE, disjoint, people, places, spans_of, titles, which  # noqa: F401 (DATE_RE, people… re-exported)
from rag.text import tagged

NUM = r"(?:\d+(?:[.,]\d+)*|[一二两三四五六七八九十百千]+)"
UNITS_AREA = "平方公里|万平方米|平方米|平方千米|公顷|亩"
UNITS_MONEY = "万亿元|亿元|万元|千元|元|美元"
UNITS_TIME = "周年|个月|年|天|日|小时"
UNITS_COUNT = "个|家|项|名|人|位|次|批|条|所|座|台|套|种|期|届|户|村|大"
UNITS_OTHER = "吨|公里|千米|米|%|％|倍|万人|万户|万辆"
AMOUNT_RE = re.compile(
    rf"(?:近|(?<![签节预合条公契大])约|超过|超|逾|过|共|达)?{NUM}(?:多|余)?(?:万|亿)?"
    rf"(?:{UNITS_AREA}|{UNITS_MONEY}|{UNITS_OTHER}|{UNITS_TIME}|{UNITS_COUNT})"
)
# 过百亿元: an amount written with a word number
# (a bare 亿元, as in 亿元以上项目, is a unit, not an amount)
WORD_AMOUNT_RE = re.compile(rf"(?<![\d百千万亿])(?:(?:过|超|近)[百千万亿]+|[百千万]+亿?)(?:{UNITS_MONEY})")

# Unit families the question's words ask for.
# Unit families the question's words ask for, most specific first: 多少个项目
# asks for a count even when the question also says 亿元以上 or "investment".
UNIT_HINTS = [
    (re.compile(rf"(?:几|多少)(?:{UNITS_COUNT})|how many|number of"), UNITS_COUNT),
    (re.compile(r"占地|面积|多大|多少亩|how big|how large|\barea\b|\bsize\b"), UNITS_AREA + "|" + UNITS_OTHER),
    (re.compile(r"周期|多久|多长时间|几年|多少年|how long|years"), UNITS_TIME),
    (re.compile(r"百分之|比例|增长|涨|降|percent|rate"), "%|％|倍"),
    (re.compile(r"投资|钱|资金|金额|亿|万元|产值|收入|费|价|补贴|how much|invest|cost|money|fee|price"), UNITS_MONEY),
]
ASKING_RE = re.compile(r"多少|多大|多长|多高|多远|几|how (?:much|many|big|large|long)")

_ITEM = r"(?:(?!等)[\u4e00-\u9fffA-Za-z0-9（）()]){1,24}"
LIST_RE = re.compile(rf"{_ITEM}(?:、{_ITEM})+(?:等)?")


def amounts(text: str, question: str = "") -> list[tuple[int, int]]:
    spans = disjoint(spans_of(AMOUNT_RE, text) + spans_of(WORD_AMOUNT_RE, text))
    spans = sorted(s for s in spans if not _inside_date(text, s))
    classifier = re.search(rf"(?:几|多少)({UNITS_COUNT})", question)
    if classifier:  # 多少户 -> 4300余户, not 26个; 多少家商户 is never answered by 二期
        return [s for s in spans if text[s[0]:s[1]].endswith(classifier.group(1))]
    # the words just before the question word say what is measured (总投资多大:
    # money, though 多大 alone would ask for an area); then the whole question
    m = ASKING_RE.search(question)
    near = question[max(0, m.start() - 4):m.start()] if m else ""
    if classifier:
        scopes = (question,)
    else:
        scopes = (near, question)
    for scope in scopes:
        for hint, units in UNIT_HINTS:
            if scope and hint.search(scope):
                # asked for an area, an amount of money, a count: nothing else will do
                return [s for s in spans if re.search(rf"(?:{units})", text[s[0]:s[1]])]
    if re.search(r"多少(?!钱)[\u4e00-\u9fff]", question):
        # 多少老人: a count if the sentence gives one (150余名, not 320平方米);
        # 多少高标准农田 may still be an area (4.6万亩)
        counts = [s for s in spans if re.search(rf"(?:{UNITS_COUNT}|人次|万人)$", text[s[0]:s[1]])]
        return counts or spans
    return spans


def with_counted(text: str, span: tuple[int, int], question: str) -> tuple[int, int]:
    """几个主业 -> 两个主业: a count followed by the thing the question counts."""
    counted = re.search(r"(?:几|多少)(?:个|家|项|名|位|大)([\u4e00-\u9fff]{1,4})", question)
    if counted:
        from rag.text import words

        noun = words(counted.group(1))[0]  # 多少家企业参加 -> 企业, not the verb after it
        while len(noun) > 1 and not text.startswith(noun, span[1]):
            noun = noun[:-1]
        if len(noun) > 1 and text.startswith(noun, span[1]):
            return span[0], span[1] + len(noun)
    return span


def _inside_date(text: str, span: tuple[int, int]) -> bool:
    return any(a <= span[0] and span[1] <= b for a, b in spans_of(DATE_RE, text))


DAY_QUESTION_RE = re.compile(r"哪天|哪一天|几号|几月几|日期|什么时候|啥时|何时|when|what (?:date|day)")
YEAR_QUESTION_RE = re.compile(r"哪年|哪一年|哪个年|几几年|which year|what year")
RELATIVE_RE = re.compile(r"^(?:今年|去年|明年)")


def dates(text: str, question: str = "") -> list[tuple[int, int]]:
    spans = spans_of(DATE_RE, text)
    # 今年 only answers when the text gives nothing more exact
    exact = [s for s in spans if not RELATIVE_RE.match(text[s[0]:s[1]])]
    spans = exact or spans
    if YEAR_QUESTION_RE.search(question):  # asked for a year: 6月2日 will not do
        return [s for s in exact if re.search(r"\d{4}年", text[s[0]:s[1]])]
    if DAY_QUESTION_RE.search(question):  # asked for a day: a bare year will not do
        days = [s for s in spans if re.search(r"[日号]|上午|下午|晚", text[s[0]:s[1]])]
        return days or spans
    return spans


def _trim(item: str, limit: int, from_end: bool) -> str:
    """Cut an item back to whole jieba words, at most `limit` characters."""
    from rag.text import words

    if len(item) <= limit:
        return item
    keep = ""
    ws = words(item)
    for w in (reversed(ws) if from_end else ws):
        if len(keep) + len(w) > limit:
            break
        keep = w + keep if from_end else keep + w
    return keep or item


def _trim_first(item: str, limit: int) -> str:
    """What leads into a list: 由上海市… -> 上海市…, 主要发展医药制剂 -> 医药制剂,
    设置了书法展示 -> 书法展示, 有华润医药 -> 华润医药."""
    def strip(text: str) -> str:
        ws = tagged(text)
        while len(ws) > 1 and ws[0][1][:1] in ("p", "c", "u", "v", "d", "r") and ws[0][1] != "vn":
            ws = ws[1:]
        return "".join(w for w, _ in ws)

    return strip(_trim(strip(item), limit, from_end=True))


COUNT_START_RE = re.compile(r"^[\d一二两三四五六七八九十几多]")


def _trim_last(item: str, limit: int) -> str:
    """What follows a list: 新能源新材料三大主导产业和新 -> 新能源新材料. Cut at a
    count (三个, 三大) or a particle, not at a verb: 阅读 in 亲子阅读 is an item."""
    if len(item) <= limit:
        return item
    ws = tagged(item)
    for i, (w, flag) in enumerate(ws):
        if i and (COUNT_START_RE.match(w) or flag[:1] in ("m", "q", "u", "c", "p", "d")):
            item = "".join(w for w, _ in ws[:i])
            break
    return _trim(item, limit, from_end=False)


def lists(text: str, question: str = "") -> list[tuple[int, int]]:
    """Items joined by 、. The pattern cannot see where the list starts or,
    without 等, where it ends, so the outer items are cut back to about the
    length of the inner ones, at word boundaries (jieba)."""
    out = []
    for a, b in spans_of(LIST_RE, text):
        core = text[a:b]
        closed = core.endswith("等")
        if closed:
            core = core[:-1]
        items = core.split("、")
        inner = items[1:-1] if len(items) > 2 else items[1:] if closed else items
        limit = max(len(i) for i in inner) + 1
        first = _trim_first(items[0], limit)
        last = items[-1] if closed else _trim_last(items[-1], limit)
        start = a + len(items[0]) - len(first)
        end = a + len(core) - (len(items[-1]) - len(last))
        if all(re.search(r"\d", i) for i in items):
            continue  # 楼栋185栋、居民4300余户: figures, not a list of things
        if end > start:
            out.append((start, end))
    return sorted(out, key=lambda s: s[0] - s[1])  # longest first


FINDERS = {"amount": amounts, "date": dates, "person": people, "place": places, "list": lists,
           "which": which, "title": titles}


def candidates(kind: str | None, text: str, question: str = "") -> list[tuple[int, int]]:
    finder = FINDERS.get(kind or "")
    return finder(text, question) if finder else []
