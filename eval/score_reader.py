"""`python -m eval fit-reader --score DIR`: how well a reader reads, given the passage.

Takes a reader's fitted files (reader.safetensors + reader.json in DIR) and the
held-out questions of eval/reader_data.py (`select` by default, `report` for the
published figures); reads each question's whole gold passage with the
answer-time code (rag.answer.reader, NumPy: every window) and prints, per set,
EM and F1 of the best span by the official CMRC 2018 scorer (eval/metrics.py),
tokens read and ms per question. No retrieval, no answer stage: the figure the
published small readers are given (../shared/data/README.md).
"""

from __future__ import annotations

import time
from pathlib import Path


def score(reader, items) -> dict:
    """EM, F1, windows, tokens and ms per question over `items`."""
    from eval import metrics

    em = f1 = n_windows = tokens = 0.0
    t0 = time.perf_counter()
    for it in items:
        reading = reader.read(it.question, [it.passage])
        best = reading.spans(top=1)
        pred = it.passage[best[0].start:best[0].end] if best else ""
        em += metrics.cmrc_em(pred, it.answers)
        f1 += metrics.cmrc_f1(pred, it.answers)
        n_windows += len(reading.windows)
        tokens += sum(len(w.offsets) for w in reading.windows)
    n = max(1, len(items))
    return {"n": len(items), "em": em / n, "f1": f1 / n, "windows": n_windows / n, "tokens": tokens / n,
            "ms": 1000 * (time.perf_counter() - t0) / n}


def main(folder: Path, model_dir: Path, part: str = "select", limit: int = 0, record: bool = False) -> int:
    """Print the figures; with `record`, also keep them in DIR/reader.json under
    "scored" (by part), so the shipped file says how it read held-out questions."""
    from rag.answer.reader import Reader
    from eval.reader_data import load_items

    reader = Reader.load(model_dir, Path(folder) / "reader.safetensors", Path(folder) / "reader.json")
    by_set: dict[str, list] = {}
    for it in load_items():
        if it.part == part:
            by_set.setdefault(it.source, []).append(it)
    print(f"reader {folder} on part `{part}` (whole gold passage, official CMRC scorer)")
    print("| set | n | EM | F1 | windows | tokens | ms/question |")
    print("|---|---|---|---|---|---|---|")
    figures = {}
    for name, items in sorted(by_set.items()):
        s = score(reader, items[:limit] if limit else items)
        figures[name] = {k: round(s[k], 4) for k in ("n", "em", "f1")}
        print(f"| {name} | {s['n']} | {s['em']:.3f} | {s['f1']:.3f} | {s['windows']:.1f} | {s['tokens']:.0f} | {s['ms']:.0f} |",
              flush=True)
    if record:
        import json

        about = Path(folder) / "reader.json"
        doc = json.loads(about.read_text(encoding="utf-8"))
        doc.setdefault("scored", {})[part] = {"sets": figures, "limit": limit or None,
                                             "how": "whole gold passage, best span, official CMRC 2018 scorer"}
        about.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0
