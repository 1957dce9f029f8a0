"""The feedback and unanswered-questions log: 👍/👎 on answers, and refusals.

One SQLite file (standard library) in a configurable folder
(Settings.log_dir, env RAG_LOG_DIR). Each row is one reply's verdict: the
question, the query actually searched, the answer as shown (sentence or
refusal), its citation lines, the time (UTC) and the rating: "up", "down" or
"refused". Nothing else about the asker is stored: no address, no session,
no browser. A reply's random id (made when the reply is rendered) ties a
vote to its reply, so a changed vote replaces the earlier one and a refused
reply voted 👎 counts once.

Safe with several writers and across restarts: WAL journal, a busy timeout,
one short connection per write, and `PRAGMA user_version` naming the schema,
checked on open (a newer file is refused, not misread).

Times are stored in UTC and read back in the zone asked for (Settings.zone,
env RAG_TIMEZONE): the unanswered list's first/last times, the days of the
per-day counts and the CSV's columns, which name the zone.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from rag.errors import RagError

VERSION = 1
FILENAME = "feedback.sqlite3"
RATINGS = ("up", "down", "refused")
SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    id INTEGER PRIMARY KEY,
    reply TEXT NOT NULL,             -- random id of the reply (not of the asker)
    rating TEXT NOT NULL CHECK (rating IN ('up', 'down', 'refused')),
    at TEXT NOT NULL,                -- UTC, ISO 8601, seconds
    question TEXT NOT NULL,
    query TEXT NOT NULL,
    answer TEXT NOT NULL,
    citations TEXT NOT NULL,         -- JSON list of citation lines
    UNIQUE (reply, rating)
);
CREATE INDEX IF NOT EXISTS verdicts_at ON verdicts (at);
"""
CSV_HEADER = ("question", "times", "refused", "thumbs_down", "thumbs_up", "first", "last", "query", "answer", "citations")
UTC = timezone.utc


class FeedbackError(RagError):
    pass


@dataclass(frozen=True)
class Record:
    """What a reply said: stored with a verdict on it."""

    question: str
    query: str
    answer: str  # the sentence (or short answer) shown, or the refusal
    citations: tuple[str, ...] = ()  # citation lines, rag.web.render.citation_line


@dataclass(frozen=True)
class Unanswered:
    """One question staff should look at: refused or voted 👎, with counts."""

    question: str
    times: int  # replies refused or voted 👎
    refused: int
    down: int
    up: int
    first: str  # ISO 8601 with the offset of the zone read in (rag.web.feedback.FeedbackLog.unanswered)
    last: str
    query: str  # of the latest reply
    answer: str
    citations: tuple[str, ...]


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _in(at: str, zone: tzinfo) -> datetime:
    """A stored time (UTC ISO 8601; an offset-less one is UTC) in `zone`."""
    t = datetime.fromisoformat(at)
    return (t if t.tzinfo else t.replace(tzinfo=timezone.utc)).astimezone(zone)


def zone_name(zone: tzinfo) -> str:
    """How a zone is named to staff: its IANA key ("Asia/Shanghai"), else its own name ("UTC")."""
    return getattr(zone, "key", None) or zone.tzname(None) or "UTC"


class FeedbackLog:
    def __init__(self, folder: Path, timeout: float = 10.0):
        self.folder = Path(folder)
        self.path = self.folder / FILENAME
        self.timeout = timeout
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise FeedbackError(f"cannot create the log folder {self.folder}: {e.strerror}") from None
        with self._connect() as con:
            version = con.execute("PRAGMA user_version").fetchone()[0]
            if version > VERSION:
                raise FeedbackError(f"feedback log {self.path.name} has schema version {version}; "
                                    f"this program knows version {VERSION}")
            con.execute("PRAGMA journal_mode=WAL")  # readers never block the writer; kept in the file
            con.executescript(SCHEMA)
            con.execute(f"PRAGMA user_version = {VERSION}")

    def _connect(self):
        """A short-lived connection (closed on leaving the `with`); commits on success."""
        try:
            con = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None)
        except sqlite3.Error as e:
            raise FeedbackError(f"cannot open the feedback log {self.path.name}: {e}") from None
        con.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
        return _Closing(con)

    # ------------------------------------------------------------ writing

    def record(self, reply: str, rating: str, rec: Record, at: str | None = None) -> None:
        """Store a verdict on a reply. A vote replaces the reply's earlier vote;
        "refused" stays beside it."""
        if rating not in RATINGS:
            raise ValueError(f"rating ({rating!r}) must be one of {', '.join(RATINGS)}")
        row = (reply, rating, at or _now(), rec.question, rec.query, rec.answer,
               json.dumps(list(rec.citations), ensure_ascii=False))
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            if rating in ("up", "down"):
                con.execute("DELETE FROM verdicts WHERE reply = ? AND rating IN ('up', 'down')", (reply,))
            con.execute("INSERT OR REPLACE INTO verdicts (reply, rating, at, question, query, answer, citations) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", row)
            con.execute("COMMIT")

    def withdraw(self, reply: str) -> None:
        """The asker took a vote back: forget it (a refusal stays logged)."""
        with self._connect() as con:
            con.execute("DELETE FROM verdicts WHERE reply = ? AND rating IN ('up', 'down')", (reply,))

    # ------------------------------------------------------------ reading

    def count(self, rating: str | None = None) -> int:
        with self._connect() as con:
            if rating is None:
                return con.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0]
            return con.execute("SELECT COUNT(*) FROM verdicts WHERE rating = ?", (rating,)).fetchone()[0]

    def unanswered(self, limit: int | None = None, zone: tzinfo = UTC) -> list[Unanswered]:
        """Refused and 👎 questions, most frequent first (then the latest first), their
        first and last times in `zone`. A question is compared as typed, spaces trimmed."""
        sql = """
            WITH bad AS (SELECT DISTINCT reply FROM verdicts WHERE rating IN ('refused', 'down')),
            rows AS (SELECT v.* FROM verdicts v JOIN bad USING (reply))
            SELECT trim(question) AS q,
                   COUNT(DISTINCT reply) AS times,
                   SUM(rating = 'refused'), SUM(rating = 'down'), SUM(rating = 'up'),
                   MIN(at), MAX(at)
            FROM rows GROUP BY q ORDER BY times DESC, MAX(at) DESC, q
        """
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        out = []
        with self._connect() as con:
            for q, times, refused, down, up, first, last in con.execute(sql).fetchall():
                latest = con.execute(
                    "SELECT query, answer, citations FROM verdicts WHERE trim(question) = ? "
                    "ORDER BY at DESC, id DESC LIMIT 1", (q,)).fetchone()
                out.append(Unanswered(q, times, refused or 0, down or 0, up or 0, _in(first, zone).isoformat(),
                                      _in(last, zone).isoformat(), latest[0], latest[1], tuple(json.loads(latest[2]))))
        return out

    def per_day(self, days: int | None = 30, zone: tzinfo = UTC) -> list[tuple[str, int, int, int]]:
        """(day, refused, 👎, 👍) per day in `zone` with any verdict, newest first."""
        # counted per UTC minute in SQL (every zone's offset is whole minutes), then
        # each minute given to its day in the zone (a day there is not a UTC day),
        # newest first, until a day beyond the last one asked for begins
        sql = ("SELECT substr(at, 1, 16) AS minute, SUM(rating = 'refused'), SUM(rating = 'down'), SUM(rating = 'up') "
               "FROM verdicts GROUP BY minute ORDER BY minute DESC")
        counts: dict[str, list[int]] = {}
        with self._connect() as con:
            for minute, r, n, u in con.execute(sql):
                day = _in(minute, zone).date().isoformat()
                if day not in counts and days is not None and len(counts) >= days:
                    break
                c = counts.setdefault(day, [0, 0, 0])
                c[0] += r or 0
                c[1] += n or 0
                c[2] += u or 0
        return [(d, *c) for d, c in sorted(counts.items(), reverse=True)]

    def csv_text(self, zone: tzinfo = UTC) -> str:
        """The unanswered list as CSV (UTF-8 with a BOM, so spreadsheet programs read Chinese);
        the first/last columns are times in `zone`, named in their header and offset."""
        buf = io.StringIO()
        w = csv.writer(buf)
        name = zone_name(zone)
        w.writerow([f"{c} ({name})" if c in ("first", "last") else c for c in CSV_HEADER])
        for u in self.unanswered(zone=zone):
            w.writerow([_cell(u.question), u.times, u.refused, u.down, u.up, u.first, u.last, _cell(u.query),
                        _cell(u.answer), _cell("\n".join(u.citations))])
        return "\ufeff" + buf.getvalue()


# ------------------------------------------------------------ what a reply said

def record_of(answer):
    """What the log keeps of a reply: the question, the query searched, the
    answer as shown in plain text and the citation lines."""
    from rag.web import render

    lines = render.plain_answer(answer).splitlines()
    said = [x for x in lines if not re.match(r"\[\d+\] ", x)]
    return Record(answer.question, answer.query or answer.question, "\n".join(said),
                  tuple(render.cite_line(c) for c in answer.citations))


def record_from_message(history, index, raw: str):
    """A reply's record read back from the chat itself (its plain-text copy and
    the question before it), for a vote on a reply the server no longer keeps.
    `history` is the chat's messages ({"role", "content"}), `index` the reply's."""
    found = COPY_RE.search(raw)
    plain = html.unescape(found.group(1)) if found else html.unescape(re.sub(r"<[^>]*>", " ", raw)).strip()
    lines = plain.splitlines()
    said = [x for x in lines if not re.match(r"\[\d+\] ", x)]
    cites = tuple(re.sub(r"^\[\d+\] ", "", x) for x in lines if re.match(r"\[\d+\] ", x))
    question = ""
    msgs = history if isinstance(history, list) else []
    stop = index if isinstance(index, int) and 0 <= index <= len(msgs) else len(msgs)
    for m in reversed(msgs[:stop]):
        if isinstance(m, dict) and m.get("role") == "user":
            question = html.unescape(message_text(m.get("content"))).strip()
            break
    query = re.search(r'class="rag-query">[^<：:]*[：:]\s*([^<]*)<', raw)
    return Record(question[:2000], html.unescape(query.group(1)) if query else question[:2000], "\n".join(said)[:4000],
                  cites[:20])


COPY_RE = re.compile(r'data-copy="([^"]*)"')


def message_text(content) -> str:
    """Text of a chat message's content: a string, or Gradio 6's list of parts (rag.web.handlers reads turns with it too)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, (list, tuple)):
        return "".join(message_text(c) for c in content)
    return ""


def _cell(text: str) -> str:
    """A spreadsheet reads a cell starting with = + - @ as a formula: quote it."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Closing(closing):
    """closing() that also rolls back a transaction left open by an error."""

    def __exit__(self, *exc):
        con = self.thing
        try:
            if exc[0] is not None and con.in_transaction:
                con.rollback()
        finally:
            con.close()
