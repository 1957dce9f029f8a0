"""The anchor: the retrieval recipe most tutorials use, as a baseline.

Takes the issue files of a data folder and an embedder; gives an object with
the engine's `ask(question, history)` shape, so the same metrics measure it.
The recipe: langchain's RecursiveCharacterTextSplitter with its default
separators, chunk_size=500, chunk_overlap=50, add_start_index=True, over the raw
issue text; the same embedding model as the engine; FAISS IndexFlatIP, top 5.
No stories, no history, no refusal, no short answer: `answerable` is always
true, `answer` is None, the "sentence" is the top chunk. Each citation is
labelled with the story whose paragraphs overlap the chunk most (from
rag.ingest.issues), only so that story@1 can be measured.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.types import Answer, Citation, Story

CHUNK_SIZE = 500
CHUNK_OVERLAP = 50
TOP_K = 5


@dataclass(frozen=True)
class RawChunk:
    source: str
    text: str
    start: int
    end: int
    story: str  # title of the most-overlapping story, "" if none
    paragraph: int  # 1-based paragraph of that story overlapping most, 0 if none


def split_text(text: str) -> list[tuple[str, int]]:
    """(chunk text, start offset) pairs, exactly as the tutorial recipe makes them."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP, add_start_index=True
    )
    docs = splitter.create_documents([text])
    return [(d.page_content, int(d.metadata.get("start_index", -1))) for d in docs]


def _overlap(a: int, b: int, c: int, d: int) -> int:
    return max(0, min(b, d) - max(a, c))


def label(start: int, end: int, stories: Sequence[Story]) -> tuple[str, int]:
    """(title, paragraph number) of the story whose paragraphs overlap [start, end) most."""
    best = ("", 0, 0)  # title, paragraph, overlap
    for s in stories:
        per_par = [_overlap(start, end, p.start, p.end) for p in s.paragraphs]
        total = sum(per_par)
        if total > best[2]:
            best = (s.title, 1 + per_par.index(max(per_par)), total)
    return best[0], best[1]


def build_chunks(texts: dict[str, str], stories: Sequence[Story]) -> list[RawChunk]:
    chunks = []
    for source, text in texts.items():
        mine = [s for s in stories if s.source == source]
        for chunk_text, start in split_text(text):
            if start < 0:  # the splitter could not find the chunk again; find it ourselves
                start = max(text.find(chunk_text), 0)
            end = start + len(chunk_text)
            title, par = label(start, end, mine)
            chunks.append(RawChunk(source, chunk_text, start, end, title, par))
    return chunks


class Anchor:
    def __init__(self, chunks: list[RawChunk], embedder, top_k: int = TOP_K):
        import faiss

        self.chunks = chunks
        self.embedder = embedder
        self.top_k = top_k
        vectors = np.asarray(embedder.encode_passages([c.text for c in chunks]), dtype=np.float32)
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        if len(chunks):
            self.index.add(vectors)

    @classmethod
    def open(cls, data_dir: Path, embedder) -> "Anchor":
        from rag.ingest.issues import load_issues, read_issue

        stories, _failed = load_issues(Path(data_dir))
        sources = sorted({s.source for s in stories})
        texts = {name: read_issue(Path(data_dir) / name) for name in sources}
        return cls(build_chunks(texts, stories), embedder)

    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        # history is ignored on purpose: the tutorial recipe has no conversation memory
        k = min(self.top_k, len(self.chunks))
        if k == 0 or not question.strip():
            return Answer(question=question, query=question, answerable=True, answer=None, sentence=None)
        q = np.asarray(self.embedder.encode_queries([question]), dtype=np.float32)
        scores, ids = self.index.search(q, k)
        cites = []
        for rank, (i, sc) in enumerate(zip(ids[0], scores[0]), 1):
            if i < 0:
                continue
            c = self.chunks[int(i)]
            cites.append(Citation(rank, c.story, c.paragraph, c.text, float(sc), c.source, c.start, c.end))
        return Answer(
            question=question, query=question, answerable=True, answer=None,
            sentence=cites[0].text if cites else None, citations=tuple(cites),
        )
