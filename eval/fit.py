"""`python -m eval fit`: fit the reader stage's decisions, by hand, never in CI.

Takes development sets (eval/sets.py FITTING plus the two older made-up issues,
which earlier work already used for fixes); asks every question with the
unfitted decisions (answer everything, show every span), and gives
rag/knowledge/decisions.json:
- `pick`: a logistic model of "this candidate is the right short answer"
  (eval.metrics is_short_answer) over every candidate of the answerable
  questions whose gold answer was among the passages read;
- `answerable`: a logistic model of "the issues hold the answer" from the
  question's Evidence (with the picked candidate), fitted on those questions
  (1) and on questions asked without their article (0); `refuse_below` is the
  threshold of best balanced accuracy (refused unanswerable + answered answerable);
- `show_above`: the lowest pick probability at which the shown (bold) answers'
  precision on the answered development questions reaches TARGET_PRECISION at
  the lower end of its 95% interval.
The two models are fitted on one half of the questions and both thresholds
chosen on the other (`half`), which also gives the figures reported.
In the answerable model and in choosing refuse_below every development set weighs
the same, so each made-up newspaper issue counts as much as the 819 DRCD questions.
Both with the data, counts and figures they came from. Seeded and deterministic
(Newton's method on a convex loss; no random start).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date
from pathlib import Path

import numpy as np

from eval import metrics
from eval.fit_reader import _commit
from eval.questions import load_questions

ROOT = Path(__file__).resolve().parent.parent
# Not the -made sets (eval/unanswerable.py): a share of their questions stays
# answerable, and fitted with them the refusal threshold refused 0.19 of the held
# half's answerable questions (0.065 without them; 2026-12-03, eval/FIRST_RUNS.md).
# The news-* sets (eval/devnews/) are six made-up issues written for fitting, so that
# newspaper text weighs in: with only heldout and heldout2 the refusal threshold
# refused 25-35% of the beats' answerable questions (eval/FIRST_RUNS.md).
FIT_SETS = ("drcd-fit", "drcd-fit-absent", "cmrc-fit", "cmrc-fit-absent", "heldout", "heldout2",
            "news-health", "news-transport", "news-education", "news-culture", "news-environment", "news-business")
TARGET_PRECISION = 0.90  # the goal: >= 0.90 of bold answers right, vouched for at 95% (wilson_lower)
Z_ONE_SIDED_95 = 1.645
L2 = 1.0


def logistic_fit(x: np.ndarray, y: np.ndarray, l2: float = L2, iters: int = 50,
                 weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised, optionally row-weighted logistic regression (Newton's method)."""
    n, d = x.shape
    sw = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (sw * (p - y)) + reg * w
        hess = (xb * (sw * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def set_weights(rows: list[dict]) -> np.ndarray:
    """Row weights giving each development set the same total weight (mean 1).

    DRCD holds twenty times the questions of a made-up issue; unweighted, the
    models learn encyclopedia articles and the newspaper issues barely count.
    """
    sizes: dict[str, int] = {}
    for r in rows:
        sizes[r["set"]] = sizes.get(r["set"], 0) + 1
    return np.array([len(rows) / (len(sizes) * sizes[r["set"]]) for r in rows])


def fit_model(rows: list[dict], label: str, features: list[str], by_set: bool = False) -> dict:
    x = np.array([[r["x"][f] for f in features] for r in rows], dtype=np.float64)
    y = np.array([float(r[label]) for r in rows])
    mean, scale = x.mean(0), x.std(0)
    scale[scale < 1e-9] = 1.0
    w, b = logistic_fit((x - mean) / scale, y, weight=set_weights(rows) if by_set else None)
    return {"weights": {f: round(float(v), 6) for f, v in zip(features, w)}, "bias": round(b, 6),
            "mean": {f: float(m) for f, m in zip(features, mean)}, "scale": {f: float(s) for f, s in zip(features, scale)}}


def collect(set_names, opener_settings, log) -> list[dict]:
    """One row per question read: its Evidence, every candidate (text, features), and the gold answers."""
    from eval.run import Opener
    from eval.sets import SETS
    from rag.answer.decide import Decisions

    opener = Opener(opener_settings)
    rows = []
    for name in set_names:
        issues, qfile = SETS[name].prepare(ROOT / ".cache" / "eval-sets")
        settings = opener_settings.with_(data_dir=issues, index_dir=ROOT / ".cache" / "eval-index" / SETS[name].index_name)
        engine = opener("chosen", {}, settings)
        engine.answerer.decisions = Decisions(None, None, 0.0, 0.0)  # unfitted: the reader's span, answer everything
        questions = load_questions(qfile)
        for q in questions:
            a = engine.ask(q.q, list(q.history))
            if a.evidence is None:
                continue  # refused before reading (no passage passed the gates) or a byline answer
            read = [c.text for c in a.citations[: engine.settings.read + 1]] + [a.sentence or ""]
            rows.append({
                "set": name, "id": q.id, "answers": list(q.answers), "answerable": q.answerable,
                "retrieved": q.answerable and any(metrics.contains_gold(t, q.answers) for t in read),
                "x": a.evidence.vector(), "pool": [list(c) for c in a.evidence.pool],
            })
        log(f"{name}: {len(questions)} questions, {sum(1 for r in rows if r['set'] == name)} read")
    return rows


def half(row: dict) -> int:
    """0 (the models are fitted on it) or 1 (the thresholds are chosen on it): fixed
    by the question alone, never by the order of the rows. A question asked
    without its article (-absent) or with a word replaced (-made) goes with its
    original, so no question is on both sides."""
    family = row["set"].removesuffix("-absent").removesuffix("-made")
    qid = row["id"].removesuffix("-made")
    return hashlib.sha256(f"{family}:{qid}".encode("utf-8")).digest()[0] & 1


def _apply(model: dict, x: dict) -> float:
    from rag.answer.decide import Model

    return Model(**model)(x)


def choose_picks(rows: list[dict], pick: dict, reader_only: bool = False) -> None:
    """With the fitted pick model: each question's chosen candidate, its probability, and whether it is right."""
    for r in rows:
        pool = [c for c in r["pool"] if c[1]["from_reader"]] if reader_only else []
        pool = pool or r["pool"]  # as at answer time (rag.answer.reading): no reader span left, any candidate
        best = max(range(len(pool)), key=lambda i: (_apply(pick, pool[i][1]), -i))
        text, f = pool[best]
        r["chosen"], r["p_pick"] = text, _apply(pick, f)
        r["right"] = r["answerable"] and metrics.is_short_answer(text, r["answers"])
        # the answerable model sees the chosen candidate, as at answer time
        r["x"] = dict(r["x"], pick=r["p_pick"], typed=f["typed"], untyped=f["untyped"])


def wilson_lower(right: int, n: int, z: float = Z_ONE_SIDED_95) -> float:
    """The lower end of the Wilson score interval of a proportion: what right/n vouches for at 95%."""
    if n == 0:
        return 0.0
    p = right / n
    centre = p + z * z / (2 * n)
    spread = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return float((centre - spread) / (1 + z * z / n))


def _share(rows: list[dict], good) -> float:
    return sum(1 for r in rows if good(r)) / len(rows) if rows else 0.0


def thresholds_for(rows: list[dict], answerable: dict) -> tuple[dict, dict]:
    """Thresholds from the development rows and the figures they give there.

    refuse_below maximises balanced accuracy (refusal recall on the unanswerable
    rows plus the answered share of the answerable rows, each set weighing the same): the two goals (>= 0.90
    refused, <= 5% false refusals) cannot both be met on these sets, so neither is
    bought at any price of the other. show_above is the lowest pick probability
    at which the bold answers' precision reaches TARGET_PRECISION at the lower end
    of its 95% interval: a precision seen on a handful of top answers vouches for
    nothing (0.92 on 13 DRCD answers came out 0.23 on CMRC). 1.0 = never bold.
    """
    for r, w in zip(rows, set_weights(rows)):
        r["p_answer"], r["w"] = _apply(answerable, r["x"]), w
    ans = [r for r in rows if r["answerable"]]
    unans = [r for r in rows if not r["answerable"]]
    # each set weighs the same here too, as in the model: pooled, the encyclopedia
    # sets' thousand rows chose a threshold that refused a third of newspaper questions
    pa, wa = np.array([r["p_answer"] for r in ans]), np.array([r["w"] for r in ans])
    pu, wu = np.array([r["p_answer"] for r in unans]), np.array([r["w"] for r in unans])
    best = None
    for t in sorted({r["p_answer"] for r in rows}):
        j = (wu[pu < t].sum() / max(wu.sum(), 1e-12)) + (wa[pa >= t].sum() / max(wa.sum(), 1e-12))
        if best is None or j > best[0] + 1e-12:
            best = (j, t)
    refuse_below = best[1] if best else 0.0
    answered = [r for r in ans if r["p_answer"] >= refuse_below]
    show_above = 1.0
    for t in sorted({r["p_pick"] for r in answered}):
        shown = [r for r in answered if r["p_pick"] >= t]
        if wilson_lower(sum(r["right"] for r in shown), len(shown)) >= TARGET_PRECISION:
            show_above = t
            break
    shown = [r for r in answered if r["p_pick"] >= show_above]
    figures = {
        "refusal_recall": round(_share(unans, lambda r: r["p_answer"] < refuse_below), 4),
        "false_refusal_rate": round(_share(ans, lambda r: r["p_answer"] < refuse_below), 4),
        "short_right": round(_share(ans, lambda r: r["right"] and r["p_answer"] >= refuse_below), 4),
        "shown_share": round(_share(ans, lambda r: r["p_answer"] >= refuse_below and r["p_pick"] >= show_above), 4),
        "shown_precision": round(_share(shown, lambda r: r["right"]), 4),
        "by_set": {n: {"refused": round(_share([r for r in rows if r["set"] == n],
                                                  lambda r: r["p_answer"] < refuse_below), 4)}
                   for n in sorted({r["set"] for r in rows})},
    }
    return {"refuse_below": round(refuse_below, 6), "show_above": round(float(show_above), 6)}, figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval fit", description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default=",".join(FIT_SETS), help="development sets (eval/sets.py names)")
    p.add_argument("--out", type=Path, default=ROOT / "rag" / "knowledge" / "decisions.json")
    p.add_argument("--rows", type=Path, help="keep the collected rows here (JSON lines) ...")
    p.add_argument("--from-rows", type=Path, help="... and fit from such a file instead of asking again")
    args = p.parse_args(argv)
    from rag.answer.decide import EVIDENCE_FEATURES, PICK_FEATURES
    from rag.config import from_env, offline_hub_default

    offline_hub_default()
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    if args.from_rows:
        rows = [json.loads(line) for line in args.from_rows.read_text(encoding="utf-8").splitlines() if line.strip()]
        names = list(dict.fromkeys(r["set"] for r in rows))
    else:
        rows = collect(names, from_env(), log)
        if args.rows:
            args.rows.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    # The models are fitted on one half of the questions, the thresholds (and the
    # figures reported) on the other: a threshold chosen on the rows its model was
    # fitted on vouches for a precision the model's own fit inflates.
    fit_rows = [r for r in rows if half(r) == 0]
    held = [r for r in rows if half(r) == 1]
    # pick: over the candidates of the answerable questions whose answer was among
    # the passages read; which features and candidates is chosen on the held half
    # (eval/ablate.py: the variant right most often; the first listed wins a tie)
    from eval.ablate import evaluate, variants

    options = variants(list(PICK_FEATURES))
    answerable_rows = [r for r in rows if r["answerable"]]
    table = {name: evaluate(answerable_rows, features, reader_only) for name, (features, reader_only) in options.items()}
    variant = max(table, key=lambda n: (table[n]["right"], -list(table).index(n)))
    pick, reader_only = table[variant]["model"], options[variant][1]
    log(f"pick variant: {variant} (" + ", ".join(f"{n} {t['right']:.3f}" for n, t in table.items()) + ")")
    choose_picks(rows, pick, reader_only)
    answerable = fit_model([r for r in fit_rows if r["retrieved"] or not r["answerable"]], "answerable",
                           list(EVIDENCE_FEATURES), by_set=True)
    thresholds, figures = thresholds_for(held, answerable)
    counts = {n: {"questions read": sum(1 for r in rows if r["set"] == n),
                  "answerable": sum(1 for r in rows if r["set"] == n and r["answerable"])} for n in names}
    doc = {
        "about": "Decisions of the reader answer stage (rag.answer.decide), fitted by `python -m eval fit`.",
        "data": {"sets": names, "counts": counts, "candidates": sum(len(r["pool"]) for r in fit_rows if r["retrieved"]),
                 "note": "drcd-fit = DRCD dev article group 4, cmrc-fit = CMRC 2018 dev pool group 4 (the "
                         "reader never trained on either: eval/reader_data.py part 'select'); -absent = the "
                         "same questions against an index without their articles; -made = each question "
                         "with one word replaced by a word its article never uses (eval/unanswerable.py); "
                         "heldout, heldout2 = the two older made-up issues; news-* = six made-up issues written for "
                         "fitting (eval/devnews/). CMRC trial, DRCD group 0, the "
                         "shipped set and the four beats are never used here."},
        "targets": {"refuse_below": "maximum balanced accuracy, each set weighing the same (as in the answerable model)",
                    "shown_precision": TARGET_PRECISION},
        "pick_variant": {"name": variant, "candidates": "reader" if reader_only else "all",
                         "held_half": {n: {k: (round(v, 4) if isinstance(v, float) else v) for k, v in t.items()
                                           if k != "model"} for n, t in table.items()}},
        "models": {"pick": pick, "answerable": answerable},
        "thresholds": thresholds,
        "halves": {"fitted": len(fit_rows), "thresholds": len(held),
                   "rule": "a question's half is the parity of sha256 of its set family and id (eval.fit.half); "
                           "a made-up or absent twin falls in its original's half"},
        "figures_on_threshold_half": figures,
        "date": date.today().isoformat(), "commit": _commit(),
    }
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"thresholds": thresholds, "figures_on_threshold_half": figures}, indent=1))
    return 0
