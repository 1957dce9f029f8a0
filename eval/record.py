"""`python -m eval record`: CI thresholds from the figures of one run, by hand.

Reads the `sets.json` that `python -m eval run --sets ...` writes under its
--report folder and writes eval/thresholds.json: for each set, each rate of
the configuration a little below its recorded figure (MARGIN) and each count a
little above (SLACK), so that CI fails when a change to the code or to the
shipped fitted files makes answers worse, not when a tie breaks the other way.
The answers are deterministic, so on the same code the figures come back exact.
"""

from __future__ import annotations

import argparse
import json
import math
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARGIN = 0.02  # rates: the recorded figure minus this, rounded down to 0.01
SLACK = 0.01  # counts: the recorded count plus this share of the set (at least 2)
RATES = ("story@1", "sentence@1", "short", "hit@3", "mrr", "traceable", "refusal_recall", "f1", "em")
COUNTS = ("false_refusals",)


def thresholds(summary: dict) -> dict:
    low = {m: max(0.0, math.floor((summary[m] - MARGIN) * 100) / 100) for m in RATES if summary.get(m) is not None}
    if summary.get("traceable") == 1.0:
        low["traceable"] = 1.0  # every citation must stay traceable
    high = {m: summary[m] + max(2, math.ceil(SLACK * summary["n"])) for m in COUNTS if summary.get(m) is not None}
    return {"min": low, "max": high}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval record", description=__doc__.split("\n\n")[0])
    p.add_argument("sets_json", type=Path, nargs="+",
                   help="sets.json of `python -m eval run --sets ...` reports (several: runs of disjoint sets, "
                        "e.g. split over two processes)")
    p.add_argument("--config", default="chosen")
    p.add_argument("--out", type=Path, default=HERE / "thresholds.json")
    args = p.parse_args(argv)
    by_set: dict = {}
    for path in args.sets_json:
        part = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(set(part) & set(by_set))
        if twice:
            raise SystemExit(f"Error: {path} repeats set(s) {', '.join(twice)} of an earlier file")
        by_set.update(part)
    doc = {
        "about": f"Recorded by `python -m eval record` on {date.today().isoformat()} from the figures of "
                 f"configuration {args.config!r} (every rate {MARGIN} below its figure, rounded down; false "
                 f"refusals {SLACK:.0%} of the set, at least 2, above). Figures: `python -m eval run --sets all`.",
        "sets": {},
    }
    for name, summaries in by_set.items():
        overall = summaries[args.config]
        doc["sets"][name] = {"config": args.config, **thresholds(overall),
                             "recorded": {m: (round(v, 4) if isinstance(v, float) else v)
                                          for m, v in overall.items() if m in RATES + COUNTS + ("n",)}}
    args.out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(doc['sets'])} sets)")
    return 0
