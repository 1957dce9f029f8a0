"""eval/fit.py: the fitting arithmetic on small made-up rows (no model, no sets)."""

from __future__ import annotations

import numpy as np
import pytest

from eval import fit


def test_logistic_fit_finds_the_separating_direction_and_row_weights_count():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] > 0).astype(float)  # only the first feature matters
    w, b = fit.logistic_fit(x, y)
    assert w[0] > 2 and abs(w[1]) < 0.5 * w[0] and abs(b) < 1
    # weighting the rows of one side up moves the bias toward that side
    w2, b2 = fit.logistic_fit(x, y, weight=np.where(y == 1, 5.0, 1.0))
    assert b2 > b


def test_set_weights_give_each_set_the_same_total():
    rows = [{"set": "big"}] * 90 + [{"set": "small"}] * 10
    w = fit.set_weights(rows)
    assert w[:90].sum() == pytest.approx(w[90:].sum()) and w.mean() == pytest.approx(1.0)


def test_wilson_lower_bound():
    assert fit.wilson_lower(0, 0) == 0.0
    assert fit.wilson_lower(12, 13) < 0.75  # 0.92 seen on 13 answers vouches for little
    assert 0.88 < fit.wilson_lower(960, 1000) < 0.96
    assert fit.wilson_lower(50, 100) < fit.wilson_lower(500, 1000) < 0.5


def _rows(p_answers, answerable, p_picks, right):
    return [{"x": {"a": pa}, "answerable": ok, "p_pick": pp, "right": r, "set": "s"}
            for pa, ok, pp, r in zip(p_answers, answerable, p_picks, right)]


IDENTITY = {"weights": {"a": 1.0}, "bias": 0.0, "mean": {"a": 0.0}, "scale": {"a": 1.0}}


def test_thresholds_refuse_at_best_balanced_accuracy_and_never_bold_without_support(monkeypatch):
    monkeypatch.setattr(fit, "_apply", lambda model, x: x["a"])
    # answerable questions score 0.6-0.9, unanswerable 0.1-0.4 (+ one at 0.7)
    ans = [0.6, 0.7, 0.8, 0.9] * 5
    unans = [0.1, 0.2, 0.3, 0.4, 0.7]
    rows = _rows(ans + unans, [True] * 20 + [False] * 5, [0.5] * 20 + [0.5] * 5,
                 [True] * 10 + [False] * 10 + [False] * 5)
    t, fig = fit.thresholds_for(rows, IDENTITY)
    assert 0.4 < t["refuse_below"] <= 0.6
    assert fig["false_refusal_rate"] == 0.0 and fig["refusal_recall"] == pytest.approx(0.8)
    assert t["show_above"] == 1.0  # half the picks right: nothing vouches for bold


def test_thresholds_bold_above_a_well_supported_precision(monkeypatch):
    monkeypatch.setattr(fit, "_apply", lambda model, x: x["a"])
    n = 400
    p_pick = np.linspace(0.01, 0.99, n)
    right = [bool(p > 0.5) for p in p_pick]  # every pick above 0.5 right, below wrong
    rows = _rows([0.9] * n, [True] * n, list(p_pick), right)
    t, fig = fit.thresholds_for(rows, IDENTITY)
    assert 0.4 < t["show_above"] <= 0.5  # every right pick bold, with a few wrong ones the bound allows
    assert fig["shown_precision"] >= 0.9


def test_recorded_thresholds_sit_just_below_the_figures_and_are_read_back(tmp_path):
    import json

    from eval import record
    from eval.run import check, load_thresholds

    summary = {"n": 200, "sentence@1": 0.7049, "f1": 0.446, "traceable": 1.0, "refusal_recall": None,
               "false_refusals": 38, "latency_p50_ms": 600.0}
    (tmp_path / "sets.json").write_text(json.dumps({"cmrc": {"chosen": summary}}), encoding="utf-8")
    assert record.main([str(tmp_path / "sets.json"), "--out", str(tmp_path / "t.json")]) == 0
    t = load_thresholds(tmp_path / "t.json")["sets"]["cmrc"]
    assert t["min"] == {"sentence@1": 0.68, "f1": 0.42, "traceable": 1.0}
    assert t["max"] == {"false_refusals": 40}
    assert check({"chosen": summary}, t) == []
    assert check({"chosen": dict(summary, **{"sentence@1": 0.67})}, t)  # a real drop fails


def test_halves_keep_a_question_and_its_unanswerable_twins_together_and_split_about_evenly():
    from eval.fit import half

    ids = [f"q{i}" for i in range(400)]
    sides = [half({"set": "drcd-fit", "id": q}) for q in ids]
    assert 150 < sum(sides) < 250
    for q, side in zip(ids[:50], sides):
        assert half({"set": "drcd-fit-absent", "id": q}) == side
        assert half({"set": "drcd-fit-made", "id": q + "-made"}) == side


def test_ablation_loses_what_only_the_removed_feature_knew(tmp_path, capsys):
    """Made-up rows where the right candidate is told by `about` alone: taking
    `about` away must lower `right`; the reader's score knows nothing here."""
    from eval import ablate
    from rag.answer.decide import PICK_FEATURES

    rng = np.random.default_rng(1)
    rows = []
    for i in range(300):
        pool = []
        for j in range(3):
            f = {k: 0.0 for k in PICK_FEATURES}
            f.update(score=float(rng.normal()), above_null=float(rng.normal()), from_reader=1.0,
                     about=1.0 if j == 0 else float(rng.uniform(0, 0.5)))
            pool.append([f"a{i}" if j == 0 else f"w{i}{j}", f])
        rows.append({"set": "s", "id": f"q{i}", "answers": [f"a{i}"], "answerable": True, "retrieved": True,
                     "pool": pool})
    full = ablate.evaluate(rows, list(PICK_FEATURES), False)
    without = ablate.evaluate(rows, [f for f in PICK_FEATURES if f not in ("about", "about_gap")], False)
    assert full["right"] > 0.95 and without["right"] < 0.6
    assert full["bold"] > 0.5 and full["bold_precision"] >= 0.9
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(__import__("json").dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert ablate.main(["--from-rows", str(path)]) == 0
    assert "no about" in capsys.readouterr().out
