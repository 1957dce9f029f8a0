"""The reader answer stage with a stand-in reader and hand-made decisions:
sentence choice, bold only above the fitted threshold, refusal below it,
offsets that trace back to the issue file."""

from __future__ import annotations

import json

import pytest

from conftest import FakeEmbedder, FakeReader
from rag.answer.decide import EVIDENCE_FEATURES, PICK_FEATURES, Decisions, Evidence, Model, type_match
from rag.config import Settings
from rag.engine import Engine
from rag.ingest.issues import read_issue
from rag.kinds import Kind, Refusal
from rag.ingest.spans import locate


def decisions(refuse_below: float, show_above: float) -> Decisions:
    """Both models read one feature each: pick the reader's score, answerable its margin."""
    def model(features, name):
        zero = {k: 0.0 for k in features}
        one = {k: 1.0 for k in features}
        return Model({name: 1.0}, 0.0, zero, one)

    return Decisions(model(PICK_FEATURES, "score"), model(EVIDENCE_FEATURES, "margin"), refuse_below, show_above)


def engine_with(tiny_data, tmp_path, d: Decisions) -> Engine:
    e = Engine.open(Settings(data_dir=tiny_data, index_dir=tmp_path / "ix"), progress=lambda m: None,
                    embedder=FakeEmbedder(), reader=FakeReader())
    e.answerer.decisions = d
    return e


def test_answer_is_the_sentence_holding_the_best_span_and_traces_to_the_file(tiny_data, tmp_path):
    e = engine_with(tiny_data, tmp_path, decisions(0.0, 0.0))
    a = e.ask("城东污水处理厂二期工程日处理能力多少？")
    assert a.answerable and a.answer_shown and a.refusal is None
    assert "日处理能力" in a.sentence and a.answer in a.sentence
    source = read_issue(tiny_data / "tiny-issue.txt")
    assert all(locate(c.text, source, c.start, c.end) for c in a.citations)
    assert source[a.answer_start:a.answer_end] == a.answer


def test_low_confidence_shows_the_sentence_without_bold(tiny_data, tmp_path):
    # no probability reaches 1.5: the span is kept (for the API) but not shown in bold
    e = engine_with(tiny_data, tmp_path, decisions(0.0, 1.5))
    a = e.ask("城东污水处理厂二期工程日处理能力多少？")
    assert a.answerable and a.sentence and a.answer and not a.answer_shown
    assert a.to_json()["answer_shown"] is False and 0.0 <= a.confidence <= 1.0


def test_below_the_answer_threshold_is_a_refusal_with_nearest_passages(tiny_data, tmp_path):
    e = engine_with(tiny_data, tmp_path, decisions(0.999999, 0.0))
    a = e.ask("城东污水处理厂二期工程日处理能力多少？")
    assert not a.answerable and a.refusal is Refusal.NOT_CONFIDENT and a.citations
    assert a.to_json()["refusal"] == "not_confident" and a.reason


def test_unfitted_decisions_answer_everything(tmp_path):
    d = Decisions.load(tmp_path / "missing.json")
    ev = Evidence(1.0, 0.0, 0.0, 1, 0.0, 0.0, 0.0, 1.0, True, True, False, False, False)
    assert not d.fitted and d.answerable(ev) == 1.0 and d.pick({}) == 1.0 and d.refuse_below == 0.0


def test_fitted_file_with_unknown_features_is_refused(tmp_path):
    zero = {k: 0.0 for k in PICK_FEATURES}
    model = {"weights": {"no_such_feature": 1.0}, "bias": 0.0, "mean": zero, "scale": zero}
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"models": {"pick": model, "answerable": model},
                             "thresholds": {"refuse_below": 0.5, "show_above": 0.5}}), encoding="utf-8")
    with pytest.raises(ValueError, match="no_such_feature"):
        Decisions.load(f)


@pytest.mark.parametrize("candidates, spans_only", [("reader", True), ("all", False), (None, False)])
def test_fitted_file_says_which_candidates_the_pick_chooses_from(tmp_path, candidates, spans_only):
    zero, one = {k: 0.0 for k in PICK_FEATURES}, {k: 1.0 for k in PICK_FEATURES}
    model = {"weights": {"score": 1.0}, "bias": 0.0, "mean": zero, "scale": one}
    ev_model = {"weights": {}, "bias": 0.0, "mean": {}, "scale": {}}
    doc = {"models": {"pick": model, "answerable": ev_model}, "thresholds": {"refuse_below": 0.5, "show_above": 0.5}}
    if candidates:
        doc["pick_variant"] = {"candidates": candidates}
    f = tmp_path / "d.json"
    f.write_text(json.dumps(doc), encoding="utf-8")
    assert Decisions.load(f).reader_spans_only is spans_only


def test_fitted_file_with_unknown_candidates_is_refused(tmp_path):
    zero = {k: 0.0 for k in PICK_FEATURES}
    model = {"weights": {"score": 1.0}, "bias": 0.0, "mean": zero, "scale": zero}
    ev_model = {"weights": {}, "bias": 0.0, "mean": {}, "scale": {}}
    f = tmp_path / "d.json"
    f.write_text(json.dumps({"models": {"pick": model, "answerable": ev_model}, "pick_variant": {"candidates": "some"},
                             "thresholds": {"refuse_below": 0.5, "show_above": 0.5}}), encoding="utf-8")
    with pytest.raises(ValueError, match="candidates"):
        Decisions.load(f)


@pytest.mark.parametrize("kind, text, expected", [
    (Kind.AMOUNT, "3.8亿元", True), (Kind.AMOUNT, "三个", True), (Kind.AMOUNT, "学校", False),
    (Kind.DATE, "9月1日", True), (Kind.PERSON, "郑春明", True), (Kind.PERSON, "开学典礼", False),
    (Kind.LIST, "足球、书法、编程", True), (Kind.REASON, "由于河道淤积", True), (None, "郑春明", False),
])
def test_type_match(kind, text, expected):
    assert type_match(kind, text) is expected
