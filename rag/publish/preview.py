"""An uploaded issue file checked as the data folder checks it, and read as the index would read it.

Takes the bytes of an upload and the name it came with; gives a Preview: either
why it cannot be published (name, size, binary, encoding, no story), in the words
the data folder's own messages use (rag.ingest.issues), or the stories the index
would hold (headline, byline, date, paragraph count) with every line break that
the layout repair rejoined marked, so staff see what will be read before it is
published. Never raises for a bad file: a bad file is a Preview with a problem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import IssueReadError
from rag.ingest.issues import decode_issue, parse_issue, shown_name
from rag.ingest.spans import to_source
from rag.types import Paragraph, Story

MAX_NAME_BYTES = 200  # leaves room under the usual 255 for the temp name a publish writes first


@dataclass(frozen=True)
class ParagraphPreview:
    text: str  # the repaired text, as indexed
    joins: tuple[int, ...] = ()  # positions in `text` where a line break of the file was rejoined


@dataclass(frozen=True)
class StoryPreview:
    title: str
    byline: str | None
    date: str | None
    paragraphs: tuple[ParagraphPreview, ...]
    credits: tuple[str, ...] = ()
    pullquotes: tuple[str, ...] = ()

    @property
    def joins(self) -> int:
        return sum(len(p.joins) for p in self.paragraphs)


@dataclass(frozen=True)
class Preview:
    name: str  # the file name it will have in the data folder (shown_name: safe to print)
    size: int
    problem: str | None = None  # why it cannot be published; None: it can
    stories: tuple[StoryPreview, ...] = ()
    sha256: str = ""
    replaces: bool = False  # a published issue has this name: publishing replaces it
    same_as: str | None = None  # a published issue (another name) holds exactly these bytes
    data: bytes = field(default=b"", repr=False, compare=False)  # what publishing writes

    @property
    def ok(self) -> bool:
        return self.problem is None


def name_problem(name: str) -> str | None:
    """Why `name` cannot be an issue file's name in the data folder, or None."""
    shown = shown_name(name)
    if not name or name in (".", ".."):
        return "the file has no name"
    if shown != name:
        return f"{shown}: the file name holds control characters or bytes that are not UTF-8; rename it"
    if "/" in name or "\\" in name:
        return f"{shown}: a file name, not a path, is expected"
    if not name.lower().endswith(".txt") or len(name) <= 4:
        return f"{shown}: only .txt issue files are read (the data folder reads *.txt)"
    if name.startswith("."):
        return f"{shown}: a name starting with '.' is kept for the folder's own temp files; rename it"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"{shown}: the file name is too long (over {MAX_NAME_BYTES} bytes)"
    return None


def line_joins(p: Paragraph, source: str) -> tuple[int, ...]:
    """Where in `p.text` a line break of the file was rejoined: a run that starts
    after a gap holding a line end, or a character that stands for one (the space
    put between two Latin words broken across lines)."""
    out: set[int] = set()
    runs = p.runs
    for k, (t, s) in enumerate(runs):
        end_t = runs[k + 1][0] if k + 1 < len(runs) else len(p.text)
        if k:
            before = to_source(runs, t - 1)
            gap = source[before + 1:s]
            if "\n" in gap or "\r" in gap:
                out.add(t)
        chunk = source[s:s + (end_t - t)]
        out.update(t + i for i, c in enumerate(chunk) if c in "\r\n")
    return tuple(sorted(out))


def story_preview(st: Story, source: str) -> StoryPreview:
    paras = tuple(ParagraphPreview(p.text, line_joins(p, source) if p.runs else ()) for p in st.paragraphs)
    return StoryPreview(st.title, st.byline, st.date, paras, st.credits, st.pullquotes)


def check_upload(name: str, data: bytes, max_bytes: int, published: dict[str, str] | None = None,
                 size: int | None = None) -> Preview:
    """The Preview of an upload called `name` holding `data` (of `size` bytes in
    all, when only its start was read). `published` is {file name: sha256} of the
    issues in the data folder (rag.ingest.issues.issue_hashes), to say whether it
    replaces one or repeats one under another name."""
    published = published or {}
    shown = shown_name(name)
    size = len(data) if size is None else size
    digest = hashlib.sha256(data).hexdigest()
    base = dict(name=shown, size=size, sha256=digest)
    problem = name_problem(name)
    if problem is None and max(size, len(data)) > max_bytes:
        problem = f"{shown}: too large ({_mb(size)}; the limit is {_mb(max_bytes)}, RAG_MAX_ISSUE_MB)"
    if problem is None and not data.strip():
        problem = f"{shown}: the file is empty"
    text = ""
    if problem is None:
        try:
            text = decode_issue(data, shown)
        except IssueReadError as e:
            problem = str(e)
    stories = parse_issue(text, name) if problem is None else []
    if problem is None and not stories:
        problem = f"{shown}: no story text found"
    if problem is not None:
        return Preview(problem=problem, **base)
    taken = published.get(name)
    if taken is not None and taken.startswith("skipped:"):
        taken = None  # the file there is unreadable now: publishing mends it
    same = next((n for n, h in sorted(published.items()) if h == digest and n != name), None)
    if taken == digest:
        return Preview(problem=f"{shown}: already published with exactly this content", **base)
    return Preview(stories=tuple(story_preview(s, text) for s in stories), replaces=name in published,
                   same_as=same, data=data, **base)


def read_upload(path, max_bytes: int) -> tuple[bytes, int]:
    """(bytes, size) of an uploaded file in the web server's upload folder: no more
    than `max_bytes` + 1 bytes are read, so a larger file costs nothing to refuse."""
    import os

    with open(Path(path), "rb") as f:
        return f.read(max_bytes + 1), os.fstat(f.fileno()).st_size


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 100 * 1024 else f"{n} bytes"
