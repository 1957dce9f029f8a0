"""`python -m eval diff OLD NEW`: which answers a change changed, question by question.

OLD and NEW are --report folders of `python -m eval run --sets ...` (one or
more each: a run split over processes). For every set in both, each question's
row is compared on what a user sees: the answer, its sentence and place, the
refusal, whether it is shown in bold, and the cited passages (story, paragraph,
span). Scores and confidence are compared apart: a change there alone (the
6th decimal, from a different float order) is counted, not listed.
Exit status 1 when any answer changed, so a speed change can be checked to be
a pure one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

SEEN = ("answer", "sentence", "answer_start", "answer_end", "refusal", "reason", "answer_shown", "assumed", "query")
CITED = ("rank", "story", "paragraph", "text", "source", "start", "end")


def _rows(folders: list[Path]) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = {}
    for folder in folders:
        for f in sorted(folder.glob("*/results.jsonl")):
            with open(f, encoding="utf-8") as fh:
                out[f.parent.name] = {r["id"]: r for r in map(json.loads, filter(str.strip, fh))}
    return out


def seen(row: dict) -> dict:
    return {**{k: row.get(k) for k in SEEN},
            "citations": [{k: c.get(k) for k in CITED} for c in row.get("citations") or []]}


def numbers(row: dict) -> list:
    return [row.get("confidence"), [c.get("score") for c in row.get("citations") or []]]


def compare(old: dict[str, dict], new: dict[str, dict]) -> tuple[list[str], int, list[str]]:
    """(ids whose seen answer changed, count with only numbers changed, ids in one side only)."""
    changed, numeric = [], 0
    only = sorted(set(old) ^ set(new))
    for qid in sorted(set(old) & set(new)):
        if seen(old[qid]) != seen(new[qid]):
            changed.append(qid)
        elif numbers(old[qid]) != numbers(new[qid]):
            numeric += 1
    return changed, numeric, only


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval diff", description=__doc__.split("\n\n")[0])
    p.add_argument("--old", type=Path, nargs="+", required=True, help="report folder(s) of the run before")
    p.add_argument("--new", type=Path, nargs="+", required=True, help="report folder(s) of the run after")
    args = p.parse_args(argv)
    old, new = _rows(args.old), _rows(args.new)
    if not set(old) & set(new):
        print("Error: the two sides have no set in common (each folder holds SET/results.jsonl)")
        return 2
    print(f"{'set':<14}{'questions':>10}{'answer changed':>16}{'numbers only':>14}")
    any_changed = False
    for name in sorted(set(old) & set(new)):
        changed, numeric, only = compare(old[name], new[name])
        any_changed |= bool(changed or only)
        print(f"{name:<14}{len(new[name]):>10}{len(changed):>16}{numeric:>14}"
              + (f"   changed: {', '.join(changed[:10])}{' …' if len(changed) > 10 else ''}" if changed else "")
              + (f"   in one run only: {len(only)}" if only else ""))
    for name in sorted(set(old) ^ set(new)):
        print(f"{name:<14}(in {'the old' if name in old else 'the new'} run only)")
    return 1 if any_changed else 0
