"""The eval harness: questions files, the run with a stand-in engine, reports, thresholds, the anchor."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from conftest import REAL_ISSUE
from eval import run
from eval.anchor import Anchor, label, split_text
from eval.metrics import normalise
from eval.questions import QuestionsError, load_questions
from rag.types import Answer, Citation, Paragraph, Story

QUESTIONS = Path(__file__).resolve().parent.parent / "eval" / "questions.jsonl"
ANSWER_KEYS = set(Answer("q", "q", False, None, None).to_json())


# ---- questions files -------------------------------------------------------

def write(path: Path, lines) -> Path:
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l, ensure_ascii=False) for l in lines) + "\n",
                    encoding="utf-8")
    return path


def test_load_questions_reads_optional_fields(tmp_path):
    f = write(tmp_path / "q.jsonl", [
        {"id": "a", "q": "投资多少？", "kind": "amount", "story": "污水", "answers": ["2.6亿元"]},
        "",
        {"id": 7, "q": "那它呢？", "history": ["污水处理厂投资多少？"], "kind": "followup", "answers": ["10万吨"]},
        {"id": "n", "q": "天气？", "kind": "unanswerable"},
    ])
    qs = load_questions(f)
    assert [q.id for q in qs] == ["a", "7", "n"]
    assert qs[1].history == ("污水处理厂投资多少？",) and qs[1].story is None
    assert qs[2].answers == () and not qs[2].answerable and qs[0].answerable


@pytest.mark.parametrize("bad, message", [
    ('{"id": "a", "q": "x", "kind": "date", "answers": ["1"]', ":2: not valid JSON"),
    ('["a"]', ":2: expected a JSON object"),
    ('{"q": "x", "kind": "date"}', ":2: `id` is missing"),
    ('{"id": "b", "q": "", "kind": "date"}', ":2 (b): `q` must be a non-empty string"),
    ('{"id": "b", "q": "x", "kind": "date", "answers": "1"}', ":2 (b): `answers` must be a list"),
    ('{"id": "b", "q": "x", "kind": "date", "history": [1]}', ":2 (b): `history` must be a list"),
    ('{"id": "b", "q": "x", "kind": "unanswerable", "answers": ["1"]}', ":2 (b): kind is unanswerable but"),
    ('{"id": "a", "q": "x", "kind": "date"}', ":2: id 'a' already used on line 1"),
])
def test_bad_question_lines_are_named(tmp_path, bad, message):
    f = write(tmp_path / "q.jsonl", ['{"id": "a", "q": "x", "kind": "date", "answers": ["1"]}', bad])
    with pytest.raises(QuestionsError) as e:
        load_questions(f)
    assert message in str(e.value) and str(f) in str(e.value)


def test_missing_and_empty_questions_files(tmp_path):
    with pytest.raises(QuestionsError, match="cannot read"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(QuestionsError, match="no questions"):
        load_questions(write(tmp_path / "e.jsonl", [""]))
    (tmp_path / "g.jsonl").write_bytes('{"id": "a", "q": "问", "kind": "date"}\n'.encode("gbk"))
    with pytest.raises(QuestionsError, match="g.jsonl:1: not UTF-8"):
        load_questions(tmp_path / "g.jsonl")


def test_shipped_questions_are_grounded_in_the_issue():
    """Every gold answer is in the repaired text of its gold story, every story substring names one story."""
    from rag.ingest.issues import load_issues

    stories, failed = load_issues(REAL_ISSUE.parent)
    assert not failed
    qs = load_questions(QUESTIONS)
    kinds = Counter(q.kind for q in qs)
    assert len(qs) >= 80
    assert kinds["unanswerable"] >= 10 and kinds["followup"] >= 8
    assert {"amount", "date", "person", "place", "list", "keyword", "english", "traditional", "colloquial"} <= set(kinds)
    assert all(q.history for q in qs if q.kind == "followup")
    used = Counter()
    for q in qs:
        if not q.answerable:
            continue
        matching = [s for s in stories if normalise(q.story) in normalise(s.title)]
        assert len(matching) == 1, (q.id, q.story)
        used[matching[0].index] += 1
        body = normalise("".join(p.text for p in matching[0].paragraphs) + (matching[0].byline or "")
                         + "".join(matching[0].credits))
        assert any(normalise(a) in body for a in q.answers), (q.id, q.answers)
    assert len(used) == len(stories) and min(used.values()) >= 10


# ---- the run, with a stand-in engine of the Engine's shape -------------------

def span(text: str, piece: str) -> tuple[int, int]:
    i = text.index(piece)
    return i, i + len(piece)


class ScriptedEngine:
    """Answers from a script keyed by question; cites the tiny issue by its real offsets."""

    def __init__(self, text: str, source: str, script: dict, title: str = "南湖新区举行春季招聘会"):
        self.text, self.source, self.script, self.title, self.calls = text, source, script, title, []

    def ask(self, question, history=()):
        self.calls.append((question, tuple(history)))
        answerable, short, pieces = self.script.get(question, (False, None, []))
        cites = []
        for rank, piece in enumerate(pieces, 1):
            start, end = span(self.text, piece) if piece in self.text else (0, len(piece))  # else: untraceable
            cites.append(Citation(rank, self.title, 1, piece, 1.0 / rank, self.source, start, end))
        return Answer(question, question, answerable, short if answerable else None,
                      pieces[0] if answerable and pieces else None, tuple(cites))


SCRIPT = {
    "招聘会有多少家企业参加？": (True, "120家", ["共有120家企业参加,提供岗位3500个。", "2.6亿元"]),
    "哪天举行的？": (True, "3月12日", ["3月12日,南湖新区春季招聘会在会展中心举行。"]),
    "总投资多少？": (True, "2.6亿元", ["编造的文字不在原文里", "总投资2.6亿元,日处理能力10万吨。"]),
    "明天会下雨吗？": (False, None, ["共有120家企业参加,提供岗位3500个。"]),
}
QUESTION_LINES = [
    {"id": "n1", "q": "招聘会有多少家企业参加？", "kind": "amount", "story": "招聘会", "answers": ["120家"]},
    {"id": "f1", "q": "哪天举行的？", "history": ["招聘会有多少家企业参加？"], "kind": "followup",
     "story": "招聘会", "answers": ["3月12日"]},
    {"id": "a1", "q": "总投资多少？", "kind": "amount", "story": "污水处理厂", "answers": ["2.6亿元"]},
    {"id": "u1", "q": "明天会下雨吗？", "kind": "unanswerable"},
    {"id": "u2", "q": "市长是谁？", "kind": "unanswerable"},
]


@pytest.fixture
def harness(tmp_path, tiny_data):
    text = (tiny_data / "tiny-issue.txt").read_text(encoding="utf-8")
    engines = {}

    def opener(name, changes):
        engines[name] = ScriptedEngine(text, "tiny-issue.txt", SCRIPT)
        engines[name].changes = changes
        return engines[name]

    qfile = write(tmp_path / "q.jsonl", QUESTION_LINES)
    base = ["run", "--questions", str(qfile), "--out", str(tmp_path / "out" / "res.jsonl"),
            "--data", str(tiny_data), "--index", str(tmp_path / "index"), "--report", str(tmp_path / "rep")]
    return base, opener, engines, tmp_path


def test_run_writes_results_report_and_summary(harness, capsys):
    base, opener, engines, tmp = harness
    assert run.main(base + ["--configs", "chosen,lexical"], opener=opener) == 0
    assert engines["lexical"].changes == {"mode": "lexical"} and engines["chosen"].changes == {}
    assert ("哪天举行的？", ("招聘会有多少家企业参加？",)) in engines["chosen"].calls  # history passed on
    lines = [json.loads(l) for l in (tmp / "out" / "res.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [l["id"] for l in lines] == ["n1", "f1", "a1", "u1", "u2"]
    assert all(set(l) == ANSWER_KEYS | {"id", "latency_ms"} for l in lines)
    assert all(isinstance(l["latency_ms"], float) and l["latency_ms"] >= 0 for l in lines)
    assert (tmp / "out" / "res.lexical.jsonl").is_file()

    out = capsys.readouterr().out
    assert "chosen" in out and "lexical" in out and "sent@1" in out
    summary = json.loads((tmp / "rep" / "summary.json").read_text(encoding="utf-8"))
    s = summary["chosen"]["overall"]
    assert s["n"] == 5 and s["sentence@1"] == pytest.approx(2 / 3)  # a1's sentence is the made-up text
    assert s["hit@3"] == 1.0 and s["mrr"] == pytest.approx((1 + 1 + 0.5) / 3)
    assert s["traceable"] == pytest.approx(5 / 6)  # the made-up piece cited at (0, len) is not in the source
    assert s["refusal_recall"] == 1.0 and s["refusal_precision"] == 1.0 and s["false_refusals"] == 0
    assert s["story@1"] == pytest.approx(2 / 3)  # every citation is labelled with the first story
    report = (tmp / "rep" / "report.md").read_text(encoding="utf-8")
    for heading in ("## Overall, per configuration", "## Per kind, configuration `chosen`",
                    "### sentence@1", "## Misses of `chosen`"):
        assert heading in report
    assert "| a1 | amount |" in report and "| n1 |" not in report
    assert (tmp / "rep" / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_questions_line_is_an_error_not_a_traceback(harness, capsys):
    base, opener, _, tmp = harness
    write(tmp / "q.jsonl", [QUESTION_LINES[0], "{oops"])
    assert run.main(base, opener=opener) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: ") and "q.jsonl:2: not valid JSON" in err and "Traceback" not in err


def test_unknown_config_is_an_error(harness, capsys):
    base, opener, _, _ = harness
    assert run.main(base + ["--configs", "chosen,best"], opener=opener) == 2
    assert "unknown configuration(s) best" in capsys.readouterr().err


def test_engine_errors_are_reported(harness, capsys):
    from rag.errors import IndexError_

    base, _, _, _ = harness

    def opener(name, changes):
        raise IndexError_("index is stale: rebuild it")

    assert run.main(base, opener=opener) == 2
    assert "Error: index is stale" in capsys.readouterr().err


# ---- thresholds --------------------------------------------------------------

def thresholds(tmp, **parts) -> Path:
    f = tmp / "t.json"
    f.write_text(json.dumps({"config": "chosen", **parts}), encoding="utf-8")
    return f


def test_check_passes_and_fails_on_thresholds(harness, capsys):
    base, opener, _, tmp = harness
    args = base + ["--configs", "chosen", "--no-report", "--check"]
    assert run.main(args + [str(thresholds(tmp, min={"hit@3": 1.0}, max={"false_refusals": 0}))], opener=opener) == 0
    assert "thresholds met" in capsys.readouterr().out
    assert run.main(args + [str(thresholds(tmp, min={"sentence@1": 0.9}))], opener=opener) == 1
    assert "FAIL chosen sentence@1 = 0.667, below the minimum 0.9" in capsys.readouterr().out
    assert run.main(args + [str(thresholds(tmp, max={"latency_p95_ms": -1}))], opener=opener) == 1
    assert run.main(args + [str(thresholds(tmp, min={"sentence@1": None}))], opener=opener) == 0  # null: unchecked


def test_shipped_thresholds_file_is_valid_and_checks_every_reported_set():
    from eval.sets import REPORTED

    t = run.load_thresholds(Path(run.HERE) / "thresholds.json")
    assert set(t["sets"]) == set(REPORTED)  # CI checks every set it runs
    for name, per_set in t["sets"].items():
        assert per_set["config"] == "chosen"
        perfect = {k: 1.0 for k in per_set["min"]} | {k: 0 for k in per_set["max"]}
        weak = {k: 0.0 for k in per_set["min"]} | {k: 10**6 for k in per_set["max"]}
        assert run.check({"chosen": perfect}, per_set) == [], name
        # the shipped file does check something: a chosen configuration that got worse fails
        assert run.check({"chosen": weak}, per_set) != [], name
        # and its recorded figures pass it
        assert run.check({"chosen": per_set["recorded"]}, per_set) == [], name


@pytest.mark.parametrize("parts, message", [
    ({"min": {"sentense@1": 0.5}}, "unknown metric(s) in `min`: sentense@1"),
    ({"min": {"hit@3": "high"}}, "`min` must map metric names to numbers or null"),
    ({"margin_over_anchor": {"hit@3": 0.1}}, "the anchor was not run"),
    ({"config": "dense"}, "configuration 'dense', which is not in --configs"),
])
def test_bad_thresholds_are_errors(harness, capsys, parts, message):
    base, opener, _, tmp = harness
    assert run.main(base + ["--configs", "chosen", "--no-report", "--check", str(thresholds(tmp, **parts))],
                    opener=opener) == 2
    assert message in capsys.readouterr().err


def test_margin_over_anchor():
    t = {"config": "chosen", "margin_over_anchor": {"hit@3": 0.1}}
    assert run.check({"chosen": {"hit@3": 0.95}, "anchor": {"hit@3": 0.8}}, t) == []
    [msg] = run.check({"chosen": {"hit@3": 0.85}, "anchor": {"hit@3": 0.8}}, t)
    assert "less than 0.1 above the anchor's 0.800" in msg


def test_index_dir_only_differs_for_build_settings(tmp_path):
    assert run.index_dir_for("dense", {"mode": "dense"}, tmp_path) == tmp_path
    assert run.index_dir_for("big", {"chunk_size": 400}, tmp_path) == tmp_path / "eval-big"


# ---- the anchor ----------------------------------------------------------------

def test_split_text_offsets_point_at_the_chunks():
    text = REAL_ISSUE.read_text(encoding="utf-8")
    pieces = split_text(text)
    assert len(pieces) > 3 and all(len(p) <= 500 for p, _ in pieces)
    assert all(text[s:s + len(p)] == p for p, s in pieces)


def test_label_picks_the_story_overlapping_most():
    a = Story("x.txt", 0, "甲", paragraphs=(Paragraph("..", 0, 10), Paragraph("..", 12, 30)))
    b = Story("x.txt", 1, "乙", paragraphs=(Paragraph("..", 40, 60),))
    assert label(5, 45, [a, b]) == ("甲", 2)  # 5 + 18 characters of 甲, 5 of 乙
    assert label(25, 60, [a, b]) == ("乙", 1)
    assert label(31, 39, [a, b]) == ("", 0)


def test_anchor_answers_with_raw_chunks(tiny_data, fake_embedder):
    from rag.ingest.spans import locate

    anchor = Anchor.open(tiny_data, fake_embedder)
    text = (tiny_data / "tiny-issue.txt").read_text(encoding="utf-8")
    ans = anchor.ask("污水处理厂总投资多少？", ["earlier turns are ignored"])
    assert ans.answerable and ans.answer is None
    assert 1 <= len(ans.citations) <= 5 and ans.sentence == ans.citations[0].text
    for c in ans.citations:
        assert text[c.start:c.end] == c.text and locate(c.text, text, c.start, c.end)
        assert c.story in {"南湖新区举行春季招聘会", "城东污水处理厂二期投产"}


@pytest.mark.slow
def test_real_engine_and_anchor_through_the_harness(tmp_path, capsys):
    """The harness drives the real engine and the real anchor on a sample of the shipped questions."""
    lines = QUESTIONS.read_text(encoding="utf-8").splitlines()
    sample = [l for l in lines if '"followup"' in l][:3] + [l for l in lines if '"unanswerable"' in l][:3] + lines[:6]
    qfile = write(tmp_path / "q.jsonl", sample)
    out = tmp_path / "res.jsonl"
    code = run.main(["run", "--questions", str(qfile), "--out", str(out), "--index", str(tmp_path / "index"),
                     "--report", str(tmp_path / "rep"), "--configs", "chosen,anchor"])
    assert code == 0, capsys.readouterr().err
    for path in (out, tmp_path / "res.anchor.jsonl"):
        rows = [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()]
        assert len(rows) == len(sample) and all(set(r) == ANSWER_KEYS | {"id", "latency_ms"} for r in rows)
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text(encoding="utf-8"))
    assert summary["anchor"]["overall"]["traceable"] == 1.0  # raw chunks cite their own offsets
    assert summary["anchor"]["overall"]["refused"] == 0.0
