"""How much evidence to read: tokens read per question vs short-answer F1 vs ms.

Asks development questions (eval/sets.py FITTING sets, never the reported
ones) with the reader's own best span and nothing refused (the decisions
unfitted, as `python -m eval fit` collects them), so the curve measures reading
alone, for each reading budget: the first `read` hits, `read_chars` characters
of each hit's paragraph around the hit (0: the whole paragraph, in sliding
windows). Prints one line per budget:

    read  chars  tokens/q  windows/q  sentence  F1  EM  p50 ms

Usage: python scripts/read_curve.py [--sets drcd-fit,cmrc-fit] [--limit 150]
       [--reads 4] [--chars 200,400,0]
Run by hand (minutes); Settings.read and Settings.read_chars are chosen from its
output, and the note that chose them quotes it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sets", default="drcd-fit,cmrc-fit", help="development sets (eval/sets.py FITTING names)")
    p.add_argument("--limit", type=int, default=150, help="questions per set (the first N, answerable only)")
    p.add_argument("--reads", default="4", help="comma-separated numbers of hits read")
    p.add_argument("--chars", default="200,400,0", help="comma-separated characters per hit (0: whole paragraph)")
    args = p.parse_args(argv)

    from eval import metrics
    from eval.questions import load_questions
    from eval.run import Opener, read_sources, score_all
    from eval.sets import FITTING, SETS
    from rag.answer.decide import Decisions
    from rag.config import from_env, offline_hub_default

    offline_hub_default()
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    bad = [n for n in names if n not in FITTING]
    if bad:
        print(f"Error: {', '.join(bad)}: not a development set; choose from {', '.join(FITTING)}", file=sys.stderr)
        return 2
    base = from_env()
    opener = Opener(base)
    budgets = [(int(r), int(c)) for r in args.reads.split(",") for c in args.chars.split(",")]
    print(f"sets {', '.join(names)}; first {args.limit} answerable questions of each; reader's best span, nothing refused")
    print(f"{'read':>4} {'chars':>5} {'tokens/q':>9} {'windows/q':>9} {'sentence':>8} {'F1':>6} {'EM':>6} {'p50 ms':>7}")
    for read, chars in budgets:
        rows, ms, tokens, windows = [], [], [], []
        for name in names:
            issues, qfile = SETS[name].prepare(ROOT / ".cache" / "eval-sets")
            s = base.with_(data_dir=issues, index_dir=ROOT / ".cache" / "eval-index" / SETS[name].index_name,
                           read=read, read_chars=chars)
            engine = opener("chosen", {}, s)
            engine.answerer.decisions = Decisions(None, None, 0.0, 0.0)  # the reader's span, answer everything
            reader = engine.answerer.reader
            seen: list = []
            plain_windows = reader.windows

            def counted(question, passages, _w=plain_windows, _seen=seen):
                out = _w(question, passages)
                _seen.append(out)
                return out

            reader.windows = counted  # an instance attribute: the shared reader's class is untouched
            try:
                questions = [q for q in load_questions(qfile) if q.answerable][: args.limit]
                results = []
                for q in questions:
                    seen.clear()
                    t0 = time.perf_counter()
                    a = engine.ask(q.q, list(q.history))
                    ms.append((time.perf_counter() - t0) * 1000)
                    tokens.append(sum(len(ids) for out in seen for _, ids, _ in out))
                    windows.append(sum(len(out) for out in seen))
                    results.append({"id": q.id, **a.to_json(), "latency_ms": ms[-1]})
            finally:
                del reader.windows
            rows += score_all(results, questions, read_sources(results, Path(s.data_dir), {}))
        summary = metrics.summarise(rows)
        print(f"{read:>4} {chars or 'all':>5} {statistics.mean(tokens):>9.0f} {statistics.mean(windows):>9.1f} "
              f"{summary['sentence@1']:>8.3f} {summary['f1']:>6.3f} {summary['em']:>6.3f} {statistics.median(ms):>7.0f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
