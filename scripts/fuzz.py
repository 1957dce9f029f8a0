"""Fuzz benchmark: 10,000+ generated inputs over Engine.ask, Engine.search, the CLI
(`rag ask --json`, in process) and the app's API handlers (/ask, /chat, /search).

Inputs are the eval set's questions mutated with what browsers, bad clients and
attackers send (lone surrogates, bidi and zero-width marks, controls, markup,
markdown images, regex templates, paths, Traditional/full-width forms), random
Unicode, long runs of Chinese up to the 500-character cap and histories up to
tens of kB. A crash is any exception but the project's typed errors, output that
is not valid UTF-8 JSON, HTML with tags or attributes rag.web.render never writes,
or a citation that is not at its offsets in the issue file.

Prints crashes (with the first inputs), p50/p99/max time per question overall
and by length, the slowest inputs, and resident memory before and after.
Asserts nothing. Usage:
    .venv/bin/python scripts/fuzz.py [--n 10000] [--seed 1] [--model real|fake]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import sys
import tempfile
import time
import traceback
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "tests"))

from proc_stats import rss_mb  # noqa: E402 - scripts/, beside this file

JUNK = ["\ud800", "\udc95", "\udfff", "\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2069", "\u061c", "\u200b",
        "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\x85", "\u2028",
        "\u2029", "\U000e0041", "\ufffd", "\uffff", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>", "![x](http://evil.example/y.png)", "[a](javascript:alert(1))", "&lt;b&gt;", "&#0;",
        "&#xd800;", "&amp;amp;", "\\1", "\\g<0>", "\\g<name>", "$1", "${x}", "(.*)+", "[", "(?P<x>", "C:\\new\\",
        "../../etc/passwd", "/etc/passwd", "%s%n", "{0}", "'; DROP TABLE x;--", "\u0301" * 30, "ﷺ", "𝟓𝟎𝟎",
        "１２３", "現代醫藥港", "😀👨‍👩‍👧", "\U0010ffff"]
ALLOWED_TAGS = {"a", "b", "br", "code", "details", "div", "em", "li", "mark", "ol", "p", "small", "span", "strong",
                "summary", "sup", "ul"}


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.bad.append(tag)
        for name, value in attrs:
            if name.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.bad.append(f"{tag} {name}={value}")


class Gen:
    """Seeded generator of questions and histories."""

    def __init__(self, seed: int, questions: list[str], corpus: str):
        self.r = random.Random(seed)
        self.qs = questions
        self.cjk = [c for c in corpus if "\u4e00" <= c <= "\u9fff"] or list("现代医药港")

    def _unicode(self, n: int) -> str:
        r = self.r
        out = []
        for _ in range(n):
            plane = r.random()
            if plane < 0.5:
                out.append(chr(r.randint(0x20, 0x7e)))
            elif plane < 0.8:
                out.append(chr(r.randint(0x4e00, 0x9fa5)))
            else:
                out.append(chr(r.randint(0, 0x10ffff)))  # surrogates and controls included
        return "".join(out)

    def question(self) -> str:
        r = self.r
        roll = r.random()
        if roll < 0.35:  # a real question with junk put in
            q = list(r.choice(self.qs))
            for _ in range(r.randint(1, 4)):
                q.insert(r.randint(0, len(q)), r.choice(JUNK))
            return "".join(q)
        if roll < 0.5:
            return r.choice(self.qs)
        if roll < 0.65:
            return "".join(r.choice(JUNK) for _ in range(r.randint(1, 6)))
        if roll < 0.8:
            return self._unicode(r.randint(0, 40))
        if roll < 0.97:  # words of the issue in a random order
            return "".join(r.choice(self.cjk) for _ in range(r.randint(2, 60))) + r.choice(["？", "", "吗", "多少"])
        if roll < 0.99:  # long: up to the cap, some over it (1 in 50: each costs seconds, see the figures)
            n = r.choice([100, 200, 300, 499, 500, 501, 800])
            return "".join(r.choice(self.cjk) for _ in range(n))
        return r.choice(["", " ", "\n", "？", "a" * 100_000, "问" * 5000])

    def history(self):
        r = self.r
        roll = r.random()
        if roll < 0.4:
            return []
        if roll < 0.8:
            return [self.question() for _ in range(r.randint(1, 4))]
        if roll < 0.83:  # long histories: 10 to 60 kB
            return ["".join(r.choice(self.cjk) for _ in range(r.randint(100, 600))) for _ in range(r.randint(20, 100))]
        return [r.choice([None, 3, {"role": "user"}, ["x"], self.question()]) for _ in range(r.randint(1, 5))]


def check_answer(d: dict, sources: dict) -> str | None:
    """Why an answer (ask --json object) is broken, or None."""
    from rag.ingest.spans import locate

    json.dumps(d, ensure_ascii=False).encode("utf-8")
    for c in d["citations"]:
        if not locate(c["text"], sources[c["source"]], c["start"], c["end"]):
            return f"citation not at its offsets: {c['source']} [{c['start']}, {c['end']}]"
    if d["answerable"] and d["answer_start"] is not None:
        src = sources[d["citations"][0]["source"]]
        # repaired text (lines rejoined, punctuation widened): located as rag.ingest.spans.locate reads it
        if not locate(d["answer"], src, d["answer_start"], d["answer_end"]):
            return f"short answer {d['answer']!r:.60} not at its offsets [{d['answer_start']}, {d['answer_end']}]"
    return None


def check_html(html: str) -> str | None:
    html.encode("utf-8")
    p = Tags()
    p.feed(html)
    return f"unexpected markup {p.bad[:3]}" if p.bad else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000, help="generated inputs in all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=["real", "fake"], default="real",
                    help="real: the default embedding model (and its tokenizer); fake: tests' hashing embedder")
    ap.add_argument("--data", default=str(ROOT / "data" / "issues"))
    ap.add_argument("--torch-threads", type=int, default=0,
                    help="torch intra-op threads (0: torch's default). On a 2-core machine shared with other work, "
                         "1 thread answered in 43 ms where the default 2 took 1 s (threads spinning against each other)")
    ap.add_argument("--last", default=str(Path(tempfile.gettempdir()) / "newsrag-fuzz-last.txt"),
                    help="file holding the input being tried, to name the culprit of a hard crash")
    args = ap.parse_args()
    import faulthandler

    faulthandler.enable()  # a crash inside a C extension prints where it happened
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)

    import rag.model.embed
    from rag import cli
    from rag.web import render
    from rag.config import from_env
    from rag.engine import Engine
    from rag.errors import RagError
    from rag.ingest.issues import read_issue

    import logging

    from rag.web import handlers
    from rag.web.handlers import SORRY
    from rag.search import query

    logging.getLogger("newsrag.app").setLevel(logging.ERROR)  # rejected junk is logged one line each: too many here
    quiet = lambda *a, **k: None  # noqa: E731
    tmp = tempfile.mkdtemp(prefix="newsrag-fuzz-")
    settings = from_env(data_dir=args.data, index_dir=str(Path(tmp) / "index"))
    if args.model == "fake":
        from conftest import FakeEmbedder

        embedder = FakeEmbedder()
    else:
        embedder = rag.model.embed.load_embedder(settings, quiet)
    rag.model.embed.load_embedder = lambda s, p=None: embedder  # the CLI reuses the loaded model
    engine = Engine.open(settings, progress=quiet, embedder=embedder)
    handlers = handlers.Handlers(engine, settings)
    sources = {s.source: read_issue(Path(args.data) / s.source) for s in engine.stories}
    qs = [json.loads(line)["q"] for line in open(ROOT / "eval" / "questions.jsonl", encoding="utf-8") if line.strip()]
    gen = Gen(args.seed, qs, "".join(sources.values()))
    for q in qs[:10]:  # warm-up: jieba, torch's first passes
        engine.ask(q)
    import gradio as gr  # noqa: F401 - the app handlers' gr.Error: imported here, not inside the first app input's time
    # The first text the compact tokenizer declines (a mark on a letter the map changes,
    # Hangul jamo, ...) loads `tokenizers` once per process (rag.model.tokens.Tokens.full):
    # a start-up cost, timed here on its own.
    t = time.perf_counter()
    if hasattr(embedder, "tokens"):
        embedder.tokens.full.encode("x")
    declined_first = time.perf_counter() - t

    times: dict[str, list[float]] = defaultdict(list)
    by_len: dict[str, list[float]] = defaultdict(list)
    slowest: list[tuple[float, str, int, int, str]] = []
    crashes: dict[str, int] = defaultdict(int)
    examples: list[str] = []
    typed_errors = 0
    mem_start = rss_mb()
    t_all = time.perf_counter()

    def crash(kind: str, why: str, q, h) -> None:
        crashes[kind] += 1
        if len(examples) < 12:
            examples.append(f"[{kind}] {why}\n    question={q!r:.200}\n    history={h!r:.200}")

    for i in range(args.n):
        q, h = gen.question(), gen.history()
        roll = gen.r.random()
        kind = "ask" if roll < 0.6 else "search" if roll < 0.75 else "app" if roll < 0.9 else "cli"
        with open(args.last, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(f"{i} {kind}\nquestion={q!r}\nhistory={h!r}\n")
        t = time.perf_counter()
        try:
            if kind == "ask":
                why = check_answer(engine.ask(q, h).to_json(), sources)
            elif kind == "search":
                try:
                    hits = engine.search(q, k=gen.r.randint(1, 20))
                    why = check_html(render.render_hits(hits, query.scrub(q)))
                except RagError:
                    typed_errors += 1
                    why = None
            elif kind == "app":
                which = gen.r.choice(["ask", "chat", "search"])
                if which == "ask":
                    try:
                        why = check_answer(handlers.ask(q, gen.r.choice([json.dumps(h, ensure_ascii=False), h, ""])),
                                           sources)
                    except gr.Error as e:
                        typed_errors += 1
                        why = "unexpected error behind /ask" if e.message == SORRY else None
                elif which == "chat":
                    reply = handlers.chat(q, [{"role": "user", "content": x} for x in h if isinstance(x, str)])
                    why = check_html(reply) or ("unexpected error behind /chat" if SORRY in reply else None)
                else:
                    issue = gen.r.choice(["全部", "../../etc/passwd", "/etc/passwd", gen.question()])
                    html, lines = handlers.search(q, issue, gen.r.choice(["全部", gen.question()]))
                    lines.encode("utf-8")
                    why = check_html(html) or ("unexpected error behind /search" if SORRY in html else None)
            else:
                argv = ["ask", "--json", "--data", args.data, "--index", settings.index_dir.as_posix()]
                for x in h[:3]:
                    if isinstance(x, str) and len(x) < 5000:
                        argv += ["--history", x] if gen.r.random() < 0.5 else [f"--history={x}"]
                out, err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    try:
                        code = cli.main(argv + ["--", q])
                    except SystemExit as e:  # argparse: a usage error (--history -x takes -x for an option)
                        code = e.code
                out.getvalue().encode("utf-8")
                err.getvalue().encode("utf-8")
                if code == 0:
                    why = check_answer(json.loads(out.getvalue()), sources)
                elif code == 2 and err.getvalue().startswith("Error: ") and len(err.getvalue().splitlines()) == 1:
                    typed_errors += 1
                    why = None
                else:
                    why = f"exit {code}: {err.getvalue()[:200]}"
        except KeyboardInterrupt:
            raise
        except BaseException as e:  # noqa: BLE001 - that is what we count; a Rust panic (pyo3) is a BaseException
            why = f"{type(e).__name__}: {e} | {traceback.format_exc(limit=3).splitlines()[-3].strip()}"
        dt = time.perf_counter() - t
        if why:
            crash(kind, why, q, h)
        times[kind].append(dt)
        n = len(q)
        by_len["<=50" if n <= 50 else "51-200" if n <= 200 else "201-500" if n <= 500 else ">500 (refused)"].append(dt)
        slowest.append((dt, kind, n, sum(len(x) for x in h if isinstance(x, str)), f"{q!r:.80} after {h!r:.80}"))
        slowest = sorted(slowest, reverse=True)[:8]
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1}/{args.n} inputs, {sum(crashes.values())} crashes, {time.perf_counter() - t_all:.0f} s, "
                  f"{rss_mb():.0f} MB", file=sys.stderr, flush=True)
    mem_end = rss_mb()

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else float("nan")

    every = [x for v in times.values() for x in v]
    threads = __import__("torch").get_num_threads() if args.model == "real" else "-"
    print(f"fuzz: {args.n} inputs, seed {args.seed}, model {args.model} ({getattr(embedder, 'name', '?')}, "
          f"torch threads {threads}), "
          f"{len(engine.chunks)} passages, {time.perf_counter() - t_all:.0f} s")
    print(f"crashes: {sum(crashes.values())} {dict(crashes)}; typed errors (one-line messages): {typed_errors}")
    print(f"warm-up: the first question the compact tokenizer declined (loading `tokenizers` once) took "
          f"{declined_first * 1000:.0f} ms")
    for line in examples:
        print(line)
    print(f"time per input: p50 {pct(every, .5) * 1000:.0f} ms, p99 {pct(every, .99) * 1000:.0f} ms, "
          f"max {max(every) * 1000:.0f} ms")
    for kind, xs in sorted(times.items()):
        print(f"  {kind:7s} n={len(xs):5d}  p50 {pct(xs, .5) * 1000:6.0f} ms  p99 {pct(xs, .99) * 1000:6.0f} ms  "
              f"max {max(xs) * 1000:6.0f} ms")
    for bucket in ("<=50", "51-200", "201-500", ">500 (refused)"):
        xs = by_len.get(bucket, [])
        if xs:
            print(f"  question {bucket:15s} n={len(xs):5d}  p99 {pct(xs, .99) * 1000:6.0f} ms  max {max(xs) * 1000:6.0f} ms")
    print("slowest:")
    for dt, k, n, hn, what in slowest[:5]:
        print(f"  {dt * 1000:.0f} ms {k} q={n} chars history={hn} chars: {what}")
    print(f"memory: {mem_start:.0f} MB after warm-up, {mem_end:.0f} MB at the end "
          f"({(mem_end - mem_start) / mem_start * 100:+.1f}%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
