"""The chat and the staff tabs in a real browser: Debian Chromium driven by
playwright, against `python app.py` with the real engine (see test_app.Server).
One test per point of issue 10 (turns, languages, copy, input, layout,
feedback and the unanswered log across a restart, staff search). Screenshots go
to tests/artifacts/ (ignored by git) for a person to look at."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import ARGS, CHROMIUM  # noqa: F401 (ARGS: test_security imports it from here)
from test_app import MARKUP_QUESTION, STAFF, add_staff, restart, start_server

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
REFUSED = "菏泽开发区的足球队去年拿了几次冠军？"

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


def open_page(browser, url, width=1280, height=1100, **kw):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True, **kw)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    pg = ctx.new_page()
    pg.dialogs = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.goto(url)
    pg.wait_for_selector("#ask-box textarea")
    return pg


@pytest.fixture
def page(browser, server):
    pg = open_page(browser, server.url)
    yield pg
    pg.context.close()


def open_staff(browser, server, **kw):
    """The staff page at /staff/, logged in through its form (the account made with `rag staff add`)."""
    add_staff(server)
    ctx = browser.new_context(viewport={"width": kw.pop("width", 1280), "height": kw.pop("height", 1100)},
                              locale="zh-CN", accept_downloads=True, **kw)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url.rstrip("/"))
    pg = ctx.new_page()
    pg.goto(server.url + "staff/")
    pg.fill("#name", STAFF[0])
    pg.fill("#password", STAFF[1])
    pg.click("#login")
    pg.wait_for_selector("#staff-bar", timeout=60_000)
    return pg


@pytest.fixture
def staff_page(browser, server):
    pg = open_staff(browser, server)
    yield pg
    pg.context.close()


def shot(pg, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / name), full_page=full_page)


def ask(pg, question: str):
    """Type a question, press Enter, return the new bot reply's locator."""
    before = pg.locator(".message.bot .rag-reply").count()
    box = pg.locator("#ask-box textarea").first
    box.fill(question)
    box.press("Enter")
    pg.wait_for_function(f"document.querySelectorAll('.message.bot .rag-reply').length > {before}", timeout=60_000)
    return pg.locator(".message.bot .rag-reply").nth(before)


def clipboard(pg) -> str:
    return pg.evaluate("navigator.clipboard.readText()")


def bot_button(pg, label: str):
    """A button under the last reply (Gradio puts them beside the message, not in it)."""
    return pg.locator(f"#chat button[aria-label='{label}']").last


# ------------------------------------------------------------ answers and follow-ups

def test_chat_answer_citation_and_followup(page):
    assert "已收录" in page.locator(".rag-overview").inner_text()
    first = ask(page, "现代医药港计划投资多少？")
    assert "计划投资300亿元" in first.locator(".rag-sentence").inner_text()  # in bold only when the stage is confident
    assert "heze-kaifaqu-2021-06.txt" in first.locator(".rag-meta").first.inner_text()
    ref = first.locator("a.rag-ref").first
    target = ref.get_attribute("href")
    assert re.fullmatch(r"#\S+-\d+", target) and first.locator(target).count() == 1  # [n] leads to its source
    # one reply: the sentence is not printed again as source [1]
    assert first.inner_text().count("计划投资300亿元") == 1

    second = ask(page, "那它占地多大？")
    assert "检索：" in second.locator(".rag-query").inner_text()
    assert "现代医药港" in second.locator(".rag-query").inner_text()
    shot(page, "chat.png")

    page.locator("#clear-chat").click()
    page.wait_for_function("document.querySelectorAll('.message.bot').length === 0", timeout=10_000)


# ------------------------------------------------------------ 1 turns

def test_hello_after_a_question_gives_the_help_reply_and_its_examples_ask(page):
    ask(page, "现代医药港计划投资多少？")
    hello = ask(page, "你好")
    assert hello.locator(".rag-about").count() == 1 and "答案摘自原文" in hello.inner_text()
    assert hello.locator(".rag-query").count() == 0 and hello.locator(".rag-sentence").count() == 0  # no search
    examples = hello.locator(".rag-example")
    assert examples.count() >= 1
    question = examples.first.inner_text()
    before = page.locator(".message.bot .rag-reply").count()
    examples.first.click()
    page.wait_for_function(f"document.querySelectorAll('.message.bot .rag-reply').length > {before}", timeout=60_000)
    assert page.locator(".message.user").last.inner_text().strip() == question
    assert page.locator(".message.bot .rag-reply").last.locator(".rag-sentence").count() == 1  # answered, not refused
    shot(page, "help.png")


def test_english_question_gets_english_labels(page):
    reply = ask(page, "How much is the Modern Medicine Port going to invest?")
    text = reply.inner_text()
    assert "Sources" in text or "Nearest passages" in text
    assert not re.search(r"来源|最接近的段落|检索：|没有找到", text)
    assert "300亿元" in reply.locator(".rag-sentence").inner_text()
    hello = ask(page, "hi")
    assert "I answer questions about these newspaper issues" in hello.inner_text()
    shot(page, "english.png")


def test_authorship_without_context_lists_the_bylines(page):
    reply = ask(page, "这篇报道是谁写的？")
    assert "你问的是哪一篇报道" in reply.inner_text()
    assert reply.locator("li.rag-src").count() >= 3 and "李海欣" in reply.inner_text()
    shot(page, "bylines.png")


# ------------------------------------------------------------ 3 copy and input

def test_copy_gives_plain_text(page):
    ask(page, "现代医药港计划投资多少？")
    bot_button(page, "复制").click()
    page.wait_for_timeout(300)
    text = clipboard(page)
    assert "300亿元" in text and "<" not in text and "rag-reply" not in text
    assert re.search(r"^\[1\] 《[^》]+》第\d+段，heze-kaifaqu-2021-06\.txt \[\d+–\d+\]$", text, re.M), text
    # a user's own message copies as typed, not HTML-escaped
    ask(page, "<b>粗体</b>是什么？")
    buttons = page.locator("#chat button[aria-label='复制']")
    buttons.nth(buttons.count() - 2).click()
    page.wait_for_timeout(300)
    assert clipboard(page) == "<b>粗体</b>是什么？"


def test_input_counts_down_and_does_not_send_empty_or_too_long_questions(page):
    box = page.locator("#ask-box textarea")
    count = page.locator("#ask-count")
    box.fill("现代医药港")
    page.wait_for_timeout(200)
    assert "还可输入 495 字" in count.inner_text()
    long = "投资" * 300
    box.fill(long)
    page.wait_for_timeout(200)
    assert box.input_value() == long  # not cut silently
    assert "问题太长" in count.inner_text() and "超出 100 字" in count.inner_text()
    box.press("Enter")
    page.wait_for_timeout(1500)
    assert page.locator(".message.user").count() == 0 and box.input_value() == long  # not sent
    shot(page, "input-too-long.png")
    box.fill("   ")
    box.press("Enter")
    page.locator("#ask-box button.submit-button").click()
    page.wait_for_timeout(1500)
    assert page.locator(".message.user").count() == 0 and page.locator(".message.bot").count() == 0
    typed = "<img src=x onerror=alert(1)> 投资？"
    ask(page, typed)
    assert page.locator(".message.user").last.inner_text().strip() == typed  # shown as typed, runs nothing
    assert page.dialogs == []


def test_issue_markup_shows_as_text_and_runs_nothing(page):
    reply = ask(page, MARKUP_QUESTION)
    text = reply.inner_text()
    assert "<img src=x onerror=alert(1)>" in text and "<script>alert(1)</script>" in text
    assert page.locator(".message.bot img").count() == 0
    assert page.locator(".message.bot script").count() == 0
    assert page.dialogs == []
    shot(page, "markup.png")


# ------------------------------------------------------------ 4 layout

def test_two_turns_fit_and_a_phone_width_works(page, browser, server):
    ask(page, "现代医药港计划投资多少？")
    ask(page, "那它占地多大？")
    chat = page.locator("#chat").bounding_box()
    first = page.locator(".message.user").first.bounding_box()
    assert first["y"] >= chat["y"] and first["y"] + first["height"] <= chat["y"] + chat["height"], (first, chat)
    shot(page, "two-turns.png", full_page=False)

    phone = open_page(browser, server.url, width=390, height=844, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        reply = ask(phone, "现代医药港计划投资多少？")
        assert "300亿元" in reply.inner_text()
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        shot(phone, "phone-chat.png", full_page=False)
    finally:
        phone.context.close()
    phone = open_staff(browser, server, width=390, height=844, is_mobile=True, has_touch=True, device_scale_factor=2)
    try:
        phone.get_by_label("关键词或问题").fill("5G")
        phone.get_by_label("关键词或问题").press("Enter")
        phone.wait_for_selector(".rag-hits li.rag-hit", timeout=60_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390
        label = phone.locator(".rag-hit .rag-match").first.bounding_box()
        passage = phone.locator(".rag-hit .rag-passage").first.bounding_box()
        assert label["y"] + label["height"] <= passage["y"] + 1  # the match label no longer overlaps the text
        shot(phone, "phone-search.png")
    finally:
        phone.context.close()


# ------------------------------------------------------------ 6 staff search

def test_staff_search_keyword_first_strict_filter_and_one_copy_per_line(staff_page):
    page = staff_page
    page.get_by_label("关键词或问题").fill("5G")
    page.get_by_role("button", name="检索", exact=True).click()
    page.wait_for_selector(".rag-hits li.rag-hit", timeout=60_000)
    first = page.locator(".rag-hits li.rag-hit").first
    assert first.locator("mark").first.inner_text() == "5G"
    assert "相关度" not in page.locator("#search-results").inner_text()
    copies = page.locator(".rag-hits .rag-copy")
    assert copies.count() == page.locator(".rag-hits li.rag-hit").count()
    line = first.locator(".rag-cite code").inner_text()
    copies.first.click()
    page.wait_for_timeout(300)
    assert clipboard(page) == line and line.startswith("《") and "heze-kaifaqu-2021-06.txt [" in line
    shot(page, "search.png")
    # a filter the user changes searches again, and a story without 5G gives nothing
    page.get_by_role("combobox", name="报道").click()
    page.get_by_role("option", name="秸秆禁烧在行动").click()
    page.wait_for_function("document.querySelector('#search-results').innerText.includes('没有含')", timeout=60_000)
    assert page.locator(".rag-hits li.rag-hit").count() == 0
    shot(page, "search-filter.png")


# ------------------------------------------------------------ 5 feedback and the unanswered log (restarts the server: last)

def test_a_thumbs_down_and_a_refusal_reach_the_staff_tab_after_a_restart(page, browser, server):
    ask(page, "现代医药港计划投资多少？")
    bot_button(page, "踩").click()
    refused = ask(page, REFUSED)
    assert "没有找到" in refused.inner_text()
    page.wait_for_timeout(500)
    page.context.close()

    again = restart(server)
    server.__dict__.update(again.__dict__)  # the module's later users (and its teardown) get the new one
    pg = open_staff(browser, server)  # a restart ended every staff session: logged in again
    try:
        pg.get_by_role("tab", name="未答问题").click()
        pg.wait_for_selector("#log-list .rag-log", timeout=30_000)
        listed = pg.locator("#log-list").inner_text()
        assert REFUSED in listed and "现代医药港计划投资多少？" in listed
        assert "踩 1" in listed and "未答 1" in listed
        shot(pg, "unanswered.png")
        with pg.expect_download() as d:
            pg.get_by_text("导出 CSV").click()
        text = Path(d.value.path()).read_text(encoding="utf-8-sig")
        assert d.value.suggested_filename.startswith("unanswered-") and text.startswith("question,times,refused")
        assert REFUSED in text and "现代医药港计划投资多少？" in text
    finally:
        pg.context.close()
