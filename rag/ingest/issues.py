"""Issue files in, Stories out: decoding, story structure, repaired paragraphs.

`read_issue` decodes one file (UTF-8 with or without BOM, UTF-16 with BOM,
GBK/GB18030; line ends kept, so offsets are into the text as decoded).
`parse_issue` turns the text into Stories: headline, kicker, subheadline,
byline, date, photo credits and pull quotes kept apart, and paragraphs of
repaired text with their source runs. The layout rules (what a block is, when a
line break cut a word) live in rag.ingest.repair; this module decides which story and
which paragraph each block belongs to. `load_issues` and `issue_hashes` read a
whole data folder.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.errors import DataDirError, IssueReadError
from rag.ingest.repair import (
    CONTINUES, DATE, LEAD_PREFIX, STORY_START, Block, is_complete, joins_word, split_blocks,
    widen_punct,
)
from rag.ingest.spans import runs_from_positions
from rag.types import Paragraph, Story


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


def _limit(max_bytes: int | None) -> int:
    if max_bytes is not None:
        return max_bytes
    from rag.config import from_env  # the configured limit (RAG_MAX_ISSUE_MB), when the caller gave none

    return from_env().max_issue_bytes


def shown_name(name: str) -> str:
    """A file name fit to print and to put in JSON: lone surrogates (bytes that
    are not UTF-8) and control or format characters are written as escapes."""
    return "".join(
        c if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Zl", "Zp") else f"\\u{ord(c):04x}"
        for c in name
    )


def read_issue(path, max_bytes: int | None = None) -> str:
    """Decoded text of one issue file (BOM removed, line ends kept as they are).

    Only a regular file is read, never through a symbolic link, and never one
    larger than `max_bytes` (default: Settings.max_issue_bytes). Errors name the
    file by its name only, never by a server path.
    """
    p = Path(path)
    return decode_issue(_read_bytes(p, _limit(max_bytes)), shown_name(p.name))


def _read_bytes(p: Path, limit: int) -> bytes:
    name = shown_name(p.name)
    # O_NOFOLLOW: a symlink is refused even if it was swapped in after the folder
    # was listed; O_NONBLOCK: opening a FIFO returns at once instead of hanging.
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(p, flags)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise IssueReadError(f"{name}: a symbolic link; only regular files in the data folder are read") from None
        raise IssueReadError(f"{name}: cannot read: {e.strerror or type(e).__name__}") from None
    try:
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
                raise IssueReadError(f"{name}: {kind}; only regular files in the data folder are read")
            if st.st_size > limit:
                raise IssueReadError(f"{name}: too large ({_mb(st.st_size)}; the limit is {_mb(limit)}, "
                                     "RAG_MAX_ISSUE_MB)")
            data = f.read(limit + 1)
    except OSError as e:
        raise IssueReadError(f"{name}: cannot read: {e.strerror or type(e).__name__}") from None
    if len(data) > limit:  # it grew after fstat
        raise IssueReadError(f"{name}: too large (over {_mb(limit)}; RAG_MAX_ISSUE_MB)")
    return data


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 100 * 1024 else f"{n} bytes"


def _issue_files(data_dir) -> tuple[list[Path], list[tuple[str, str]]]:
    """Regular *.txt files directly in data_dir (any case of .txt), sorted by name,
    and (name, message) for the *.txt entries that are not: symbolic links (even
    to files inside), folders, FIFOs, sockets, devices, names that are not text."""
    d = Path(data_dir)
    try:
        if not d.is_dir():
            raise DataDirError(f"data folder not found: {d}")
        entries = sorted(os.scandir(d), key=lambda e: e.name)
    except DataDirError:
        raise
    except OSError as e:
        raise DataDirError(f"cannot read the data folder {d}: {e.strerror or type(e).__name__}") from None
    files: list[Path] = []
    skipped: list[tuple[str, str]] = []
    for e in entries:
        if not e.name.lower().endswith(".txt"):
            continue
        name = shown_name(e.name)
        try:
            if name != e.name:
                why = "the file name holds bytes that are not UTF-8 or control characters; rename it"
            elif e.is_symlink():
                why = "a symbolic link; only regular files in the data folder are read"
            elif e.is_dir(follow_symlinks=False):
                why = "a folder, not an issue file"
            elif not e.is_file(follow_symlinks=False):
                why = "not a regular file (a FIFO, socket or device)"
            else:
                files.append(Path(e.path))
                continue
        except OSError as err:
            why = f"cannot read: {err.strerror or type(err).__name__}"
        skipped.append((name, f"{name}: {why}"))
    return files, skipped


def load_issues(data_dir, max_bytes: int | None = None) -> tuple[list[Story], list[tuple[str, str]]]:
    """Stories of every issue file in data_dir (sorted by name) and (name, message)
    for the files skipped. One bad file never stops the others."""
    files, bad = _issue_files(data_dir)
    if not files and not bad:
        raise DataDirError(f"no .txt issue files in {data_dir}")
    limit = _limit(max_bytes)
    stories: list[Story] = []
    for f in files:
        try:
            found = parse_issue(read_issue(f, limit), f.name)
        except IssueReadError as e:
            bad.append((f.name, str(e)))
            continue
        if not found:
            bad.append((f.name, f"{f.name}: no story text found"))
            continue
        stories.extend(found)
    bad.sort()
    if not stories:
        why = "; ".join(m for _, m in bad)
        raise DataDirError(f"no readable issue in {data_dir}: {why}")
    return stories, bad


def issue_hashes(data_dir, max_bytes: int | None = None) -> dict[str, str]:
    """{file name: sha256 of its bytes} for every issue file, for the index manifest.

    A file that is skipped gets "skipped: <why>" instead, so that fixing it (or
    breaking a good one) changes the manifest and the index is rebuilt.
    """
    files, skipped = _issue_files(data_dir)
    limit = _limit(max_bytes)
    out = {name: f"skipped: {why}" for name, why in skipped}
    for f in files:
        try:
            out[f.name] = hashlib.sha256(_read_bytes(f, limit)).hexdigest()
        except IssueReadError as e:
            out[f.name] = f"skipped: {e}"
    return dict(sorted(out.items()))


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
