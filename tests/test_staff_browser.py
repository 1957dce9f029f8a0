"""The staff side in a real browser (issue 23): Debian Chromium driven by playwright
against `python app.py` with the real engine (test_app.Server), on a server of
its own (it publishes into its data folder and locks out its own address last).
Off until `rag staff add` made an account; every /staff route closed without a
session; login, wrong password, logout; upload -> preview -> publish -> the public
chat answers from the new issue without a restart; a replacement needs its box
ticked; remove -> the question is refused; five wrong passwords lock the address.
Screenshots go to tests/artifacts/ (docs/staff-*.png were taken from them)."""

from __future__ import annotations

import httpx
import pytest

from conftest import CHROMIUM
from test_app import REAL_ISSUE, STAFF, Server, add_staff
from test_browser import ARTIFACTS, ask, shot

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install -y chromium fonts-noto-cjk)"),
]

NEW_ISSUE = """\
西湖大桥今日通车

本报讯(记者 李雷)6月1日,西湖大桥正式通车,全长1.8公里,总投资9.6亿元,
是本市第一座斜拉桥。

大桥通车后,城西到城东的车程缩短20分钟。
"""
QUESTION = "西湖大桥全长多少公里？"  # refused without the new issue (its 总投资 finds another story's figure)
# what a browser and an API client of the staff page ask for, and the CSV
STAFF_PATHS = [("GET", "staff/config"), ("GET", "staff/gradio_api/info"), ("POST", "staff/gradio_api/upload"),
               ("POST", "staff/gradio_api/queue/join"), ("GET", "staff/gradio_api/queue/data?session_hash=x"),
               ("POST", "staff/gradio_api/call/search"), ("POST", "staff/gradio_api/run/search"),
               ("GET", "staff/theme.css"), ("GET", "staff/gradio_api/file=/etc/passwd"), ("GET", "staff/unanswered.csv"),
               ("GET", "staff/gradio_api/startup-events"), ("GET", "staff/anything")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("staff-browser")
    data = tmp / "issues"
    data.mkdir()
    (data / REAL_ISSUE.name).write_bytes(REAL_ISSUE.read_bytes())
    s = Server(data, tmp / "index", tmp / "app.log")
    s.startup_s = s.wait()
    s.upload = tmp / "xihu-2021-06.txt"
    s.upload.write_text(NEW_ISSUE, encoding="utf-8")
    yield s
    s.stop()
    assert "Traceback" not in s.output(), s.output()[-3000:]


def open_page(browser, url):
    """The public chat (as test_browser.open_page, with room for a loaded machine)."""
    pg = browser.new_context(viewport={"width": 1180, "height": 900}, locale="zh-CN").new_page()
    pg.goto(url)
    pg.wait_for_selector("#ask-box textarea", timeout=120_000)
    return pg


def login_page(browser, server):
    ctx = browser.new_context(viewport={"width": 1180, "height": 900}, locale="zh-CN")
    pg = ctx.new_page()
    pg.goto(server.url + "staff/")
    return pg


def log_in(pg, name=STAFF[0], password=STAFF[1]):
    pg.fill("#name", name)
    pg.fill("#password", password)
    pg.click("#login")


def wait_job(pg, timeout=300_000):
    pg.wait_for_selector("#publish-progress .rag-job[data-state=done], #publish-progress .rag-job[data-state=failed]",
                         timeout=timeout)
    return pg.locator("#publish-progress").inner_text()


# ------------------------------------------------------------ off, then every route closed

def test_the_staff_side_is_off_until_an_account_is_added(browser, server):
    pg = login_page(browser, server)
    try:
        assert pg.url.endswith("/staff/login")
        text = pg.locator("main").inner_text()
        assert "编辑后台未开启" in text and "rag staff add" in text and pg.locator("#password").count() == 0
        shot(pg, "staff-off.png")
    finally:
        pg.context.close()
    assert httpx.get(server.url + "staff/config", timeout=30).status_code == 401


def test_every_staff_route_needs_a_session_and_the_public_page_has_no_way_in(browser, server):
    add_staff(server)
    for method, path in STAFF_PATHS:
        r = httpx.request(method, server.url + path, timeout=30)
        assert r.status_code == 401, (path, r.status_code)
    r = httpx.get(server.url + "staff/", timeout=30)
    assert r.status_code == 303 and r.headers["location"] == "login"
    bad = httpx.get(server.url + "staff/config", headers={"Cookie": "newsrag_staff=guessed"}, timeout=30)
    assert bad.status_code == 401
    info = httpx.get(server.url + "gradio_api/info", timeout=30).json()
    assert set(info["named_endpoints"]) == {"/chat", "/ask"}  # no /search on the public side
    home = httpx.get(server.url, timeout=30).text
    assert "/staff" not in home and "staff/" not in home
    pg = open_page(browser, server.url)
    try:
        assert pg.locator("a[href*='staff']").count() == 0 and pg.get_by_role("tab").count() == 0
        assert "编辑" not in pg.locator("body").inner_text()
    finally:
        pg.context.close()


# ------------------------------------------------------------ login

def test_login_wrong_password_and_logout(browser, server):
    add_staff(server)
    pg = login_page(browser, server)
    try:
        assert pg.url.endswith("/staff/login")
        ARTIFACTS.mkdir(exist_ok=True)
        pg.locator("main").screenshot(path=str(ARTIFACTS / "staff-login.png"))
        log_in(pg, password="not the password")
        assert "用户名或密码不对" in pg.locator("#login-message").inner_text()
        assert pg.context.cookies() == []
        log_in(pg)
        pg.wait_for_selector("#staff-bar", timeout=120_000)
        assert pg.url.endswith("/staff/")
        pg.wait_for_function(f"document.querySelector('#staff-bar').innerText.includes('已登录：{STAFF[0]}')",
                             timeout=60_000)  # the page's load event names who is logged in
        [cookie] = pg.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/staff"
        for tab in ("检索", "未答问题", "期次"):
            assert pg.get_by_role("tab", name=tab).count() == 1
        pg.click("#logout")
        pg.wait_for_selector("#login-message", timeout=30_000)
        assert "已退出登录" in pg.locator("#login-message").inner_text()
        pg.goto(server.url + "staff/")
        assert pg.url.endswith("/staff/login")  # the session ended with the logout
    finally:
        pg.context.close()


# ------------------------------------------------------------ publish, replace, remove

def test_upload_preview_publish_answer_replace_remove_refuse(browser, server):
    add_staff(server)
    pg = login_page(browser, server)
    try:
        log_in(pg)
        pg.wait_for_selector("#staff-bar", timeout=120_000)
        pg.get_by_role("tab", name="期次").click()
        pg.wait_for_selector("#issue-list")
        assert "xihu" not in pg.locator("#issue-list").inner_text()

        # the upload is read and shown; nothing is written yet
        pg.set_input_files("#issue-upload input[type=file]", str(server.upload))
        pg.wait_for_selector("#issue-preview .rag-pub-file", timeout=60_000)
        card = pg.locator("#issue-preview .rag-pub-file").first
        assert "可以发布" in card.inner_text() and "1 篇报道" in card.inner_text()
        card.locator("details summary").first.click()
        story = card.locator("details").first.inner_text()
        assert "《西湖大桥今日通车》" in story and "记者 李雷" in story and "2 段" in story
        assert card.locator(".rag-join").count() == 1  # the rejoined line break is marked
        assert not (server.dirs[0] / server.upload.name).exists()
        shot(pg, "staff-preview.png")

        pg.click("#publish")
        progress = wait_job(pg)
        assert "已完成" in progress and "报道已可检索和问答" in progress, progress
        assert "unchanged issue(s) read back" in progress  # only the new issue was embedded
        assert str(server.dirs[0]) not in progress and "/tmp/" not in progress
        assert (server.dirs[0] / server.upload.name).read_text(encoding="utf-8") == NEW_ISSUE
        pg.wait_for_function("document.querySelector('#issue-list').innerText.includes('xihu-2021-06.txt')",
                             timeout=30_000)
        shot(pg, "staff-published.png")

        chat = open_page(browser, server.url)
        try:
            reply = ask(chat, QUESTION)
            assert "1.8公里" in reply.inner_text(), reply.inner_text()  # no restart
            assert "xihu-2021-06.txt" in reply.inner_text()
        finally:
            chat.context.close()

        # the same name again is a replacement, published only once confirmed
        changed = server.upload.with_name("changed") / server.upload.name
        changed.parent.mkdir()
        changed.write_text(NEW_ISSUE.replace("1.8公里", "2.1公里"), encoding="utf-8")
        pg.set_input_files("#issue-upload input[type=file]", str(changed))
        pg.wait_for_function("document.querySelector('#issue-preview').innerText.includes('将替换')", timeout=60_000)
        pg.click("#publish")
        pg.wait_for_function("document.querySelector('#publish-progress').innerText.includes('confirm the replacement')",
                             timeout=30_000)
        pg.locator("#confirm-replace input[type=checkbox]").check()
        pg.click("#publish")
        pg.wait_for_function("document.querySelector('#publish-progress').innerText.includes('已替换')",
                             timeout=60_000)
        assert "已完成" in wait_job(pg)
        assert "2.1公里" in (server.dirs[0] / server.upload.name).read_text(encoding="utf-8")
        chat = open_page(browser, server.url)
        try:  # the same question again: the answers kept by question went with the old engine
            assert "2.1公里" in ask(chat, QUESTION).inner_text()
        finally:
            chat.context.close()

        # removed: the public chat no longer finds it
        pg.get_by_text("删除期次").click()
        pg.get_by_role("combobox", name="要删除的期次").click()
        pg.get_by_role("option", name=server.upload.name).click()
        pg.locator("#confirm-remove input[type=checkbox]").check()
        pg.click("#remove")
        pg.wait_for_function("document.querySelector('#publish-progress').innerText.includes('删除')", timeout=30_000)
        assert "已完成" in wait_job(pg)
        assert not (server.dirs[0] / server.upload.name).exists()
        assert list((server.dirs[0] / ".replaced").glob(server.upload.name + ".*"))  # kept, not lost
        chat = open_page(browser, server.url)
        try:
            reply = ask(chat, QUESTION)
            assert "1.8公里" not in reply.inner_text() and "2.1公里" not in reply.inner_text()
            assert "没有找到" in reply.inner_text(), reply.inner_text()
        finally:
            chat.context.close()
    finally:
        pg.context.close()


# ------------------------------------------------------------ lock-out (last: it locks this address)

def test_five_wrong_passwords_lock_the_address(browser, server):
    add_staff(server)
    pg = login_page(browser, server)
    try:
        for _ in range(4):
            log_in(pg, password="wrong-password")
            assert "用户名或密码不对" in pg.locator("#login-message").inner_text()
        log_in(pg, password="wrong-password")
        assert "登录失败次数太多" in pg.locator("#login-message").inner_text()
        log_in(pg)  # the right password, but locked
        message = pg.locator("#login-message").inner_text()
        assert "登录失败次数太多" in message and "分钟后再试" in message
        assert pg.locator("#staff-bar").count() == 0
        shot(pg, "staff-locked.png")
    finally:
        pg.context.close()
    r = httpx.post(server.url + "staff/login", data={"name": STAFF[0], "password": STAFF[1]}, timeout=30)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
