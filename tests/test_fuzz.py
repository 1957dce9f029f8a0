"""Property-based tests (hypothesis) over Engine.ask, Engine.search, the CLI and
the app's handlers: whatever the question and history, no exception other than
the project's typed errors, valid UTF-8 JSON, escaped HTML, citations and short
answers traceable to their issue file.

CI runs a small seeded sample (derandomize=True); scripts/fuzz.py runs 10,000+
inputs with the real model and prints crashes, p99/max time and memory growth.
The fake embedder and the tiny made-up issue keep each example fast.
"""

from __future__ import annotations

import contextlib
import io
import json
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import TINY_ISSUE, FakeEmbedder, FakeReader
from rag.web import render
from rag.config import Settings
from rag.engine import Engine
from rag.errors import RagError
from rag.ingest.issues import read_issue
from rag.ingest.spans import locate

SAMPLE = settings(max_examples=200, derandomize=True, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SMALL = settings(SAMPLE, max_examples=60)

GOOD = ["南湖新区春季招聘会在哪天举行？", "有多少家企业参加招聘会？", "城东污水处理厂二期总投资多少？",
        "那它日处理能力多大？", "赵立新是什么职务？", "他说了什么？", "Who took the photo?", "招聘会", "投资"]
# what a browser, a bad client or an attacker may send
JUNK = ["\ud800", "\udc95", "\udfff", "\u202e", "\u202a", "\u2066", "\u2069", "\u200b", "\u200d", "\ufeff", "\u00ad",
        "\x00", "\x1b[31m", "\r\n", "\u2028", "\U000e0041", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
        "![x](http://evil.example/y.png)", "[a](javascript:alert(1))", "&lt;b&gt;", "&#0;", "&#xd800;", "\\1", "\\g<0>",
        "$1", "(.*)+", "[", "C:\\new\\", "../../etc/passwd", "/etc/passwd", "'\"", "%s%n", "{0}", "\u0301" * 20,
        "ﷺ", "𝟓𝟎𝟎", "１２３", "現代醫藥港"]

any_char = st.characters(codec=None, exclude_categories=())  # surrogates and controls included
junk_text = st.lists(st.one_of(st.sampled_from(GOOD), st.sampled_from(JUNK), st.text(any_char, max_size=12)),
                     max_size=6).map("".join)
questions = st.one_of(st.sampled_from(GOOD), junk_text, st.text(any_char, max_size=40),
                      st.text(st.sampled_from("南湖新区招聘会企业投资多少哪天谁它那"), max_size=60))
history_items = st.one_of(questions, st.integers(), st.none(), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                             max_size=2))
histories = st.lists(history_items, max_size=8)

ALLOWED_TAGS = {"a", "b", "br", "code", "details", "div", "em", "li", "mark", "ol", "p", "small", "span", "strong",
                "summary", "sup", "ul"}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.seen: list[tuple[str, list]] = []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, attrs))


def assert_safe_html(html: str) -> None:
    html.encode("utf-8")  # strict: no lone surrogates
    p = Tags()
    p.feed(html)
    for tag, attrs in p.seen:
        assert tag in ALLOWED_TAGS, (tag, html[:300])
        for name, value in attrs:
            assert not name.startswith("on"), (name, html[:300])
            assert not (value or "").strip().lower().startswith("javascript:"), (value, html[:300])


def assert_json_utf8(obj) -> str:
    text = json.dumps(obj, ensure_ascii=False)
    text.encode("utf-8")  # strict
    return text


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("fuzz") / "issues"
    d.mkdir()
    (d / "tiny-issue.txt").write_text(TINY_ISSUE, encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def engine(data):
    return Engine.open(Settings(data_dir=data, index_dir=data.parent / "index"), progress=lambda m: None,
                       embedder=FakeEmbedder(), reader=FakeReader())


def assert_traceable(answer, data_dir) -> None:
    for c in answer.citations:
        source = read_issue(data_dir / c.source)
        assert locate(c.text, source, c.start, c.end), (c.text, c.start, c.end)
    if answer.answerable and answer.answer_start is not None:
        source = read_issue(data_dir / answer.citations[0].source)
        assert locate(answer.answer, source, answer.answer_start, answer.answer_end)


@SAMPLE
@given(question=questions, history=histories)
def test_ask_never_raises_and_its_answer_is_valid_and_traceable(engine, data, question, history):
    answer = engine.ask(question, history)
    assert_json_utf8(answer.to_json())
    assert_traceable(answer, data)
    assert_safe_html(render.render_answer(answer, anchor="c1"))


@SAMPLE
@given(query=questions, k=st.integers(1, 30))
def test_search_raises_only_typed_errors_and_cites_the_issue(engine, data, query, k):
    try:
        hits = engine.search(query, k=k)
    except RagError:
        return
    assert len(hits) <= k
    source = read_issue(data / "tiny-issue.txt")
    for h in hits:
        assert locate(h.chunk.text, source, h.chunk.start, h.chunk.end)


@SMALL
@given(question=questions, history=st.lists(questions, max_size=3))
@example(question="南湖\udc95新区招聘会在哪天举行？", history=["\\1南湖新区\u202e"])
def test_cli_ask_prints_one_valid_utf8_json_object(data, monkeypatch, question, history):
    import rag.model.embed
    from rag import cli

    monkeypatch.setattr(rag.model.embed, "load_embedder", lambda s, p=None: FakeEmbedder())
    args = ["ask", "--json", "--data", str(data), "--index", str(data.parent / "index")]
    for h in history:
        args += ["--history", h]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(args + ["--", question])
        except SystemExit as e:  # argparse's own refusal (a history item like "-:" reads as an option)
            code = e.code
    assert code in (0, 2), err.getvalue()
    out.getvalue().encode("utf-8")
    err.getvalue().encode("utf-8")
    assert "Traceback" not in err.getvalue()
    if code == 0:
        assert isinstance(json.loads(out.getvalue()), dict)
    else:
        assert err.getvalue().startswith("Error: ") and len(err.getvalue().strip().splitlines()) == 1


@SAMPLE
@given(question=st.one_of(questions, st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)),
       history=st.one_of(st.just(""), histories, histories.map(json.dumps), st.text(any_char, max_size=30)),
       issue=st.one_of(st.just("全部"), st.sampled_from(["tiny-issue.txt", "../../etc/passwd", "/etc/passwd"]), questions),
       story=st.one_of(st.just("全部"), questions))
@example(question="招聘会\ud800在哪天？", history='["\\\\1南湖新区"]', issue="../../etc/passwd", story="全部")
def test_app_handlers_give_json_or_a_message(engine, question, history, issue, story):
    import gradio as gr

    from rag.web import handlers

    h = handlers.Handlers(engine, engine.settings)
    try:
        assert_json_utf8(h.ask(question, history))
    except gr.Error as e:  # a message for the user, never the apology for an unexpected error
        assert str(e.message).strip() and e.message != handlers.SORRY
    reply = h.chat(question, [{"role": "user", "content": x} for x in history if isinstance(x, str)]
                   if isinstance(history, list) else [])
    assert_safe_html(reply)
    assert handlers.SORRY not in reply
    html, lines = h.search(question, issue, story)
    assert_safe_html(html)
    assert handlers.SORRY not in html
    lines.encode("utf-8")
    assert "/etc/passwd" not in lines


@SAMPLE
@given(history=histories)
def test_history_is_bounded_whatever_it_holds(history):
    from rag.search.query import clean_history

    kept = clean_history(history, 6, 1500, 500)
    assert len(kept) <= 6 and sum(map(len, kept)) <= 1500
    for turn in kept:
        turn.encode("utf-8")
        assert not any(c in turn for c in "\u202e\u200b\ufeff\x00")
