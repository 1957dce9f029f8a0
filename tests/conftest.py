"""Shared fixtures: a fake deterministic embedder and tiny made-up issues.

The fake embedder hashes character unigrams and bigrams into a fixed number of
dimensions, so texts sharing words get similar vectors. It is right for fast
unit tests; the real model runs in tests marked `slow`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REAL_ISSUE = ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt"


class FakeEmbedder:
    name = "fake-hash-bigrams"
    dim = 64

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = list(text) + [text[i : i + 2] for i in range(len(text) - 1)]
        for g in grams:
            if g.isspace():
                continue
            h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if len(g) == 1 else 2.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def encode_queries(self, texts):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def encode_passages(self, texts, progress=None):
        return np.stack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


TINY_ISSUE = """\
南湖新区举行春季招聘会

本报讯(记者 王明)3月12日,南湖新区春季招聘会在会展中心举行。共有120家企业参加,提供岗位3500个。

新区人社局局长赵立新介绍,今年计划新增就业岗位1.2万个,
比去年增长15%。

记者 周红 摄

城东污水处理厂二期投产

本报讯(通讯员 陈晨)4月8日,城东污水处理厂二期工程正式投产,总投资2.6亿元,日处理能力10万吨。
"""


@pytest.fixture
def tiny_data(tmp_path):
    d = tmp_path / "issues"
    d.mkdir()
    (d / "tiny-issue.txt").write_text(TINY_ISSUE, encoding="utf-8")
    return d


class FakeReader:
    """Reads like a span reader, without a model: one window per passage, one
    token per character; the clause sharing most characters with the question
    gets that count as its start and end scores; a fixed no-answer score.
    Deterministic, for fast tests of the reader stage."""

    NULL = 2.0

    def read(self, question, passages):
        import re

        import numpy as np

        from rag.answer.reader import Reading, Window

        windows = []
        for i, text in enumerate(passages):
            start = np.zeros(len(text) + 1, dtype=np.float32)
            end = np.zeros(len(text) + 1, dtype=np.float32)
            start[0] = end[0] = self.NULL / 2
            pos = 0
            for part in re.split(r"(?<=[，。；！？])", text):
                core = part.rstrip("，。；！？")
                if core.strip():
                    score = float(sum(1 for c in set(core) if c in question))
                    start[pos + 1] = max(start[pos + 1], score / 2)
                    end[pos + len(core)] = max(end[pos + len(core)], score / 2)
                pos += len(part)
            windows.append(Window(i, [None] + [(k, k + 1) for k in range(len(text))], start, end))
        return Reading(windows, max_answer_tokens=60)


@pytest.fixture(autouse=True)
def fake_reader_unless_slow(request, monkeypatch):
    """Fast tests read with FakeReader; tests marked slow load the real one."""
    if request.node.get_closest_marker("slow") is None:
        from rag.answer import reader

        monkeypatch.setattr(reader, "load_default", lambda settings: FakeReader())


# Debian's Chromium, driven by playwright: the browser tests' one browser per module
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()
