"""rag.ingest.chunk: number-safe Chinese splitting with source offsets."""

import re

import pytest

from conftest import REAL_ISSUE
from rag.ingest.chunk import chunk_stories
from rag.ingest.issues import parse_issue, read_issue
from rag.ingest.spans import locate
from rag.types import Chunk

# Things a boundary must never cut: decimals, amounts, percentages, dates,
# digit groups, codes like 5G, quoted codes like “3221”.
NUMBERISH = re.compile(r"\d+(?:[.,:]\d+)*(?:%|[万亿]?元|[年月日个座亩])?|\d+月\d+日|[A-Za-z0-9]+|“[^”]{1,8}”")

NUMBERS = (
    "数字港\n\n本报讯(记者 钱七)5月29日,总投资3.5亿元,增长12.5%,签约“3221”项目1,000个,建成5G基站200座,"
    "10:30开工,平均每天投资0.75亿元,全年目标300亿元。他说:“今年要加快建设。”记者了解到,"
    "项目二期将于2022年6月30日完工,届时产值将达到1.2万亿元。\n"
)


def paragraph_chunks(chunks):
    out = {}
    for c in chunks:
        out.setdefault((c.source, c.story, c.paragraph), []).append(c)
    return out


def check(stories, text, size, overlap=0):
    chunks = chunk_stories(stories, size, overlap)
    assert [c.id for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert locate(c.text, text, c.start, c.end), c.text
        assert c.runs and c.runs[0][0] == 0
        assert c.title == stories[c.story].title
    if overlap == 0:
        groups = paragraph_chunks(chunks)
        for s in stories:
            for n, p in enumerate(s.paragraphs, start=1):
                parts = groups[(s.source, s.index, n)]
                assert "".join(c.text for c in parts) == p.text
                cut = 0
                for c in parts[:-1]:
                    cut += len(c.text)
                    for m in NUMBERISH.finditer(p.text):
                        assert not m.start() < cut < m.end(), (m.group(), c.text)
                    # a closing quote never opens a chunk
                    assert p.text[cut] not in "”’」』）", c.text
    return chunks


@pytest.fixture(scope="module")
def real():
    text = read_issue(REAL_ISSUE)
    return text, parse_issue(text, REAL_ISSUE.name)


@pytest.mark.parametrize("size", [20, 60, 160, 400])
def test_real_issue_chunks(real, size):
    text, stories = real
    chunks = check(stories, text, size)
    assert {c.story for c in chunks} == {0, 1, 2, 3}
    assert min(c.paragraph for c in chunks) == 1
    assert len(chunks) >= sum(len(s.paragraphs) for s in stories)


def test_real_issue_chunks_with_overlap(real):
    text, stories = real
    chunks = check(stories, text, 80, 20)
    assert len(chunks) > len(chunk_stories(stories, 80, 0)) - 1


@pytest.mark.parametrize("size", [8, 15, 30, 60])
def test_numbers_and_quotes_are_never_cut(size):
    stories = parse_issue(NUMBERS, "n.txt")
    chunks = check(stories, NUMBERS, size)
    assert any(c.text.endswith("。”") for c in chunks) or size >= 60
    assert len(chunks) > 1


def test_sentence_end_stays_with_its_sentence():
    stories = parse_issue(NUMBERS, "n.txt")
    chunks = chunk_stories(stories, 30, 0)
    assert all(not c.text.startswith(("。", "，", "”")) for c in chunks)


def test_long_sentence_without_separators_stays_whole():
    text = "长句\n\n" + "甲" * 50 + "3.5亿元。\n"
    stories = parse_issue(text, "l.txt")
    chunks = check(stories, text, 10)
    assert len(chunks) == 1 and chunks[0].text.endswith("3.5亿元。")


def test_bad_settings_name_both_values():
    with pytest.raises(ValueError, match=r"chunk overlap \(50\) larger than chunk size \(40\)"):
        chunk_stories([], 40, 50)
    with pytest.raises(ValueError):
        chunk_stories([], 0, 0)


def test_chunk_json_round_trip(real):
    _, stories = real
    c = chunk_stories(stories, 160, 0)[5]
    assert Chunk.from_json(c.to_json()) == c
    assert c.embed_text.startswith(stories[c.story].title)
