"""Check the compact tokenizer (rag.model.pieces via rag.model.tokens) against `tokenizers`.

On every question and passage of ../shared/data (CMRC 2018 trial and dev pool,
DRCD dev and test pool; each as given and in the Simplified form the reader
reads), the issues in data/ and eval/ with pieces cut from them anywhere and
the questions of every evaluation set, and generated hostile strings
(scripts/fuzz.py's junk, random code points, letters with combining
marks and joiners): the ids and character offsets
of each text, the query input (`<s> query: text </s>`, 512 tokens), and the
reader's windows of each question with its passage (192 tokens, stride 64, as
rag/knowledge/reader.json). Prints how many texts the compact path took, how
many differ (with the first ones), and the load time and memory of each.
Asserts nothing; exit status 1 when anything differs.
    .venv/bin/python scripts/check_pieces.py [--limit N] [--fuzz 20000]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))



def squad_texts(path: Path):
    """(question, context) pairs of a SQuAD-format file."""
    for art in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in art["paragraphs"]:
            for qa in para["qas"]:
                yield qa["question"], para["context"]


MARKS = [chr(c) for c in [*range(0x300, 0x370), *range(0xE31, 0xE3B), 0x901, 0x902, 0x903, 0x93C, 0x94D, 0x5B4,
                          0x64E, 0x3099, 0x309A, 0xFE0F, 0xFE0E, 0x200D, 0x200C, 0x20DD, 0x1F3FB, 0xE0041, 0xE0100]]
BASES = list("a中ก क😀ﬁ①ｶ\u3000 \t") + ["\u0958", "\u00c5", "\u212b", "\u0e33"]


def hostile(n: int, seed: int, mapped: list[str]) -> list[str]:
    """Random strings; a quarter of them letters (some that the map changes) with
    combining marks and joiners, the cases rag.model.pieces decides between."""
    from fuzz import JUNK

    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randrange(4)
        if k == 3 and rng.random() < 0.5:
            pool = BASES + rng.sample(mapped, 8)
            out.append("".join(rng.choice(MARKS) if rng.random() < 0.4 else rng.choice(pool)
                               for _ in range(rng.randrange(1, 16))))
            continue
        if k == 0:
            out.append("".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(1, 40))))
        elif k == 1:
            out.append("".join(chr(rng.randrange(0x20, 0x110000)) for _ in range(rng.randrange(1, 20))).encode(
                "utf-8", "replace").decode("utf-8", "replace"))
        else:
            base = "现代医药港计划投资多少？ 菏泽 2024年 ＡＢＣ１２３ a  b\t\n"
            out.append("".join(rng.choice(JUNK) if rng.random() < 0.3 else rng.choice(base)
                               for _ in range(rng.randrange(1, 30))))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--limit", type=int, default=0, help="question-passage pairs per file (0: all)")
    p.add_argument("--fuzz", type=int, default=20000, help="generated hostile strings")
    args = p.parse_args(argv)

    sys.path.insert(0, str(ROOT / "scripts"))
    from proc_stats import rss_mb

    from rag.config import from_env
    from rag.model.provision import default_model_dir
    from rag.model.tokens import Tokens
    from rag.text import to_simplified

    model_dir = default_model_dir(from_env())
    rss = rss_mb()
    t = time.perf_counter()
    tokens = Tokens(model_dir)
    print(f"compact tokenizer: loaded in {time.perf_counter() - t:.2f} s, +{rss_mb() - rss:.0f} MB")
    rss = rss_mb()
    t = time.perf_counter()
    full = tokens.full
    print(f"tokenizers: loaded in {time.perf_counter() - t:.2f} s, +{rss_mb() - rss:.0f} MB")
    from tokenizers import Tokenizer

    pair = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    pair.enable_truncation(max_length=192, stride=64, strategy="only_second")
    single = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    single.enable_truncation(max_length=512)

    from eval.reader_data import FILES, SHARED  # ../shared/data, or $RAG_SHARED_DATA

    pairs: list[tuple[str, str]] = []
    for parts in FILES.values():
        f = SHARED.joinpath(*parts)
        if not f.is_file():
            raise SystemExit(f"{f} is missing (set RAG_SHARED_DATA to the folder of ../shared/data)")
        got = list(squad_texts(f))
        pairs += got[: args.limit] if args.limit else got
    pairs += [(to_simplified(q), to_simplified(c)) for q, c in pairs]
    issues = [f.read_text(encoding="utf-8") for d in ("data", "eval") for f in sorted((ROOT / d).rglob("*.txt"))]
    asked = [json.loads(line)["q"] for f in sorted((ROOT / "eval").rglob("questions.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    # pieces of the issues as the reader reads them (a window cut anywhere, up to 400 characters)
    rng = random.Random(0)
    cuts = [t[a : a + rng.randint(1, 400)] for t in issues for a in (rng.randrange(len(t)) for _ in range(300))]
    # lone surrogates cannot reach a tokenizer: every edge cleans input first (rag.text)
    generated = [t for t in hostile(args.fuzz, 1, sorted(tokens.compact.norm))
                 if not any(0xD800 <= ord(c) < 0xE000 for c in t)]
    texts = sorted({t for qc in pairs for t in qc} | set(issues) | set(asked) | set(cuts) | set(generated))
    print(f"{len(texts)} distinct texts ({len(pairs)} question-passage pairs, {len(issues)} issues and "
          f"{len(cuts)} pieces of them, {len(asked)} questions of the eval sets, {len(generated)} generated)")

    bad: list[str] = []
    compact = 0
    made = set(generated)
    declined_real: list[str] = []
    t_compact = t_full = 0.0
    for text in texts:
        t0 = time.perf_counter()
        mine = tokens.compact.encode(text)
        t1 = time.perf_counter()
        e = full.encode(text, add_special_tokens=False)
        t_full += time.perf_counter() - t1
        if mine is None:
            if text not in made:
                declined_real.append(text)
            continue
        t_compact += t1 - t0
        compact += 1
        if mine.ids != e.ids or mine.offsets != [tuple(o) for o in e.offsets]:
            bad.append(f"text {text[:60]!r}")
        elif tokens.query("query: " + text) != single.encode("query: " + text).ids:
            bad.append(f"query {text[:60]!r}")
    print(f"texts: {compact} of {len(texts)} by the compact tokenizer ({len(texts) - compact} passed on to "
          f"tokenizers); {compact / max(t_compact, 1e-9):.0f} texts/s compact, "
          f"{len(texts) / max(t_full, 1e-9):.0f} texts/s tokenizers")
    print(f"  of the texts not generated: {len(declined_real)} passed on, e.g. "
          f"{[t[:30] for t in declined_real[:3]]}")

    seen = set()
    windows = 0
    for q, c in pairs:
        if (q, c) in seen:
            continue
        seen.add((q, c))
        e = pair.encode(q, c)
        want = [(w.ids, [tuple(o) if s == 1 else None for o, s in zip(w.offsets, w.sequence_ids)])
                for w in [e, *e.overflowing]]
        got = [(ids, offs) for ids, offs in tokens.windows(tokens.encode(q), c, 192, 64)]
        windows += len(got)
        if got != want:
            bad.append(f"windows {q[:30]!r} / {c[:30]!r}: {len(got)} vs {len(want)}")
    print(f"windows: {len(seen)} question-passage pairs, {windows} windows")
    print(f"differences: {len(bad)}")
    for b in bad[:20]:
        print("  " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
