"""rag.web.render: escaping, answer highlighting, refusals, turns, the plain-text
copy, the staff search and the staff log (pure, fast)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from rag.web import render
from rag.web.feedback import Unanswered
from rag.kinds import Refusal
from rag.types import Answer, Chunk, Citation, Hit

EVIL = '记者说<img src=x onerror=alert(1)>和<script>alert(1)</script>都在"这里"。'


def _cite(rank=1, text="城东污水处理厂二期工程总投资2.6亿元。", hl=None, story="城东污水处理厂二期投产", **kw):
    return Citation(rank=rank, story=story, paragraph=kw.get("paragraph", 2), text=text, score=0.8,
                    source=kw.get("source", "tiny-issue.txt"), start=kw.get("start", 120), end=kw.get("end", 140),
                    highlight=hl)


def _answer(question="总投资多少？", answer="2.6亿元", sentence="城东污水处理厂二期工程总投资2.6亿元。", cites=None, **kw):
    text = "城东污水处理厂二期工程总投资2.6亿元。"
    i = text.index("2.6亿元")
    cites = cites if cites is not None else (_cite(hl=(i, i + 5)), _cite(rank=2, text="别的段落。", story="南湖新区"))
    kw.setdefault("answer_shown", answer is not None)
    return Answer(question=question, query=kw.pop("query", question), answerable=kw.pop("answerable", True),
                  answer=answer, sentence=sentence, citations=tuple(cites), **kw)


def _no_raw_markup(html: str) -> None:
    assert "<img" not in html and "<script" not in html


class _Attrs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        self.found.append(dict(attrs, tag=tag))


def attrs(html: str) -> list[dict]:
    p = _Attrs()
    p.feed(html)
    return p.found


def copy_text(html: str) -> str:
    """What the copy button gives for a reply: its data-copy, as the browser reads it."""
    return next(a["data-copy"] for a in attrs(html) if "data-copy" in a)


def shown(html: str) -> str:
    """The reply's markup without its plain-text copy (the attribute repeats the sentence)."""
    return re.sub(r' data-copy="[^"]*"', "", html)


def test_esc_escapes_markup_and_folds_blank_lines():
    s = render.esc("a<b>&'\"\n\nc")
    assert s == "a&lt;b&gt;&amp;&#x27;&quot; c"


def test_mark_wraps_the_span_and_escapes_around_it():
    text = "<i>投资</i>300亿元"
    i = text.index("300")
    out = render.mark(text, (i, i + 5))
    assert out == "&lt;i&gt;投资&lt;/i&gt;<mark>300亿元</mark>"


def test_mark_ignores_a_span_outside_the_text():
    assert render.mark("abc", (2, 9)) == "abc"
    assert render.mark("abc", (2, 2)) == "abc"
    assert render.mark("abc", None) == "abc"


def test_answer_bold_in_sentence_and_highlight_in_source():
    para = "4月8日，城东污水处理厂二期工程正式投产，城东污水处理厂二期工程总投资2.6亿元。"
    i = para.index("2.6亿元")
    html = render.render_answer(_answer(cites=(_cite(text=para, hl=(i, i + 5)),)), anchor="t")
    assert "城东污水处理厂二期工程总投资<b>2.6亿元</b>。" in html
    assert "总投资<mark>2.6亿元</mark>。" in html  # the passage says more than the sentence: shown, marked
    html = render.render_answer(_answer(), anchor="t")
    # one numbered link per supporting citation, pointing at its list item
    assert re.search(r'<a class="rag-ref" href="#t-1">\[1\]</a>', html)
    assert 'id="t-1"' in html and 'id="t-2"' in html
    assert "《城东污水处理厂二期投产》 第2段" in html
    assert "tiny-issue.txt · 字符 120–140" in html
    assert "检索：" not in html  # not a follow-up
    assert "\n\n" not in html  # a blank line would end the HTML block in Markdown


def test_followup_shows_the_query_searched():
    html = render.render_answer(_answer(question="那它占地多大？", query="现代医药港 占地多大", followup=True))
    assert '检索：现代医药港 占地多大' in html


def test_issue_markup_is_shown_as_text_everywhere():
    text = "前文。" + EVIL
    i = text.index("<script>")
    cite = _cite(text=text, hl=(i, i + 8), story="<b>标题</b>", source="x<y>.txt")
    ans = _answer(question="<img src=x onerror=alert(1)>?", answer="<script>", sentence=EVIL, cites=[cite])
    html = render.render_answer(ans)
    _no_raw_markup(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>&lt;script&gt;</b>" in html  # the short answer is bold, still escaped
    assert "<mark>&lt;script&gt;</mark>" in html
    assert "《&lt;b&gt;标题&lt;/b&gt;》" in html and "x&lt;y&gt;.txt" in html


def test_refusal_says_not_found_and_lists_nearest_passages_unhighlighted():
    cite = _cite(hl=(0, 3))
    ans = _answer(question="火星基地建在哪里？", answer=None, sentence=None, cites=[cite], answerable=False,
                  reason="最接近的段落没有回答这个问题")
    html = render.render_answer(ans)
    assert "这几期报纸中没有找到“火星基地建在哪里？”的答案。" in html
    assert "最接近的段落" in html and "<mark>" not in html and "<b>" not in html
    assert "城东污水处理厂二期工程总投资2.6亿元。" in html


def test_refusal_without_passages():
    html = render.render_answer(_answer(question="?", answer=None, sentence=None, cites=[], answerable=False))
    assert "没有找到相关段落" in html and "<ol" not in html


def test_english_question_gets_english_labels_and_chinese_source():
    html = render.render_answer(_answer(question="How much is the total investment?"))
    assert "Sources" in html and "paragraph 2" in html and "<b>2.6亿元</b>" in html
    refusal = render.render_answer(_answer(question="Who won the World Cup?", answer=None, sentence=None,
                                           cites=[], answerable=False))
    assert "Not found in these issues" in refusal


def test_short_answer_outside_the_sentence_is_shown_apart():
    html = render.render_answer(_answer(answer="二期", sentence="日处理能力10万吨。"))
    assert "日处理能力10万吨。" in html and "答案：<b>二期</b>" in html


def test_supporting_citation_is_the_one_holding_the_sentence():
    cites = (_cite(rank=1, text="别的段落。"), _cite(rank=2))
    html = render.render_answer(_answer(cites=cites), anchor="t")
    assert 'href="#t-2"' in html and 'href="#t-1"' not in html


def test_citation_line_and_hits():
    ch = Chunk(id=0, source="tiny-issue.txt", story=1, title="城东<污水>处理厂", paragraph=3,
               text=EVIL, start=10, end=42)
    hit = Hit(chunk=ch, score=0.5, rank=1)
    assert render.hit_line(hit) == "《城东<污水>处理厂》第3段，tiny-issue.txt [10–42]"
    html = render.render_hits([hit], "<q>")
    _no_raw_markup(html)
    assert "《城东&lt;污水&gt;处理厂》第3段，tiny-issue.txt [10–42]" in html
    assert "没有含“&lt;q&gt;”的段落" in render.render_hits([], "<q>")
    assert "所选期次或报道中没有含" in render.render_hits([], "5G", filtered=True)


def test_overview_counts_issues_and_dates():
    info = {"issues": [{"source": "a<1>.txt", "stories": 4, "dates": ["5月29日", "4月17日"]}],
            "stories": 4, "chunks": 37, "model": "m"}
    html = render.render_overview(info)
    assert "已收录 1 期报纸，4 篇报道，37 个段落块" in html
    assert "a&lt;1&gt;.txt" in html and "5月29日、4月17日" in html


def test_notice_is_escaped():
    assert render.render_notice("<b>x</b>") == '<div class="rag-reply"><p class="rag-notice">&lt;b&gt;x&lt;/b&gt;</p></div>'


def test_overview_lists_files_that_could_not_be_read():
    html = render.render_overview({"issues": [], "stories": 0, "chunks": 0, "skipped": [["bad<x>.txt", "无法解码"]]})
    assert "bad&lt;x&gt;.txt" in html and "未能读取（无法解码）" in html


def test_refusal_reason_shown_only_when_it_adds_something():
    base = dict(question="GDP是多少？", answer=None, sentence=None, cites=[], answerable=False)
    html = render.render_answer(_answer(refusal=Refusal.UNKNOWN_NAME, detail="GDP", **base))
    assert "这几期报纸没有提到“GDP”" in html
    html = render.render_answer(_answer(refusal=Refusal.NO_PASSAGE, **base))
    assert shown(html).count("这几期报纸中没有找到") == 1
    # in the asker's language, whatever language the engine's own reason is in
    html = render.render_answer(_answer(refusal=Refusal.UNKNOWN_NAME, detail="GDP",
                                        **dict(base, question="What is the GDP?")))
    assert "These issues never mention “GDP”" in html and "没有提到" not in html


def test_a_short_answer_not_confident_enough_is_not_bold():
    html = render.render_answer(_answer(answer_shown=False))
    assert "<b>" not in html and "<mark>" not in html and "2.6亿元" in html


def test_uncited_passages_fold_away_under_details():
    html = render.render_answer(_answer(), anchor="t")
    shown, folded = html.split("<details", 1)
    assert 'id="t-1"' in shown and 'id="t-2"' in folded and "其他相关段落（1）" in folded


def test_search_marks_every_literal_keyword_occurrence():
    assert render.mark_all("<a>投资b投资", "投资") == "&lt;a&gt;<mark>投资</mark>b<mark>投资</mark>"
    assert render.mark_all("abc", "投资") == "abc"
    assert render.mark_all("a<b", "<") == "a<mark>&lt;</mark>b"


# ------------------------------------------------------------ one reply, no repetition

def test_a_source_that_is_the_sentence_is_not_printed_twice():
    html = shown(render.render_answer(_answer(), anchor="t"))
    assert html.count("城东污水处理厂二期工程总投资") == 1  # the sentence once, not again as source [1]
    assert 'id="t-1"' in html and "《城东污水处理厂二期投产》 第2段" in html and "tiny-issue.txt · 字符 120–140" in html


# ------------------------------------------------------------ copy gives text

def test_copy_gives_the_sentence_and_a_citation_line_in_plain_text():
    html = render.render_answer(_answer(), anchor="t", reply="0123456789ab")
    text = copy_text(html)
    assert text == ("城东污水处理厂二期工程总投资2.6亿元。[1]\n"
                    "[1] 《城东污水处理厂二期投产》第2段，tiny-issue.txt [120–140]")
    assert 'data-reply="0123456789ab"' in html
    assert "\n" not in html  # line breaks in the copy are entities: no blank line ends the block


def test_copy_of_markup_is_the_text_and_the_attribute_is_escaped():
    cite = _cite(text=EVIL)
    html = render.render_answer(_answer(question="q<", answer=None, sentence=EVIL, cites=[cite]))
    _no_raw_markup(html)
    assert copy_text(html).startswith(EVIL)  # the browser reads back exactly the issue's text


def test_copy_of_a_refusal_has_its_reason_and_nearest_sources():
    html = render.render_answer(_answer(question="菏泽的GDP是多少？", answer=None, sentence=None, answerable=False,
                                        refusal=Refusal.UNKNOWN_NAME, detail="gdp"))
    lines = copy_text(html).splitlines()
    assert lines[0] == "这几期报纸中没有找到“菏泽的GDP是多少？”的答案。"
    assert lines[1] == "这几期报纸没有提到“GDP”。"  # the detail as the asker typed it, not folded
    assert lines[2].startswith("[1] 《城东污水处理厂二期投产》第2段")


# ------------------------------------------------------------ languages

def test_english_asker_gets_english_labels_reasons_and_assumption():
    html = render.render_answer(_answer(question="How much will it invest?", assumed="城东污水处理厂二期"))
    assert "Sources" in html and "来源" not in html
    assert "Taken to be about “城东污水处理厂二期”" in html
    html = render.render_answer(_answer(question="What is Heze's GDP?", answer=None, sentence=None, cites=[],
                                        answerable=False, refusal=Refusal.UNKNOWN_NAME, detail="gdp"))
    assert "These issues never mention “GDP”" in html and "没有" not in shown(html)


def test_chinese_assumption_line():
    html = render.render_answer(_answer(question="那它总投资多少？", assumed="城东污水处理厂二期"))
    assert "按“城东污水处理厂二期”理解" in html
    assert copy_text(html).startswith("按“城东污水处理厂二期”理解")


def test_a_bad_question_shows_only_why():
    html = render.render_answer(Answer(question="<b></b>", query="", answerable=False, answer=None, sentence=None,
                                       refusal=Refusal.BAD_QUESTION, detail="请输入一个问题。"))
    assert "请输入一个问题。" in html and "没有找到" not in html and "<b>" not in html


# ------------------------------------------------------------ turns

def _turn(turn, question="你好", cites=()):
    return Answer(question=question, query="", answerable=False, answer=None, sentence=None, citations=tuple(cites),
                  turn=turn)


def test_help_reply_says_what_the_chat_does_with_examples_to_click():
    html = render.render_answer(_turn("greeting"), examples=["现代医药港计划投资多少？", "<i>x</i>？"])
    assert "你好！" in html and "答案摘自原文" in html
    assert html.count('class="rag-example"') == 2 and "&lt;i&gt;x&lt;/i&gt;？" in html
    _no_raw_markup(html)
    assert "<i>" not in shown(html)
    assert "现代医药港计划投资多少？" in copy_text(html)
    en = render.render_answer(_turn("help", "help"), examples=["现代医药港计划投资多少？"])
    assert "How to use it" in en and "For example" in en and "可以" not in shown(en)
    bye = render.render_answer(_turn("bye", "再见"), examples=["现代医药港计划投资多少？"])
    assert "再见" in bye and "rag-example" not in bye


def test_which_story_lists_each_story_with_its_byline():
    c = Citation(1, "城东<污水>处理厂二期投产", 1, "通讯员 陈晨", 0.0, "tiny-issue.txt", 150, 157, (4, 6))
    html = render.render_answer(_turn("which_story", "这篇报道是谁写的？", [c]), anchor="w")
    assert "你问的是哪一篇报道" in html and "《城东&lt;污水&gt;处理厂二期投产》" in html
    assert "通讯员 <b>陈晨</b>" in html and 'id="w-1"' in html
    assert "tiny-issue.txt [150–157]" in copy_text(html)


# ------------------------------------------------------------ staff search

def _hit(text, rank=1, title="城东污水处理厂二期投产"):
    return Hit(Chunk(id=rank, source="tiny-issue.txt", story=1, title=title, paragraph=rank, text=text, start=10 * rank,
                     end=10 * rank + len(text)), 1.0, rank)


def test_search_results_mark_the_words_say_how_they_match_and_copy_one_line_each():
    hits = [_hit("接入5G网络，5G基站。"), _hit("总投资<b>2.6亿元</b>，5G在建。", rank=2)]
    html = render.render_hits(hits, "5G")
    _no_raw_markup(html)
    assert "接入<mark>5G</mark>网络，<mark>5G</mark>基站。" in html
    assert "含“5G” 2 处" in html and "含“5G” 1 处" in html  # a count a person can read, not a fused score
    assert "相关度" not in html
    copies = [a["data-copy"] for a in attrs(html) if a.get("class") == "rag-copy"]
    assert copies == [render.hit_line(h) for h in hits]
    assert "总投资&lt;b&gt;2.6亿元&lt;/b&gt;" in html
    words = render.render_hits([_hit("现代医药港计划投资300亿元。")], "现代医药港 投资")
    assert "含全部" in words and "<mark>现代</mark>" in words or "<mark>现代医药港</mark>" in words


# ------------------------------------------------------------ staff log

def test_unanswered_list_is_escaped_with_counts_and_days():
    rows = [Unanswered("<img src=x>GDP？", 3, 2, 1, 0, "2026-11-01T08:00:00+00:00", "2026-11-02T09:30:00+00:00",
                       "GDP", "这几期报纸没有提到“GDP”。", ())]
    html = render.render_unanswered(rows, [("2026-11-02", 2, 1, 0)])
    _no_raw_markup(html)
    assert "&lt;img src=x&gt;GDP？" in html and "3 次（未答 2，踩 1）" in html and "2026-11-02 09:30" in html
    assert "未答 2 · 踩 1 · 赞 0" in html
    assert "还没有" in render.render_unanswered([], [])


def _bars(html: str) -> list[tuple[str, float]]:
    """(series class, width %) of every bar in the per-day chart, in order."""
    return [(m.group(1), float(m.group(2))) for m in
            re.finditer(r'class="rag-bar (rag-bar-\w+)" style="width:([0-9.]+)%"', html)]


def test_the_per_day_chart_draws_bars_as_long_as_their_counts_with_a_scale_and_a_legend():
    html = render.render_unanswered([], [("2026-11-03", 3, 1, 2), ("2026-11-02", 0, 0, 6)], zone="Asia/Shanghai")
    bars = _bars(html)
    assert [c for c, _ in bars] == ["rag-bar-refused", "rag-bar-down", "rag-bar-up"] * 2  # a bar for 👍 too
    widths = [w for _, w in bars]
    assert widths == [50, pytest.approx(100 / 6, abs=0.01), pytest.approx(100 / 3, abs=0.01), 0, 0, 100]
    # 3 refusals and 1 👎: three times as long, not the same length
    assert widths[0] == pytest.approx(3 * widths[1], rel=0.01)
    ticks = re.findall(r'class="rag-tick" style="left:([0-9.]+)%">(\d+)<', html)
    assert [(float(x), int(n)) for x, n in ticks] == [(0, 0), (50, 3), (100, 6)]  # the scale ends at the longest bar
    assert "最长的条 = 6 次" in html
    legend = re.search(r'<div class="rag-legend">(.*?)</div>', html).group(1)
    assert [re.search(r"(rag-bar-\w+)", k).group(1) for k in legend.split("rag-key")[1:4]] == \
        ["rag-bar-refused", "rag-bar-down", "rag-bar-up"]
    assert re.findall(r"</span>(未答|踩|赞)</span>", legend) == ["未答", "踩", "赞"]
    assert "未答 3 · 踩 1 · 赞 2" in html and "未答 0 · 踩 0 · 赞 6" in html  # the numbers, not only their picture
    assert "Asia/Shanghai" in html and "UTC" not in html


def test_a_chart_of_one_count_has_a_two_label_scale_and_an_empty_log_no_chart():
    html = render.render_days([("2026-11-02", 1, 0, 0)])
    assert [w for _, w in _bars(html)] == [100, 0, 0]
    assert re.findall(r'class="rag-tick"[^>]*>(\d+)<', html) == ["0", "1"]
    assert render.render_days([]) == ""


def test_unanswered_times_are_labelled_with_their_zone():
    rows = [Unanswered("GDP？", 1, 1, 0, 0, "2026-11-02T01:00:00+08:00", "2026-11-02T17:30:00+08:00", "GDP", "没有。", ())]
    html = render.render_unanswered(rows, [("2026-11-02", 1, 0, 0)], zone="Asia/Shanghai")
    assert "最近 2026-11-02 17:30（Asia/Shanghai）" in html and "每天的次数（Asia/Shanghai 时间）" in html
