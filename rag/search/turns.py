"""What a chat turn is, before anything is searched.

A message is either a question about the issues or small talk (你好, 谢谢,
你是谁, help, 再见), which gets a short reply saying what the chat can do and
never a search. `small_talk` names the kind (a `Turn`), `strip_small_talk`
takes pleasantries off a real question (你好，请问… -> 请问…), `lang_of` gives
the asker's language (every label and reason is worded in it), `referent`
says what a question that points back (那它占地多大？) was taken to be about,
and `example_questions` proposes questions from the indexed stories
themselves (the app keeps those the engine answers), never from eval files.

The word lists are data, kept together below, one table per language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from rag.text import fold, is_latin


class Turn(str, Enum):
    GREETING = "greeting"  # 你好, hi
    THANKS = "thanks"  # 谢谢, ok
    IDENTITY = "identity"  # 你是谁, who are you
    HELP = "help"  # 帮助, 能问什么, help
    BYE = "bye"  # 再见, bye
    WHICH_STORY = "which_story"  # 这篇报道是谁写的？ with no story named: the bylines, and which one?


# Whole pieces of a message (between punctuation) that are small talk, folded
# (lower case, Simplified), "/" between phrases. A message is small talk only
# when every piece of it is.
SMALL_TALK = {
    Turn.GREETING: "你好/您好/你们好/大家好/嗨/哈喽/哈罗/喂/早/早上好/上午好/中午好/下午好/晚上好/早安/在吗/在不在/有人吗/"
                   "hi/hello/hey/hiya/hallo/yo/greetings/hi there/hello there/hey there/good morning/good afternoon/"
                   "good evening",
    Turn.THANKS: "谢谢/谢谢你/谢谢您/谢啦/谢了/多谢/感谢/非常感谢/太感谢了/十分感谢/辛苦了/好的/好/嗯/嗯嗯/明白/明白了/知道了/"
                 "懂了/收到/好的谢谢/行/不错/很好/太好了/厉害/赞/thanks/thank you/thank you very much/thanks a lot/"
                 "many thanks/thx/ty/ok/okay/cool/great/nice/got it/perfect",
    Turn.IDENTITY: "你是谁/您是谁/你是什么/你叫什么/你叫什么名字/你是机器人吗/你是人吗/你是ai吗/这是什么/这是什么网站/"
                   "who are you/what are you/what is this/are you a bot/are you human",
    Turn.HELP: "帮助/帮忙/求助/使用说明/说明/菜单/怎么用/如何使用/怎么使用/怎么问/你能做什么/你会什么/你可以做什么/你能干什么/"
               "你有什么用/能问什么/可以问什么/我能问什么/我可以问什么/你能回答什么/有什么功能/help/menu/about/"
               "how does this work/how do i use this/how to use/what can you do/what can i ask",
    Turn.BYE: "再见/拜拜/拜/回见/下次见/晚安/先这样/bye/goodbye/bye bye/see you/see ya/good night",
}
_WORDS = {phrase: turn for turn, phrases in SMALL_TALK.items() for phrase in phrases.split("/")}
# what sits around a small-talk word without changing it: particles, emoji, marks
_FILLER_RE = re.compile(r"[啊呀呢吧哈嘛啦哦喔噢呐~～!！?？。，,.、;；:：…\s\u2600-\u27bf\U0001f300-\U0001faff]+")
_SPLIT_RE = re.compile(r"[，,。.!！?？;；、~～…\n]+")
_CREDIT_WORDS_RE = re.compile(
    r"这篇|那篇|这个|那个|本篇|该篇|这条|那条|报道|文章|新闻|消息|稿子|稿件|通讯员|记者|作者|谁写|写的|撰写|撰稿|执笔|供稿|署名"
    r"|谁拍|拍的|拍摄|摄影|照片|图片|配图|是谁|哪位|谁|的|请问|一下|告诉我"
    r"|\b(?:who|wrote|write|written|reported|report|took|taken|take|the|a|an|this|that|story|article|piece|news"
    r"|photo|photos|picture|pictures|author|reporter|by|was|is|of|it|did|do|does)\b")


def _piece_kind(piece: str) -> Turn | None:
    p = re.sub(r"\s+", " ", _FILLER_RE.sub(" ", fold(piece))).strip()
    return _WORDS.get(p) if p else None


_ORDER = [Turn.HELP, Turn.IDENTITY, Turn.BYE, Turn.THANKS, Turn.GREETING]  # the most telling piece names the turn


def small_talk(message: str) -> Turn | None:
    """The kind of small talk a message is, or None when it asks something
    (你好，现代医药港投资多少？ is a question with a greeting in front)."""
    pieces = [p for p in _SPLIT_RE.split(message or "") if _FILLER_RE.sub("", p)]
    if not pieces or len(pieces) > 4:
        return None
    kinds = [_piece_kind(p) for p in pieces]
    if any(k is None for k in kinds):
        return None
    return next(t for t in _ORDER if t in kinds)


def strip_small_talk(question: str) -> str:
    """The question without leading or trailing pleasantries (你好，…，谢谢!)."""
    parts = re.split(r"([，,。.!！?？;；~～…\n]+)", question)  # pieces and their separators
    pieces = [[parts[i], parts[i + 1] if i + 1 < len(parts) else ""] for i in range(0, len(parts), 2)]
    while len(pieces) > 1 and (_piece_kind(pieces[0][0]) is not None or not _FILLER_RE.sub("", pieces[0][0])):
        pieces.pop(0)
    while len(pieces) > 1 and (_piece_kind(pieces[-1][0]) is not None or not _FILLER_RE.sub("", pieces[-1][0])):
        pieces.pop()
        pieces[-1][1] = pieces[-1][1] if re.search(r"[?？]", pieces[-1][1]) else pieces[-1][1][:1]
    out = "".join(a + b for a, b in pieces).strip()
    return out or question


def lang_of(text: str) -> str:
    """"en" for a message in Latin letters with no Chinese, else "zh"."""
    text = text or ""
    if re.search(r"[\u3400-\u9fff]", text):
        return "zh"
    return "en" if re.search(r"[A-Za-z]{2,}", text) and is_latin(text) else "zh"


def names_no_story(question: str) -> bool:
    """An authorship question that says nothing about which story (这篇报道是谁写的？,
    Who wrote this?): only credit words, pointers and question words."""
    rest = _CREDIT_WORDS_RE.sub(" ", fold(question))
    return not re.search(r"[\u3400-\u9fff]{2,}|[a-z]{3,}|\d", rest)


def referent(sentence: str, query_terms: list[str]) -> str | None:
    """What a sentence says the asked thing of: the words before the first
    question term in its clause (知和（山东）大药厂占地150亩 with 占地 ->
    知和（山东）大药厂). None when no term is found or the prefix is no name."""
    if not sentence:
        return None
    for term in query_terms:
        at = sentence.find(term) if term else -1
        if at <= 0:
            continue
        clause = re.split(r"[，,。；;：:！!？?]", sentence[:at])[-1]
        clause = re.sub(r"^(?:\d+月\d+日|\d+年|今年|去年|目前|其中|同时|此外|另外|据悉|据了解)[上下]?午?", "", clause)
        clause = re.sub(r"(?:计划|规划|预计|总|共|将|已|已经|目前|拟|的)+$", "", clause).strip()
        # the term opens its clause (…，计划投资300亿元) or follows a bare noun (农场占地):
        # the sentence's own subject says more
        m = _LEAD_RE.match(sentence)
        lead = m.group(1) if m else None
        if 2 <= len(clause) <= 24 and re.search(r"[\u3400-\u9fffA-Za-z]", clause):
            return lead if lead and len(clause) < 4 and clause in lead else clause
        if lead:
            return lead
    return None


# a sentence's leading noun phrase: the words before its first verb of this kind
_LEAD_RE = re.compile(r"^(?:\d+月\d+日[上下]?午?，)?([^，。；：]{2,24}?)(?:占地|计划|规划|总投资|投资|位于|是|共有|拥有|有|将|已|正在"
                      r"|正式|建设|建成|投产|投用|开工|竣工|落户|签约|举行|召开|成立|(?=[，。；]))")


# ------------------------------------------------------------ replies

OPENINGS = {
    Turn.GREETING: ("你好！", "Hello!"),
    Turn.THANKS: ("不客气！", "You're welcome!"),
    Turn.IDENTITY: ("我是这几期报纸的问答助手，不是聊天机器人：回答只摘自报纸原文，不会编造。",
                    "I answer questions about these newspaper issues; I am not a general chatbot, and every answer "
                    "is quoted from the issues, never made up."),
    Turn.HELP: ("可以这样用：", "How to use it:"),
    Turn.BYE: ("再见！有问题随时再来问。", "Goodbye! Come back with any question."),
    Turn.WHICH_STORY: ("你问的是哪一篇报道？这几期报纸的报道和作者如下，请带上标题或内容再问一次。",
                       "Which story do you mean? These are the stories and who wrote them; ask again naming one."),
}
ABOUT = (
    "我能回答关于这几期报纸的问题：金额、日期、人物、职务、地点、谁写的报道、照片是谁拍的。答案摘自原文并注明出处"
    "（标题、段落、字符位置）；找不到就直说，并列出最接近的段落。可以接着追问，比如“那它占地多大？”。",
    "I answer questions about these newspaper issues: figures, dates, people, offices, places, who wrote a story "
    "or took a photo. Every answer is quoted from the issues with its source (headline, paragraph, character "
    "offsets); when the issues do not say, I say so and show the nearest passages. Follow-ups work too "
    "(\"How big is it?\"). Ask in Chinese or English.",
)
EXAMPLES_LABEL = ("例如：", "For example:")


def opening(turn: Turn, lang: str) -> str:
    zh, en = OPENINGS[turn]
    return en if lang == "en" else zh


def about(lang: str) -> str:
    return ABOUT[1] if lang == "en" else ABOUT[0]


# ------------------------------------------------------------ example questions

@dataclass(frozen=True)
class Example:
    question: str
    story: str  # the title of the story it comes from
    answer: str | None = None  # what a right answer holds, when known


# A figure after one of these words makes a question: (words before the figure, question ending)
_FIGURES = (("计划投资", "计划投资多少？"), ("总投资", "总投资多少？"), ("投资", "投资多少？"), ("占地", "占地多大？"),
            ("营业收入", "营业收入是多少？"), ("产值", "产值是多少？"), ("税收", "税收是多少？"))
_FIGURE_RE = re.compile(r"\d+(?:\.\d+)?(?:万|亿)?(?:元|亩|平方公里|平方米|万平方米)")
_EVENT_RE = re.compile(r"(\d+月\d+日)(?:上午|下午|晚上)?，(?:[^，。]{0,8}?，)?([^，。在]{2,22}?(?:会|会议|大会|仪式|活动|论坛|典礼|展览|展|节|赛))(?:在[^，。]{2,12}?)?(召开|举行|举办|开幕|启动|签约)")


def example_questions(stories) -> list[Example]:
    """Questions the indexed stories can answer, built from their own text:
    a figure after 投资/占地…, the day an event was held, who wrote a story or
    took its photos. Candidates only: the caller keeps those the engine answers."""
    figures, dates, credits = [], [], []
    for st in stories:
        for p in st.paragraphs:
            for sentence in re.findall(r"[^。！？]+[。！？]?", p.text):
                for words, ending in _FIGURES:
                    m = re.search(re.escape(words) + r"(?:约|达|超过|近)?(" + _FIGURE_RE.pattern + ")", sentence)
                    if m:
                        who = referent(sentence, [words])
                        if who:
                            figures.append(Example(f"{who}{ending}", st.title, m.group(1)))
                        break
                m = _EVENT_RE.search(sentence)
                if m and not re.search(r"\d", m.group(2)[-4:]):
                    dates.append(Example(f"{m.group(2)}是哪天{m.group(3)}的？", st.title, m.group(1)))
        if st.byline:
            credits.append(Example(f"《{st.headline}》这篇报道是谁写的？", st.title))
        elif st.credits:
            credits.append(Example(f"《{st.headline}》的照片是谁拍的？", st.title))
    # one of each kind first, then the rest, so a short list shows the range
    out, seen = [], set()
    for group in zip(*[g + [None] * (max(map(len, (figures, dates, credits))) - len(g)) for g in (figures, dates, credits)]):
        for ex in group:
            if ex is not None and ex.question not in seen:
                seen.add(ex.question)
                out.append(ex)
    return out
