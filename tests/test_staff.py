"""The staff side (issue 23): accounts, sessions, the login throttle, the gate in
front of every /staff path, and the two faces of the app. Fast: the whole web app
(rag.web.serve.build_app) over a fake-embedder engine, driven in process with
starlette's TestClient; the browser flows are in test_staff_browser.py."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, FakeEmbedder
from rag.config import Settings, from_env, server_address
from rag.errors import AccountError, RagError
from rag.web.accounts import FORMAT, Accounts
from rag.web.sessions import Sessions, Throttle

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


# ------------------------------------------------------------ accounts

def test_accounts_are_salted_scrypt_hashes_in_a_versioned_private_file(tmp_path):
    acc = Accounts(tmp_path / "log" / "staff.json")
    assert acc.names() == []
    a = acc.add("editor", PASSWORD)
    b = acc.add("chief", PASSWORD)
    assert a.salt != b.salt and a.hash != b.hash  # the same password, different hashes
    doc = json.loads((tmp_path / "log" / "staff.json").read_text())
    assert doc["format"] == FORMAT and {e["name"] for e in doc["accounts"]} == {"editor", "chief"}
    assert all({"salt", "n", "r", "p", "hash"} <= set(e) for e in doc["accounts"])
    assert PASSWORD not in (tmp_path / "log" / "staff.json").read_text()
    assert (tmp_path / "log" / "staff.json").stat().st_mode & 0o077 == 0
    assert Accounts(tmp_path / "log" / "staff.json").verify("editor", PASSWORD).name == "editor"
    assert acc.verify("editor", PASSWORD + "x") is None and acc.verify("nobody", PASSWORD) is None
    with pytest.raises(AccountError, match="exists"):
        acc.add("editor", "another password")
    acc.add("editor", "another password", replace=True)
    assert acc.verify("editor", PASSWORD) is None and acc.verify("editor", "another password")
    acc.remove("chief")
    assert acc.names() == ["editor"]
    for bad_name, bad_password in (("a b", PASSWORD), ("", PASSWORD), ("ok", "short")):
        with pytest.raises(AccountError):
            acc.add(bad_name, bad_password)


def test_a_damaged_or_foreign_accounts_file_is_a_one_line_error(tmp_path):
    f = tmp_path / "staff.json"
    f.write_text("{not json")
    with pytest.raises(AccountError, match="not valid JSON"):
        Accounts(f).load()
    f.write_text(json.dumps({"format": "other-9", "accounts": []}))
    with pytest.raises(AccountError, match="other-9"):
        Accounts(f).load()
    f.write_text(json.dumps({"format": FORMAT, "accounts": [{"name": "x"}]}))
    with pytest.raises(AccountError, match="not an account"):
        Accounts(f).load()


def test_the_accounts_file_defaults_beside_the_feedback_log():
    assert from_env({"RAG_LOG_DIR": "/srv/log"}).staff_path().as_posix() == "/srv/log/staff.json"
    assert from_env({"RAG_STAFF_FILE": "/etc/newsrag/staff.json"}).staff_path().as_posix() == "/etc/newsrag/staff.json"
    assert server_address({}) == ("127.0.0.1", 7860)
    assert server_address({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": "8080"}) == ("0.0.0.0", 8080)
    with pytest.raises(RagError, match="GRADIO_SERVER_PORT"):
        server_address({"GRADIO_SERVER_PORT": "http"})


def test_rag_staff_add_list_remove_never_take_the_password_as_an_argument(tmp_path):
    env = {"RAG_STAFF_FILE": str(tmp_path / "staff.json"), "PATH": "/usr/bin:/bin"}

    def rag(*args, stdin=""):
        return subprocess.run([sys.executable, "-m", "rag", "staff", *args], input=stdin, capture_output=True,
                              text=True, cwd=ROOT, env=env, timeout=120)

    r = rag("add", "editor")  # no terminal and no --password-stdin: nothing is read from the pipe
    assert r.returncode == 2 and "--password-stdin" in r.stderr and not (tmp_path / "staff.json").exists()
    r = rag("add", "editor", "--password-stdin", stdin=PASSWORD + "\n")
    assert r.returncode == 0 and "Added staff account editor" in r.stdout, r.stderr
    assert Accounts(tmp_path / "staff.json").verify("editor", PASSWORD)
    assert rag("list").stdout.split() == ["editor"]
    r = rag("add", "editor", "--password-stdin", stdin="whatever-it-is\n")
    assert r.returncode == 2 and "exists" in r.stderr
    assert rag("remove", "editor").returncode == 0 and rag("list").stdout == ""
    r = rag("remove", "editor")
    assert r.returncode == 2 and r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    assert "password" in rag("add", "--help").stdout and "--password " not in rag("add", "--help").stdout


# ------------------------------------------------------------ sessions and the throttle

def test_sessions_expire_and_are_random():
    clock = Clock()
    s = Sessions(lifetime=60, clock=clock)
    a, b = s.open("editor", "st"), s.open("editor", "st")
    assert a != b and len(a) >= 40 and s.get(a).user == "editor"
    clock.t += 61
    assert s.get(a) is None and s.get(None) is None and s.get("forged") is None
    c = s.open("chief")
    s.close_user("chief")
    assert s.get(c) is None


def test_five_failures_lock_an_address_for_minutes_and_a_success_clears_the_count():
    clock = Clock()
    t = Throttle(failures=5, window=900, lock_for=600, clock=clock)
    for _ in range(4):
        assert t.failed("1.2.3.4") == 0
    t.succeeded("1.2.3.4")
    assert all(t.failed("1.2.3.4") == 0 for _ in range(4)) and t.failed("1.2.3.4") == 600
    assert t.wait("1.2.3.4") == 600 and t.wait("5.6.7.8") == 0  # another address is not locked
    clock.t += 601
    assert t.wait("1.2.3.4") == 0


# ------------------------------------------------------------ the app over HTTP

@pytest.fixture(scope="module")
def app_parts(tmp_path_factory):
    from rag.engine import Engine
    from rag.web import page, serve

    tmp = tmp_path_factory.mktemp("staff")
    data = tmp / "issues"
    data.mkdir()
    from conftest import TINY_ISSUE

    (data / "tiny-issue.txt").write_text(TINY_ISSUE, encoding="utf-8")
    settings = Settings(data_dir=data, index_dir=tmp / "index", log_dir=tmp / "log", answerer="rules")
    engine = Engine.open(settings, progress=lambda *a: None, embedder=FakeEmbedder())
    h = page.make_handlers(engine, settings, serve.open_log(settings))
    login = serve.open_staff(settings)
    login.throttle = Throttle(failures=3, window=900, lock_for=600)
    app = serve.build_app(page.build_public(h), page.build_staff(h, serve.open_desk(h)), login, settings)
    return app, login, settings


@pytest.fixture(scope="module")
def client(app_parts):
    from starlette.testclient import TestClient

    with TestClient(app_parts[0], base_url="http://127.0.0.1") as c:
        yield c


# what the staff page's browser and API clients ask for, and the CSV
STAFF_PATHS = [("GET", "/staff/config"), ("GET", "/staff/gradio_api/info"), ("GET", "/staff/gradio_api/openapi.json"),
               ("POST", "/staff/gradio_api/upload"), ("POST", "/staff/gradio_api/queue/join"),
               ("GET", "/staff/gradio_api/queue/data?session_hash=x"), ("POST", "/staff/gradio_api/call/search"),
               ("POST", "/staff/gradio_api/run/search"), ("GET", "/staff/theme.css"), ("GET", "/staff/assets/x.js"),
               ("GET", "/staff/gradio_api/file=/etc/passwd"), ("GET", "/staff/unanswered.csv"),
               ("GET", "/staff/nothing-here"), ("POST", "/staff/")]


def test_without_accounts_the_staff_side_is_off_and_says_how_to_turn_it_on(client, app_parts):
    assert app_parts[1].problem() == "off"
    r = client.get("/staff/", follow_redirects=True)
    assert r.status_code == 200 and "rag staff add" in r.text and "编辑后台未开启" in r.text
    assert str(app_parts[2].log_dir) not in r.text  # no server path
    for method, path in STAFF_PATHS:
        assert client.request(method, path).status_code == 401, path
    r = client.post("/staff/login", data={"name": "editor", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403 and "set-cookie" not in r.headers


def test_the_public_face_is_the_chat_alone(client):
    r = client.get("/")
    assert r.status_code == 200
    body = r.text.lower()
    assert "/staff" not in body and "staff/" not in body and "unanswered" not in body  # no link to the staff side
    assert not [w for w in ("编辑后台", "编辑用", "未答问题", "期次", "登录") if w in r.text]
    config = client.get("/config").json()
    apis = {d.get("api_name") for d in config["dependencies"] if d.get("api_visibility", "public") == "public"}
    assert {"chat", "ask"} <= apis and "search" not in apis
    info = client.get("/gradio_api/info").json()
    assert set(info["named_endpoints"]) == {"/chat", "/ask"}
    assert client.get("/docs").status_code == 404 or "swagger" not in client.get("/docs").text.lower()


def test_login_gate_logout_and_lock_out(client, app_parts):
    app, login, settings = app_parts
    login.accounts.add("editor", PASSWORD)
    # the page itself sends a browser to the login form; everything else is 401
    r = client.get("/staff/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "login"
    assert client.get("/staff", follow_redirects=False).headers["location"] == "staff/login"
    form = client.get("/staff/login")
    assert form.status_code == 200 and 'type="password"' in form.text and "no-store" in form.headers["cache-control"]
    for method, path in STAFF_PATHS:
        assert client.request(method, path).status_code == 401, path
    assert client.get("/staff/config", headers={"cookie": "newsrag_staff=forged"}).status_code == 401

    bad = client.post("/staff/login", data={"name": "editor", "password": "wrong"}, follow_redirects=False)
    assert bad.status_code == 401 and "用户名或密码不对" in bad.text and "set-cookie" not in bad.headers
    ok = client.post("/staff/login", data={"name": "editor", "password": PASSWORD}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "./"
    cookie = ok.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/staff" in cookie
    token = client.cookies.get("newsrag_staff")
    assert token and len(token) >= 40
    assert client.get("/staff/").status_code == 200
    assert client.get("/staff/config").json()["root"].endswith("/staff")
    assert client.get("/staff/gradio_api/info").json()["named_endpoints"].keys() >= {"/search"}
    csv = client.get("/staff/unanswered.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert client.get("/staff/login", follow_redirects=False).status_code == 303  # logged in already

    out = client.get("/staff/logout", follow_redirects=False)
    assert out.status_code == 303 and "Max-Age=0" in out.headers["set-cookie"]
    assert client.get("/staff/config", headers={"cookie": f"newsrag_staff={token}"}).status_code == 401  # the session is gone

    # three failures (this app's throttle) lock the address, even for the right password
    for _ in range(2):
        assert client.post("/staff/login", data={"name": "editor", "password": "nope"}).status_code == 401
    locked = client.post("/staff/login", data={"name": "editor", "password": "nope"})
    assert locked.status_code == 429 and "登录失败次数太多" in locked.text and "分钟后再试" in locked.text
    again = client.post("/staff/login", data={"name": "editor", "password": PASSWORD}, follow_redirects=False)
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 60
    login.throttle = Throttle(failures=3, window=900, lock_for=600)


def test_a_removed_account_or_a_new_password_ends_its_sessions(client, app_parts):
    login = app_parts[1]
    login.accounts.add("chief", PASSWORD)
    client.post("/staff/login", data={"name": "chief", "password": PASSWORD})
    token = client.cookies.get("newsrag_staff")
    assert client.get("/staff/config").status_code == 200
    login.accounts.add("chief", "a new password", replace=True)
    assert client.get("/staff/config", headers={"cookie": f"newsrag_staff={token}"}).status_code == 401
    client.post("/staff/login", data={"name": "chief", "password": "a new password"})
    assert client.get("/staff/config").status_code == 200
    login.accounts.remove("chief")
    assert client.get("/staff/config").status_code == 401
    client.cookies.clear()


def test_a_login_form_posted_from_another_site_is_refused(client, app_parts):
    r = client.post("/staff/login", data={"name": "editor", "password": PASSWORD},
                    headers={"origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403 and "set-cookie" not in r.headers
    client.cookies.clear()


def test_the_staff_upload_takes_an_issue_over_the_chats_body_cap_but_only_with_a_session(client, app_parts):
    from rag.web import serve

    big = b"x" * (serve.MAX_BODY_BYTES + 1000)
    assert client.post("/staff/gradio_api/upload", files={"files": ("a.txt", big)}).status_code == 401
    assert client.post("/gradio_api/upload", files={"files": ("a.txt", big)}).status_code == 413
    client.post("/staff/login", data={"name": "editor", "password": PASSWORD})
    r = client.post("/staff/gradio_api/upload", files={"files": ("a.txt", big)})
    assert r.status_code == 200, r.text
    [path] = r.json()
    assert "staff-uploads" in path and client.get(f"/staff/gradio_api/file={path}").status_code == 200
    client.get("/staff/logout")
    assert client.get(f"/gradio_api/file={path}").status_code == 403  # never served by the public page
    client.get("/staff/logout")
    client.cookies.clear()
