"""eval.metrics against hand-computed cases (and numpy for percentiles)."""

import numpy as np
import pytest

from eval import metrics as m


def cite(text, story="Story A", rank=1, source="a.txt", start=0, end=0):
    return {"rank": rank, "story": story, "paragraph": 1, "text": text, "score": 0.5,
            "source": source, "start": start, "end": end}


def test_normalise_folds_width_punctuation_and_space():
    assert m.normalise("３００亿元") == "300亿元"
    assert m.normalise("知和（山东）大药厂") == m.normalise("知和(山东)大药厂")
    assert m.normalise("发现一起，查处一起。") == m.normalise("发现一起,查处一起.")
    assert m.normalise("“3221”产业") == m.normalise('"3221"产业')
    assert m.normalise("4平方\n\n公里 ") == "4平方公里"
    assert m.normalise("Heze  Zone") == "hezezone"
    assert m.normalise(None) == "" and m.normalise("") == ""


def test_contains_gold_any_answer_counts():
    assert m.contains_gold("计划投资300亿元，主要发展", ["100亿元", "300亿元"])
    assert not m.contains_gold("计划投资300亿元", ["400亿元"])
    assert not m.contains_gold(None, ["300亿元"])
    assert not m.contains_gold("任何文字", [""])  # an empty gold must not match everything


def test_short_answer_length_bound():
    # gold of 5 characters: bound max(10, 15) = 15
    assert m.is_short_answer("300亿元", ["300亿元"])
    assert m.is_short_answer("计划投资300亿元", ["300亿元"])
    assert m.is_short_answer("x" * 10 + "300亿元", ["300亿元"])  # 15 characters
    assert not m.is_short_answer("x" * 11 + "300亿元", ["300亿元"])  # 16
    # gold of 12 characters: bound max(24, 22) = 24
    g = "一二三四五六七八九十甲乙"
    assert m.is_short_answer(g + "x" * 12, [g])
    assert not m.is_short_answer(g + "x" * 13, [g])
    assert not m.is_short_answer(None, [g])
    assert not m.is_short_answer("31个", ["300亿元"])
    # the bound uses the gold that matched
    assert m.is_short_answer("签约项目31个", ["签约项目31个，其中科研加工项目18个", "31个"])


def test_ranks_hit_and_reciprocal_rank():
    cites = [cite("无关"), cite("也无关"), cite("签约项目31个"), cite("开工建设13个")]
    assert m.first_gold_rank(cites, ["31个"]) == 3
    assert m.reciprocal_rank(cites, ["31个"]) == pytest.approx(1 / 3)
    assert m.hit_at(cites, ["31个"], 3)
    assert m.first_gold_rank(cites, ["13个"]) == 4
    assert not m.hit_at(cites, ["13个"], 3)
    assert m.reciprocal_rank(cites, ["13个"]) == 0.25
    assert m.reciprocal_rank(cites, ["99个"]) == 0.0
    assert m.reciprocal_rank([], ["31个"]) == 0.0


def test_story_at_1_uses_first_citation_only():
    cites = [cite("x", story="菏泽开发区：高标准打造现代医药港"), cite("y", story="秸秆禁烧在行动")]
    assert m.story_at_1(cites, "现代医药港")
    assert not m.story_at_1(cites, "秸秆禁烧")
    assert not m.story_at_1([], "现代医药港")


def test_traceable_with_real_locate():
    from rag.ingest.spans import locate

    src = "标题\n\n本报讯(记者 王明)3月12日,招聘会举行。共有120家企业参加。"
    i = src.index("共有")
    good = cite("共有120家企业参加。", start=i, end=len(src))
    widened = cite("共有１２０家企业参加。", start=i, end=len(src))  # full-width digits still locate
    shifted = cite("共有120家企业参加。", start=i + 1, end=len(src))
    wrong_file = cite("共有120家企业参加。", source="missing.txt", start=i, end=len(src))
    bad_offsets = cite("共有120家企业参加。", start=i, end=len(src) + 5)
    assert m.traceable([good, widened, shifted, wrong_file, bad_offsets], {"a.txt": src}, locate) == (2, 5)
    assert m.traceable([], {"a.txt": src}, locate) == (0, 0)


def test_score_answerable_refused_keyword_and_unanswerable():
    gold = {"kind": "amount", "story": "医药港", "answers": ["300亿元"]}
    cites = [cite("无关", story="秸秆禁烧在行动"), cite("计划投资300亿元", story="现代医药港")]
    ok = {"answerable": True, "answer": "300亿元", "sentence": "计划投资300亿元。", "citations": cites,
          "latency_ms": 12.0}
    row = m.score(ok, gold, (2, 2))
    assert row["story@1"] is False and row["sentence@1"] is True and row["short"] is True
    assert row["hit@3"] is True and row["rr"] == 0.5 and row["refused"] is False
    assert (row["traced"], row["cited"]) == (2, 2) and row["sentence_chars"] == 10

    refused = dict(ok, answerable=False)
    row = m.score(refused, gold)
    assert row["sentence@1"] is False and row["short"] is False  # a refusal is no answer
    assert row["hit@3"] is True and row["rr"] == 0.5  # retrieval still judged on the passages shown

    row = m.score(ok, dict(gold, kind="keyword"))
    assert row["short"] is None and row["sentence@1"] is True

    row = m.score(ok, {"kind": "unanswerable", "answers": []})
    assert all(row[k] is None for k in ("story@1", "sentence@1", "short", "hit@3", "rr"))
    assert row["gold_answerable"] is False


def test_percentile_matches_numpy():
    xs = [10.0, 20.0, 30.0, 40.0]
    assert m.percentile(xs, 50) == 25.0
    assert m.percentile(xs, 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    rng = np.random.default_rng(0)
    ys = list(rng.uniform(0, 100, 37))
    for p in (0, 50, 90, 95, 100):
        assert m.percentile(ys, p) == pytest.approx(np.percentile(ys, p))
    assert m.percentile([], 50) is None
    assert m.percentile([None, 7.0], 95) == 7.0


def row(kind, gold_answerable, refused, sent=None, short=None, lat=10.0, traced=1, cited=1, story=None):
    return {"kind": kind, "gold_answerable": gold_answerable, "refused": refused, "story@1": story,
            "sentence@1": sent, "short": short, "hit@3": sent, "rr": 1.0 if sent else (None if sent is None else 0.0),
            "traced": traced, "cited": cited, "latency_ms": lat, "sentence_chars": None}


def test_summarise_refusals_and_means():
    rows = [
        row("date", True, False, sent=True, short=True, lat=10, story=True),
        row("date", True, True, sent=False, short=False, lat=20, traced=0, cited=2, story=True),  # false refusal
        row("person", True, False, sent=True, short=None, lat=30, story=False),
        row("unanswerable", False, True, lat=40, cited=0, traced=0),  # correct refusal
        row("unanswerable", False, False, lat=50, cited=3, traced=3),  # missed refusal
    ]
    s = m.summarise(rows)
    assert s["n"] == 5
    assert s["sentence@1"] == pytest.approx(2 / 3)
    assert s["short"] == 0.5  # None rows are not applicable
    assert s["story@1"] == pytest.approx(2 / 3)
    assert s["mrr"] == pytest.approx(2 / 3)
    assert s["traceable"] == pytest.approx(5 / 7)  # (1+0+1+0+3) / (1+2+1+0+3)
    assert s["refusal_precision"] == 0.5  # 1 of 2 refusals was right
    assert s["refusal_recall"] == 0.5  # 1 of 2 unanswerable refused
    assert s["false_refusals"] == 1 and s["false_refusal_rate"] == pytest.approx(1 / 3)
    assert s["refused"] == 0.4
    assert s["latency_p50_ms"] == 30 and s["latency_p95_ms"] == pytest.approx(48.0)

    kinds = m.by_kind(rows)
    assert list(kinds) == ["date", "person", "unanswerable"]
    assert kinds["date"]["false_refusals"] == 1 and kinds["date"]["refusal_recall"] is None
    assert kinds["unanswerable"]["refusal_recall"] == 0.5 and kinds["unanswerable"]["sentence@1"] is None


def test_summarise_no_refusals_gives_undefined_precision():
    s = m.summarise([row("date", True, False, sent=True)])
    assert s["refusal_precision"] is None and s["refusal_recall"] is None and s["false_refusals"] == 0


def test_cmrc_scorer_matches_hand_computed_cases():
    # characters for Chinese, words for Latin runs, marks dropped (cmrc2018_evaluate.py v5)
    assert m.cmrc_segments("Lui Chi Hing，生于香港") == ["lui", "chi", "hing", "生", "于", "香", "港"]
    # longest common substring 4分钟 (3 tokens) of prediction 4分钟内 (4): P 3/4, R 1
    assert m.cmrc_f1("4分钟内", ["4分钟"]) == pytest.approx(2 * 0.75 / 1.75)
    # the best gold answer counts; marks do not
    assert m.cmrc_f1("《踢爆》", ["踢", "踢爆"]) == 1.0 and m.cmrc_em("《踢爆》", ["踢爆"])
    # common characters that are not contiguous do not count beyond the longest run
    assert m.cmrc_f1("甲乙丙丁", ["甲丙"]) == pytest.approx(2 * (1 / 4) * (1 / 2) / (1 / 4 + 1 / 2))
    assert m.cmrc_f1(None, ["踢爆"]) == 0.0 and not m.cmrc_em(None, ["踢爆"])


def test_score_counts_refused_short_answers_as_zero_and_precision_over_shown():
    gold = {"kind": "amount", "story": None, "answers": ["300亿元"]}
    right = m.score({"answerable": True, "answer": "300亿元", "sentence": "投资300亿元。"}, gold)
    hidden = m.score({"answerable": True, "answer": "300亿", "answer_shown": False, "sentence": "投资300亿元。"}, gold)
    refused = m.score({"answerable": False, "answer": "300亿元"}, gold)
    assert right["f1"] == 1.0 and right["shown"] and right["shown_right"]
    # tokens 300 亿 against 300 亿 元: P 1, R 2/3
    assert hidden["f1"] == pytest.approx(0.8) and not hidden["shown"] and hidden["shown_right"] is None
    assert refused["f1"] == 0.0 and not refused["shown"]
    s = m.summarise([right, hidden, refused])
    assert s["shown"] == pytest.approx(1 / 3) and s["shown_precision"] == 1.0
