"""The staff side's door: the login and logout routes, their pages, and the gate in front of /staff.

Takes the staff accounts (rag.web.accounts) and keeps sessions and the login
throttle (rag.web.sessions); gives `Login` (who a request is), `StaffGate` (ASGI
middleware: every path under /staff but the login and logout pages needs a
session; a browser asking for the staff page itself is sent to the login page,
anything else gets 401, so the staff app's own config, API, upload and queue
routes and the CSV are closed alike) and `routes` for the web app. Without any
account the staff side is off and the login page says how to turn it on. The
session cookie is HttpOnly, SameSite=Strict, scoped to /staff (the public chat
never sees it) and Secure over HTTPS. Web imports stay inside functions.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs

from rag.errors import AccountError
from rag.web.accounts import Accounts
from rag.web.sessions import Sessions, Throttle

log = logging.getLogger("newsrag.app")

PREFIX = "/staff"
LOGIN, LOGOUT = PREFIX + "/login", PREFIX + "/logout"
COOKIE = "newsrag_staff"
MAX_FORM_BYTES = 8 * 1024
NEED_LOGIN = "需要登录编辑后台。Login required."
PAGE_HEADERS = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                           "frame-ancestors 'none'"}


def is_staff_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


@dataclass(frozen=True)
class Outcome:
    """What a login attempt gives the page: a session token, or a message and a status."""

    token: str | None = None
    message: str = ""
    status: int = 200
    retry_after: int | None = None


class Login:
    def __init__(self, accounts: Accounts, sessions: Sessions | None = None, throttle: Throttle | None = None):
        self.accounts = accounts
        self.sessions = sessions or Sessions()
        self.throttle = throttle or Throttle()

    def problem(self) -> str | None:
        """None when the staff side is on; else why not ('off': no account yet)."""
        try:
            return None if self.accounts.load() else "off"
        except AccountError as e:
            log.error("staff accounts: %s", e)
            return str(e)

    def user(self, token: str | None) -> str | None:
        """The staff name of a session token, while its account stands unchanged."""
        s = self.sessions.get(token)
        if s is None:
            return None
        try:
            a = self.accounts.load().get(s.user)
        except AccountError:
            return None
        if a is None or a.stamp() != s.stamp:  # removed, or a new password since: the session ends
            self.sessions.close(token)
            return None
        return s.user

    def user_of(self, request) -> str | None:
        """For Gradio's auth_dependency: the staff name of a request, or None (401)."""
        return self.user(request.cookies.get(COOKIE))

    def attempt(self, name: str, password: str, address: str) -> Outcome:
        wait = self.throttle.wait(address)
        if wait:
            return _locked(wait)
        if self.problem() is not None:
            return Outcome(message="编辑后台未开启。", status=403)
        account = self.accounts.verify(name, password)
        if account is None:
            locked = self.throttle.failed(address)
            log.info("staff login failed for %r from %s%s", name[:64], address, " (locked)" if locked else "")
            return _locked(locked) if locked else Outcome(message="用户名或密码不对。", status=401)
        self.throttle.succeeded(address)
        log.info("staff login: %s from %s", account.name, address)
        return Outcome(token=self.sessions.open(account.name, account.stamp()))


def _locked(seconds: float) -> Outcome:
    minutes = max(1, round(seconds / 60))
    return Outcome(message=f"登录失败次数太多，已暂时锁定，请 {minutes} 分钟后再试。", status=429,
                   retry_after=max(1, int(seconds)))


# ------------------------------------------------------------ the gate

class StaffGate:
    """ASGI middleware in front of the whole app: paths under /staff need a session."""

    def __init__(self, app, login: Login):
        self.app, self.login = app, login

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope["type"] not in ("http", "websocket") or not is_staff_path(path) or path in (LOGIN, LOGOUT):
            return await self.app(scope, receive, send)
        from starlette.requests import cookie_parser

        cookies = cookie_parser(dict(scope.get("headers") or []).get(b"cookie", b"").decode("latin-1"))
        user = self.login.user(cookies.get(COOKIE))
        if user is not None:
            scope.setdefault("state", {})["staff"] = user
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 1008})
        if scope.get("method") in ("GET", "HEAD") and path in (PREFIX, PREFIX + "/"):
            return await _send(send, 303, b"", [(b"location", b"login" if path.endswith("/") else b"staff/login")])
        body = json.dumps({"detail": NEED_LOGIN, "error": NEED_LOGIN}, ensure_ascii=False).encode("utf-8")
        return await _send(send, 401, body, [(b"content-type", b"application/json; charset=utf-8"),
                                             (b"cache-control", b"no-store")])


async def _send(send, status: int, body: bytes, headers: list) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body, "more_body": False})


# ------------------------------------------------------------ the routes

def _secure(request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _cookie(token: str, request, max_age: int) -> str:
    return (f"{COOKIE}={token}; Path={PREFIX}; HttpOnly; SameSite=Strict; Max-Age={max_age}"
            + ("; Secure" if _secure(request) else ""))


def _page(body: str, status: int = 200, headers: dict | None = None):
    from starlette.responses import HTMLResponse

    return HTMLResponse(page_html(body), status_code=status, headers={**PAGE_HEADERS, **(headers or {})})


def _other_origin(request) -> bool:
    """A form posted from another site (login CSRF): its Origin names another host."""
    from urllib.parse import urlsplit

    origin = request.headers.get("origin")
    if not origin:
        return False  # a browser that sends none, or not a browser: SameSite still holds
    if origin == "null":
        return True

    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def routes(login: Login) -> list:
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import RedirectResponse
    from starlette.routing import Route

    async def login_page(request):
        if request.method == "GET":
            if login.user(request.cookies.get(COOKIE)):
                return RedirectResponse("./", status_code=303)
            why = login.problem()
            if why is not None:
                return _page(off_html(why))
            said = "已退出登录。" if "bye" in request.query_params else ""
            return _page(form_html(said, notice=True))
        if _other_origin(request):
            return _page(form_html("登录请求来自其他网站，已拒绝。"), 403)
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return _page(form_html("请求太大。"), 413)
        form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        name = (form.get("name") or [""])[0].strip()
        password = (form.get("password") or [""])[0]
        address = request.client.host if request.client else "?"
        out = await run_in_threadpool(login.attempt, name, password, address)  # scrypt: ~50 ms off the loop
        if out.token is None:
            if login.problem() is not None:
                return _page(off_html(login.problem()), out.status)
            headers = {"Retry-After": str(out.retry_after)} if out.retry_after else None
            return _page(form_html(out.message, name=name), out.status, headers)
        r = RedirectResponse("./", status_code=303, headers={"Cache-Control": "no-store"})
        r.headers.append("set-cookie", _cookie(out.token, request, int(login.sessions.lifetime)))
        return r

    async def logout(request):
        token = request.cookies.get(COOKIE)
        who = login.user(token)
        login.sessions.close(token)
        if who:
            log.info("staff logout: %s", who)
        r = RedirectResponse("login?bye=1", status_code=303, headers={"Cache-Control": "no-store"})
        r.headers.append("set-cookie", _cookie("", request, 0))
        return r

    async def to_staff(request):
        return RedirectResponse("staff/", status_code=307)

    return [Route(LOGIN, login_page, methods=["GET", "POST"]), Route(LOGOUT, logout, methods=["GET", "POST"]),
            Route(PREFIX, to_staff, methods=["GET", "HEAD"])]


# ------------------------------------------------------------ the pages

STYLE = """
body { font-family: system-ui, "Noto Sans CJK SC", sans-serif; background: #f6f7fb; color: #1f2937; margin: 0; }
main { max-width: 26rem; margin: 12vh auto; background: #fff; padding: 2rem; border-radius: 12px;
       box-shadow: 0 2px 12px rgba(0,0,0,.08); }
h1 { font-size: 1.4rem; margin: 0 0 .4rem 0; } p { line-height: 1.6; }
label { display: block; margin: 1rem 0 .3rem 0; font-weight: 600; }
input { width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; border: 1px solid #cbd5e1; border-radius: 8px; }
button { margin-top: 1.4rem; width: 100%; padding: .7rem; font-size: 1rem; border: 0; border-radius: 8px;
         background: #4f46e5; color: #fff; cursor: pointer; }
.msg { padding: .6rem .8rem; border-radius: 8px; background: #fef2f2; color: #991b1b; }
.msg.ok { background: #ecfdf5; color: #065f46; }
pre { background: #f1f5f9; padding: .7rem; border-radius: 8px; overflow-x: auto; }
.sub, .back { color: #64748b; font-size: .9rem; }
"""


def page_html(body: str) -> str:
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>编辑后台 · 报纸问答</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>")


def form_html(message: str = "", name: str = "", notice: bool = False) -> str:
    msg = f'<p class="msg{" ok" if notice else ""}" id="login-message">{html.escape(message)}</p>' if message else ""
    return ("<h1>编辑登录</h1><p class=\"sub\">报纸问答的编辑后台：检索、未答问题、发布期次。</p>" + msg
            + '<form method="post" action="login">'
            f'<label for="name">用户名</label><input id="name" name="name" autocomplete="username" required '
            f'value="{html.escape(name)}" maxlength="64">'
            '<label for="password">密码</label><input id="password" name="password" type="password" '
            'autocomplete="current-password" required maxlength="1024">'
            '<button type="submit" id="login">登录</button></form>'
            '<p class="back"><a href="../">返回问答</a></p>')


def off_html(why: str) -> str:
    if why != "off":
        return ("<h1>编辑后台暂不可用</h1>"
                f'<p class="msg" id="login-message">账户文件无法读取：{html.escape(why)}</p>'
                "<p>请在服务器上检查它（<code>rag staff list</code>）。</p>")
    return ("<h1>编辑后台未开启</h1><p>还没有编辑账户。在服务器上运行下面的命令添加一个"
            "（密码会提示输入两次，不出现在命令行里），然后刷新本页：</p>"
            "<pre>rag staff add 用户名</pre>"
            "<p class=\"sub\">也可以用 <code>python -m rag staff add 用户名</code>。账户保存在 "
            "<code>RAG_STAFF_FILE</code>（默认是 <code>RAG_LOG_DIR</code> 下的 <code>staff.json</code>），"
            "只存加盐的散列；没有账户时编辑后台一直关闭。</p>"
            '<p class="back"><a href="../">返回问答</a></p>')
