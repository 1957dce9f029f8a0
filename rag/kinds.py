"""Closed sets: what a question asks for, and why an answer was refused.

`kind_of` reads the kind of answer a question asks for from its question words
(the patterns are data, in rag/knowledge/zh.json). `Refusal` names each reason
for refusing; `refusal_text` words it for people, in Chinese or English, with
the detail (the name the issues never use, the year asked about) filled in.
Rendering branches on these values, never on the words of a message.
"""

from __future__ import annotations

import re
from enum import Enum
from functools import lru_cache

from rag.knowledge import language


class Kind(str, Enum):
    AMOUNT = "amount"  # a figure: money, count, area, duration, score, temperature
    DATE = "date"
    PERSON = "person"  # 谁: a name, or who in a description (县法律援助中心)
    PLACE = "place"
    LIST = "list"
    WHICH = "which"  # 哪个镇 / which town: a name ending with the noun asked about
    TITLE = "title"  # an office or position
    REASON = "reason"  # 为什么: a clause
    METHOD = "method"  # 怎么 / 如何: a clause


class Refusal(str, Enum):
    BAD_QUESTION = "bad_question"  # not a question (empty, markup only, too long)
    NO_PASSAGE = "no_passage"  # no passage passed the relevance gates
    UNKNOWN_NAME = "unknown_name"  # asks about a name the issues never use (GDP)
    NOT_COVERED = "not_covered"  # the best story does not cover the question's words
    OTHER_STORY = "other_story"  # the question's most specific word is not in the answer's story
    NO_ANSWER = "no_answer"  # relevant passages, none holding an answer of the kind asked
    OTHER_QUALIFIER = "other_qualifier"  # the text is about another year or phase
    NOT_CONFIDENT = "not_confident"  # the reader's evidence is below the fitted threshold


MESSAGES = {
    Refusal.BAD_QUESTION: ("{detail}", "{detail}"),
    Refusal.NO_PASSAGE: ("这几期报纸中没有找到与问题相关的内容。", "These issues have nothing related to the question."),
    Refusal.UNKNOWN_NAME: ("这几期报纸没有提到“{detail}”。", "These issues never mention “{detail}”."),
    Refusal.NOT_COVERED: ("这几期报纸中没有足够的内容回答这个问题。", "These issues do not say enough to answer this."),
    Refusal.OTHER_STORY: ("找到的报道没有讲“{detail}”的这方面内容。",
                          "The story found does not say this about “{detail}”."),
    Refusal.NO_ANSWER: ("找到了相关报道，但其中没有提到问题所问的内容。",
                        "Related stories were found, but they do not give what was asked."),
    Refusal.OTHER_QUALIFIER: ("找到了相关报道，但说的是{detail}的情况，不是问题所问的。",
                              "The stories found speak of {detail}, not of what was asked."),
    Refusal.NOT_CONFIDENT: ("这几期报纸中没有找到可靠的答案。", "No reliable answer was found in these issues."),
}


def refusal_text(refusal: Refusal, detail: str | None = None, lang: str = "zh") -> str:
    zh, en = MESSAGES[refusal]
    return (en if lang == "en" else zh).format(detail=detail or "")


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[Kind, re.Pattern]]:
    return [(Kind(k), re.compile(p)) for k, p in language()["kinds"]]


def kind_of(folded_question: str) -> Kind | None:
    """The first kind whose question words the (folded) question uses; None for an open question."""
    for kind, pattern in _patterns():
        if pattern.search(folded_question):
            return kind
    return None
