"""Scale benchmark: an archive of 100, 1,000 and 10,000 issues.

Two parts, both printing figures and asserting nothing (shared, noisy machines):

vectors  The dense search alone, flat (exact, what the index uses today) against
         IVF (faiss IndexIVFFlat), at 100, 1,000 and 10,000 issues of
         --passages-per-issue passages (default 100: 10,000 issues = 1M passages).
         Embedding a million passages would take days here, so the archive's
         vectors are SYNTHETIC, said plainly: each is a random mixture (Dirichlet
         weights) of three real passage vectors (multilingual-e5-small over
         CMRC 2018 paragraphs cut to 160 characters) plus Gaussian noise,
         normalised, so they
         spread between them and crowd together the way e5 vectors do. The queries are real:
         CMRC 2018 questions embedded with the query prompt. Prints build time,
         memory, search p50/p95 for the 20 candidates a question takes, and
         recall@10 of IVF against flat for each nprobe tried.

engine   The whole serving path (Engine.open + Engine.ask with the real model)
         over N copies of the shipped issue, each copy varied (its digits
         rotated, a line naming the copy) so that files, hashes and numbers
         differ; passage vectors are the real ones of the shipped issue plus
         noise (synthetic, as above; the questions are embedded for real).
         Prints open time, ask p50/p95 and memory: how the work per question
         grows with the archive.

Usage:
    .venv/bin/python scripts/bench_scale.py vectors [--issues 100,1000,10000]
    .venv/bin/python scripts/bench_scale.py engine [--issues 1,100,1000]
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from proc_stats import rss_mb  # noqa: E402 - scripts/, beside this file

SEED = 0
K = 10  # recall@K
CANDIDATES = 20  # what a question asks of the dense branch (Settings.candidates)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]


def quiet(*_a, **_k) -> None:
    pass


# ----------------------------------------------------------------- real vectors

def real_vectors(n_passages: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, query vectors) embedded with the default model."""
    from eval.external import SOURCES, load_articles
    from rag.config import from_env
    from rag.embed import load_embedder

    articles = load_articles(SOURCES["cmrc"])
    # cut to the index's own passage size (Settings.chunk_size, 160 characters)
    passages = [p[i:i + 160] for a in articles for p in a.passages for i in range(0, len(p), 160)][:n_passages]
    questions = [q for a in articles for _, q, _ in a.qas][:n_queries]
    embedder = load_embedder(from_env(), quiet)
    t = time.perf_counter()
    P = embedder.encode_passages(passages)
    Q = embedder.encode_queries(questions)
    print(f"real vectors: {len(P)} CMRC passages and {len(Q)} questions embedded in {time.perf_counter() - t:.0f} s")
    return np.ascontiguousarray(P, dtype=np.float32), np.ascontiguousarray(Q, dtype=np.float32)


def synthetic(base: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.025) -> np.ndarray:
    """n vectors near the real ones (see the module docstring), normalised float32."""
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        m = min(step, n - lo)
        w = rng.dirichlet((1.0, 1.0, 1.0), m).astype(np.float32)
        v = sum(w[:, k:k + 1] * base[rng.integers(0, len(base), m)] for k in range(3))
        v += rng.standard_normal(v.shape, dtype=np.float32) * noise
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        out[lo:lo + m] = v
    return out


# ----------------------------------------------------------------- vectors part

def search_times(index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    """One query at a time, as a question is answered; ms per query and the ids."""
    times, ids = [], []
    for q in queries:
        t = time.perf_counter()
        _, i = index.search(q[None], k)
        times.append((time.perf_counter() - t) * 1000)
        ids.append(i[0])
    return times, np.stack(ids)


def size_mb(index) -> float:
    """The index's size as FAISS serialises it (flat and IVF-flat hold the same in memory)."""
    import faiss

    return faiss.serialize_index(index).nbytes / 2**20


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def vectors_part(args) -> None:
    import faiss

    faiss.omp_set_num_threads(1)  # one question at a time on one core, as the chat serves it
    base, queries = real_vectors(args.base, args.queries)
    rng = np.random.default_rng(SEED)
    print(f"synthetic archive: {args.passages_per_issue} passages per issue; vectors = random mixtures of "
          f"three real passage vectors + noise; queries = real CMRC questions; faiss {faiss.__version__}, 1 thread")
    for issues in args.issues:
        n = issues * args.passages_per_issue
        gc.collect()
        X = synthetic(base, n, rng)
        t = time.perf_counter()
        flat = faiss.IndexFlatIP(X.shape[1])
        flat.add(X)
        flat_build = time.perf_counter() - t
        flat_mb = size_mb(flat)
        times, truth = search_times(flat, queries, max(K, CANDIDATES))
        print(f"{issues:6d} issues, {n:9d} passages: flat  build {flat_build:6.1f} s, {flat_mb:6.0f} MB, "
              f"search p50 {pct(times, .5):7.2f} ms p95 {pct(times, .95):7.2f} ms (recall 1 by definition)")
        del flat
        gc.collect()
        if n < 20_000:
            print(f"{'':33s}IVF   not tried: under 20,000 passages a flat search is already "
                  f"{pct(times, .5):.2f} ms")
            del X
            continue
        nlist = int(4 * np.sqrt(n))
        train = X[rng.choice(n, min(n, 40 * nlist), replace=False)]
        t = time.perf_counter()
        quant = faiss.IndexFlatIP(X.shape[1])
        ivf = faiss.IndexIVFFlat(quant, X.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        faiss.omp_set_num_threads(2)  # building may use both cores
        ivf.train(train)
        trained = time.perf_counter() - t
        ivf.add(X)
        ivf_build = time.perf_counter() - t
        faiss.omp_set_num_threads(1)
        ivf_mb = size_mb(ivf)
        # one issue added to the trained index (the daily case): assignment only, no retraining
        one = synthetic(base, args.passages_per_issue, rng)
        t = time.perf_counter()
        ivf.add(one)
        add_one = time.perf_counter() - t
        del X, train
        gc.collect()
        print(f"{'':33s}IVF   nlist {nlist}, build {ivf_build:6.1f} s (train {trained:.1f} s), {ivf_mb:6.0f} MB, "
              f"one more issue added in {add_one * 1000:.0f} ms")
        for nprobe in args.nprobe:
            ivf.nprobe = nprobe
            times, found = search_times(ivf, queries, max(K, CANDIDATES))
            print(f"{'':39s}nprobe {nprobe:3d}: search p50 {pct(times, .5):7.2f} ms p95 {pct(times, .95):7.2f} ms, "
                  f"recall@{K} {recall(found, truth, K):.3f}")
        del ivf, quant
        gc.collect()
    print(f"peak memory of this process: {peak_mb():.0f} MB")


# ----------------------------------------------------------------- engine part

def varied(text: str, n: int) -> str:
    """Copy n of the issue: digits rotated by n, and a first line naming the copy."""
    table = str.maketrans("0123456789", "".join(str((d + n) % 10) for d in range(10)))
    return f"（合成副本第{n}期）\n" + text.translate(table)


def engine_part(args) -> None:
    from rag import store
    from rag.chunk import chunk_stories
    from rag.config import from_env
    from rag.embed import load_embedder
    from rag.engine import Engine
    from rag.ingest import issue_hashes, load_issues

    source = (ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(encoding="utf-8")
    questions = [json.loads(line)["q"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")
                 if line.strip()][: args.asks]
    from rag.answer import reader as answer_reader

    embedder = load_embedder(from_env(), quiet)
    read_with = answer_reader.load_default(from_env())  # loaded once: the open times are the index's own
    rng = np.random.default_rng(SEED)
    print(f"engine over N varied copies of the shipped issue; passage vectors synthetic (the real ones + noise), "
          f"questions embedded for real; {len(questions)} questions, asked twice, the second pass timed")
    base_p50 = None
    for issues in args.issues:
        with tempfile.TemporaryDirectory() as tmp:
            data, index = Path(tmp) / "issues", Path(tmp) / "index"
            data.mkdir()
            for n in range(issues):
                (data / f"issue-{n:05d}.txt").write_text(varied(source, n), encoding="utf-8")
            settings = from_env(data_dir=data, index_dir=index)
            t = time.perf_counter()
            stories, skipped = load_issues(data, settings.max_issue_bytes)
            chunks = chunk_stories(stories, settings.chunk_size, settings.chunk_overlap)
            real = embedder.encode_passages([c.embed_text for c in chunks[: min(len(chunks), 64)]])
            vectors = synthetic(real, len(chunks), rng, noise=0.01)
            expected = store.expected_manifest(
                embedder.name, embedder.dim,
                {"size": settings.chunk_size, "overlap": settings.chunk_overlap, "splitter": "news-v1"},
                issue_hashes(data, settings.max_issue_bytes))
            store.save(index, dict(expected, skipped=[]), chunks, stories, vectors)
            made = time.perf_counter() - t
            gc.collect()
            m0 = rss_mb()
            t = time.perf_counter()
            engine = Engine.open(settings, progress=quiet, embedder=embedder, reader=read_with)
            opened = time.perf_counter() - t
            grown = rss_mb() - m0
            for q in questions:
                engine.ask(q)
            times = []
            for q in questions:
                t = time.perf_counter()
                engine.ask(q)
                times.append((time.perf_counter() - t) * 1000)
            p50 = pct(times, .5)
            base_p50 = base_p50 or p50
            print(f"{issues:6d} issues, {len(chunks):7d} passages: written in {made:6.1f} s; open {opened:6.1f} s "
                  f"(+{grown:.0f} MB); ask p50 {p50:7.1f} ms p95 {pct(times, .95):7.1f} ms "
                  f"({p50 / base_p50:.1f}x the first size)")
            del engine
    print(f"peak memory of this process: {peak_mb():.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="part", required=True)
    v = sub.add_parser("vectors", help="dense search alone: flat against IVF, synthetic vectors")
    v.add_argument("--issues", default="100,1000,10000")
    v.add_argument("--passages-per-issue", type=int, default=100)
    v.add_argument("--base", type=int, default=1500, help="real CMRC passages embedded as the base")
    v.add_argument("--queries", type=int, default=300)
    v.add_argument("--nprobe", default="8,16,32,64")
    e = sub.add_parser("engine", help="Engine.open and ask over N varied copies of the shipped issue")
    e.add_argument("--issues", default="1,100,1000")
    e.add_argument("--asks", type=int, default=40)
    args = ap.parse_args()
    args.issues = [int(x) for x in str(args.issues).split(",") if x.strip()]
    if args.part == "vectors":
        args.nprobe = [int(x) for x in args.nprobe.split(",")]
        vectors_part(args)
    else:
        engine_part(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
