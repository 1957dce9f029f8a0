"""The chat in a real browser: Debian Chromium driven by playwright, against
`python app.py` with the real engine (see test_app.Server). Screenshots go to
tests/artifacts/ (ignored by git) for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_app import MARKUP_QUESTION, start_server

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install -y chromium fonts-noto-cjk)"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("browser"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    pg = browser.new_page(viewport={"width": 1280, "height": 1100}, locale="zh-CN")
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(server.url)
    pg.wait_for_selector("textarea")
    yield pg
    pg.close()


def ask(pg, question: str):
    """Type a question, press Enter, return the new bot reply's locator."""
    before = pg.locator(".message.bot .rag-reply").count()
    box = pg.locator("textarea").first
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(f"document.querySelectorAll('.message.bot .rag-reply').length > {before}", timeout=60_000)
    return pg.locator(".message.bot .rag-reply").nth(before)


def test_chat_answer_citation_and_followup(page):
    assert "已收录" in page.locator(".rag-overview").inner_text()
    first = ask(page, "现代医药港计划投资多少？")
    assert "300亿元" in first.locator(".rag-sentence b").inner_text()
    assert "300亿元" in first.locator(".rag-src mark").first.inner_text()
    assert "heze-kaifaqu-2021-06.txt" in first.locator(".rag-meta").first.inner_text()
    ref = first.locator("a.rag-ref").first
    target = ref.get_attribute("href")
    assert re.fullmatch(r"#\S+-\d+", target) and first.locator(target).count() == 1  # [n] leads to its source

    second = ask(page, "那它占地多大？")
    assert "4平方公里" in second.locator(".rag-sentence").inner_text()
    assert "检索：" in second.locator(".rag-query").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)

    page.locator("#clear-chat").click()
    page.wait_for_function("document.querySelectorAll('.message.bot').length === 0", timeout=10_000)


def test_issue_markup_shows_as_text_and_runs_nothing(page):
    reply = ask(page, MARKUP_QUESTION)
    text = reply.inner_text()
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(1)</script>" in text
    assert page.locator(".message.bot img").count() == 0
    assert page.locator(".message.bot script").count() == 0
    assert page.dialogs == []
    page.screenshot(path=str(ARTIFACTS / "markup.png"), full_page=True)


def test_search_tab_lists_passages_with_citation_lines(page):
    page.get_by_role("tab", name="检索（编辑用）").click()
    page.get_by_label("关键词或问题").fill("投资")
    page.get_by_role("button", name="检索", exact=True).click()
    page.wait_for_selector(".rag-hits li.rag-hit", timeout=60_000)
    assert page.locator(".rag-hits li.rag-hit").count() >= 2
    lines = page.locator("#cite-lines textarea").input_value()
    assert lines.startswith("《") and "第" in lines and "[" in lines
    page.screenshot(path=str(ARTIFACTS / "search.png"), full_page=True)
