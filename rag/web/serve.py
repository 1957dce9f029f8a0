"""Serving the two pages: one web app, the request guard, the CSV route, start-up helpers.

Takes the pages rag.web.page builds and the staff login (rag.web.login); gives
one FastAPI app: the public chat mounted at / and the staff page at /staff, both
with the page script (rag.web.page_js), styles and theme, request bodies capped
and a full queue answered "busy, try again"; in front of everything the staff
gate, so that every /staff path (the staff page's own config, API, upload and
queue routes, and the CSV at /staff/unanswered.csv) needs a session, while the
public path meets one string comparison. `serve` runs it with uvicorn. Also
opens the engine and the feedback log for app.py, with progress and problems as
console lines.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import date
from pathlib import Path

from rag.config import Settings
from rag.errors import RagError
from rag.web import page_js, render
from rag.web.handlers import SORRY, Handlers
from rag.web.login import PREFIX as STAFF_PREFIX
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
            body = h.log.csv_text(h.settings.zone).encode("utf-8")
        except Exception:
            log.exception("feedback log: could not export")
            return Response(SORRY, status_code=500, media_type="text/plain; charset=utf-8")
        name = f"unanswered-{date.today().isoformat()}.csv"
        return Response(body, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})

    return Route(EXPORT_PATH, export, methods=["GET"])


class Guard:
    """ASGI middleware: refuse request bodies over `max_bytes` (413, before the
    app reads them; a body without Content-Length is counted as it arrives), or
    over `limits[path]` for the paths named there (the staff upload); answer a call
    of an API name the page does not serve with a plain 404 (Gradio raises for it:
    a 500 and a traceback in the log per request); and turn the queue's 503 "Queue
    is full" into a plain "busy, try again"."""

    def __init__(self, app, max_bytes: int = MAX_BODY_BYTES, limits: dict[str, int] | None = None):
        self.app, self.max_bytes, self.limits = app, max_bytes, dict(limits or {})

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = self.limits.get(scope.get("path", ""), self.max_bytes)
        length = dict(scope.get("headers") or []).get(b"content-length", b"")
        if (length.isdigit() and int(length) > cap) or (length and not length.isdigit()):
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
                if len(body) > cap:
                    log.info("refused a streamed request body over %d bytes to %s", cap, scope.get("path"))
                    return await self._reply(send, 413, "请求太大。Request body too large.")
            sent = False

            async def replay():
                nonlocal sent
                if sent:
                    return await receive()
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            receive = replay
        busy = started = False
        held: list = []  # a 500 is held until the app returns: it may be Gradio's for an unknown name

        async def send_busy(message):
            nonlocal busy, started
            if held or (message["type"] == "http.response.start" and message["status"] == 500):
                held.append(message)
                return None
            started = started or message["type"] == "http.response.start"
            if message["type"] == "http.response.start" and message["status"] == 503:
                busy = True
                return await self._reply(send, 503, BUSY, retry_after=True)
            if busy:
                return None  # the queue's own body is replaced by ours
            return await send(message)

        try:
            result = await self.app(scope, receive, send_busy)
        except Exception as e:
            # Gradio's own error for a name it does not serve (gradio.route_utils; known by
            # its name, so that this module imports no Gradio): its page's error middleware
            # has sent a 500 (held here) and raised on
            if type(e).__name__ == "FnIndexInferError" and not started:
                log.info("no such API endpoint: %s", scope.get("path", "")[:100])
                return await self._reply(send, 404, "没有这个接口。No such API endpoint.")
            for m in held:
                await send(m)
            raise
        for m in held:
            await send(m)
        return result

    @staticmethod
    async def _reply(send, status: int, detail: str, retry_after: bool = False):
        body = json.dumps({"detail": detail, "error": detail}, ensure_ascii=False).encode("utf-8")
        headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
        if retry_after:
            headers.append((b"retry-after", b"5"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})


UPLOAD_PATH = STAFF_PREFIX + "/gradio_api/upload"


def build_app(public, staff, login, settings: Settings | None = None):
    """The web app: the staff gate, the guard, the login and CSV routes, the staff
    page at /staff and the public page at / (mounted last: it takes every other path)."""
    import gradio as gr
    from fastapi import FastAPI
    from starlette.middleware import Middleware

    from rag.web import issues
    from rag.web.login import StaffGate, routes

    h = public.rag_handlers
    settings = settings or h.settings
    # an upload of up to MAX_FILES issues, each within the issue limit, reaches
    # the checks (which say "too large" in words); only a logged-in session gets this far
    upload_cap = max(MAX_BODY_BYTES, issues.MAX_FILES * settings.max_issue_bytes + (1 << 20))
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None, middleware=[
        Middleware(StaffGate, login=login),  # outermost: no staff body is read before the session is checked
        Middleware(Guard, max_bytes=MAX_BODY_BYTES, limits={UPLOAD_PATH: upload_cap}),
    ])
    for route in routes(login) + [export_route(h)]:
        app.router.routes.append(route)
    head = page_js.script(settings.max_question_chars)
    look = dict(show_error=False, theme=gr.themes.Soft(), footer_links=["api"], head=head)
    for demo in (public, staff):
        demo.state_session_capacity = settings.sessions  # launch() would set it; mounting reads it
    gr.mount_gradio_app(app, staff, path=STAFF_PREFIX, auth_dependency=login.user_of, css=render.CSS + issues.CSS,
                        max_file_size=2 * settings.max_issue_bytes, **look)
    # the staff page's uploads in a folder of their own, which the public page may
    # never serve (its file route serves its whole upload folder, GRADIO_TEMP_DIR)
    from gradio.utils import get_upload_folder
    from starlette.routing import Mount

    uploads = str(Path(get_upload_folder()).resolve() / "staff-uploads")
    next(r for r in app.router.routes if isinstance(r, Mount) and r.path == STAFF_PREFIX).app.uploaded_file_dir = uploads
    gr.mount_gradio_app(app, public, path="/", css=render.CSS, blocked_paths=[uploads], **look)
    return app


def serve(app, host: str, port: int, settings: Settings | None = None) -> None:
    """Run the app until interrupted; print Gradio's start line once it listens
    (scripts and tests wait for it). With `settings`, announce the chat in its
    index folder while it listens on this machine, so a one-shot `rag ask` over
    the same index is answered by it (rag.chatlink)."""
    import uvicorn

    from rag import chatlink

    local = host in ("0.0.0.0", "127.0.0.1", "localhost")  # reachable at 127.0.0.1
    announced = []

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.started:
                print(f"Running on local URL:  http://{host}:{port}", flush=True)
                if settings is not None and local:
                    announced.append(chatlink.announce(settings, f"http://127.0.0.1:{port}"))

        async def shutdown(self, sockets=None):
            # here, not after run(): uvicorn re-raises a caught SIGTERM once run() ends,
            # and the default handler ends the process before a `finally` below would run
            for path in announced:
                chatlink.withdraw(path)
            await super().shutdown(sockets)

    # the queue's event streams stay open: shutdown waits for them no more than 5 s
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                            timeout_graceful_shutdown=5)
    Server(config).run()


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


def open_staff(settings: Settings):
    """The staff login over the accounts file, with one console line saying whether
    the staff side is on (it follows the file: an account added later turns it on)."""
    from rag.web.accounts import Accounts
    from rag.web.login import Login

    login = Login(Accounts(settings.staff_path()))
    why = login.problem()
    if why is None:
        print(f"Staff side on at {STAFF_PREFIX}/ ({len(login.accounts.names())} account(s)).", file=sys.stderr, flush=True)
    elif why == "off":
        print(f"Staff side off: no account yet; add one with `rag staff add NAME` (file {settings.staff_path()}).",
              file=sys.stderr, flush=True)
    else:
        print(f"Warning: staff side off: {why} ({settings.staff_path()})", file=sys.stderr, flush=True)
    return login


def open_desk(h: Handlers):
    """The issues tab's desk: publishing into the data folder of `h`'s settings,
    swapping the new engine into `h` (temp files of a killed publish are swept now)."""
    from rag.publish.reindex import Publisher
    from rag.web.issues import IssueDesk

    desk = IssueDesk(h, None)
    desk.publisher = Publisher(h.settings, current=lambda: h.engine, swap=desk.swap)
    return desk


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
