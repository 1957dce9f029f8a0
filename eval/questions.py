"""Questions file: JSON lines in, checked Question values out.

One JSON object a line: `id`, `q`, optional `history` (earlier user questions,
oldest first), `kind`, optional `story` (a substring of the gold story's
title), `answers` (acceptable short answers; absent or empty means the issue
does not answer the question). Blank lines are skipped. Any problem raises
QuestionsError naming the file and line, so evaluators can fix their own files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


class QuestionsError(Exception):
    """The questions file is missing or has a bad line."""


@dataclass(frozen=True)
class Question:
    id: str
    q: str
    kind: str
    history: tuple[str, ...] = ()
    story: str | None = None
    answers: tuple[str, ...] = ()

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    def gold(self) -> dict:
        return {"kind": self.kind, "story": self.story, "answers": list(self.answers)}


def _str_list(d: dict, key: str, where: str) -> tuple[str, ...]:
    v = d.get(key)
    if v is None:
        return ()
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise QuestionsError(f"{where}: `{key}` must be a list of non-empty strings")
    return tuple(v)


def parse_line(line: str, where: str) -> Question:
    try:
        d = json.loads(line)
    except json.JSONDecodeError as e:
        raise QuestionsError(f"{where}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(d, dict):
        raise QuestionsError(f"{where}: expected a JSON object, got {type(d).__name__}")
    qid = d.get("id")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise QuestionsError(f"{where}: `id` is missing or empty")
    for key in ("q", "kind"):
        if not isinstance(d.get(key), str) or not d[key].strip():
            raise QuestionsError(f"{where} ({qid}): `{key}` must be a non-empty string")
    story = d.get("story")
    if story is not None and (not isinstance(story, str) or not story.strip()):
        raise QuestionsError(f"{where} ({qid}): `story` must be a non-empty string when given")
    answers = _str_list(d, "answers", f"{where} ({qid})")
    if d["kind"] == "unanswerable" and answers:
        raise QuestionsError(f"{where} ({qid}): kind is unanswerable but `answers` are given")
    return Question(
        id=qid, q=d["q"], kind=d["kind"], history=_str_list(d, "history", f"{where} ({qid})"),
        story=story, answers=answers,
    )


def load_questions(path: Path) -> list[Question]:
    try:
        raw = Path(path).read_bytes()
    except OSError as e:
        raise QuestionsError(f"cannot read questions file {path}: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise QuestionsError(f"{path}:{line}: not UTF-8 text") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        q = parse_line(line, f"{path}:{n}")
        if q.id in seen:
            raise QuestionsError(f"{path}:{n}: id {q.id!r} already used on line {seen[q.id]}")
        seen[q.id] = n
        questions.append(q)
    if not questions:
        raise QuestionsError(f"{path}: no questions")
    return questions
