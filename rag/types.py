"""Plain frozen dataclasses that flow one way: Story -> Chunk -> Hit -> Answer.

No logic lives here beyond (de)serialisation helpers. Offsets are character
offsets into the issue text as returned by `rag.ingest.issues.read_issue` (decoded,
BOM removed, line ends kept as they are in the file).

Repaired text differs from the source (lines rejoined, pull quotes dropped,
ASCII punctuation made full-width), so each piece of text carries `runs`: a
tuple of (text_pos, source_pos) pairs. Character i of the text comes from
source offset `source_pos + (i - text_pos)` of the last run with text_pos <= i.
`rag.ingest.spans.to_source` applies it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

Runs = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Paragraph:
    text: str  # repaired text
    start: int  # source offset of the first character
    end: int  # source offset just past the last character
    runs: Runs = ()


@dataclass(frozen=True)
class Story:
    source: str  # issue file name, e.g. "heze-kaifaqu-2021-06.txt"
    index: int  # 0-based position of the story in its issue
    headline: str  # main headline
    kicker: str | None = None  # line above the headline ("菏泽开发区")
    subheadline: str | None = None  # line below the headline
    byline: str | None = None  # "通讯员 李海欣"
    date: str | None = None  # as stated in the story, e.g. "5月29日"
    credits: tuple[str, ...] = ()  # photo credits, kept apart ("通讯员 小错 摄")
    pullquotes: tuple[str, ...] = ()  # display headlines dropped from body text
    paragraphs: tuple[Paragraph, ...] = ()

    @property
    def title(self) -> str:
        """Headline as a reader sees it: kicker, headline, subheadline."""
        title = f"{self.kicker}：{self.headline}" if self.kicker else self.headline
        return f"{title}——{self.subheadline}" if self.subheadline else title

    def to_json(self) -> dict:
        d = asdict(self)
        d["title"] = self.title
        d["credits"] = list(self.credits)
        d["pullquotes"] = list(self.pullquotes)
        d["paragraphs"] = [
            {"text": p.text, "start": p.start, "end": p.end} for p in self.paragraphs
        ]
        return d


@dataclass(frozen=True)
class Chunk:
    id: int  # row in the FAISS index
    source: str  # issue file name
    story: int  # Story.index
    title: str  # Story.title, embedded with the text but not shown as it
    paragraph: int  # 1-based paragraph number within the story
    text: str  # repaired text shown and cited
    start: int  # source offset of the first character
    end: int  # source offset just past the last character
    runs: Runs = ()

    @property
    def embed_text(self) -> str:
        return f"{self.title}\n{self.text}"

    def to_json(self) -> dict:
        d = asdict(self)
        d["runs"] = [list(r) for r in self.runs]
        return d

    @classmethod
    def from_json(cls, d: dict) -> "Chunk":
        d = dict(d)
        d["runs"] = tuple(tuple(r) for r in d.get("runs", ()))
        return cls(**d)


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # fused score, higher is better
    rank: int  # 1-based
    dense: float | None = None  # cosine similarity, when the dense branch saw it
    lexical: float | None = None  # BM25 score, when the lexical branch saw it
    dense_gate: float | None = None  # the cosine this question's passages had to reach
    lexical_coverage: float | None = None  # share of the question's term weight the passage matches


@dataclass(frozen=True)
class Citation:
    rank: int
    story: str  # story title
    paragraph: int
    text: str
    score: float
    source: str
    start: int
    end: int
    # the short answer's position inside `text` (for highlighting), if any
    highlight: tuple[int, int] | None = None

    def to_json(self) -> dict:
        return {
            "rank": self.rank,
            "story": self.story,
            "paragraph": self.paragraph,
            "text": self.text,
            "score": round(self.score, 6),
            "source": self.source,
            "start": self.start,
            "end": self.end,
        }


@dataclass(frozen=True)
class Answer:
    question: str
    query: str  # the standalone query actually searched
    answerable: bool
    answer: str | None  # short answer
    sentence: str | None  # supporting sentence
    citations: tuple[Citation, ...] = ()
    # source offsets of the short answer in citations[0].source, when found
    answer_start: int | None = None
    answer_end: int | None = None
    reason: str | None = None  # why it was refused, for people (Chinese; rag.kinds words it in English too)
    kind: str | None = None  # what the question asks: a rag.kinds.Kind value (amount, date, person...)
    followup: bool = False  # query was rewritten from earlier turns
    refusal: object = None  # rag.kinds.Refusal when refused
    detail: str | None = None  # what the refusal names (the unknown word, the year)
    # the short answer is shown in bold only when it is likely right; otherwise
    # the sentence is shown without one (rag.answer.decide)
    answer_shown: bool = False
    confidence: float | None = None  # estimated chance the short answer (or, refused, any answer) is right
    # not a question: small talk or "which story?" (a rag.search.turns.Turn value); None for a question
    turn: str | None = None
    # what a question that points back was taken to be about, when it could mean several things
    assumed: str | None = None
    # what the answer stage measured (rag.answer.decide.Evidence), for fitting; not part of the JSON
    evidence: object = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        return {
            "question": self.question,
            "query": self.query,
            "answerable": self.answerable,
            "answer": self.answer,
            "sentence": self.sentence,
            "citations": [c.to_json() for c in self.citations],
            "answer_start": self.answer_start,
            "answer_end": self.answer_end,
            "kind": self.kind,
            "reason": self.reason,
            "refusal": getattr(self.refusal, "value", self.refusal),
            "answer_shown": self.answer_shown,
            "confidence": None if self.confidence is None else round(self.confidence, 4),
            # present only when they say something, so a plain answer keeps its documented keys
            **({"turn": self.turn} if self.turn else {}),
            **({"assumed": self.assumed} if self.assumed else {}),
        }
