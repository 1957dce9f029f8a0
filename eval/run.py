"""`python -m eval run`: ask every question through each configuration and score it.

Takes a questions file (eval/questions.py format), the data and index folders
and a list of configurations; gives one results file per configuration (the
`Answer.to_json()` object plus `id` and `latency_ms` per line), a summary table
on stdout, report.md + chart.png + summary.json in the report folder, and with
`--check` an exit status of 1 when the checked configuration misses a threshold.
Configurations are Settings changes on the engine the chat uses
(rag.engine.Engine.open), plus `anchor` (eval/anchor.py). Errors (RagError,
QuestionsError, bad thresholds) become `Error: ...` and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from eval import metrics
from eval.questions import Question, QuestionsError, load_questions

HERE = Path(__file__).resolve().parent

# name -> Settings changes; None marks the anchor baseline
CONFIGS: dict[str, dict | None] = {
    "chosen": {},
    "rules": {"answerer": "rules"},
    "dense": {"mode": "dense"},
    "lexical": {"mode": "lexical"},
    "no-followup": {"followups": False},
    "no-extract": {"extract": False},
    # how much of each hit's paragraph the reader reads (the reading-budget curve)
    "read-400": {"read_chars": 400},
    "read-all": {"read_chars": 0},
    "anchor": None,
}
# Settings that change what is indexed: a config changing one gets its own index dir.
BUILD_FIELDS = {"data_dir", "model", "chunk_size", "chunk_overlap"}


class EvalError(Exception):
    """A bad option or thresholds file."""


def index_dir_for(name: str, changes: dict, base: Path) -> Path:
    """Query-time configs share the chosen index; build-time ones get base/eval-<name>."""
    return base / f"eval-{name}" if BUILD_FIELDS & set(changes) else base


class Opener:
    """Opens each configuration's engine, loading the embedding model only once."""

    def __init__(self, settings):
        self.settings = settings
        self._embedder = None

    def embedder(self):
        if self._embedder is None:
            from rag.model.embed import load_embedder

            self._embedder = load_embedder(self.settings)
        return self._embedder

    def __call__(self, name: str, changes: dict | None, settings=None):
        base = settings or self.settings
        if changes is None:
            from eval.anchor import Anchor

            return Anchor.open(base.data_dir, self.embedder())
        from rag.engine import Engine

        s = base.with_(**changes)
        s = s.with_(index_dir=index_dir_for(name, changes, base.index_dir))
        return Engine.open(s, embedder=self.embedder())


def ask_all(engine, questions: list[Question]) -> list[dict]:
    results = []
    for q in questions:
        t0 = time.perf_counter()
        answer = engine.ask(q.q, list(q.history))
        ms = (time.perf_counter() - t0) * 1000.0
        results.append({"id": q.id, **answer.to_json(), "latency_ms": round(ms, 2)})
    return results


def read_sources(results: list[dict], data_dir: Path, cache: dict[str, str | None]) -> dict:
    from rag.errors import RagError
    from rag.ingest.issues import read_issue

    for r in results:
        for c in r.get("citations") or []:
            name = c.get("source")
            if name in cache:
                continue
            path = data_dir / str(name)
            try:
                # a citation must name a file directly inside the data folder to be traceable
                ok = isinstance(name, str) and Path(name).name == name and path.is_file()
                cache[name] = read_issue(path) if ok else None
            except RagError:
                cache[name] = None
    return cache


def score_all(results: list[dict], questions: list[Question], sources: dict) -> list[dict]:
    from rag.ingest.spans import locate

    rows = []
    for r, q in zip(results, questions):
        trace = metrics.traceable(r.get("citations") or [], sources, locate)
        rows.append({"id": q.id, **metrics.score(r, q.gold(), trace)})
    return rows


def load_thresholds(path: Path) -> dict:
    try:
        t = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise EvalError(f"cannot read thresholds file {path}: {e.strerror or e}") from None
    except json.JSONDecodeError as e:
        raise EvalError(f"thresholds file {path}: not valid JSON ({e.msg}, line {e.lineno})") from None
    if not isinstance(t, dict):
        raise EvalError(f"thresholds file {path}: expected a JSON object")
    per_set = t.get("sets")
    if per_set is not None and not (isinstance(per_set, dict) and all(isinstance(v, dict) for v in per_set.values())):
        raise EvalError(f"thresholds file {path}: `sets` must map set names to thresholds objects")
    for name, part_of in ((per_set or {"": t}).items()):
        where = f"thresholds file {path}" + (f", set {name}" if name else "")
        for part in ("min", "max", "margin_over_anchor"):
            v = part_of.get(part, {})
            if not isinstance(v, dict) or not all(x is None or isinstance(x, (int, float)) for x in v.values()):
                raise EvalError(f"{where}: `{part}` must map metric names to numbers or null")
            unknown = set(v) - set(metrics.summarise([]))
            if unknown:
                raise EvalError(f"{where}: unknown metric(s) in `{part}`: {', '.join(sorted(unknown))}")
    return t


def check(summaries: dict[str, dict], thresholds: dict) -> list[str]:
    """Messages for each threshold missed; null thresholds are not checked."""
    name = thresholds.get("config", "chosen")
    if name not in summaries:
        raise EvalError(f"thresholds are for configuration {name!r}, which was not run")
    got = summaries[name]
    failures = []

    def value(metric, s=got):
        return s.get(metric)

    for metric, lo in (thresholds.get("min") or {}).items():
        if lo is not None and (value(metric) is None or value(metric) < lo):
            failures.append(f"{name} {metric} = {_fmt(value(metric))}, below the minimum {lo}")
    for metric, hi in (thresholds.get("max") or {}).items():
        if hi is not None and (value(metric) is None or value(metric) > hi):
            failures.append(f"{name} {metric} = {_fmt(value(metric))}, above the maximum {hi}")
    margins = {m: v for m, v in (thresholds.get("margin_over_anchor") or {}).items() if v is not None}
    if margins and "anchor" not in summaries:
        raise EvalError("thresholds set a margin over the anchor, but the anchor was not run")
    for metric, gap in margins.items():
        mine, base = value(metric), value(metric, summaries["anchor"])
        if mine is None or base is None or mine - base < gap:
            failures.append(f"{name} {metric} = {_fmt(mine)}, less than {gap} above the anchor's {_fmt(base)}")
    return failures


def _fmt(v) -> str:
    if v is None:
        return "n/a"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


COLUMNS = [
    ("story@1", "story@1"), ("sentence@1", "sent@1"), ("short", "short"), ("hit@3", "hit@3"),
    ("mrr", "MRR"), ("traceable", "trace"), ("refusal_precision", "refP"), ("refusal_recall", "refR"),
    ("false_refusals", "falseRef"), ("f1", "F1"), ("em", "EM"), ("shown", "shown"),
    ("shown_precision", "shownP"), ("latency_p50_ms", "p50ms"), ("latency_p95_ms", "p95ms"),
]


def table(summaries: dict[str, dict], first: str = "config") -> str:
    head = [first, "n"] + [h for _, h in COLUMNS]
    rows = [[name, str(s["n"])] + [_cell(k, s[k]) for k, _ in COLUMNS] for name, s in summaries.items()]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in [head] + rows]
    return "\n".join(lines)


def _cell(key: str, v) -> str:
    if v is None:
        return "-"
    if key.startswith("latency"):
        return f"{v:.1f}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def out_path(out: Path, name: str, first: bool) -> Path:
    """The first configuration writes --out itself; the others write <stem>.<name>.jsonl beside it."""
    return out if first else out.with_name(f"{out.stem}.{name}{out.suffix or '.jsonl'}")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def parse_args(argv):
    p = argparse.ArgumentParser(prog="python -m eval", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="ask the questions, score them, write results and a report")
    r.add_argument("--sets", help="named sets to run side by side (comma-separated; `all`, `quick`; "
                                  "default: all, unless --questions or --data name one set)")
    r.add_argument("--questions", type=Path, help="one questions file (default: the shipped set's)")
    r.add_argument("--out", type=Path, default=HERE / "out" / "results.jsonl",
                   help="results file of one set (named sets write under --report)")
    r.add_argument("--data", type=Path, help="issues folder of one set (default: the engine's)")
    r.add_argument("--index", type=Path, help="index folder (for named sets: a folder per set below it)")
    r.add_argument("--report", type=Path, default=HERE / "out")
    r.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, from: {', '.join(CONFIGS)}")
    r.add_argument("--check", type=Path, metavar="THRESHOLDS", help="exit 1 if a threshold is missed")
    r.add_argument("--no-report", action="store_true", help="skip report.md and the chart")
    return p.parse_args(argv)


def configs_from(arg: str) -> list[str]:
    names = [n.strip() for n in arg.split(",") if n.strip()]
    bad = [n for n in names if n not in CONFIGS]
    if bad or not names:
        raise EvalError(f"unknown configuration(s) {', '.join(bad) or '(none)'}; choose from {', '.join(CONFIGS)}")
    return list(dict.fromkeys(names))


def main(argv=None, opener=None) -> int:
    args = parse_args(argv)
    from rag.errors import RagError

    try:
        return _run(args, opener)
    except (RagError, QuestionsError, EvalError) as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2


def _run(args, opener) -> int:
    from rag.config import ROOT, from_env, offline_hub_default

    names = configs_from(args.configs)
    thresholds = load_thresholds(args.check) if args.check else None
    offline_hub_default()
    settings = from_env(data_dir=args.data, index_dir=args.index)
    opener = opener or Opener(settings)
    if args.sets is None and (args.questions or args.data):
        # one set, as named by its files: results in --out, report in --report
        questions = load_questions(args.questions or HERE / "questions.jsonl")
        sets = {"": (settings, questions, args.out, args.report)}
    else:
        from eval.sets import SETS, names_from

        try:
            chosen_sets = names_from(args.sets or "all")
        except ValueError as e:
            raise EvalError(str(e)) from None
        base = args.index or ROOT / ".cache" / "eval-index"
        sets = {}
        for n in chosen_sets:
            issues, qfile = SETS[n].prepare(ROOT / ".cache" / "eval-sets")
            sets[n] = (settings.with_(data_dir=issues, index_dir=base / SETS[n].index_name), load_questions(qfile),
                       args.report / n / "results.jsonl", args.report / n)
    for t in ([thresholds] if thresholds and "sets" not in thresholds else (thresholds or {}).get("sets", {}).values()):
        if t.get("config", "chosen") not in names:
            raise EvalError(f"thresholds are for configuration {t.get('config', 'chosen')!r}, which is not in --configs")
    by_set = {}
    for set_name, (s, questions, out, report) in sets.items():
        by_set[set_name] = run_set(set_name, s, questions, names, opener, out, None if args.no_report else report)
    if len(by_set) > 1 or "" not in by_set:
        print(side_by_side(by_set))
        write_side_by_side(args.report, by_set)
    if thresholds is None:
        return 0
    failures = []
    for set_name, summaries in by_set.items():
        t = thresholds if "sets" not in thresholds else thresholds["sets"].get(set_name)
        if t is not None:
            failures += [f"{set_name + ': ' if set_name else ''}{f}" for f in check(summaries, t)]
    for f in failures:
        print(f"FAIL {f}")
    if failures:
        return 1
    print(f"thresholds met ({args.check})")
    return 0


def run_set(set_name: str, settings, questions: list[Question], names: list[str], opener, out: Path,
            report: Path | None) -> dict[str, dict]:
    """Ask one set's questions through each configuration; write results (and a report)."""
    sources: dict[str, str | None] = {}
    summaries, kinds, all_rows, all_results = {}, {}, {}, {}
    for i, name in enumerate(names):
        t0 = time.perf_counter()
        engine = opener(name, CONFIGS[name]) if not set_name else opener(name, CONFIGS[name], settings)
        results = ask_all(engine, questions)
        path = out_path(out, name, i == 0)
        write_jsonl(path, results)
        rows = score_all(results, questions, read_sources(results, Path(settings.data_dir), sources))
        summaries[name], kinds[name] = metrics.summarise(rows), metrics.by_kind(rows)
        all_rows[name], all_results[name] = rows, results
        print(f"{set_name or 'questions'} / {name}: {len(questions)} questions in "
              f"{time.perf_counter() - t0:.1f} s -> {path}", file=sys.stderr)
    print((f"## {set_name}\n" if set_name else "") + table(summaries))
    if report is not None:
        from eval.report import write_report

        files = write_report(report, summaries, kinds, all_rows, all_results, questions, names[0])
        print(f"report: {', '.join(str(f) for f in files)}", file=sys.stderr)
    return summaries


def side_by_side(by_set: dict[str, dict[str, dict]]) -> str:
    return table({f"{s}/{c}" if len(conf) > 1 else s: v for s, conf in by_set.items() for c, v in conf.items()},
                 first="set")


def write_side_by_side(report: Path, by_set: dict[str, dict[str, dict]]) -> None:
    report.mkdir(parents=True, exist_ok=True)
    (report / "sets.json").write_text(json.dumps(by_set, ensure_ascii=False, indent=1), encoding="utf-8")
    (report / "sets.txt").write_text(side_by_side(by_set) + "\n", encoding="utf-8")
