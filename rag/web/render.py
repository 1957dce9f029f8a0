"""HTML for the web chat: Answers, Hits and the index overview -> strings.

Pure functions, no Gradio import. Every piece of text that comes from an issue
or from a user goes through `esc` (or `attr`) before it meets markup, so a
story that says `<script>` shows the word instead of running it, in the
browser and in the reply text that the API returns. Gradio's own sanitizer
runs only in the browser and keeps `<img onerror=...>`'s cousins such as
`<svg>`, so we never rely on it. Only plain tags are written (div, p, b,
mark, ol, li, span, code, details, summary, a to an anchor of the reply).

A reply is one `<div>` with no blank lines: Markdown leaves an HTML block
alone until the next blank line, so `*`, `_` or `#` in a story are not read
as Markdown. Its `data-copy` attribute holds the reply as plain text (the
sentence and a citation line), which the page's copy button copies instead
of the HTML (rag.web.page_js), and `data-reply` a random id that ties a 👍/👎 to
the reply. Labels and reasons are in the asker's language (rag.search.turns.lang_of).
"""

from __future__ import annotations

import html
import re

from rag.search.keywords import Keywords, Tier
from rag.kinds import Refusal, refusal_text
from rag.search.turns import EXAMPLES_LABEL, Turn, about, lang_of, opening
from rag.types import Answer, Citation, Hit


def esc(text: object) -> str:
    """HTML-escape, and fold line breaks so no blank line ends the HTML block."""
    s = html.escape("" if text is None else str(text), quote=True)
    return re.sub(r"\s*[\r\n]+\s*", " ", s)


def attr(text: object) -> str:
    """Text for an attribute value in double quotes: escaped, line breaks kept as &#10;."""
    s = html.escape("" if text is None else str(text), quote=True)
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "&#10;")


def is_english(question: str) -> bool:
    """Mostly Latin words and no Chinese: answer with English labels."""
    return lang_of(question) == "en"


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
        "assumed": "按“{x}”理解；如果问的不是它，请说出名称再问。",
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
        "assumed": "Taken to be about “{x}”; if you meant something else, name it.",
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


def mark_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """Escape `text` and <mark> each (start, end) of sorted, non-overlapping spans."""
    out, at = [], 0
    for i, j in spans:
        if at <= i < j <= len(text):
            out.append(f"{esc(text[at:i])}<mark>{esc(text[i:j])}</mark>")
            at = j
    return "".join(out) + esc(text[at:])


def mark_all(text: str, needle: str) -> str:
    """Escape `text` and <mark> every literal occurrence of `needle`."""
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


def cite_line(c: Citation) -> str:
    return citation_line(c.story, c.paragraph, c.source, c.start, c.end)


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


def _as_typed(detail: str | None, question: str) -> str | None:
    """The refusal's detail as the asker wrote it (gdp -> GDP): the answer stage folds case."""
    if not detail:
        return detail
    at = question.lower().find(detail.lower())
    return question[at:at + len(detail)] if at >= 0 else detail


def render_sentence(sentence: str | None, short: str | None) -> str:
    """The supporting sentence with the short answer in bold (first occurrence)."""
    if not sentence:
        return f"<b>{esc(short)}</b>" if short else ""
    if short:
        i = sentence.find(short)
        if i >= 0:
            return mark(sentence, (i, i + len(short)), tag="b")
    return esc(sentence)


def render_citation(c: Citation, anchor: str, lab: dict, highlight: bool = True, passage: bool = True) -> str:
    """One source: headline and paragraph, the passage (left out when it only
    repeats the sentence above it), file and character offsets."""
    text = mark(c.text, c.highlight if highlight else None)
    body = f'<div class="rag-passage">{text}</div>' if passage else ""
    return (
        f'<li id="{anchor}-{c.rank}" class="rag-src">'
        f'<div class="rag-src-head"><span class="rag-num">[{c.rank}]</span> '
        f"《{esc(c.story)}》 {lab['para'].format(n=c.paragraph)}</div>"
        f"{body}"
        f'<div class="rag-meta">{esc(c.source)} · {lab["chars"]} {c.start}–{c.end}</div>'
        "</li>"
    )


# ------------------------------------------------------------ plain text (what copy gives)

def plain_answer(answer: Answer, examples=()) -> str:
    """The reply as plain text: the sentence with its [n], then the citation
    line of each source it cites; a refusal and its nearest sources; a turn's words."""
    lang = lang_of(answer.question)
    lab = LABELS[lang]
    if answer.turn:
        return "\n".join(_turn_lines(answer, lang, examples, lab))
    lines = []
    if answer.assumed:
        lines.append(lab["assumed"].format(x=answer.assumed))
    if answer.answerable:
        ranks = _supporting(answer)
        refs = "".join(f"[{r}]" for r in ranks)
        short = answer.answer if answer.answer_shown else None
        lines.append(f"{answer.sentence or short or ''}{refs}")
        if answer.sentence and short and short not in answer.sentence:
            lines.append(f"{lab['answer']}{short}")
        cites = [c for c in answer.citations if c.rank in ranks]
    else:
        lines += _refusal_lines(answer, lang, lab)
        cites = list(answer.citations)
    lines += [f"[{c.rank}] {cite_line(c)}" for c in cites]
    return "\n".join(lines)


def _refusal_lines(answer: Answer, lang: str, lab: dict) -> list[str]:
    if answer.refusal == Refusal.BAD_QUESTION:
        return [answer.detail or answer.reason or ""]
    lines = [lab["not_found"].format(q=answer.question)]
    # a reason that only says "not found" again is left out
    if answer.refusal not in (None, Refusal.NO_PASSAGE, Refusal.NOT_CONFIDENT, Refusal.NOT_COVERED):
        lines.append(refusal_text(answer.refusal, _as_typed(answer.detail, answer.question), lang))
    return lines


def _turn_lines(answer: Answer, lang: str, examples, lab: dict) -> list[str]:
    turn = Turn(answer.turn)
    lines = [opening(turn, lang)]
    if turn is Turn.WHICH_STORY:
        return lines + [f"《{c.story}》：{c.text}（{cite_line(c)}）" for c in answer.citations]
    if turn in (Turn.GREETING, Turn.IDENTITY, Turn.HELP):
        lines.append(about(lang))
    if examples and turn is not Turn.BYE:
        lines.append(EXAMPLES_LABEL[lang == "en"] + " " + " / ".join(examples))
    return lines


# ------------------------------------------------------------ HTML replies

def _open(answer: Answer, reply: str | None, examples=(), cls: str = "rag-reply") -> str:
    rid = f' data-reply="{attr(reply)}"' if reply else ""
    return f'<div class="{cls}"{rid} data-copy="{attr(plain_answer(answer, examples))}">'


def render_answer(answer: Answer, anchor: str = "c", examples=(), reply: str | None = None) -> str:
    """One chat reply: answer sentence, what was searched, numbered sources; or
    the reply to small talk (with `examples`, questions to click) or to "which story?"."""
    if answer.turn:
        return render_turn(answer, anchor, examples, reply)
    lang = lang_of(answer.question)
    lab = LABELS[lang]
    if answer.refusal == Refusal.BAD_QUESTION:  # not a question: say why, nothing else
        return _open(answer, reply) + f'<p class="rag-notice">{esc(answer.detail or answer.reason)}</p></div>'
    parts = [_open(answer, reply)]
    if answer.followup or (answer.query and answer.query.strip() != answer.question.strip()):
        parts.append(f'<div class="rag-query">{lab["searched"]}{esc(answer.query)}</div>')
    if answer.assumed:
        parts.append(f'<p class="rag-assumed">{esc(lab["assumed"].format(x=answer.assumed))}</p>')
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
        lines = _refusal_lines(answer, lang, lab)
        parts.append(f'<p class="rag-refusal">{esc(lines[0])}</p>')
        parts += [f'<p class="rag-reason">{esc(line)}</p>' for line in lines[1:]]
        title = lab["nearest"]
    if answer.citations:
        # Sources the sentence cites are shown; the other retrieved passages fold
        # away so the answer stays on screen in a long conversation. A source
        # whose passage is the sentence itself is not printed a second time.
        cited = set(_supporting(answer)) if answer.answerable else {c.rank for c in answer.citations}
        shown = [c for c in answer.citations if c.rank in cited]
        more = [c for c in answer.citations if c.rank not in cited]
        same = _squash(answer.sentence or "") if answer.answerable else None
        items = "".join(render_citation(c, anchor, lab, highlight=answer.answerable and answer.answer_shown,
                                        passage=_squash(c.text) != same) for c in shown)
        parts.append(f'<div class="rag-sources-title">{title}</div><ol class="rag-sources">{items}</ol>')
        if more:
            items = "".join(render_citation(c, anchor, lab, highlight=False) for c in more)
            parts.append(f'<details class="rag-more"><summary>{lab["more"].format(n=len(more))}</summary>'
                         f'<ol class="rag-sources">{items}</ol></details>')
    elif not answer.answerable:
        parts.append(f'<p class="rag-reason">{lab["no_passage"]}</p>')
    parts.append("</div>")
    return "".join(parts)


def render_turn(answer: Answer, anchor: str = "c", examples=(), reply: str | None = None) -> str:
    """Small talk: what the chat can do and questions to click; or, for an
    authorship question naming no story, each story with its byline."""
    lang = lang_of(answer.question)
    lab = LABELS[lang]
    turn = Turn(answer.turn)
    parts = [_open(answer, reply, examples, "rag-reply rag-turn"), f'<p class="rag-opening">{esc(opening(turn, lang))}</p>']
    if turn is Turn.WHICH_STORY:
        items = "".join(
            f'<li id="{anchor}-{c.rank}" class="rag-src"><div class="rag-src-head">《{esc(c.story)}》</div>'
            f'<div class="rag-passage">{mark(c.text, c.highlight, tag="b")}</div>'
            f'<div class="rag-meta">{esc(c.source)} · {lab["chars"]} {c.start}–{c.end}</div></li>'
            for c in answer.citations)
        parts.append(f'<ol class="rag-sources">{items}</ol>' if items else f'<p class="rag-reason">{lab["no_passage"]}</p>')
    else:
        if turn in (Turn.GREETING, Turn.IDENTITY, Turn.HELP):
            parts.append(f'<p class="rag-about">{esc(about(lang))}</p>')
        if examples and turn is not Turn.BYE:
            items = "".join(f'<li><span class="rag-example" role="button" tabindex="0" data-ask="{attr(q)}">{esc(q)}</span></li>'
                            for q in examples)
            parts.append(f'<div class="rag-sources-title">{EXAMPLES_LABEL[lang == "en"]}</div>'
                         f'<ul class="rag-examples">{items}</ul>')
    parts.append("</div>")
    return "".join(parts)


def render_notice(message: str) -> str:
    """A friendly message in place of an answer (bad input, errors)."""
    return f'<div class="rag-reply"><p class="rag-notice">{esc(message)}</p></div>'


# ------------------------------------------------------------ staff search

def match_label(h: Hit, words: Keywords, query: str = "") -> str:
    """How the passage holds the keywords, in words a person reads."""
    m = words.match(h.chunk.text)
    if m is None:
        return "拼音相符"
    if m.tier == Tier.PHRASE:
        return f"含“{query.strip() or m.found[0]}” {m.count} 处"
    if m.tier == Tier.ALL:
        return f"含全部 {m.of} 个词"
    return f"含 {len(m.found)}/{m.of} 个词"


def render_hits(hits: list[Hit], query: str, filtered: bool = False) -> str:
    """Search tab results: passage with the keywords marked, how it matches, and
    its citation line with a copy control of its own."""
    if not hits:
        where = "所选期次或报道中" if filtered else "这几期报纸中"
        return f'<div class="rag-hits"><p class="rag-notice">{where}没有含“{esc(query)}”的段落。</p></div>'
    words = Keywords.of(query)
    rows = []
    for h in hits:
        ch = h.chunk
        line = hit_line(h)
        rows.append(
            '<li class="rag-hit">'
            f'<div class="rag-src-head"><span class="rag-num">{h.rank}.</span> '
            f'<span class="rag-title">《{esc(ch.title)}》 第{ch.paragraph}段</span>'
            f'<span class="rag-match">{esc(match_label(h, words, query))}</span></div>'
            f'<div class="rag-passage">{mark_spans(ch.text, words.spans(ch.text))}</div>'
            f'<div class="rag-cite"><code>{esc(line)}</code>'
            f'<span class="rag-copy" role="button" tabindex="0" title="复制这条引用" data-copy="{attr(line)}">复制</span></div>'
            "</li>"
        )
    return (f'<div class="rag-hits"><p class="rag-count">{len(hits)} 段，含检索词的排在前面</p>'
            f'<ol class="rag-sources">{"".join(rows)}</ol></div>')


# ------------------------------------------------------------ overview and staff log

def render_overview(info: dict) -> str:
    """What is indexed: issues, stories, dates, from Engine.describe(); the list folds away."""
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
    return f'<details class="rag-overview"><summary>{head}</summary><ul>{"".join(rows)}</ul></details>'


def _count(x: object) -> object:
    return len(x) if isinstance(x, (list, tuple)) else (x if x is not None else 0)


def render_unanswered(rows, days, zone: str = "UTC") -> str:
    """The staff tab: refused and 👎 questions, most frequent first, and a count per day.
    `rows` are rag.web.feedback.Unanswered, `days` (day, refused, 👎, 👍) tuples, both
    read in the time zone named `zone` (rag.web.feedback.zone_name). Votes are named
    踩/赞 as on the chat's buttons (an emoji is a box without an emoji font)."""
    if not rows:
        table = '<p class="rag-notice">还没有未答或被踩的问题。</p>'
    else:
        items = "".join(
            "<li class=\"rag-hit\">"
            f'<div class="rag-src-head"><span class="rag-title">{esc(u.question)}</span>'
            f'<span class="rag-match">{u.times} 次（未答 {u.refused}，踩 {u.down}）</span></div>'
            f'<div class="rag-passage">{esc(u.answer)}</div>'
            f'<div class="rag-meta">检索：{esc(u.query)} · 最近 {esc(u.last.replace("T", " ")[:16])}（{esc(zone)}）</div>'
            "</li>" for u in rows)
        table = f'<ol class="rag-sources rag-unanswered">{items}</ol>'
    return f'<div class="rag-log">{table}{render_days(days, zone)}</div>'


# the chart's series: (index in a day's tuple, name as on the chat's buttons, class)
SERIES = ((1, "未答", "rag-bar-refused"), (2, "踩", "rag-bar-down"), (3, "赞", "rag-bar-up"))


def _ticks(peak: int) -> list[int]:
    """Scale labels for a chart whose longest bar is `peak`: 0, the middle when whole, `peak`."""
    return [0, peak // 2, peak] if peak >= 2 and peak % 2 == 0 else [0, peak]


def render_days(days, zone: str = "UTC") -> str:
    """Counts per day as bars: one bar per series (未答, 踩, 赞), each as long as its
    count against the longest one (the scale's right end), with a legend and the
    numbers written out beside the bars (the bars are a picture of those numbers)."""
    if not days:
        return ""
    peak = max(max(d[i] for i, _, _ in SERIES) for d in days) or 1
    legend = "".join(f'<span class="rag-key"><span class="rag-swatch {cls}"></span>{name}</span>' for _, name, cls in SERIES)
    ticks = "".join(f'<span class="rag-tick" style="left:{100 * t / peak:.4g}%">{t}</span>' for t in _ticks(peak))
    axis = (f'<li class="rag-axis" aria-hidden="true"><span class="rag-day">次数</span>'
            f'<span class="rag-track rag-scale">{ticks}</span></li>')
    rows = []
    for d in days:
        bars = "".join(f'<span class="rag-bar {cls}" style="width:{100 * d[i] / peak:.4g}%"></span>' for i, _, cls in SERIES)
        said = " · ".join(f"{name} {d[i]}" for i, name, _ in SERIES)
        rows.append(f'<li><span class="rag-day">{esc(d[0])}</span><span class="rag-track" aria-hidden="true">{bars}</span>'
                    f'<span class="rag-day-count">{said}</span></li>')
    return (f'<div class="rag-sources-title">每天的次数（{esc(zone)} 时间）</div>'
            f'<div class="rag-legend">{legend}<span class="rag-key">最长的条 = {peak} 次</span></div>'
            f'<ul class="rag-days">{axis}{"".join(rows)}</ul>')


# Page styles, passed to launch(css=...) (Gradio 6 moved css from Blocks to launch).
# Every text colour is at least 4.5:1 against the backgrounds it sits on, in the
# light and the dark theme (tests/test_contrast.py computes each pair; the browser
# test measures the page). Gradio's Soft theme greys subdued text to #9ca3af
# (2.4:1 on its #f9fafb page) and its accent #6366f1 is 4.3:1: both are set
# darker here for the light theme, lighter for the dark one (this sheet comes
# after the theme's, so its :root and :root.dark win over the theme's).
CSS = """
:root {
  --body-text-color-subdued: #4b5563; --input-placeholder-color: #6b7280;
  --block-label-text-color: #4338ca; --block-title-text-color: #4338ca; --button-primary-background-fill: #4f46e5;
  --button-primary-background-fill-hover: #4338ca;
  --rag-accent: #4338ca; --rag-warn: #b91c1c; --rag-ring: #4338ca;
  --rag-refused: #b45309; --rag-down: #dc2626; --rag-up: #15803d;
}
:root.dark, :root .dark {
  --body-text-color-subdued: #aeb4bd; --input-placeholder-color: #aeb4bd;
  --rag-accent: #a5b4fc; --rag-warn: #fca5a5; --rag-ring: #a5b4fc;
  --link-text-color: #a5b4fc; --link-text-color-hover: #c7d2fe; --link-text-color-visited: #c4b5fd;
  --rag-refused: #fbbf24; --rag-down: #f87171; --rag-up: #4ade80;
}
button[role="tab"][aria-selected="true"] { color: var(--rag-accent); }
.rag-header h1 { margin: 0 0 .2em 0; font-size: 1.6em; }
.rag-header p { margin: 0; color: var(--body-text-color-subdued); }
details.rag-overview { font-size: .9em; color: var(--body-text-color-subdued); margin-top: .3em; }
details.rag-overview summary { cursor: pointer; }
.rag-overview ul { margin: .2em 0 0 1.2em; padding: 0; }
.rag-reply p { margin: .3em 0; }
.rag-reply, .rag-hits, .rag-log { overflow-wrap: anywhere; }
.rag-sentence { font-size: 1.05em; line-height: 1.7; }
.rag-query, .rag-assumed { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: .3em; }
.rag-refusal { font-weight: 600; }
.rag-reason, .rag-notice { color: var(--body-text-color-subdued); }
.rag-ref { color: var(--rag-accent) !important; text-decoration: none; font-size: .85em; margin-left: .15em; }
.rag-sources-title { margin-top: .6em; font-size: .85em; font-weight: 600; color: var(--body-text-color-subdued); }
ol.rag-sources { list-style: none; margin: .3em 0 0 0 !important; padding: 0 !important; }
li.rag-src, li.rag-hit { margin: .4em 0; padding: .45em .7em; border-left: 3px solid var(--color-accent-soft, #c7d2fe);
  background: var(--background-fill-secondary); border-radius: 4px; font-size: .9em; }
.rag-src-head { font-weight: 600; display: flex; flex-wrap: wrap; gap: .2em .6em; align-items: baseline; }
.rag-num { color: var(--rag-accent); }
.rag-passage { margin: .25em 0; line-height: 1.65; }
.rag-passage mark { background: #fde68a; color: #1f2937; padding: 0 .1em; border-radius: 2px; }
.rag-meta { font-size: .8em; color: var(--body-text-color-subdued); }
.rag-match { font-weight: normal; font-size: .8em; color: var(--body-text-color-subdued); margin-left: auto; }
details.rag-more { margin-top: .3em; }
details.rag-more summary { cursor: pointer; font-size: .85em; color: var(--body-text-color-subdued); }
ul.rag-examples { margin: .3em 0 0 1.1em; padding: 0; }
.rag-example, .rag-copy { cursor: pointer; color: var(--rag-accent); }
.rag-example:hover, .rag-copy:hover { text-decoration: underline; }
.rag-cite { display: flex; flex-wrap: wrap; gap: .3em .8em; align-items: center; font-size: .8em; }
.rag-cite code { white-space: normal; }
.rag-copy { border: 1px solid currentColor; border-radius: 4px; padding: 0 .45em; font-size: .95em; user-select: none; }
.rag-count { font-size: .85em; color: var(--body-text-color-subdued); margin: 0 0 .3em 0; }
#ask-count { font-size: .8em; color: var(--body-text-color-subdued); text-align: right; padding: 0 .4em; min-height: 1.3em; }
#ask-count.over { color: var(--rag-warn); font-weight: 600; }
/* the question box: a ring a keyboard user can see (>= 3:1 against the page), drawn
   inside the box (the groups around it clip what lies outside) */
#ask-box:has(textarea:focus-visible) { outline: 3px solid var(--rag-ring); outline-offset: -3px; }
#ask-box textarea:focus-visible { outline: none; }
/* while answering: no English "processing | 0.1/1.5s" timer; the waiting bubble
   says 正在查找答案… (its screen-reader text, set by the page script, made visible) */
#chat .progress-text, #chat .eta-bar, #ask-box .progress-text, #ask-box .eta-bar { display: none !important; }
#chat .message.pending[aria-label="正在查找答案…"] .sr-only { position: static; width: auto; height: auto; margin: 0 .5em 0 0; clip: auto;
  clip-path: none; white-space: nowrap; overflow: visible; color: var(--body-text-color-subdued); }
#chat .message.pending .message-content { display: flex; align-items: center; }
/* the staff chart: bars as long as their counts, against the scale above them */
.rag-legend { display: flex; flex-wrap: wrap; gap: .2em 1em; font-size: .8em; color: var(--body-text-color-subdued); margin: .2em 0; }
.rag-key { display: inline-flex; align-items: center; gap: .3em; }
.rag-swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; }
ul.rag-days { list-style: none; margin: .3em 0; padding: 0; font-size: .85em; }
ul.rag-days li { display: flex; flex-wrap: wrap; align-items: center; gap: .2em .8em; margin: .35em 0; }
.rag-day { min-width: 6.5em; }
.rag-track { position: relative; flex: 0 1 22em; min-width: 8em; display: flex; flex-direction: column; gap: 2px;
  border-left: 1px solid var(--body-text-color-subdued); }
.rag-scale { height: 1.2em; border-left: none; border-bottom: 1px solid var(--body-text-color-subdued); }
.rag-tick { position: absolute; bottom: 0; transform: translateX(-50%); font-size: .9em; color: var(--body-text-color-subdued); }
.rag-tick:first-child { transform: none; }
.rag-tick:last-child { transform: translateX(-100%); }
.rag-bar { display: block; height: .45em; border-radius: 0 2px 2px 0; }
.rag-bar-refused { background: var(--rag-refused); }
.rag-bar-down { background: var(--rag-down); }
.rag-bar-up { background: var(--rag-up); }
.rag-day-count { color: var(--body-text-color-subdued); }
a.rag-export { display: inline-block; padding: .3em .9em; border-radius: 6px; border: 1px solid var(--border-color-primary);
  text-decoration: none; }
#clear-chat { max-width: 10em; }
/* the chat's empty-state text, centred on narrow screens too */
.placeholder-content, .placeholder { text-align: center; margin-left: auto; margin-right: auto; }
@media (max-width: 480px) {
  .rag-header h1 { font-size: 1.3em; }
  li.rag-src, li.rag-hit { padding: .4em .5em; }
  .rag-match { margin-left: 0; }
}
"""
