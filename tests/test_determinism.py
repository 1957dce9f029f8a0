"""Same question, same index, same answer: under any hash seed.

Python salts str hashes per process (PYTHONHASHSEED), so anything that iterates
a set of words, or breaks a tie by whichever came first, can answer a question
in one process and refuse it in the next. Each seed runs in its own process on
the real model and the shipped issue, over every shipped question.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

SCRIPT = r"""
import json, sys
from rag.config import from_env
from rag.engine import Engine
engine = Engine.open(from_env(data_dir=sys.argv[1], index_dir=sys.argv[2]), progress=lambda m: None)
for line in open(sys.argv[3], encoding="utf-8"):
    q = json.loads(line)
    a = engine.ask(q["q"], q.get("history", [])).to_json()
    print(json.dumps({"id": q["id"], **a}, ensure_ascii=False, sort_keys=True))
"""


@pytest.mark.slow
def test_answers_do_not_depend_on_the_hash_seed(tmp_path):
    questions = ROOT / "eval" / "questions.jsonl"
    args = [sys.executable, "-c", SCRIPT, str(ROOT / "data" / "issues"), str(tmp_path / "index"), str(questions)]
    outputs = []
    for seed in ("0", "1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed, HF_HUB_OFFLINE="1", PYTHONPATH=str(ROOT))
        run = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        outputs.append(run.stdout.splitlines())
    assert len(outputs[0]) == sum(1 for line in questions.open(encoding="utf-8") if line.strip())
    for seed, out in zip(("1", "2"), outputs[1:]):
        differ = [json.loads(a)["id"] for a, b in zip(outputs[0], out) if a != b]
        assert not differ, f"PYTHONHASHSEED={seed} changes the answers to {differ}"
