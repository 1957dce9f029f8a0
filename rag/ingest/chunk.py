"""Stories in, Chunks out: paragraphs cut into citable pieces, offsets kept.

Each paragraph is split on its own (a chunk never spans two paragraphs) with
langchain's RecursiveCharacterTextSplitter on Chinese separators: paragraph
breaks, then sentence ends 。！？…, then clause marks ；，. There is no ""
fallback, so a chunk is never cut inside a number, amount, date or code
(300亿元, 3.5%, 5月29日, “3221”): a sentence longer than chunk_size stays whole.
A sentence end takes its closing quotes with it (。” stays together). Each
chunk gets its slice of the paragraph's runs and its source start/end.
"""

from __future__ import annotations

from collections.abc import Iterable

from rag.ingest.spans import slice_runs, source_span
from rag.types import Chunk, Story

# Regexes (no capturing groups: the splitter wraps them in one). A sentence end
# keeps any stacked end marks and closing quotes/brackets that follow it.
_TAIL = r"[。！？!?…]*[”’」』）)\"']*"
SEPARATORS = [
    r"\n\n",
    r"\n",
    r"。" + _TAIL,
    r"！" + _TAIL,
    r"？" + _TAIL,
    r"…+" + _TAIL,
    r"；[”’」』）)]*",
    r"，",
]


def make_splitter(chunk_size: int, chunk_overlap: int):
    if chunk_size <= 0:
        raise ValueError(f"chunk size ({chunk_size}) must be positive")
    if not 0 <= chunk_overlap < chunk_size:
        raise ValueError(
            f"chunk overlap ({chunk_overlap}) larger than chunk size ({chunk_size})"
            if chunk_overlap >= chunk_size else f"chunk overlap ({chunk_overlap}) must be >= 0"
        )
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        separators=SEPARATORS,
        is_separator_regex=True,
        keep_separator="end",  # 。 stays with its sentence
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        strip_whitespace=False,  # we trim ourselves, keeping offsets right
    )


def split_offsets(text: str, pieces: list[str], overlap: int) -> list[tuple[int, int]]:
    """(i, j) of each piece in text, in order; whitespace at the edges trimmed.

    With overlap a piece starts at most `overlap` characters before the end of
    the previous one, so the search starts there and finds the right copy even
    when the same sentence occurs twice.
    """
    spans: list[tuple[int, int]] = []
    prev_start, prev_end = -1, 0
    for piece in pieces:
        i = text.find(piece, max(prev_end - overlap, prev_start + 1, 0))
        if i < 0:
            raise RuntimeError(f"splitter returned text not in the paragraph: {piece[:30]!r}")
        j = i + len(piece)
        prev_start, prev_end = i, j
        while i < j and text[i].isspace():
            i += 1
        while j > i and text[j - 1].isspace():
            j -= 1
        if i < j:
            spans.append((i, j))
    return spans


def chunk_stories(stories: Iterable[Story], chunk_size: int, chunk_overlap: int) -> list[Chunk]:
    """Chunks of every story's paragraphs, ids 0..n-1 in reading order."""
    splitter = make_splitter(chunk_size, chunk_overlap)
    chunks: list[Chunk] = []
    for story in stories:
        for n, para in enumerate(story.paragraphs, start=1):
            pieces = splitter.split_text(para.text)
            for i, j in split_offsets(para.text, pieces, chunk_overlap):
                start, end = source_span(para.runs, i, j)
                chunks.append(Chunk(
                    id=len(chunks), source=story.source, story=story.index, title=story.title,
                    paragraph=n, text=para.text[i:j], start=start, end=end,
                    runs=slice_runs(para.runs, i, j),
                ))
    return chunks
