"""The web app: handler edge cases (fast, stand-in engine) and API round trips
against `python app.py` started as a subprocess on a free port with the real
engine, the real issue and a made-up issue holding markup (slow)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import app
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
        self.fail, self.calls = fail, []

    def ask(self, question, history=()):
        self.calls.append((question, list(history)))
        if self.fail:
            raise self.fail
        return Answer(question=question, query=question, answerable=False, answer=None, sentence=None)


def test_chat_passes_earlier_user_questions_oldest_first():
    eng = StandIn()
    h = app.Handlers(eng, Settings())
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
    h = app.Handlers(eng, Settings(max_question_chars=10))
    assert "请输入" in h.chat("   ", [])
    reply = h.chat("问" * 11, [])
    assert "太长" in reply and "10" in reply
    assert eng.calls == []


def test_chat_turns_errors_into_friendly_messages(caplog):
    reply = app.Handlers(StandIn(fail=IndexError_("索引已过期，请重建")), Settings()).chat("问题", [])
    assert "索引已过期，请重建" in reply and "Traceback" not in reply
    reply = app.Handlers(StandIn(fail=ZeroDivisionError("secret detail")), Settings()).chat("问题", [])
    assert app.SORRY in reply and "secret" not in reply and "ZeroDivisionError" not in reply
    assert "ZeroDivisionError" in caplog.text  # the traceback goes to the server log


def test_ask_history_accepts_json_or_list_and_rejects_junk():
    assert app.parse_history('["a", "b"]') == ["a", "b"]
    assert app.parse_history(["a"]) == ["a"]
    assert app.parse_history("") == []
    with pytest.raises(Exception, match="JSON"):
        app.parse_history("[oops")
    with pytest.raises(Exception, match="列表"):
        app.parse_history('{"a": 1}')


# ---------------------------------------------------------------- slow: real app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`python app.py` in a subprocess; its console goes to a log file."""

    def __init__(self, data_dir: Path, index_dir: Path, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = log
        env = dict(os.environ, RAG_DATA_DIR=str(data_dir), RAG_INDEX_DIR=str(index_dir),
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
    assert "<b>300亿元</b>" in reply  # bold inside its sentence
    assert "heze-kaifaqu-2021-06.txt" in reply and "<mark>" in reply
    assert "Traceback" not in reply


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
    assert follow["answerable"] and "4平方公里" in follow["answer"], follow
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


@pytest.mark.slow
def test_search_endpoint_filters_by_issue_and_gives_citation_lines(client):
    html, lines = client.predict("展览会", "markup-issue.txt", "全部", api_name="/search")
    assert lines and all("markup-issue.txt" in line for line in lines.splitlines())
    assert lines.splitlines()[0].startswith("《") and "第" in lines
    assert "<img" not in html and "&lt;img" in html


def test_examples_come_from_eval_questions_about_indexed_stories_that_are_answered(tmp_path):
    from rag.types import Story

    qs = tmp_path / "q.jsonl"
    qs.write_text("\n".join([
        '{"q": "Q1?", "kind": "date", "story": "招聘会", "answers": ["3月12日"]}',
        '{"q": "Q2?", "kind": "date", "story": "招聘会", "answers": ["3月12日"]}',
        '{"q": "Q3?", "kind": "person", "story": "别的报道", "answers": ["王明"]}',
        '{"q": "Q4?", "kind": "amount", "story": "招聘会", "answers": ["3500个"], "history": ["x"]}',
        '{"q": "Q5?", "kind": "amount", "story": "招聘会", "answers": ["3500个"]}',
        "not json",
    ]), encoding="utf-8")

    class Eng(StandIn):
        stories = [Story(source="t.txt", index=0, headline="南湖新区举行春季招聘会")]

        def ask(self, question, history=()):
            ans = super().ask(question, history)
            from dataclasses import replace
            return replace(ans, answerable=question != "Q1?")

    eng = Eng()
    assert app.examples_for(eng, qs) == ["Q2?", "Q5?"]
    assert app.examples_for(eng, tmp_path / "missing.jsonl") == []


@pytest.mark.slow
def test_concurrent_chats_are_queued_and_all_answered(client):
    jobs = [client.submit("现代医药港计划投资多少", api_name="/chat") for _ in range(4)]
    replies = [j.result(timeout=120) for j in jobs]
    assert all("<b>300亿元</b>" in r for r in replies)


def test_search_handler_reports_bad_input_and_errors_politely():
    class Eng(StandIn):
        def search(self, query, k=10, source=None, story=None):
            self.calls.append((query, source, story))
            raise self.fail

    eng = Eng(fail=RuntimeError("internal"))
    h = app.Handlers(eng, Settings(max_question_chars=5))
    html, lines = h.search("  ", app.ALL, app.ALL)
    assert "请输入一个检索词" in html and lines == ""
    assert "检索词太长" in h.search("投资投资投资", app.ALL, app.ALL)[0]
    html, lines = h.search("投资", "a.txt", app.ALL)
    assert app.SORRY in html and "internal" not in html and lines == ""
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
