"""`python -m eval ablate --from-rows ROWS`: what each hand-made part of the pick adds.

Takes the rows `python -m eval fit --rows ROWS` collected (every candidate of
every development question, with its features); refits the pick model on the
fitting half (eval.fit.half) with one part taken away at a time and prints,
on the other half:
- right: the share of answerable questions, whose answer was among the
  passages read, given a right short answer (eval.metrics is_short_answer);
- bold: the share of them shown in bold at the lowest pick probability whose
  precision is vouched for at TARGET_PRECISION (the rule of eval.fit), and that
  precision.
Variants: `all` (the shipped features and candidates); `reader spans only` (no
hand-cut candidates: figures, names, quotes, lists, clauses); `no kinds` (no
feature of the question's kind or of the type word lists: typed, untyped and the
kind-with-source pairs); `no about` (no subject overlap); `reader score only`
(no pick model over hand-made features: the reader's own span and no-answer
scores, calibrated); `reader spans, score and about` (the reader's spans only,
chosen by its scores and the subject overlap). `python -m eval fit` ships the
variant that is right most often here.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from eval import metrics
from eval.fit import TARGET_PRECISION, _apply, fit_model, half, wilson_lower

KIND_FEATURES = ("typed", "untyped", "figure_for_figure", "name_for_name", "list_for_list", "clause_for_clause",
                 "open_question")


def variants(features: list[str]) -> dict[str, tuple[list[str], bool]]:
    """name -> (features, reader spans only)"""
    return {
        "all": (features, False),
        "reader spans only": (features, True),
        "no kinds": ([f for f in features if f not in KIND_FEATURES], False),
        "no about": ([f for f in features if f not in ("about", "about_gap")], False),
        "reader score only": (["score", "above_null"], False),
        "reader spans, score and about": (["score", "above_null", "about", "about_gap"], True),
    }


def evaluate(rows: list[dict], features: list[str], reader_only: bool) -> dict:
    def pool(r):
        return [(t, f) for t, f in r["pool"] if not reader_only or f["from_reader"]]

    fit_rows = [r for r in rows if half(r) == 0 and r["retrieved"]]
    held = [r for r in rows if half(r) == 1 and r["retrieved"]]
    cands = [{"x": f, "right": metrics.is_short_answer(t, r["answers"]), "set": r["set"]}
             for r in fit_rows for t, f in pool(r)]
    model = fit_model(cands, "right", features)
    picked = []
    for r in held:
        options = pool(r) or r["pool"]  # as at answer time: no reader span left, any candidate
        if not options:
            picked.append((0.0, False))
            continue
        ps = [_apply(model, f) for _, f in options]
        best = max(range(len(options)), key=lambda i: (ps[i], -i))
        picked.append((ps[best], metrics.is_short_answer(options[best][0], r["answers"])))
    show = 1.0
    for t in sorted({p for p, _ in picked}):
        shown = [ok for p, ok in picked if p >= t]
        if wilson_lower(sum(shown), len(shown)) >= TARGET_PRECISION:
            show = t
            break
    shown = [ok for p, ok in picked if p >= show and show < 1.0]
    return {"n": len(held), "right": sum(ok for _, ok in picked) / max(1, len(held)),
            "bold": len(shown) / max(1, len(held)), "bold_precision": sum(shown) / len(shown) if shown else None,
            "model": model}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval ablate", description=__doc__.split("\n\n")[0])
    p.add_argument("--from-rows", type=Path, required=True, help="rows kept by `python -m eval fit --rows`")
    args = p.parse_args(argv)
    from rag.answer.decide import PICK_FEATURES

    try:
        rows = [json.loads(line) for line in args.from_rows.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as e:
        print(f"Error: cannot read rows from {args.from_rows}: {e}", file=sys.stderr)
        return 2
    rows = [r for r in rows if r["answerable"]]
    print(f"{len(rows)} answerable development questions read; pick fitted on half 0, figures on half 1")
    print(f"{'variant':<20} {'n':>5} {'right':>6} {'bold':>6} {'bold P':>6}")
    for name, (features, reader_only) in variants(list(PICK_FEATURES)).items():
        f = evaluate(rows, features, reader_only)
        bp = "-" if f["bold_precision"] is None else f"{f['bold_precision']:.3f}"
        print(f"{name:<20} {f['n']:>5} {f['right']:>6.3f} {f['bold']:>6.3f} {bp:>6}", flush=True)
    return 0
