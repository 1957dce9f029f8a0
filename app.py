"""Gradio web chat over the indexed newspaper issues.

Takes Settings from the environment (rag.config.from_env: RAG_DATA_DIR,
RAG_INDEX_DIR, RAG_LOG_DIR, ...; Gradio itself reads GRADIO_SERVER_NAME/PORT),
opens the Engine once per process (building the index on first start, with
progress on the console) and serves:
  - a multi-turn chat: answer sentence with the short answer in bold, numbered
    sources, the rewritten query for follow-ups, a help reply to small talk;
    👍/👎 on every reply, stored with refusals in the feedback log (rag.feedback);
    the copy button gives plain text (the sentence and a citation line);
  - a staff search tab: passages holding the keyword first, issue/story filters,
    one copy control per citation line;
  - a staff tab of refused and 👎 questions, most frequent first, a count per
    day, and a CSV export at /staff/unanswered.csv;
  - API endpoints /chat (reply HTML text), /ask (the `ask --json` object), /search.
Handlers never let an exception reach the page: RagError becomes its message,
anything else a generic apology, with the traceback logged on the console; a
rejected question logs one line. User bubbles are escaped text (no markdown,
no HTML), request bodies are capped, a full queue answers "busy, try again",
and no server path reaches the page or an API response.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import os
import re
import sys
import uuid
from collections import OrderedDict
from datetime import date
from pathlib import Path

from rag import feedback, page_js, render
from rag.config import ROOT, Settings, from_env, offline_hub_default
from rag.errors import RagError
from rag.kinds import Refusal
from rag.query import scrub
from rag.turns import example_questions, lang_of

log = logging.getLogger("newsrag.app")

ALL = "全部"
MAX_HISTORY = 6  # earlier questions passed to the engine; older turns rarely matter
PLACEHOLDER = "输入问题，回车发送；可以接着追问"
REPLIES_KEPT = 2000  # recent replies remembered for their 👍/👎 (a vote after a restart reads the reply itself)
EXPORT_PATH = "/staff/unanswered.csv"
REPLY_RE = re.compile(r'data-reply="([0-9a-f]{6,32})"')
SORRY = "抱歉，处理这个问题时出了点问题，请换个问法再试一次。"
BUSY = "服务器繁忙，请稍后再试。Server busy, please try again in a few seconds."
MAX_BODY_BYTES = 2 * 1024 * 1024  # a long chat resends its replies' HTML; 2 MB is hundreds of turns
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


def _gradio_env() -> None:
    # Set before gradio is imported: it reads these at import time.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    tmp = ROOT / ".cache" / "gradio"
    tmp.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("GRADIO_TEMP_DIR", str(tmp))


def console_progress(*args, **kwargs) -> None:
    """Progress callback for Engine.open: print whatever it reports, one line each."""
    text = " ".join(str(a) for a in args)
    if kwargs:
        text += " " + " ".join(f"{k}={v}" for k, v in kwargs.items())
    print(f"[index] {text}", file=sys.stderr, flush=True)


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


class Handlers:
    """The app's callbacks, bound to one engine; kept apart from Gradio for tests.

    `log` (a rag.feedback.FeedbackLog, or None: nothing recorded) receives the
    refusals and the 👍/👎; `examples` are the questions the help reply offers.
    """

    def __init__(self, engine, settings: Settings, log=None, examples=()):
        self.engine = engine
        self.settings = settings
        self.log = log
        self.examples = list(examples)
        self.replies: OrderedDict[str, object] = OrderedDict()  # reply id -> rag.feedback.Record

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
            answer = self.engine.ask(message.strip(), earlier)
            reply = self._remember(answer)
            return render.render_answer(answer, anchor="c" + reply[:8], examples=self.examples, reply=reply)
        except RagError as e:
            log.warning("chat: %s", e)
            return render.render_notice(no_paths(e))
        except Exception:
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
            answer = self.engine.ask(question.strip(), earlier)
            self._remember(answer)
            return answer.to_json()
        except gr.Error:
            raise
        except RagError as e:
            _rejected("ask", str(e), question)
            raise gr.Error(no_paths(e), print_exception=False) from None
        except Exception:
            log.exception("ask failed for %r", question)
            raise gr.Error(SORRY, print_exception=False) from None

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
            return render.render_unanswered(self.log.unanswered(limit=200), self.log.per_day(30))
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
        except Exception:
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


def examples_for(engine, limit: int = 4, tries: int = 10) -> list[str]:
    """Questions to offer (clickable, and in the help reply): built from the
    indexed stories (rag.turns.example_questions), kept when the engine
    answers them from the story they came from (at most `tries` asked, at startup).
    An index of other issues gets its own examples, or none rather than wrong ones."""
    picked = []
    for ex in example_questions(engine.stories)[:tries]:
        try:
            a = engine.ask(ex.question)
        except Exception:  # an example is a nicety; never block startup on it
            log.exception("example %r failed", ex.question)
            continue
        if a.answerable and a.answer_shown and a.answer and a.citations and a.citations[0].story == ex.story \
                and (ex.answer is None or ex.answer in a.answer):
            picked.append(ex.question)
        if len(picked) >= limit:
            break
    return picked


EXAMPLES_FILE = "examples.json"  # beside the index's `current` folder


def _examples_key(settings: Settings) -> str | None:
    """What the examples depend on: the index (its manifest), the settings and the
    code and fitted files that answer. None when the index has no manifest file."""
    from dataclasses import asdict

    try:
        manifest = (settings.index_dir / "current" / "manifest.json").read_bytes()
    except OSError:
        return None
    h = hashlib.sha256(manifest)
    h.update(repr(sorted((k, str(v)) for k, v in asdict(settings).items())).encode("utf-8"))
    import rag

    code = Path(rag.__file__).resolve().parent
    for f in sorted(code.rglob("*")):
        if f.suffix in (".py", ".json", ".safetensors") and f.is_file():
            h.update(str(f.relative_to(code)).encode("utf-8"))
            # the fitted weights by size and time (28 MB); code and tables by content
            h.update(repr((f.stat().st_size, f.stat().st_mtime_ns)).encode() if f.suffix == ".safetensors"
                     else f.read_bytes())
    return h.hexdigest()


def cached_examples(engine, settings: Settings) -> list[str]:
    """examples_for, kept in the index folder for the next start of the same index,
    settings and code: asking them took about a third of a chat's start (2 s of 7).
    The cache is a nicety: unreadable, stale or unwritable, the examples are asked."""
    key = _examples_key(settings)
    path = settings.index_dir / EXAMPLES_FILE
    if key is not None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(saved, dict) and saved.get("key") == key and isinstance(saved.get("examples"), list) \
                    and all(isinstance(q, str) for q in saved["examples"]):
                return saved["examples"]
        except (OSError, ValueError):
            pass
    examples = examples_for(engine)
    if key is not None:
        tmp = path.with_name(f".{EXAMPLES_FILE}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps({"key": key, "examples": examples}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # a read-only index folder: ask them again next time
            try:
                tmp.unlink()
            except OSError:
                pass
    return examples


def escape_user_text(message):
    """A user bubble's content: the text as typed, HTML-escaped once (idempotent,
    so a retried message is not escaped twice)."""
    if isinstance(message, str):
        return html.escape(html.unescape(message), quote=False)
    if isinstance(message, dict) and isinstance(message.get("text"), str):
        return dict(message, text=escape_user_text(message["text"]))
    return message


def chat_interface_class(gr):
    """gr.ChatInterface whose user messages enter the chat history escaped.

    With the Chatbot's render_markdown=False, `![x](http://…)`, `[a](javascript:…)`
    or `<img src=…>` typed by a user shows as those characters and loads nothing;
    the bot's replies are HTML built by rag.render with every issue text escaped.
    ChatInterface appends the user's message itself (before and after calling
    fn), through _message_as_message_dict, so that is where it is escaped.
    """

    class EscapingChatInterface(gr.ChatInterface):
        def _append_message_to_history(self, message, history, role="user"):
            # an empty message shows no empty bubble (the page does not send one either)
            if role == "user" and not feedback.message_text(message).strip() and not (isinstance(message, dict) and message.get("files")):
                return list(history or [])
            return super()._append_message_to_history(message, history, role)

        def _message_as_message_dict(self, message, role):
            if role == "user":
                message = [escape_user_text(m) for m in message] if isinstance(message, list) \
                    else escape_user_text(message)
            return super()._message_as_message_dict(message, role)

    return EscapingChatInterface


def page_info(engine) -> dict:
    """Engine.describe() for the page: skipped files by name, no server paths."""
    info = dict(engine.describe())
    info["skipped"] = [[no_paths(name), no_paths(why)] for name, why in info.get("skipped") or []]
    info["model"] = no_paths(info.get("model") or "")
    return info


def build_demo(engine, settings: Settings, log_=None):
    """The page. `log_` is the feedback log (rag.feedback.FeedbackLog) or None: no
    votes or refusals recorded, and the staff tab says so."""
    _gradio_env()
    import gradio as gr

    examples = cached_examples(engine, settings)
    h = Handlers(engine, settings, log=log_, examples=examples)
    info = page_info(engine)
    with gr.Blocks(title="报纸问答", analytics_enabled=False) as demo:
        gr.HTML(
            '<div class="rag-header"><h1>报纸问答</h1>'
            "<p>用中文或英文提问，答案摘自报纸原文，并给出处（标题、段落、字符位置）。</p></div>"
            + render.render_overview(info)
        )
        with gr.Tabs():
            with gr.Tab("问答", id="chat"):
                chatbot = gr.Chatbot(
                    # tall enough for several turns; a phone keeps room for the keyboard
                    height="max(420px, calc(100vh - 290px))", latex_delimiters=[], buttons=["copy"],
                    show_label=False, render_markdown=False, elem_id="chat",
                    placeholder="<b>问一个关于这些报纸的问题</b><br>例如：某个项目投资多少、在哪一天、谁写的报道。"
                                "<br>Questions in English work too.",
                    feedback_options=("Like", "Dislike"),
                )
                # no max_length: the box would cut a pasted question silently; the
                # counter below says what is left, and the page does not send an
                # empty or too long question (the server refuses them too)
                textbox = gr.Textbox(
                    placeholder=PLACEHOLDER, show_label=False, submit_btn="发送", stop_btn=False, lines=1,
                    max_lines=4, elem_id="ask-box",
                )
                ci = chat_interface_class(gr)(
                    fn=h.chat, chatbot=chatbot, textbox=textbox, api_name="chat",
                    examples=examples or None, run_examples_on_click=True,
                    fill_height=False, api_description="Ask one question; returns the reply as HTML text.",
                )
                gr.HTML(f'<div id="ask-count" aria-live="polite">最多 {settings.max_question_chars} 字</div>')
                # ChatInterface blanks the placeholder on submit and never puts it back.
                ci.chatbot.change(lambda: gr.Textbox(placeholder=PLACEHOLDER), None, textbox,
                                  api_visibility="private", queue=False)

                def vote(history, data):
                    h.vote(history, data.index, data.value, data.liked)

                vote.__annotations__ = {"data": gr.LikeData}  # how Gradio knows to pass the event's data
                ci.chatbot.like(vote, [ci.chatbot], None, api_visibility="private", queue=False)
                clear = gr.Button("清空对话", variant="secondary", size="sm", elem_id="clear-chat")
                clear.click(lambda: ([], [], []), None, [ci.chatbot, ci.chatbot_state, ci.chatbot_value],
                            api_visibility="private", queue=False)
            with gr.Tab("检索（编辑用）", id="search"):
                with gr.Row():
                    query = gr.Textbox(label="关键词或问题", placeholder="例如：5G", scale=3, min_width=200)
                    # a value not in the list reaches Handlers.search and matches nothing
                    # (Gradio's own check would print a traceback per request)
                    issue = gr.Dropdown(h.issue_choices(), value=ALL, label="期次", scale=1, allow_custom_value=True,
                                        min_width=140)
                    story = gr.Dropdown(h.story_choices(), value=ALL, label="报道", scale=2, allow_custom_value=True,
                                        min_width=180)
                go = gr.Button("检索", variant="primary")
                results = gr.HTML(elem_id="search-results")
                with gr.Accordion("全部引用（可复制）", open=False):
                    lines = gr.Textbox(show_label=False, lines=4, buttons=["copy"], interactive=False,
                                       elem_id="cite-lines")
                go.click(h.search, [query, issue, story], [results, lines], api_name="search")
                query.submit(h.search, [query, issue, story], [results, lines], api_visibility="private")
                # a filter the user changes searches again (.input: not when the page sets it)
                issue.input(lambda i: gr.Dropdown(choices=h.story_choices(i), value=ALL), issue, story,
                            api_visibility="private", queue=False
                            ).then(h.search_again, [query, issue, story], [results, lines], api_visibility="private")
                story.input(h.search_again, [query, issue, story], [results, lines], api_visibility="private")
            with gr.Tab("未答问题（编辑用）", id="log") as log_tab:
                gr.HTML('<p class="rag-count">没答上来的问题和被点“踩”的回答，问得最多的在前；只记问题、检索词、回答、'
                        f'出处和时间。<a class="rag-export" href="{EXPORT_PATH.lstrip("/")}" download>导出 CSV</a></p>')
                refresh = gr.Button("刷新", size="sm", elem_id="log-refresh")
                log_html = gr.HTML(elem_id="log-list")
                log_tab.select(h.unanswered_html, None, log_html, api_visibility="private", queue=False)
                refresh.click(h.unanswered_html, None, log_html, api_visibility="private", queue=False)
        gr.api(h.ask, api_name="ask", api_description="(question, history) -> the `ask --json` object.")
    demo.queue(default_concurrency_limit=2, max_size=settings.queue_size)
    demo.rag_handlers = h  # for launch(): the CSV route and the page script
    return demo


def export_route(h: Handlers):
    """GET /staff/unanswered.csv: the staff list as CSV, served by the app itself
    (a Gradio file link would put a server path on the page)."""
    from starlette.responses import Response
    from starlette.routing import Route

    def export(request):
        if h.log is None:
            return Response("没有开启记录。No feedback log.", status_code=404, media_type="text/plain; charset=utf-8")
        try:
            body = h.log.csv_text().encode("utf-8")
        except Exception:
            log.exception("feedback log: could not export")
            return Response(SORRY, status_code=500, media_type="text/plain; charset=utf-8")
        name = f"unanswered-{date.today().isoformat()}.csv"
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    return Route(EXPORT_PATH, export, methods=["GET"])


class Guard:
    """ASGI middleware: refuse request bodies over `max_bytes` (413, before the
    app reads them; a body without Content-Length is counted as it arrives), and
    turn the queue's 503 "Queue is full" into a plain "busy, try again"."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if (length.isdigit() and int(length) > self.max_bytes) or (length and not length.isdigit()):
            log.info("refused a request body of %s bytes to %s", length.decode("latin-1")[:20], scope.get("path"))
            return await self._reply(send, 413, "请求太大。Request body too large.")
        if not length and scope.get("method") in ("POST", "PUT", "PATCH"):
            body, more = b"", True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > self.max_bytes:
                    log.info("refused a streamed request body over %d bytes to %s", self.max_bytes, scope.get("path"))
                    return await self._reply(send, 413, "请求太大。Request body too large.")
            sent = False

            async def replay():
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay
        busy = False

        async def send_busy(message):
            nonlocal busy
            if message["type"] == "http.response.start" and message["status"] == 503:
                busy = True
                return await self._reply(send, 503, BUSY, retry_after=True)
            if busy:
                return None  # the queue's own body is replaced by ours
            return await send(message)

        return await self.app(scope, receive, send_busy)

    @staticmethod
    async def _reply(send, status: int, detail: str, retry_after: bool = False):
        body = json.dumps({"detail": detail, "error": detail}, ensure_ascii=False).encode("utf-8")
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        if retry_after:
            headers.append((b"retry-after", b"5"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


def launch(demo, **kwargs):
    """Launch with the app's look and safe defaults; kwargs override (tests pass a port)."""
    import gradio as gr

    # FastAPI(middleware=[...]) unpacks each entry as (class, args, kwargs), which is
    # what starlette's Middleware iterates as; a plain tuple spares importing it
    guard = (Guard, (), {"max_bytes": MAX_BODY_BYTES})
    h = getattr(demo, "rag_handlers", None)
    routes = [export_route(h)] if h is not None else []
    head = page_js.script(h.settings.max_question_chars if h is not None else 500)
    opts = dict(share=False, show_error=False, css=render.CSS, theme=gr.themes.Soft(), footer_links=["api"],
                head=head, app_kwargs={"middleware": [guard], "routes": routes},
                state_session_capacity=h.settings.sessions if h is not None else Settings().sessions)
    opts.update(kwargs)
    return demo.launch(**opts)


def open_engine(settings: Settings):
    from rag.engine import Engine

    print(f"Opening index {settings.index_dir} for issues in {settings.data_dir} ...", file=sys.stderr, flush=True)
    return Engine.open(settings, progress=console_progress)


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas, before any worker thread starts.

    glibc gives each new thread its own arena (up to 8 per core), and an arena
    keeps the peak of what its thread once held. Gradio answers on a pool of up
    to 40 threads and each reader pass holds tens of MB, so resident memory grew
    by 16% within a minute of load (scripts/loadtest.py); with 2 arenas, 5%. A
    no-op where mallopt is missing (not glibc). MALLOC_ARENA_MAX, when set, wins."""
    import ctypes
    import ctypes.util
    import os

    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def main() -> int:
    limit_malloc_arenas()
    # Libraries log chatty INFO lines (faiss loader, model loading); keep ours only.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    offline_hub_default()
    _gradio_env()
    settings = from_env()
    try:
        engine = open_engine(settings)
    except RagError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    feedback = open_log(settings)
    demo = build_demo(engine, settings, feedback)
    launch(demo)
    return 0


def open_log(settings: Settings):
    """The feedback log, or None (with one console line) when its folder cannot be used."""
    from rag.feedback import FeedbackLog

    try:
        return FeedbackLog(settings.log_dir)
    except RagError as e:
        print(f"Warning: feedback is not recorded: {e}", file=sys.stderr, flush=True)
        return None


if __name__ == "__main__":
    sys.exit(main())
