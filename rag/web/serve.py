"""Serving the page: launch options, the request guard, the CSV route, start-up helpers.

Takes the demo rag.web.page builds; serves it with request bodies capped, a full
queue answered "busy, try again", the staff CSV at /staff/unanswered.csv and the
page script (rag.web.page_js). Also opens the engine and the feedback log for
app.py, with progress and problems as console lines.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date

from rag.config import Settings
from rag.errors import RagError
from rag.web import page_js, render
from rag.web.handlers import SORRY, Handlers
from rag.web.page import EXPORT_PATH

log = logging.getLogger("newsrag.app")


BUSY = "服务器繁忙，请稍后再试。Server busy, please try again in a few seconds."
MAX_BODY_BYTES = 2 * 1024 * 1024  # a long chat resends its replies' HTML; 2 MB is hundreds of turns


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


def console_progress(*args, **kwargs) -> None:
    """Progress callback for Engine.open: print whatever it reports, one line each."""
    text = " ".join(str(a) for a in args)
    if kwargs:
        text += " " + " ".join(f"{k}={v}" for k, v in kwargs.items())
    print(f"[index] {text}", file=sys.stderr, flush=True)


def open_engine(settings: Settings):
    from rag.engine import Engine

    print(f"Opening index {settings.index_dir} for issues in {settings.data_dir} ...", file=sys.stderr, flush=True)
    return Engine.open(settings, progress=console_progress)


def open_log(settings: Settings):
    """The feedback log, or None (with one console line) when its folder cannot be used."""
    from rag.web.feedback import FeedbackLog

    try:
        return FeedbackLog(settings.log_dir)
    except RagError as e:
        print(f"Warning: feedback is not recorded: {e}", file=sys.stderr, flush=True)
        return None


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
