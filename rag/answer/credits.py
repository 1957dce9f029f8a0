"""Who wrote it, who took the photo: answers from a story's byline and credits.

Bylines (本报讯(通讯员 李海欣)) and photo credits (通讯员 小错 摄) are kept
out of the body text by rag.ingest.issues, so sentence retrieval cannot find them.
A question about authorship is answered from the best-matching story's
metadata instead, cited with the credit's own span in the issue file.
"""

from __future__ import annotations

import re

from rag.types import Story

ASKS_CREDIT_RE = re.compile(
    r"通讯员|记者|作者|谁写|写的|撰写|撰稿|稿子|稿件|执笔|供稿|署名|谁拍|拍的|拍摄|摄影|照片|图片|配图"
    r"|who (?:wrote|reported)|\bauthor\b|\breporter\b|\bphoto|\bpicture")
ASKS_PHOTO_RE = re.compile(r"拍|摄影|照片|图片|配图|photo|picture")
ROLE_RE = re.compile(r"^(?:本报)?(?:特约)?(?:通讯员|记者|实习生|摄影|图|文)[:：\s]*")


NOT_TOPIC_RE = re.compile(ASKS_CREDIT_RE.pattern + r"|报道|文章|新闻|消息|那篇|这篇|哪位|是谁|谁|的")


def asks_credit(question: str) -> bool:
    return bool(ASKS_CREDIT_RE.search(question))


def topic(question: str) -> str:
    """What the story is about, without the authorship words (for retrieval)."""
    return NOT_TOPIC_RE.sub(" ", question).strip() or question


def credit_name(credit: str) -> str:
    """通讯员 小错 摄 -> 小错; 通讯员 李海欣 -> 李海欣."""
    name = ROLE_RE.sub("", credit.strip())
    return re.sub(r"\s*摄$", "", name).strip()


def find_credit(story: Story, source_text: str, photo: bool) -> tuple[str, int, int, int] | None:
    """(credit text, start, end, paragraph) of the story's byline or photo credit.

    The credit is searched in the source near the story's paragraphs, so the
    citation's offsets point at the file's own text. Paragraph is the one it
    stands beside: the first for a byline, the one before for a photo credit.
    """
    wanted = list(story.credits) if photo else [story.byline] if story.byline else list(story.credits)
    if not wanted or not story.paragraphs:
        return None
    lo = max(0, story.paragraphs[0].start - 300)
    hi = min(len(source_text), story.paragraphs[-1].end + 300)
    for credit in wanted:
        if not credit:
            continue
        # the file may use any spacing between role and name
        pattern = r"\s*".join(re.escape(part) for part in credit.split())
        m = re.compile(pattern).search(source_text, lo, hi)
        if not m:
            continue
        para = 1
        for n, p in enumerate(story.paragraphs, 1):
            if p.start <= m.start():
                para = n
        return m.group(0), m.start(), m.end(), para
    return None


def answer_credit(lib, asked, hits, source_text, extract_short: bool = True):
    """Authorship questions: an Answer from the best story's byline or photo credit,
    or None when that story has none. `lib` is a rag.answer.base.Library and
    `source_text(name)` the decoded issue file (credits are cited in the file)."""
    from rag.text import fold
    from rag.types import Answer, Citation

    c = hits[0].chunk
    story = lib.stories[(c.source, c.story)]
    found = find_credit(story, source_text(c.source), bool(ASKS_PHOTO_RE.search(fold(asked.query))))
    if not found:
        return None
    text, start, end, para = found
    name = credit_name(text.strip("()（）本报讯"))
    at = text.rfind(name)
    cite = Citation(1, story.title, para, text, hits[0].score, c.source, start, end,
                    (at, at + len(name)) if at >= 0 and extract_short else None)
    others = tuple(lib.cite(i, h) for i, h in enumerate(hits[: lib.top_k - 1], 2))
    short = extract_short and at >= 0
    return Answer(question=asked.question, query=asked.query, answerable=True, answer=name if short else None,
                  sentence=text, citations=(cite, *others), answer_start=start + at if short else None,
                  answer_end=start + at + len(name) if short else None, kind="person", followup=asked.followup,
                  answer_shown=short)
