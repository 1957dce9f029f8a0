"""The chat's callbacks, bound to one engine and kept apart from Gradio for tests.

Takes a question (with the earlier turns) or a staff search from the page or the
API; gives the reply HTML (rag.web.render) or the `ask --json` object, and records
refusals and votes in the feedback log (rag.web.feedback). No exception reaches
the page: RagError becomes its message, anything else a generic apology, with the
traceback logged on the console; a rejected question logs one line; no server
path reaches the page or an API response.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
import threading
import uuid
from collections import OrderedDict

from rag.config import Settings
from rag.errors import EXITS, RagError
from rag.kinds import Refusal
from rag.search.query import scrub
from rag.search.turns import lang_of
from rag.web import feedback, render

log = logging.getLogger("newsrag.app")


ALL = "全部"
MAX_HISTORY = 6  # earlier questions passed to the engine; older turns rarely matter
REPLIES_KEPT = 2000  # recent replies remembered for their 👍/👎 (a vote after a restart reads the reply itself)
ANSWERS_KEPT = 512  # recent answers kept by question and earlier turns (a few KB each)
REPLY_RE = re.compile(r'data-reply="([0-9a-f]{6,32})"')
SORRY = "抱歉，处理这个问题时出了点问题，请换个问法再试一次。"
# a directory part of a path (/srv/x/, C:\x\): only the last part, the file name, may be shown
_PART = r"[^\\/\s:：，,;；()（）\[\]'\"]"
DIR_RE = re.compile(rf"(?:[A-Za-z]:)?{_PART}*(?:[\\/]{_PART}+)*[\\/]")


def no_paths(text) -> str:
    """Text for the page or an API response: server paths cut down to file names."""
    return DIR_RE.sub("", str(text))


def _rejected(where: str, why: str, text) -> None:
    """One console line per rejected question, never a traceback."""
    n = len(text) if isinstance(text, str) else -1
    log.info("%s: rejected a question (%d chars): %s", where, n, why)


def user_questions(history, limit: int = 500) -> list[str]:
    """Earlier user questions, oldest first, from chat messages or a plain list of strings."""
    out = []
    for m in (history or [])[-4 * MAX_HISTORY:] if isinstance(history, list) else []:
        if isinstance(m, str):
            q = m
        elif isinstance(m, dict) and m.get("role") == "user":
            q = html.unescape(feedback.message_text(m.get("content")))  # user bubbles hold escaped text
        else:
            continue
        q = q.strip()
        if q and len(q) <= limit:
            out.append(q)
    return out[-MAX_HISTORY:]


def parse_history(history) -> list[str]:
    """/ask's history: a JSON list (string) or a list of earlier questions or messages."""
    if history is None or history == "":
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError as e:
            raise RagError(f"history 不是合法的 JSON 列表：{e.msg}") from None
        except RecursionError:
            raise RagError("history 嵌套太深，应是较早问题组成的列表") from None
    if not isinstance(history, list):
        raise RagError("history 应是较早问题组成的列表，例如 [\"现代医药港计划投资多少？\"]")
    return history


class Recent:
    """The last `size` answers by (question, earlier turns). The engine answers the
    same input the same way, so the same question in the same conversation state is
    read once: the example questions, and whatever a story in the news makes everyone
    ask, are asked again and again. Thread-safe; two first askings at once both ask."""

    def __init__(self, size: int = 512):
        self.size = size
        self._kept: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, make):
        with self._lock:
            if key in self._kept:
                self._kept.move_to_end(key)
                return self._kept[key]
        value = make()
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return value


class Handlers:
    """The app's callbacks, bound to one engine; kept apart from Gradio for tests.

    `log` (a rag.web.feedback.FeedbackLog, or None: nothing recorded) receives the
    refusals and the 👍/👎; `examples` are the questions the help reply offers.
    """

    def __init__(self, engine, settings: Settings, log=None, examples=()):
        self.engine = engine
        self.settings = settings
        self.log = log
        self.examples = list(examples)
        self.replies: OrderedDict[str, object] = OrderedDict()  # reply id -> rag.web.feedback.Record

    def check(self, question: str, noun: str = "问题") -> str | None:
        """A friendly message (in the asker's language) if the question cannot be asked, else None."""
        if question is not None and not isinstance(question, str):
            return f"{noun}应是一段文字。"
        q = (question or "").strip()
        if not q:
            return f"请输入一个{noun}。"
        n, cap = len(q), self.settings.max_question_chars
        if n > cap:
            if noun == "问题" and lang_of(q) == "en":
                return f"The question is too long ({n} characters); please keep it within {cap}."
            return f"{noun}太长了（{n} 字），请控制在 {cap} 字以内。"
        return None

    def chat(self, message, history) -> str:
        try:
            message = feedback.message_text(message)
            problem = self.check(message)
            if problem:
                _rejected("chat", problem, message)
                return render.render_notice(problem)
            earlier = user_questions(history, self.settings.max_question_chars)
            answer = self._answer(message.strip(), earlier)
            reply = self._remember(answer)
            return render.render_answer(answer, anchor="c" + reply[:8], examples=self.examples, reply=reply)
        except RagError as e:
            log.warning("chat: %s", e)
            return render.render_notice(no_paths(e))
        except EXITS:
            raise
        except BaseException:  # a native panic too: the worker lives on
            log.exception("chat failed for %r", message)
            return render.render_notice(SORRY)

    def ask(self, question: str, history: str | list = "") -> dict:
        import gradio as gr

        try:
            problem = self.check(question)
            if problem:
                _rejected("ask", problem, question)
                raise gr.Error(problem, print_exception=False)
            earlier = user_questions(parse_history(history), self.settings.max_question_chars)
            answer = self._answer(question.strip(), earlier)
            self._remember(answer)
            return answer.to_json()
        except gr.Error:
            raise
        except RagError as e:
            _rejected("ask", str(e), question)
            raise gr.Error(no_paths(e), print_exception=False) from None
        except EXITS:
            raise
        except BaseException:
            log.exception("ask failed for %r", question)
            raise gr.Error(SORRY, print_exception=False) from None

    @property
    def engine(self):
        return self._engine

    @engine.setter
    def engine(self, engine) -> None:
        self._engine = engine  # another index (or settings): the kept answers are not its answers
        self.recent = Recent(ANSWERS_KEPT)

    def _answer(self, question: str, earlier: list[str]):
        return self.recent.get((question, tuple(earlier)), lambda: self.engine.ask(question, earlier))

    # ------------------------------------------------------------ feedback

    def _remember(self, answer) -> str:
        """A new reply id; the reply kept for its votes, and logged when refused."""
        reply = uuid.uuid4().hex[:12]
        if self.log is None:
            return reply
        rec = feedback.record_of(answer)
        self.replies[reply] = rec
        while len(self.replies) > REPLIES_KEPT:
            self.replies.popitem(last=False)
        if not answer.answerable and not answer.turn and answer.refusal not in (None, Refusal.BAD_QUESTION):
            self._write(reply, "refused", rec)
        return reply

    def _write(self, reply: str, rating: str | None, rec=None) -> None:
        try:
            if rating is None:
                self.log.withdraw(reply)
            else:
                self.log.record(reply, rating, rec)
        except Exception:  # the answer matters more than its log line
            log.exception("feedback log: could not write a %s", rating or "withdrawal")

    def vote(self, history, index, value, liked) -> None:
        """👍 (liked True), 👎 (False) or taken back ("") on a reply: stored with what
        the reply said. After a restart the reply is read back from the message."""
        if self.log is None:
            return
        try:
            raw = feedback.message_text(value)
            found = REPLY_RE.search(raw)
            rec = self.replies.get(found.group(1)) if found else None
            if rec is None:
                rec = feedback.record_from_message(history, index, raw)
            reply = found.group(1) if found else hashlib.sha1((rec.question + raw).encode("utf-8", "replace")).hexdigest()[:12]
        except Exception:
            log.exception("feedback: unreadable vote")
            return
        if liked is True or liked is False:
            self._write(reply, "up" if liked else "down", rec)
        elif liked in ("", None):
            self._write(reply, None)

    def unanswered_html(self) -> str:
        if self.log is None:
            return render.render_notice("没有开启记录（未设置日志文件夹）。")
        try:
            zone = self.settings.zone  # staff times in the configured zone (RAG_TIMEZONE), named on the page
            return render.render_unanswered(self.log.unanswered(limit=200, zone=zone), self.log.per_day(30, zone=zone),
                                            feedback.zone_name(zone))
        except Exception:
            log.exception("feedback log: could not read")
            return render.render_notice(SORRY)

    # ------------------------------------------------------------ staff search

    def search(self, query: str, issue: str = ALL, story: str = ALL) -> tuple[str, str]:
        try:
            problem = self.check(query, "检索词")
            if problem:
                _rejected("search", problem, query)
                return render.render_notice(problem), ""
            query = scrub(query)  # it is echoed on the page: no lone surrogates or bidi marks
            # the filters are compared with indexed names (an unknown one matches nothing);
            # nothing is ever read or opened by them
            issue = issue if isinstance(issue, str) and issue not in ("", ALL) else None
            story = story if isinstance(story, str) and story not in ("", ALL) else None
            hits = self.engine.search(query.strip(), k=20, source=issue, story=story)
            with self.engine.lexicon.active():  # the query's words cut as the search cut them
                html_ = render.render_hits(hits, query.strip(), filtered=bool(issue or story))
            return html_, "\n".join(render.hit_line(h) for h in hits)
        except RagError as e:
            log.warning("search: %s", e)
            return render.render_notice(no_paths(e)), ""
        except EXITS:
            raise
        except BaseException:
            log.exception("search failed for %r", query)
            return render.render_notice(SORRY), ""

    def search_again(self, query: str, issue: str = ALL, story: str = ALL) -> tuple[str, str]:
        """A filter changed: search again, unless nothing was typed yet."""
        if not isinstance(query, str) or not query.strip():
            return "", ""
        return self.search(query, issue, story)

    def story_choices(self, issue: str = ALL) -> list[str]:
        titles = [s.title for s in self.engine.stories if issue in (None, "", ALL) or s.source == issue]
        return [ALL] + list(dict.fromkeys(titles))

    def issue_choices(self) -> list[str]:
        return [ALL] + sorted({s.source for s in self.engine.stories})
