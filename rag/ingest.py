"""Issue files in, Stories out: decoding, story structure, repaired paragraphs.

`read_issue` decodes one file (UTF-8 with or without BOM, UTF-16 with BOM,
GBK/GB18030; line ends kept, so offsets are into the text as decoded).
`parse_issue` turns the text into Stories: headline, kicker, subheadline,
byline, date, photo credits and pull quotes kept apart, and paragraphs of
repaired text with their source runs. The layout rules (what a block is, when a
line break cut a word) live in rag.repair; this module decides which story and
which paragraph each block belongs to. `load_issues` and `issue_hashes` read a
whole data folder.
"""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from .errors import DataDirError, IssueReadError
from .repair import (
    CONTINUES, DATE, LEAD_PREFIX, STORY_START, Block, is_complete, joins_word, split_blocks,
    widen_punct,
)
from .spans import runs_from_positions
from .types import Paragraph, Story


# ---------------------------------------------------------------- decoding

def decode_issue(data: bytes, name: str = "issue") -> str:
    """Bytes -> text. Raises IssueReadError for anything that is not text."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8", data[3:])]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", data)]
    elif b"\x00" in data:
        raise IssueReadError(f"{name}: looks like a binary file, not text")
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, raw in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        # gb18030 accepts many byte strings; stray control characters betray binary data.
        bad = sum(1 for c in text if unicodedata.category(c) == "Cc" and c not in "\t\n\r\f\v")
        if bad:
            raise IssueReadError(f"{name}: holds {bad} control characters; not a text file")
        return text
    raise IssueReadError(f"{name}: not UTF-8 or GBK/GB18030 text")


def read_issue(path) -> str:
    """Decoded text of one issue file (BOM removed, line ends kept as they are)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise IssueReadError(f"{p}: cannot read: {e.strerror or e}") from e
    return decode_issue(data, str(p))


def _issue_files(data_dir) -> list[Path]:
    d = Path(data_dir)
    if not d.is_dir():
        raise DataDirError(f"data folder not found: {d}")
    return sorted((p for p in d.glob("*.txt") if p.is_file()), key=lambda p: p.name)


def load_issues(data_dir) -> tuple[list[Story], list[tuple[str, str]]]:
    """Stories of every *.txt in data_dir (sorted by name) and (name, message) for bad files."""
    files = _issue_files(data_dir)
    if not files:
        raise DataDirError(f"no .txt issue files in {data_dir}")
    stories: list[Story] = []
    bad: list[tuple[str, str]] = []
    for f in files:
        try:
            found = parse_issue(read_issue(f), f.name)
        except IssueReadError as e:
            bad.append((f.name, str(e)))
            continue
        if not found:
            bad.append((f.name, f"{f}: no story text found"))
            continue
        stories.extend(found)
    if not stories:
        why = "; ".join(m for _, m in bad)
        raise DataDirError(f"no readable issue in {data_dir}: {why}")
    return stories, bad


def issue_hashes(data_dir) -> dict[str, str]:
    """{file name: sha256 of its bytes} for every *.txt, for the index manifest."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in _issue_files(data_dir)}


# ---------------------------------------------------------------- structure

@dataclass
class _Draft:
    kicker: str | None = None
    headline: str | None = None
    subheadline: str | None = None
    byline: str | None = None
    credits: list[str] = field(default_factory=list)
    pullquotes: list[str] = field(default_factory=list)
    paras: list[Block] = field(default_factory=list)
    closed: bool = False  # a byline after the body ends the story's text

    def open_para(self) -> Block | None:
        """The last paragraph, if its sentence is still unfinished."""
        if self.paras and not self.closed and not is_complete(self.paras[-1].text):
            return self.paras[-1]
        return None


def _heading_role(cur: _Draft | None, b: Block, nxt: Block | None) -> str:
    """What a headline-shaped block is: 'headline', 'pullquote' or 'body'."""
    body_next = nxt is not None and nxt.kind == "body"
    # a paragraph that opens by repeating the line above (长谷川町子 | 长谷川町子是…)
    # starts a story under that headline; a broken line would go on, not repeat
    starts_story = body_next and (bool(STORY_START.match(nxt.text)) or nxt.text.startswith(b.text))
    if body_next and CONTINUES.match(nxt.text):
        return "body"  # the next block cannot start anything: b is part of a sentence
    if cur is None or not cur.paras:
        # Above the first paragraph: a headline line, unless it is the first
        # line of the paragraph broken off inside a word.
        if cur is not None and cur.headline and body_next and not starts_story \
                and joins_word(b.text, nxt.text):
            return "body"
        return "headline"
    open_para = cur.open_para()
    if open_para is not None and body_next:
        # The sentence above is unfinished, so it goes on somewhere.
        if joins_word(open_para.text, nxt.text):
            return "pullquote"  # 为打 | 造: the sentence resumes below the display line
        if joins_word(open_para.text, b.text):
            return "body"
        return "headline" if starts_story else "pullquote"
    if body_next and not starts_story and joins_word(b.text, nxt.text):
        return "body"  # 管理服务 | 中心副主任: a paragraph's first line broken off
    return "headline"


def parse_issue(text: str, source: str) -> list[Story]:
    """Stories of one issue, in order. Stories with no paragraph are dropped."""
    blocks = [b for b in split_blocks(text) if b.kind != "debris"]
    drafts: list[_Draft] = []
    cur: _Draft | None = None

    def start() -> _Draft:
        drafts.append(_Draft())
        return drafts[-1]

    for i, b in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        kind = b.kind
        if kind == "heading":
            kind = _heading_role(cur, b, nxt)
        if kind == "credit":
            cur = cur or start()
            cur.credits.append(b.text)
        elif kind == "byline":
            cur = cur or start()
            cur.byline = cur.byline or b.text
            cur.closed = bool(cur.paras)
        elif kind == "kicker":
            cur = start()
            cur.kicker = b.text.rstrip(":：").strip()
        elif kind == "pullquote":
            cur.pullquotes.append(b.text)
        elif kind == "headline":
            if cur is None or cur.paras or (cur.headline and cur.subheadline):
                cur = start()
            if cur.headline is None:
                cur.headline = b.text
            else:
                cur.subheadline = b.text
        else:  # body
            cur = cur or start()
            open_para = cur.open_para()
            if open_para is not None:
                cur.paras[-1] = open_para.join(b)
            else:
                cur.paras.append(Block(b.text, list(b.pos)))
    stories = [_finish(d, source) for d in drafts]
    stories = [s for s in stories if s.paragraphs]
    return [replace(s, index=k) for k, s in enumerate(stories)]


def _finish(d: _Draft, source: str) -> Story:
    """Byline and date from the first paragraph, then frozen Paragraphs."""
    paras = [(p.text, p.pos) for p in d.paras]
    byline, date = None, None
    if paras:
        t, pos = paras[0]
        m = LEAD_PREFIX.match(t)
        if m and m.end() > 0:
            inner = (m.group(1) or m.group(2) or "").strip()
            byline = inner or None
            dm = DATE.search(t[: m.end()])
            date = dm.group(0) if dm else None
            paras[0] = (t[m.end():], pos[m.end():])
        first = paras[0][0]
        if date is None:
            # the dateline: the first date stated in the lead's first sentence
            end = min((k for k in (first.find(c) for c in "。！？") if k >= 0), default=len(first))
            dm = DATE.search(first[:end])
            date = dm.group(0) if dm else None
    paragraphs = tuple(
        Paragraph(text=widen_punct(t), start=pos[0], end=pos[-1] + 1, runs=runs_from_positions(pos))
        for t, pos in paras if t
    )
    return Story(
        source=source, index=0, headline=d.headline or "", kicker=d.kicker,
        subheadline=d.subheadline, byline=byline or d.byline, date=date,
        credits=tuple(d.credits), pullquotes=tuple(d.pullquotes), paragraphs=paragraphs,
    )
