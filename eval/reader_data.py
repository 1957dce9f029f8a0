"""The reader's development data: every SQuAD-style set we have, split by article.

Takes the four files of ../shared/data (CMRC 2018 trial and dev pool, DRCD dev
and test pool; the first and third are also kept in eval/data) and gives
(question, passage, answer) items in Simplified Chinese, each tagged with the
part it belongs to:
- `train`: what the reader is fine-tuned on: CMRC dev pool groups 0-3, DRCD dev
  groups 1-3, and the DRCD test pool's articles whose title is not in DRCD dev
  groups 0 or 4;
- `select`: held out from training, for choosing a recipe and fitting the
  answer stage's decisions: CMRC dev pool group 4, DRCD dev group 4 and the
  test pool's articles of those titles;
- `report`: never trained or fitted on, the figures we publish: CMRC trial (all
  of it, as `python -m eval run --sets cmrc` asks it), DRCD dev group 0 (the
  `drcd` set) and the test pool's articles of those titles.
Groups are eval/external.py's (position in id order, five groups); DRCD dev
and test share titles (other paragraphs of the same Wikipedia article), so the
test pool follows the dev group of its title, and a title the dev set lacks is
trained on. Traditional text is converted with OpenCC t2s, kept only where the
conversion keeps every offset.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from eval.external import GROUPS, load_articles

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("RAG_SHARED_DATA") or ROOT.parent / "shared" / "data")
FILES = {
    "cmrc-trial": ("cmrc2018", "cmrc2018_trial.json"),
    "cmrc-dev-pool": ("cmrc2018", "cmrc2018_dev_pool.json"),
    "drcd-dev": ("drcd", "DRCD_dev.json"),
    "drcd-test-pool": ("drcd", "DRCD_test_pool.json"),
}
TRADITIONAL = {"drcd-dev", "drcd-test-pool"}
REPORT_GROUP, SELECT_GROUP = 0, GROUPS - 1  # as eval/external.py's drcd and drcd-fit sets


@dataclass(frozen=True)
class Item:
    question: str
    passage: str
    start: int  # the first answer's character offset in the passage
    answer: str  # the first answer (the training target)
    answers: tuple[str, ...]  # every gold answer (for scoring)
    source: str  # a key of FILES
    title: str
    part: str  # train, select or report


def _simplified():
    import opencc

    t2s = opencc.OpenCC("t2s")

    def convert(s: str) -> str | None:
        c = t2s.convert(s)
        return c if len(c) == len(s) else None  # offsets must survive the conversion

    return convert


def _raw(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["data"]


def part_of(source: str, group: int, dev_group_of_title: int | None) -> str:
    """Which part an article is in, by its set, its own group and (for the DRCD
    test pool) the DRCD dev group of its title."""
    if source == "cmrc-trial":
        return "report"
    if source == "drcd-test-pool":
        group = dev_group_of_title if dev_group_of_title is not None else -1
    if source in ("drcd-dev", "drcd-test-pool"):
        return {REPORT_GROUP: "report", SELECT_GROUP: "select"}.get(group, "train")
    return "select" if group == SELECT_GROUP else "train"  # cmrc-dev-pool: its own groups


def load_items(shared: Path = SHARED, sources=tuple(FILES)) -> list[Item]:
    """Every usable question of `sources`, in file order, with its part."""
    convert = _simplified()
    needed = dict.fromkeys((*sources, "drcd-dev"))  # DRCD dev's groups place the test pool's titles
    missing = [str(shared.joinpath(*FILES[s])) for s in needed if not shared.joinpath(*FILES[s]).is_file()]
    if missing:
        raise FileNotFoundError(f"development data not found: {', '.join(missing)} (set RAG_SHARED_DATA)")
    dev_titles = {a.title: a.group for a in load_articles(shared.joinpath(*FILES["drcd-dev"]))}
    items: list[Item] = []
    for source in sources:
        path = shared.joinpath(*FILES[source])
        group = {a.id: a.group for a in load_articles(path)}
        for n, art in enumerate(_raw(path)):
            title = art["title"].strip()
            part = part_of(source, group[str(art.get("id", n))], dev_titles.get(title))
            simple = convert if source in TRADITIONAL else (lambda s: s)
            for p in art["paragraphs"]:
                ctx = simple(p["context"])
                if ctx is None:
                    continue
                for qa in p["qas"]:
                    q = simple(qa["question"].strip())
                    answers = [a for a in qa["answers"] if a["text"].strip()]
                    if not q or not answers:
                        continue
                    texts = tuple(dict.fromkeys(t for t in (simple(a["text"].strip()) for a in answers) if t))
                    first, at = simple(answers[0]["text"]), answers[0]["answer_start"]
                    if not first or not texts:
                        continue
                    start = at if ctx[at:].startswith(first) else ctx.find(first)
                    if start < 0:
                        continue
                    items.append(Item(q, ctx, start, first, texts, source, title, part))
    return items


def counts(items: list[Item]) -> dict[str, dict[str, int]]:
    """Questions per part and set, for the fitted file's provenance."""
    out: dict[str, dict[str, int]] = {}
    for it in items:
        out.setdefault(it.part, {}).setdefault(it.source, 0)
        out[it.part][it.source] += 1
    return {p: dict(sorted(v.items())) for p, v in sorted(out.items())}
