"""Report for evaluators: summaries in, report.md + chart.png + summary.json out.

Takes the per-configuration summaries and per-kind breakdowns (eval.metrics),
the scored rows and raw results, and writes into the report folder:
report.md (overall table per configuration, per-kind table for the chosen
configuration, per kind x configuration tables for the main metrics, and the
chosen configuration's misses), chart.png (matplotlib, Agg backend, ASCII
labels so no CJK font is needed) and summary.json (the same figures for tools).
"""

from __future__ import annotations

import json
from pathlib import Path

from eval.questions import Question

OVERALL = [
    ("story@1", "story@1"), ("sentence@1", "sentence@1"), ("short", "short answer"),
    ("hit@3", "passage hit@3"), ("mrr", "MRR"), ("traceable", "traceable"),
    ("refusal_precision", "refusal P"), ("refusal_recall", "refusal R"),
    ("false_refusals", "false refusals"), ("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms"),
    ("sentence_chars", "sentence chars"),
]
MAIN = [("sentence@1", "sentence@1"), ("short", "short answer"), ("hit@3", "passage hit@3"), ("refused", "share refused")]
CHART_CONFIG = ["story@1", "sentence@1", "short", "hit@3", "mrr", "traceable", "refusal_recall"]
CHART_KIND = ["sentence@1", "short", "hit@3", "refused"]

ABOUT = """\
How to read it (definitions in eval/metrics.py): story@1 = citation 1 is from the gold story;
sentence@1 = the supporting sentence contains a gold answer (refused counts as a miss);
short answer = the short answer contains a gold answer g and is at most max(2|g|, |g|+10) characters
(not scored for `keyword` look-ups); passage hit@3 / MRR = a citation's text contains a gold answer;
traceable = share of citations whose offsets locate their text in the issue file; refusal P/R = precision
and recall of refusals with unanswerable questions as the positive class; false refusals = answerable
questions refused; latency = in-process time of `ask`. Text is compared after NFKC, CJK punctuation
folding and whitespace removal. `-` = not applicable. The anchor returns whole 500-character chunks as its
"sentence" (see sentence chars), so its sentence@1 is really a chunk hit@1.
"""


def _cell(key: str, v) -> str:
    if v is None:
        return "-"
    if key.startswith("latency") or key == "sentence_chars":
        return f"{v:.1f}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def md_table(first: str, rows: dict[str, dict], cols: list[tuple[str, str]]) -> str:
    out = [f"| {first} | n | " + " | ".join(h for _, h in cols) + " |"]
    out.append("|---" * (len(cols) + 2) + "|")
    for name, s in rows.items():
        out.append(f"| {_md(name)} | {s['n']} | " + " | ".join(_cell(k, s.get(k)) for k, _ in cols) + " |")
    return "\n".join(out)


def cross_table(metric: str, kinds: dict[str, dict[str, dict]]) -> str:
    names = list(kinds)
    all_kinds = sorted({k for per in kinds.values() for k in per})
    out = ["| kind | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for k in all_kinds:
        out.append(f"| {k} | " + " | ".join(_cell(metric, kinds[n].get(k, {}).get(metric)) for n in names) + " |")
    return "\n".join(out)


def misses(rows: list[dict], results: list[dict], questions: list[Question]) -> list[str]:
    out = ["| id | kind | question | gold | answer | what went wrong |", "|---|---|---|---|---|---|"]
    for row, res, q in zip(rows, results, questions):
        wrong = []
        if q.answerable and row["refused"]:
            wrong.append("refused")
        elif not q.answerable and not row["refused"]:
            wrong.append("answered an unanswerable question")
        else:
            for key, label in (("story@1", "story"), ("sentence@1", "sentence"), ("short", "short answer")):
                if row.get(key) is False:
                    wrong.append(label)
        if wrong:
            got = res.get("answer") or (res.get("sentence") or "")[:40]
            ask = " / ".join(list(q.history) + [q.q])
            out.append(f"| {_md(q.id)} | {_md(q.kind)} | {_md(ask)} | {_md(' / '.join(q.answers) or '-')} "
                       f"| {_md(got or '-')} | {', '.join(wrong)} |")
    return out if len(out) > 2 else ["None."]


def chart(path: Path, summaries: dict[str, dict], kinds: dict[str, dict]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(15, 5.5))
    _bars(a, list(summaries), CHART_CONFIG, lambda n, m: summaries[n].get(m))
    a.set_title("Metrics per configuration")
    _bars(b, list(kinds), CHART_KIND, lambda k, m: kinds[k].get(m))
    b.set_title("Chosen configuration, per question kind")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _bars(ax, groups: list[str], series: list[str], get) -> None:
    width = 0.8 / max(len(series), 1)
    for i, m in enumerate(series):
        xs = [g + i * width for g in range(len(groups))]
        ax.bar(xs, [get(g, m) or 0.0 for g in groups], width, label=m)  # n/a drawn as 0
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
    ax.set_xticklabels([g.encode("ascii", "replace").decode() for g in groups], rotation=30, ha="right")
    ax.set_ylim(0, 1.22)  # headroom so the legend does not cover the bars
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, ncol=4, loc="upper center")


def write_report(report_dir: Path, summaries: dict, kinds: dict, rows: dict, results: dict,
                 questions: list[Question], chosen: str) -> list[Path]:
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for q in questions:
        counts[q.kind] = counts.get(q.kind, 0) + 1
    parts = [
        "# Evaluation report", "",
        f"{len(questions)} questions ({sum(q.answerable for q in questions)} answerable); kinds: "
        + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + ".", "",
        ABOUT,
        "## Overall, per configuration", "", md_table("configuration", summaries, OVERALL), "",
        f"## Per kind, configuration `{chosen}`", "", md_table("kind", kinds[chosen], OVERALL), "",
        "## Per kind x configuration", "",
    ]
    for key, label in MAIN:
        parts += [f"### {label}", "", cross_table(key, kinds), ""]
    parts += [f"## Misses of `{chosen}`", ""] + misses(rows[chosen], results[chosen], questions)
    parts += ["", "![metrics per configuration and per kind](chart.png)", ""]
    md = report_dir / "report.md"
    md.write_text("\n".join(parts), encoding="utf-8")
    png = chart(report_dir / "chart.png", summaries, kinds[chosen])
    js = report_dir / "summary.json"
    js.write_text(json.dumps({n: {"overall": summaries[n], "by_kind": kinds[n]} for n in summaries},
                             ensure_ascii=False, indent=1), encoding="utf-8")
    return [md, png, js]
