"""`python -m rag`: JSON outputs, error paths without tracebacks, --help.

Commands that need the model run in-process with rag.model.embed.load_embedder
replaced by the fake embedder; commands that need no model run as a real
subprocess so that the exit code and stderr are the user's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, FakeEmbedder
from rag import cli

CITATION_FIELDS = {"rank", "story", "paragraph", "text", "score", "source", "start", "end"}
ANSWER_FIELDS = {"question", "query", "answerable", "answer", "sentence", "citations"}


def run_module(*args, env_extra=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def fake_model(monkeypatch):
    """load_embedder gives the fake embedder and counts its calls."""
    import rag.model.embed

    calls = []

    def load(settings, progress=None):
        calls.append(settings)
        return FakeEmbedder()

    for k in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(k)
    # the CLI's plumbing is tested on the rule stage, whose answers on the tiny issue are known
    monkeypatch.setenv("RAG_ANSWERER", "rules")
    monkeypatch.setattr(rag.model.embed, "load_embedder", load)
    return calls


def run_main(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ stories

def test_stories_json(tiny_data):
    r = run_module("stories", "--json", "--data", str(tiny_data))
    assert r.returncode == 0, r.stderr
    stories = json.loads(r.stdout)
    assert isinstance(stories, list) and len(stories) == 2
    source = (tiny_data / "tiny-issue.txt").read_text(encoding="utf-8")
    for s in stories:
        assert s["source"] == "tiny-issue.txt"
        assert s["headline"] in source
        assert "byline" in s
        assert s["paragraphs"]
        for p in s["paragraphs"]:
            assert set(p) == {"text", "start", "end"}
            assert 0 <= p["start"] < p["end"] <= len(source)
            assert source[p["start"]] == p["text"][0] and source[p["end"] - 1] == p["text"][-1]
    assert [s["byline"] for s in stories] == ["记者 王明", "通讯员 陈晨"]


def test_stories_plain_lists_titles(tiny_data):
    r = run_module("stories", "--data", str(tiny_data))
    assert r.returncode == 0
    assert "南湖新区举行春季招聘会" in r.stdout and "城东污水处理厂二期投产" in r.stdout


# ------------------------------------------------------------------ ask

def test_ask_json_has_exactly_the_documented_fields(tiny_data, tmp_path, fake_model, capsys):
    code, out, _ = run_main(capsys, "ask", "--json", "--data", str(tiny_data), "--index", str(tmp_path / "ix"),
                            "城东污水处理厂二期总投资多少？")
    assert code == 0
    d = json.loads(out)
    assert ANSWER_FIELDS <= set(d)
    assert set(d) - ANSWER_FIELDS <= {"answer_start", "answer_end", "kind", "reason", "refusal", "answer_shown", "confidence"}
    assert d["question"] == "城东污水处理厂二期总投资多少？"
    assert d["answerable"] is True and d["answer"] == "2.6亿元"
    assert d["citations"]
    for i, c in enumerate(d["citations"], 1):
        assert set(c) == CITATION_FIELDS
        assert c["rank"] == i and c["source"] == "tiny-issue.txt"
    assert len(fake_model) == 1


def test_ask_json_followup_and_refusal(tiny_data, tmp_path, fake_model, capsys):
    index = str(tmp_path / "ix")
    code, out, _ = run_main(capsys, "ask", "--json", "--data", str(tiny_data), "--index", index,
                            "--history", "城东污水处理厂二期总投资多少？", "它的日处理能力是多少？")
    d = json.loads(out)
    assert code == 0 and "污水处理厂" in d["query"] and d["answer"] == "10万吨"
    code, out, _ = run_main(capsys, "ask", "--json", "--data", str(tiny_data), "--index", index, "北京明天会下雨吗？")
    d = json.loads(out)
    assert code == 0 and d["answerable"] is False and d["answer"] is None and d["citations"]


def test_ask_plain_text(tiny_data, tmp_path, fake_model, capsys):
    code, out, _ = run_main(capsys, "ask", "--data", str(tiny_data), "--index", str(tmp_path / "ix"),
                            "城东污水处理厂二期总投资多少？")
    assert code == 0
    assert "2.6亿元" in out and "[1]" in out and "tiny-issue.txt" in out


def test_search_json(tiny_data, tmp_path, fake_model, capsys):
    code, out, _ = run_main(capsys, "search", "--json", "-k", "2", "--data", str(tiny_data),
                            "--index", str(tmp_path / "ix"), "污水处理厂")
    hits = json.loads(out)
    assert code == 0 and 1 <= len(hits) <= 2
    assert "污水处理厂" in hits[0]["text"] and hits[0]["rank"] == 1


def test_build_writes_the_index(tiny_data, tmp_path, fake_model, capsys):
    code, out, _ = run_main(capsys, "build", "--data", str(tiny_data), "--index", str(tmp_path / "ix"))
    assert code == 0 and "Index ready" in out
    assert (tmp_path / "ix" / "current" / "manifest.json").exists()


# ------------------------------------------------------------------ errors

def test_missing_data_folder_subprocess(tmp_path):
    r = run_module("stories", "--data", str(tmp_path / "nowhere"))
    assert r.returncode != 0
    assert r.stderr.startswith("Error: ") and "nowhere" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_folder_without_issues(tmp_path):
    (tmp_path / "empty").mkdir()
    r = run_module("stories", "--data", str(tmp_path / "empty"))
    assert r.returncode != 0 and r.stderr.startswith("Error: ")
    assert "Traceback" not in r.stderr


def test_missing_data_folder_ask(tmp_path, fake_model, capsys):
    code, out, err = run_main(capsys, "ask", "--data", str(tmp_path / "nowhere"), "--index", str(tmp_path / "ix"),
                              "投资多少？")
    assert code != 0
    assert err.startswith("Error: ") and "nowhere" in err
    assert "Traceback" not in err + out


def test_missing_data_folder_is_reported_before_loading_the_model(tmp_path, fake_model, capsys):
    run_main(capsys, "ask", "--data", str(tmp_path / "nowhere"), "--index", str(tmp_path / "ix"), "投资多少？")
    assert fake_model == []


def test_too_long_question_is_refused_before_any_work(tmp_path, fake_model, capsys):
    code, _, err = run_main(capsys, "ask", "--data", str(tmp_path / "nowhere"), "问" * 200_000)
    assert code != 0 and err.startswith("Error: ") and "too long" in err
    assert fake_model == []


def test_unexpected_error_is_one_line(tiny_data, tmp_path, fake_model, capsys, monkeypatch):
    from rag.engine import Engine

    def broken(*a, **k):
        raise RuntimeError("something odd")

    monkeypatch.setattr(Engine, "open", broken)
    code, out, err = run_main(capsys, "ask", "--data", str(tiny_data), "--index", str(tmp_path / "ix"), "投资多少？")
    assert code == 1
    assert err.strip().splitlines() == ["Error: unexpected RuntimeError: something odd"]


def test_a_native_panic_is_one_line_too(tiny_data, tmp_path, fake_model, capsys, monkeypatch):
    from rag.engine import Engine

    class PanicException(BaseException):  # pyo3's panics derive from BaseException
        pass

    def broken(*a, **k):
        raise PanicException("called `Option::unwrap()` on a `None` value")

    monkeypatch.setattr(Engine, "open", broken)
    code, out, err = run_main(capsys, "ask", "--data", str(tiny_data), "--index", str(tmp_path / "ix"), "投资多少？")
    assert code == 1 and err.strip().splitlines() == [
        "Error: unexpected PanicException: called `Option::unwrap()` on a `None` value"]


def test_bad_question_is_an_answer_not_an_error(tiny_data, tmp_path, fake_model, capsys):
    code, out, err = run_main(capsys, "ask", "--json", "--data", str(tiny_data), "--index", str(tmp_path / "ix"),
                              "<script></script>")
    assert code == 0
    d = json.loads(out)
    assert d["answerable"] is False and d["reason"]


# ------------------------------------------------------------------ help

def test_help_lists_commands_without_loading_torch():
    r = run_module("--help")
    assert r.returncode == 0
    for command in ("build", "ask", "search", "stories", "model"):
        assert command in r.stdout
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys\nfrom rag import cli\ntry:\n    cli.main(['ask', '--help'])\nexcept SystemExit:\n    pass\n"
         "print('heavy:', sorted(m for m in ('torch', 'sentence_transformers', 'faiss', 'gradio') if m in sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert "--history" in probe.stdout and "--json" in probe.stdout
    assert "heavy: []" in probe.stdout


def test_unknown_command_exits_non_zero():
    r = run_module("frobnicate")
    assert r.returncode != 0 and "Traceback" not in r.stderr
