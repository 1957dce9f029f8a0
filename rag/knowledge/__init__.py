"""Knowledge as data: hand-written word patterns and fitted numbers, loaded from files.

`language()` is rag/knowledge/zh.json (question words and patterns, written by
hand, each entry saying what it is for); `fitted()` is
rag/knowledge/decisions.json (weights and thresholds fitted by eval/fit.py on
development data, with the data and figures they came from). The reader's
weights (reader.safetensors, reader.json) come from eval/fit_reader.py. Code
holds mechanisms; these files hold what was chosen or learned.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
READER_WEIGHTS = HERE / "reader.safetensors"
READER_ABOUT = HERE / "reader.json"
DECISIONS = HERE / "decisions.json"


@lru_cache(maxsize=1)
def language() -> dict:
    return json.loads((HERE / "zh.json").read_text(encoding="utf-8"))


def fitted(path: Path = DECISIONS) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))
