"""The web app: handler edge cases (fast, stand-in engine) and API round trips
against `python app.py` started as a subprocess on a free port with the real
engine, the real issue and a made-up issue holding markup (slow)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rag.web import examples, handlers, page
from rag.config import Settings
from rag.errors import IndexError_
from rag.types import Answer

ROOT = Path(__file__).resolve().parent.parent
REAL_ISSUE = ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt"

# A made-up issue whose sentences carry markup, to check that it is shown as text.
MARKUP_ISSUE = """\
南湖新区举办科技展览会

本报讯(记者 王明)3月12日,南湖新区科技展览会在会展中心开幕,展板上印着<img src=x onerror=alert(1)>和<script>alert(1)</script>两行代码。共有86家企业参展,展出新产品230件。

展览会将持续三天,免费向市民开放。
"""
MARKUP_QUESTION = "南湖新区科技展览会展板上印着什么？"


# ---------------------------------------------------------------- fast: handlers


class StandIn:
    """Just enough of Engine's shape to drive the handlers."""

    stories = ()

    def __init__(self, fail=None):
        from rag.text import plain

        self.fail, self.calls, self.lexicon = fail, [], plain()

    def ask(self, question, history=()):
        self.calls.append((question, list(history)))
        if self.fail:
            raise self.fail
        return Answer(question=question, query=question, answerable=False, answer=None, sentence=None)

    def search(self, query, k=20, source=None, story=None):
        if self.fail:
            raise self.fail
        return []


def test_chat_passes_earlier_user_questions_oldest_first():
    eng = StandIn()
    h = handlers.Handlers(eng, Settings())
    history = [
        {"role": "user", "content": [{"type": "text", "text": "第一问"}]},
        {"role": "assistant", "content": "<div>答</div>"},
        {"role": "user", "content": "第二问"},
        {"role": "assistant", "content": [{"type": "text", "text": "答"}]},
    ]
    h.chat("第三问", history)
    assert eng.calls == [("第三问", ["第一问", "第二问"])]


def test_chat_rejects_empty_and_too_long_questions_without_asking():
    eng = StandIn()
    h = handlers.Handlers(eng, Settings(max_question_chars=10))
    assert "请输入" in h.chat("   ", [])
    reply = h.chat("问" * 11, [])
    assert "太长" in reply and "10" in reply
    assert eng.calls == []


def test_chat_turns_errors_into_friendly_messages(caplog):
    reply = handlers.Handlers(StandIn(fail=IndexError_("索引已过期，请重建")), Settings()).chat("问题", [])
    assert "索引已过期，请重建" in reply and "Traceback" not in reply
    reply = handlers.Handlers(StandIn(fail=ZeroDivisionError("secret detail")), Settings()).chat("问题", [])
    assert handlers.SORRY in reply and "secret" not in reply and "ZeroDivisionError" not in reply
    assert "ZeroDivisionError" in caplog.text  # the traceback goes to the server log


class PanicException(BaseException):
    """What pyo3's panics (the tokenizers library) look like: not an Exception."""


def test_a_native_panic_is_answered_with_the_apology_and_an_interrupt_is_not_swallowed(caplog):
    import gradio as gr

    h = handlers.Handlers(StandIn(fail=PanicException("called `Option::unwrap()` on a `None` value")), Settings())
    assert handlers.SORRY in h.chat("问题", []) and "PanicException" in caplog.text
    assert handlers.SORRY in h.search("检索")[0]
    with pytest.raises(gr.Error, match=handlers.SORRY):
        h.ask("问题")
    with pytest.raises(KeyboardInterrupt):
        handlers.Handlers(StandIn(fail=KeyboardInterrupt()), Settings()).chat("问题", [])


def test_the_same_question_in_the_same_conversation_is_answered_once(monkeypatch):
    monkeypatch.setattr(handlers, "ANSWERS_KEPT", 2)
    eng = StandIn()
    h = handlers.Handlers(eng, Settings())
    h.chat("现代医药港计划投资多少？", [])
    h.chat("现代医药港计划投资多少？", [])
    h.ask("现代医药港计划投资多少？")  # the API shares what the chat asked
    assert len(eng.calls) == 1
    assert h._answer("现代医药港计划投资多少？", []) is h._answer("现代医药港计划投资多少？", [])
    h.chat("现代医药港计划投资多少？", [{"role": "user", "content": "你好"}])  # another conversation state
    h.chat("占地多大？", [])
    assert len(eng.calls) == 3
    h.chat("第三个问题？", [])  # only the last two are kept
    h.chat("现代医药港计划投资多少？", [])
    assert len(eng.calls) == 5
    h.engine = StandIn()  # another engine: nothing kept is its answer
    h.chat("第三个问题？", [])
    assert len(h.engine.calls) == 1


def test_ask_history_accepts_json_or_list_and_rejects_junk():
    assert handlers.parse_history('["a", "b"]') == ["a", "b"]
    assert handlers.parse_history(["a"]) == ["a"]
    assert handlers.parse_history("") == []
    with pytest.raises(Exception, match="JSON"):
        handlers.parse_history("[oops")
    with pytest.raises(Exception, match="列表"):
        handlers.parse_history('{"a": 1}')


# ---------------------------------------------------------------- slow: real app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python app.py` in a subprocess; its console goes to a log file, its
    feedback log to `log_dir` (beside the console log unless given)."""

    def __init__(self, data_dir: Path, index_dir: Path, log: Path, log_dir: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        self.dirs = (data_dir, index_dir, log_dir or log.parent / "feedback")
        env = dict(os.environ, RAG_DATA_DIR=str(data_dir), RAG_INDEX_DIR=str(index_dir), RAG_LOG_DIR=str(self.dirs[2]),
                   GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(self.port), PYTHONUNBUFFERED="1")
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                                     stdout=log.open("w"), stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait(self, timeout: float = 900) -> float:
        while time.monotonic() - self.started < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"app.py exited with {self.proc.returncode}:\n{self.output()[-3000:]}")
            if "Running on local URL" in self.output():
                return time.monotonic() - self.started
            time.sleep(0.5)
        raise AssertionError(f"app.py did not start in {timeout} s:\n{self.output()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def restart(server: Server) -> Server:
    """Stop the server and start a new one on the same issues, index and feedback log."""
    server.stop()
    again = Server(*server.dirs[:2], server.log.with_name(server.log.stem + "-again.log"), server.dirs[2])
    again.startup_s = again.wait()
    return again


STAFF = ("editor", "editor-password-1")


def add_staff(server: Server, name: str = STAFF[0], password: str = STAFF[1]) -> None:
    """A staff account for `server`, made as people make one: `rag staff add`
    (the password on stdin), in the accounts file beside its feedback log."""
    env = dict(os.environ, RAG_LOG_DIR=str(server.dirs[2]))
    env.pop("RAG_STAFF_FILE", None)
    r = subprocess.run([sys.executable, "-m", "rag", "staff", "add", name, "--password-stdin"], input=password + "\n",
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 or "exists" in r.stderr, r.stderr


def staff_cookie(server: Server, name: str = STAFF[0], password: str = STAFF[1]) -> str:
    """`Cookie` header value of a fresh staff session on `server` (the account made if need be)."""
    import httpx

    add_staff(server, name, password)
    r = httpx.post(server.url + "staff/login", data={"name": name, "password": password}, timeout=60)
    assert r.status_code == 303, r.text
    return f"newsrag_staff={r.cookies['newsrag_staff']}"


def staff_client(server: Server):
    """A gradio_client of the staff page, logged in."""
    from gradio_client import Client

    return Client(server.url + "staff/", verbose=False, headers={"Cookie": staff_cookie(server)})


def start_server(tmp: Path) -> Server:
    data = tmp / "issues"
    data.mkdir()
    (data / REAL_ISSUE.name).write_bytes(REAL_ISSUE.read_bytes())
    (data / "markup-issue.txt").write_text(MARKUP_ISSUE, encoding="utf-8")
    server = Server(data, tmp / "index", tmp / "app.log")
    server.startup_s = server.wait()
    return server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = start_server(tmp_path_factory.mktemp("app"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False)


@pytest.mark.slow
def test_startup_builds_the_index_with_console_progress(server):
    out = server.output()
    assert "[index]" in out, out[-2000:]
    assert (Path(server.log).parent / "index").is_dir()
    print(f"startup with index build: {server.startup_s:.1f} s")


@pytest.mark.slow
def test_chat_round_trip_answers_with_citation(client):
    t = time.monotonic()
    reply = client.predict("现代医药港计划投资多少", api_name="/chat")
    print(f"/chat took {time.monotonic() - t:.2f} s")
    assert "300亿元" in reply
    assert re.search(r'<p class="rag-sentence">[^<]*计划投资(<b>)?300亿元', reply)  # inside its sentence, bold if confident
    assert all(b == "300亿元" for b in re.findall(r"<b>([^<]*)</b>", reply))
    assert "heze-kaifaqu-2021-06.txt" in reply
    assert "Traceback" not in reply
    # the copy: the sentence and its citation line, as plain text
    import html as html_

    copy = html_.unescape(re.search(r'data-copy="([^"]*)"', reply).group(1))
    assert "300亿元" in copy and "<" not in copy
    assert re.search(r"\[1\] 《[^》]+》第\d+段，heze-kaifaqu-2021-06\.txt \[\d+–\d+\]", copy), copy


@pytest.mark.slow
def test_ask_returns_the_json_object_and_resolves_followups(client):
    first = client.predict("现代医药港计划投资多少？", "", api_name="/ask")
    assert first["answerable"] and "300亿元" in first["answer"]
    c = first["citations"][0]
    assert {"rank", "story", "paragraph", "text", "score", "source", "start", "end"} <= set(c)
    text = REAL_ISSUE.read_text(encoding="utf-8")
    assert first["answer_start"] is not None
    assert text[first["answer_start"]:first["answer_end"]] == first["answer"]

    follow = client.predict("那它占地多大？", '["现代医药港计划投资多少？"]', api_name="/ask")
    assert follow["answerable"] and "占地" in follow["sentence"], follow  # the figure: test_engine_real.test_followup_pair
    assert follow["query"] != follow["question"]  # the searched query says what "它" is


@pytest.mark.slow
def test_unanswerable_question_is_refused_with_nearest_passages(client):
    reply = client.predict("菏泽开发区的足球队去年拿了几次冠军？", api_name="/chat")
    assert "没有找到" in reply and "最接近的段落" in reply


@pytest.mark.slow
def test_too_long_question_is_rejected_politely(client):
    reply = client.predict("投资" * 400, api_name="/chat")
    assert "太长" in reply and "Traceback" not in reply
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="太长"):
        client.predict("投资" * 400, "", api_name="/ask")


@pytest.mark.slow
def test_issue_markup_comes_back_escaped_over_the_api(client):
    raw = client.predict(MARKUP_QUESTION, "", api_name="/ask")
    texts = [c["text"] for c in raw["citations"]]
    assert any("<img src=x onerror=alert(1)>" in t for t in texts), texts  # the markup reached the app
    reply = client.predict(MARKUP_QUESTION, api_name="/chat")
    assert "&lt;img src=x onerror=alert(1)&gt;" in reply
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in reply
    assert "<img" not in reply and "<script" not in reply


@pytest.fixture(scope="module")
def staff(server):
    return staff_client(server)


@pytest.mark.slow
def test_search_endpoint_filters_by_issue_and_gives_citation_lines(staff):
    html, lines = staff.predict("展览会", "markup-issue.txt", "全部", api_name="/search")
    assert lines and all("markup-issue.txt" in line for line in lines.splitlines())
    assert lines.splitlines()[0].startswith("《") and "第" in lines
    assert "<img" not in html and "&lt;img" in html


def test_examples_come_from_the_stories_and_are_kept_when_answered_from_them():
    from dataclasses import replace

    from rag.types import Citation, Paragraph, Story

    text = "4月8日，城东污水处理厂二期工程正式投产，总投资2.6亿元。"
    story = Story(source="t.txt", index=0, headline="城东污水处理厂二期投产", byline="通讯员 陈晨",
                  paragraphs=(Paragraph(text, 0, len(text)),))

    class Eng(StandIn):
        stories = [story]

        def ask(self, question, history=()):
            ans = super().ask(question, history)
            cite = Citation(1, story.title, 1, text, 1.0, "t.txt", 0, len(text))
            right = "2.6亿元" if "投资" in question else "陈晨"
            return replace(ans, answerable=True, answer=right, answer_shown=True, citations=(cite,))

    assert examples.examples_for(Eng()) == ["城东污水处理厂二期工程总投资多少？", "《城东污水处理厂二期投产》这篇报道是谁写的？"]

    class Wrong(Eng):
        def ask(self, question, history=()):
            return replace(super().ask(question, history), answer="3亿元")  # not what the story says

    assert examples.examples_for(Wrong()) == ["《城东污水处理厂二期投产》这篇报道是谁写的？"]



def test_examples_are_asked_once_per_index_settings_and_code(tmp_path, monkeypatch):
    """The examples of an index are kept beside it: a restart reads them; a new
    build (another manifest) or other settings ask them again; a folder that
    cannot be written only means asking each time."""
    asked = []
    monkeypatch.setattr(examples, "examples_for", lambda engine: asked.append(1) or ["问题一？"])
    current = tmp_path / "index" / "current"
    current.mkdir(parents=True)
    (current / "manifest.json").write_text('{"built_at": "1"}', encoding="utf-8")
    settings = Settings(index_dir=tmp_path / "index")
    assert examples.cached_examples(StandIn(), settings) == ["问题一？"] and len(asked) == 1
    assert examples.cached_examples(StandIn(), settings) == ["问题一？"] and len(asked) == 1  # read back
    assert examples.cached_examples(StandIn(), Settings(index_dir=tmp_path / "index", top_k=7)) and len(asked) == 2
    (current / "manifest.json").write_text('{"built_at": "2"}', encoding="utf-8")
    examples.cached_examples(StandIn(), settings)
    assert len(asked) == 3
    (tmp_path / "index" / examples.EXAMPLES_FILE).write_text("{not json", encoding="utf-8")
    assert examples.cached_examples(StandIn(), settings) == ["问题一？"] and len(asked) == 4
    monkeypatch.setattr(Path, "write_text", lambda *a, **k: (_ for _ in ()).throw(PermissionError("read-only")))
    (tmp_path / "index" / examples.EXAMPLES_FILE).unlink()
    assert examples.cached_examples(StandIn(), settings) == ["问题一？"] and len(asked) == 5
    assert not list((tmp_path / "index").glob(".examples*"))


@pytest.mark.slow
def test_concurrent_chats_are_queued_and_all_answered(client):
    jobs = [client.submit("现代医药港计划投资多少", api_name="/chat") for _ in range(4)]
    replies = [j.result(timeout=120) for j in jobs]
    assert all('class="rag-sentence"' in r and "计划投资" in r and "300亿元" in r for r in replies)


def test_search_handler_reports_bad_input_and_errors_politely():
    class Eng(StandIn):
        def search(self, query, k=10, source=None, story=None):
            self.calls.append((query, source, story))
            raise self.fail

    eng = Eng(fail=RuntimeError("internal"))
    h = handlers.Handlers(eng, Settings(max_question_chars=5))
    html, lines = h.search("  ", handlers.ALL, handlers.ALL)
    assert "请输入一个检索词" in html and lines == ""
    assert "检索词太长" in h.search("投资投资投资", handlers.ALL, handlers.ALL)[0]
    html, lines = h.search("投资", "a.txt", handlers.ALL)
    assert handlers.SORRY in html and "internal" not in html and lines == ""
    assert eng.calls == [("投资", "a.txt", None)]


@pytest.mark.slow
def test_missing_data_folder_is_a_one_line_error_not_a_traceback(tmp_path):
    env = dict(os.environ, RAG_DATA_DIR=str(tmp_path / "nowhere"), RAG_INDEX_DIR=str(tmp_path / "index"),
               GRADIO_SERVER_PORT=str(free_port()))
    run = subprocess.run([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 1
    assert "Error: " in run.stderr and str(tmp_path / "nowhere") in run.stderr
    assert "Traceback" not in run.stderr


# ---------------------------------------------------------------- fast: feedback, input, search


@pytest.fixture
def feedback_log(tmp_path):
    from rag.web.feedback import FeedbackLog

    return FeedbackLog(tmp_path / "log")


def _refusing(question, history=()):
    from rag.kinds import Refusal
    from rag.types import Citation

    cite = Citation(1, "城东污水处理厂二期投产", 1, "总投资2.6亿元。", 0.5, "tiny-issue.txt", 10, 18)
    return Answer(question=question, query=question, answerable=False, answer=None, sentence=None,
                  citations=(cite,), refusal=Refusal.NO_ANSWER)


def test_refusals_are_logged_and_votes_stored_with_the_reply(feedback_log):
    eng = StandIn()
    eng.ask = lambda q, h=(): (eng.calls.append(q), _refusing(q))[1]
    h = handlers.Handlers(eng, Settings(), log=feedback_log)
    reply = h.chat("菏泽开发区的足球队拿了几次冠军？", [])
    assert feedback_log.count("refused") == 1
    history = [{"role": "user", "content": "菏泽开发区的足球队拿了几次冠军？"}, {"role": "assistant", "content": reply}]
    h.vote(history, 1, [reply], False)
    [row] = feedback_log.unanswered()
    assert (row.question, row.times, row.refused, row.down) == ("菏泽开发区的足球队拿了几次冠军？", 1, 1, 1)
    assert row.citations == ("《城东污水处理厂二期投产》第1段，tiny-issue.txt [10–18]",)
    h.vote(history, 1, [reply], "")  # taken back: the refusal stays
    assert feedback_log.count("down") == 0 and feedback_log.count("refused") == 1


def test_a_vote_after_a_restart_reads_the_reply_back_from_the_chat(feedback_log):
    from dataclasses import replace

    from rag.types import Citation

    cite = Citation(1, "现代医药港", 2, "计划投资300亿元。", 0.5, "h.txt", 5, 14)
    answer = Answer(question="投资多少？", query="现代医药港投资多少？", answerable=True, answer="300亿元",
                    sentence="计划投资300亿元。", citations=(cite,), answer_shown=True, followup=True)
    eng = StandIn()
    eng.ask = lambda q, h=(): replace(answer, question=q)
    reply = handlers.Handlers(eng, Settings(), log=feedback_log).chat("投资多少？", ["现代医药港在哪？"])
    fresh = handlers.Handlers(eng, Settings(), log=feedback_log)  # a new process: nothing remembered
    history = [{"role": "user", "content": "现代医药港在哪？"}, {"role": "assistant", "content": "…"},
               {"role": "user", "content": "投资多少？"}, {"role": "assistant", "content": reply}]
    fresh.vote(history, 3, [reply], False)
    [row] = feedback_log.unanswered()
    assert row.question == "投资多少？" and row.query == "现代医药港投资多少？"
    assert row.answer == "计划投资300亿元。[1]" and row.citations == ("《现代医药港》第2段，h.txt [5–14]",)
    fresh.vote(history, 3, [reply], True)  # a changed vote replaces the first
    assert (feedback_log.count("down"), feedback_log.count("up")) == (0, 1)


def test_without_a_log_nothing_is_recorded_and_votes_are_ignored():
    h = handlers.Handlers(StandIn(), Settings())
    reply = h.chat("问题", [])
    h.vote([], 1, [reply], False)  # no error
    assert "没有开启记录" in h.unanswered_html()


def test_too_long_is_said_in_the_askers_language():
    h = handlers.Handlers(StandIn(), Settings(max_question_chars=10))
    assert "too long (12 characters)" in h.chat("What is it??", [])
    assert "太长" in h.chat("问" * 11, [])


def test_staff_list_shows_times_and_days_in_the_configured_zone(feedback_log):
    from rag.web.feedback import Record

    feedback_log.record("r1", "refused", Record("足球队拿了几次冠军？", "q", "没有找到。", ()), at="2026-11-01T16:30:00+00:00")
    html = handlers.Handlers(StandIn(), Settings(), log=feedback_log).unanswered_html()  # default Asia/Shanghai
    assert "最近 2026-11-02 00:30（Asia/Shanghai）" in html and "2026-11-02" in html and "2026-11-01" not in html
    html = handlers.Handlers(StandIn(), Settings(time_zone="UTC"), log=feedback_log).unanswered_html()
    assert "最近 2026-11-01 16:30（UTC）" in html and "每天的次数（UTC 时间）" in html


def test_changing_a_filter_searches_again_only_when_something_was_typed():
    class Eng(StandIn):
        def search(self, query, k=10, source=None, story=None):
            self.calls.append((query, source, story))
            return []

    eng = Eng()
    h = handlers.Handlers(eng, Settings())
    assert h.search_again("", "a.txt", handlers.ALL) == ("", "")
    html, lines = h.search_again("5G", handlers.ALL, "某报道")
    assert eng.calls == [("5G", None, "某报道")] and "所选期次或报道中没有含“5G”的段落" in html and lines == ""


def test_empty_message_adds_no_bubble(tiny_data, tmp_path):
    import gradio as gr

    from conftest import FakeEmbedder
    from rag.engine import Engine

    engine = Engine.open(Settings(data_dir=tiny_data, index_dir=tmp_path / "index", answerer="rules"),
                         progress=lambda *a: None, embedder=FakeEmbedder())
    demo = page.build_public(page.make_handlers(engine, engine.settings))
    ci = next(f.fn.__self__ for f in demo.fns.values() if isinstance(getattr(f.fn, "__self__", None), gr.ChatInterface))
    assert ci._append_message_to_history("   ", [], "user") == []
    assert ci._append_message_to_history("问题", [], "user")[0]["content"] == "问题"
    assert any(b.feedback_options == ("Like", "Dislike") for b in demo.blocks.values() if isinstance(b, gr.Chatbot))


# ---------------------------------------------------------------- slow: API fields of turns


@pytest.mark.slow
def test_ask_json_says_what_a_turn_is(client):
    hello = client.predict("你好", '["现代医药港计划投资多少？"]', api_name="/ask")
    assert hello["turn"] == "greeting" and hello["query"] == "" and hello["citations"] == []
    which = client.predict("这篇报道是谁写的？", "", api_name="/ask")
    assert which["turn"] == "which_story" and len(which["citations"]) >= 3
    assert all({"story", "text", "source", "start", "end"} <= set(c) for c in which["citations"])
    guess = client.predict("那它占地多大？", "", api_name="/ask")
    assert guess["answerable"] and guess["assumed"], guess  # the empty chat's "it" is named
    plain = client.predict("现代医药港计划投资多少？", "", api_name="/ask")
    assert "turn" not in plain and "assumed" not in plain


@pytest.mark.slow
def test_english_question_gets_english_words(client):
    reply = client.predict("How much is the Modern Medicine Port going to invest?", api_name="/chat")
    assert ("Sources" in reply or "Nearest passages" in reply) and "来源" not in reply
    first = client.predict("How much is the Modern Medicine Port going to invest?", "", api_name="/ask")
    print("English question:", first["answerable"], first["answer"], first["refusal"])
    hello = client.predict("hello", api_name="/chat")
    assert "I answer questions about these newspaper issues" in hello


@pytest.mark.slow
def test_search_endpoint_puts_the_keyword_first_and_filters_strictly(staff):
    html, lines = staff.predict("5G", "全部", "全部", api_name="/search")
    assert "<mark>5G</mark>" in html.split("</li>")[0]  # the first passage holds 5G
    html, lines = staff.predict("5G", "全部", "秸秆禁烧在行动", api_name="/search")
    assert lines == "" and "没有含“5G”的段落" in html


@pytest.mark.slow
def test_csv_export_route(server, client):
    import httpx

    client.predict("菏泽开发区的足球队去年拿了几次冠军？", api_name="/chat")  # refused: logged
    assert httpx.get(server.url.rstrip("/") + page.EXPORT_PATH, timeout=60).status_code == 401  # staff only
    r = httpx.get(server.url.rstrip("/") + page.EXPORT_PATH, timeout=60, headers={"Cookie": staff_cookie(server)})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    assert text.startswith("question,times,refused") and "足球队" in text


@pytest.mark.slow
def test_one_shot_ask_is_answered_by_the_running_chat_as_in_process(server):
    """`rag ask` on the chat's index goes to the chat (and says so) with the answer it would
    give itself; --no-chat answers in process; a stopped chat takes its announcement along."""
    data, index, _ = server.dirs
    env = dict(os.environ, RAG_DATA_DIR=str(data), RAG_INDEX_DIR=str(index))

    def ask(*args):
        r = subprocess.run([sys.executable, "-m", "rag", "ask", "--json", *args], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout), r.stderr

    assert json.loads((index / "chat.json").read_text(encoding="utf-8"))["url"] == server.url.rstrip("/")
    for args in (["现代医药港计划投资多少？"], ["--history", "现代医药港计划投资多少？", "那它占地多大？"],
                 ["现代医药港的董事长是谁？"]):
        via_chat, said = ask(*args)
        assert f"answered by the chat running at {server.url.rstrip('/')}" in said
        here, quiet = ask("--no-chat", *args)
        assert via_chat == here and "answered by the chat" not in quiet
    # input the chat would change (spaces around the question) is answered here, and it says why
    _, said = ask(" 现代医药港计划投资多少？ ")
    assert "answered in this process" in said and "spaces" in said


@pytest.mark.slow
def test_a_stopped_chat_withdraws_its_announcement(server, tmp_path):
    import shutil

    data, index, _ = server.dirs
    shutil.copytree(index, tmp_path / "index", ignore=shutil.ignore_patterns("chat.json"))  # built: starts at once
    s = Server(data, tmp_path / "index", tmp_path / "app.log")
    s.wait()
    assert json.loads((tmp_path / "index" / "chat.json").read_text(encoding="utf-8"))["pid"] == s.proc.pid
    s.stop()  # SIGTERM, as a service manager stops it
    assert s.proc.returncode is not None and not (tmp_path / "index" / "chat.json").exists()
