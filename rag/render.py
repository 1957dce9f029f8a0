"""HTML for the web chat: Answers, Hits and the index overview -> strings.

Pure functions, no Gradio import. Every piece of text that comes from an issue
or from a user goes through `esc` before it meets markup, so a story that says
`<script>` shows the word instead of running it, in the browser and in the
reply text that the API returns. Gradio's own sanitizer runs only in the
browser and keeps `<img onerror=...>`'s cousins such as `<svg>`, so we never
rely on it.

A reply is one `<div>` with no blank lines: Markdown leaves an HTML block
alone until the next blank line, so `*`, `_` or `#` in a story are not read
as Markdown.
"""

from __future__ import annotations

import html
import re

from rag.kinds import Refusal, refusal_text
from rag.types import Answer, Citation, Hit

_ASCII_WORDS = re.compile(r"[A-Za-z]{2,}")
_HAN = re.compile(r"[\u3400-\u9fff]")


def esc(text: object) -> str:
    """HTML-escape, and fold line breaks so no blank line ends the HTML block."""
    s = html.escape("" if text is None else str(text), quote=True)
    return re.sub(r"\s*[\r\n]+\s*", " ", s)


def is_english(question: str) -> bool:
    """Mostly Latin words and no Chinese: answer with English labels."""
    return not _HAN.search(question or "") and bool(_ASCII_WORDS.search(question or ""))


LABELS = {
    "zh": {
        "searched": "检索：",
        "sources": "来源",
        "nearest": "最接近的段落",
        "para": "第{n}段",
        "chars": "字符",
        "not_found": "这几期报纸中没有找到“{q}”的答案。",
        "no_passage": "没有找到相关段落。",
        "answer": "答案：",
        "more": "其他相关段落（{n}）",
    },
    "en": {
        "searched": "Searched: ",
        "sources": "Sources",
        "nearest": "Nearest passages",
        "para": "paragraph {n}",
        "chars": "chars",
        "not_found": "Not found in these issues: “{q}”.",
        "no_passage": "No related passage found.",
        "answer": "Answer: ",
        "more": "More related passages ({n})",
    },
}


def mark(text: str, span: tuple[int, int] | None, tag: str = "mark") -> str:
    """Escape `text` and wrap text[i:j] in <tag>, when the span is valid."""
    if span is None:
        return esc(text)
    i, j = span
    if not (0 <= i < j <= len(text)):
        return esc(text)
    return f"{esc(text[:i])}<{tag}>{esc(text[i:j])}</{tag}>{esc(text[j:])}"


def mark_all(text: str, needle: str) -> str:
    """Escape `text` and <mark> every literal occurrence of `needle` (search keywords)."""
    needle = (needle or "").strip()
    if not needle or needle not in text:
        return esc(text)
    return f"<mark>{esc(needle)}</mark>".join(esc(p) for p in text.split(needle))


def citation_line(story: str, paragraph: int, source: str, start: int, end: int) -> str:
    """The plain-text reference staff paste into a report: 《标题》第N段，文件 [start–end]."""
    return f"《{story}》第{paragraph}段，{source} [{start}–{end}]"


def hit_line(h: Hit) -> str:
    ch = h.chunk
    return citation_line(ch.title, ch.paragraph, ch.source, ch.start, ch.end)


def _supporting(answer: Answer) -> list[int]:
    """Ranks of the citations whose text holds the supporting sentence (or the answer)."""
    probe = [t for t in (answer.sentence, answer.answer) if t]
    ranks = [c.rank for c in answer.citations if any(_squash(p) in _squash(c.text) for p in probe[:1])]
    if not ranks and len(probe) > 1:
        ranks = [c.rank for c in answer.citations if _squash(probe[1]) in _squash(c.text)]
    return ranks or ([answer.citations[0].rank] if answer.citations else [])


def _squash(s: str) -> str:
    return re.sub(r"\s+", "", s)


def _refs(ranks: list[int], anchor: str) -> str:
    return "".join(f'<a class="rag-ref" href="#{anchor}-{r}">[{r}]</a>' for r in ranks)


def render_sentence(sentence: str | None, short: str | None) -> str:
    """The supporting sentence with the short answer in bold (first occurrence)."""
    if not sentence:
        return f"<b>{esc(short)}</b>" if short else ""
    if short:
        i = sentence.find(short)
        if i >= 0:
            return mark(sentence, (i, i + len(short)), tag="b")
    return esc(sentence)


def render_citation(c: Citation, anchor: str, lab: dict, highlight: bool = True) -> str:
    passage = mark(c.text, c.highlight if highlight else None)
    return (
        f'<li id="{anchor}-{c.rank}" class="rag-src">'
        f'<div class="rag-src-head"><span class="rag-num">[{c.rank}]</span> '
        f"《{esc(c.story)}》 {lab['para'].format(n=c.paragraph)}</div>"
        f'<div class="rag-passage">{passage}</div>'
        f'<div class="rag-meta">{esc(c.source)} · {lab["chars"]} {c.start}–{c.end}</div>'
        "</li>"
    )


def render_answer(answer: Answer, anchor: str = "c") -> str:
    """One chat reply: answer sentence, what was searched, numbered sources."""
    lab = LABELS["en" if is_english(answer.question) else "zh"]
    parts = ['<div class="rag-reply">']
    if answer.followup or (answer.query and answer.query.strip() != answer.question.strip()):
        parts.append(f'<div class="rag-query">{lab["searched"]}{esc(answer.query)}</div>')
    # the short answer is bold only when the answer stage is confident of it;
    # otherwise the supporting sentence speaks for itself
    short = answer.answer if answer.answer_shown else None
    if answer.answerable:
        body = render_sentence(answer.sentence, short)
        parts.append(f'<p class="rag-sentence">{body} {_refs(_supporting(answer), anchor)}</p>')
        if answer.sentence and short and short not in answer.sentence:
            parts.append(f'<p class="rag-short">{lab["answer"]}<b>{esc(short)}</b></p>')
        title = lab["sources"]
    else:
        parts.append(f'<p class="rag-refusal">{esc(lab["not_found"].format(q=answer.question))}</p>')
        # a reason that only says "not found" again is left out
        if answer.refusal not in (None, Refusal.NO_PASSAGE, Refusal.NOT_CONFIDENT, Refusal.NOT_COVERED):
            lang = "en" if lab is LABELS["en"] else "zh"
            parts.append(f'<p class="rag-reason">{esc(refusal_text(answer.refusal, answer.detail, lang))}</p>')
        title = lab["nearest"]
    if answer.citations:
        # Sources the sentence cites are shown; the other retrieved passages fold
        # away so the answer stays on screen in a long conversation.
        cited = set(_supporting(answer)) if answer.answerable else {c.rank for c in answer.citations}
        shown = [c for c in answer.citations if c.rank in cited]
        more = [c for c in answer.citations if c.rank not in cited]
        items = "".join(render_citation(c, anchor, lab, highlight=answer.answerable and answer.answer_shown) for c in shown)
        parts.append(f'<div class="rag-sources-title">{title}</div><ol class="rag-sources">{items}</ol>')
        if more:
            items = "".join(render_citation(c, anchor, lab, highlight=False) for c in more)
            parts.append(f'<details class="rag-more"><summary>{lab["more"].format(n=len(more))}</summary>'
                         f'<ol class="rag-sources">{items}</ol></details>')
    elif not answer.answerable:
        parts.append(f'<p class="rag-reason">{lab["no_passage"]}</p>')
    parts.append("</div>")
    return "".join(parts)


def render_notice(message: str) -> str:
    """A friendly message in place of an answer (bad input, errors)."""
    return f'<div class="rag-reply"><p class="rag-notice">{esc(message)}</p></div>'


def render_hits(hits: list[Hit], query: str) -> str:
    """Search tab results: passage, where it is, and a citation line to copy."""
    if not hits:
        return f'<div class="rag-hits"><p class="rag-notice">没有找到与“{esc(query)}”相关的段落。</p></div>'
    rows = []
    for h in hits:
        ch = h.chunk
        rows.append(
            '<li class="rag-hit">'
            f'<div class="rag-src-head"><span class="rag-num">{h.rank}.</span> 《{esc(ch.title)}》 第{ch.paragraph}段'
            f'<span class="rag-score">相关度 {h.score:.3f}</span></div>'
            f'<div class="rag-passage">{mark_all(ch.text, query)}</div>'
            f'<div class="rag-meta"><code>{esc(hit_line(h))}</code></div>'
            "</li>"
        )
    return f'<div class="rag-hits"><ol class="rag-sources">{"".join(rows)}</ol></div>'


def render_overview(info: dict) -> str:
    """What is indexed: issues, stories, dates, from Engine.describe()."""
    issues = info.get("issues") or []
    rows = []
    for it in issues:
        n = _count(it.get("stories"))
        dates = it.get("dates") or []
        when = "、".join(esc(d) for d in dates) if dates else "日期未标注"
        rows.append(f"<li><code>{esc(it.get('source'))}</code>：{esc(n)} 篇报道，{when}</li>")
    head = (
        f"已收录 {len(issues)} 期报纸，{esc(_count(info.get('stories')))} 篇报道，"
        f"{esc(_count(info.get('chunks')))} 个段落块。回答只摘自这些报纸，每句都注明出处。"
    )
    for name, why in info.get("skipped") or []:
        rows.append(f"<li><code>{esc(name)}</code>：未能读取（{esc(why)}）</li>")
    return f'<div class="rag-overview"><p>{head}</p><ul>{"".join(rows)}</ul></div>'


def _count(x: object) -> object:
    return len(x) if isinstance(x, (list, tuple)) else (x if x is not None else 0)


# Page styles, passed to launch(css=...) (Gradio 6 moved css from Blocks to launch).
CSS = """
.rag-header h1 { margin: 0 0 .2em 0; font-size: 1.6em; }
.rag-header p { margin: 0; color: var(--body-text-color-subdued); }
.rag-overview { font-size: .9em; color: var(--body-text-color-subdued); margin-top: .4em; }
.rag-overview ul { margin: .2em 0 0 1.2em; padding: 0; }
.rag-reply p { margin: .3em 0; }
.rag-sentence { font-size: 1.05em; line-height: 1.7; }
.rag-query { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .3em; }
.rag-refusal { font-weight: 600; }
.rag-reason, .rag-notice { color: var(--body-text-color-subdued); }
.rag-ref { color: var(--color-accent, #6366f1) !important; text-decoration: none; font-size: .85em; margin-left: .15em; }
.rag-sources-title { margin-top: .6em; font-size: .85em; font-weight: 600; color: var(--body-text-color-subdued); }
ol.rag-sources { list-style: none; margin: .3em 0 0 0 !important; padding: 0 !important; }
li.rag-src, li.rag-hit { margin: .4em 0; padding: .45em .7em; border-left: 3px solid var(--color-accent-soft, #c7d2fe);
  background: var(--background-fill-secondary); border-radius: 4px; font-size: .9em; }
.rag-src-head { font-weight: 600; }
.rag-num { color: var(--color-accent, #6366f1); }
.rag-passage { margin: .25em 0; line-height: 1.65; }
.rag-passage mark { background: #fde68a; color: inherit; padding: 0 .1em; border-radius: 2px; }
.rag-meta { font-size: .8em; color: var(--body-text-color-subdued); }
.rag-score { float: right; font-weight: normal; font-size: .8em; color: var(--body-text-color-subdued); }
details.rag-more { margin-top: .3em; }
details.rag-more summary { cursor: pointer; font-size: .85em; color: var(--body-text-color-subdued); }
#clear-chat { max-width: 10em; }
"""
