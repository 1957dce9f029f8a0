"""The evaluation sets, by name: where their issues and questions are.

Takes a set name; gives its issues folder and questions file, laying out the
outside sets (eval/external.py) into a work folder first. `REPORTED` are the
sets `python -m eval run` reports side by side; `FITTING` are used only by the
fitting scripts (eval/fit.py), never reported as results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eval.external import VARIANTS, layout

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


@dataclass(frozen=True)
class EvalSet:
    name: str
    about: str
    issues: Path | None = None  # a folder in the repo, or None for an outside set
    questions: Path | None = None

    @property
    def index_name(self) -> str:
        """Sets laid out from the same articles share an index folder (drcd, drcd-fit)."""
        v = VARIANTS.get(self.name) if self.issues is None else None
        if v is None:
            return self.name
        missing = "".join(str(g) for g in sorted(set(range(5)) - set(v.indexed))) if v.indexed is not None else ""
        return f"{v.source}-{'without-' + missing if missing else 'all'}"

    def prepare(self, work: Path) -> tuple[Path, Path]:
        """(issues folder, questions file), laid out under `work` for an outside set."""
        if self.issues is not None:
            return self.issues, self.questions
        return layout(self.name, Path(work) / self.name)


def _beat(name: str, about: str) -> EvalSet:
    return EvalSet(name, about, HERE / "beats" / name / "issues", HERE / "beats" / name / "questions.jsonl")


def _devnews(name: str, about: str) -> EvalSet:
    d = HERE / "devnews" / name
    return EvalSet(f"news-{name}", about, d / "issues", d / "questions.jsonl")


# Made-up newspaper issues written for fitting (eval/devnews/*/README.md): the
# development sets are otherwise encyclopedia articles (CMRC, DRCD) and two issues.
DEVNEWS = [
    _devnews("health", "made-up issue 柏川县: health care, 40 questions: fitting only"),
    _devnews("transport", "made-up issue 青岚县 (not the weather beat's): transport, 40 questions: fitting only"),
    _devnews("education", "made-up issue 柘川县: education, 40 questions: fitting only"),
    _devnews("culture", "made-up issue 桐溪县: culture and tourism, 40 questions: fitting only"),
    _devnews("environment", "made-up issue 澄川县: environment and energy, 40 questions: fitting only"),
    _devnews("business", "made-up issue 柘川县 (not education's): firms and technology, 40 questions: fitting only"),
]


SETS: dict[str, EvalSet] = {s.name: s for s in [
    EvalSet("shipped", "the first issue (菏泽开发区), 121 questions written while building",
            ROOT / "data" / "issues", HERE / "questions.jsonl"),
    EvalSet("heldout", "made-up issue 水城县, 40 questions (used for fixes since)",
            HERE / "heldout" / "issues", HERE / "heldout" / "questions.jsonl"),
    EvalSet("heldout2", "made-up issue 临海区, 40 questions (used for fixes since)",
            HERE / "heldout2" / "issues", HERE / "heldout2" / "questions.jsonl"),
    _beat("courts", "made-up issue 柳溪县: courts and law, 40 questions"),
    _beat("sport", "made-up issue 澜江市: sport, 40 questions"),
    _beat("weather", "made-up issue 青岚县: weather and disaster, 40 questions"),
    _beat("civic", "made-up issue 澄阳县: schools, health, culture, 40 questions"),
    EvalSet("cmrc", "CMRC 2018 trial, all questions, every article indexed"),
    EvalSet("cmrc-absent", "CMRC 2018 trial group 0 asked without its articles (all unanswerable)"),
    EvalSet("drcd", "DRCD dev group 0 (Traditional), every article indexed"),
    EvalSet("drcd-absent", "DRCD dev group 0 asked without its articles (all unanswerable)"),
    EvalSet("drcd-fit", "DRCD dev group 4: fitting only"),
    EvalSet("drcd-fit-absent", "DRCD dev group 4 without its articles: fitting only"),
    EvalSet("drcd-fit-made", "DRCD dev group 4 with one word of each question replaced (articles indexed): fitting only"),
    EvalSet("cmrc-fit", "CMRC 2018 dev pool group 4 (../shared/data): fitting only"),
    EvalSet("cmrc-fit-absent", "CMRC 2018 dev pool group 4 without its articles: fitting only"),
    EvalSet("cmrc-fit-made", "CMRC 2018 dev pool group 4 with one word of each question replaced: fitting only"),
    *DEVNEWS,
]}
assert all(s.issues is not None or s.name in VARIANTS for s in SETS.values())
FITTING = ("drcd-fit", "drcd-fit-absent", "drcd-fit-made", "cmrc-fit", "cmrc-fit-absent", "cmrc-fit-made",
           *(s.name for s in DEVNEWS))
REPORTED = tuple(n for n in SETS if n not in FITTING)
QUICK = ("shipped", "heldout", "heldout2", "courts", "sport", "weather", "civic")


def names_from(arg: str) -> list[str]:
    """Comma-separated set names; `all` = REPORTED, `quick` = the made-up issues."""
    out: list[str] = []
    for n in (x.strip() for x in arg.split(",")):
        if n == "all":
            out += REPORTED
        elif n == "quick":
            out += QUICK
        elif n:
            out.append(n)
    bad = [n for n in out if n not in SETS]
    if bad or not out:
        raise ValueError(f"unknown evaluation set(s) {', '.join(bad) or '(none)'}; "
                         f"choose from {', '.join(SETS)}, all, quick")
    return list(dict.fromkeys(out))
