"""eval/reader_data.py and eval/fit_reader.py: which article goes where, and the
pieces that make a training run seeded and resumable (no model, no torch)."""

from __future__ import annotations

import json

import pytest

from eval import fit_reader, reader_data


@pytest.mark.parametrize("source, group, title_group, part", [
    ("cmrc-trial", 2, None, "report"),  # never trained on: `python -m eval run --sets cmrc` reports all of it
    ("cmrc-dev-pool", 0, None, "train"),
    ("cmrc-dev-pool", 4, None, "select"),
    ("drcd-dev", 0, None, "report"),  # the `drcd` set
    ("drcd-dev", 4, None, "select"),  # the `drcd-fit` set
    ("drcd-dev", 2, None, "train"),
    ("drcd-test-pool", 1, 0, "report"),  # another paragraph of a reported article: never trained on
    ("drcd-test-pool", 0, 4, "select"),
    ("drcd-test-pool", 4, 3, "train"),  # its own group does not count, its title's does
    ("drcd-test-pool", 0, None, "train"),  # a title DRCD dev lacks
])
def test_each_article_goes_to_one_part_by_its_title(source, group, title_group, part):
    assert reader_data.part_of(source, group, title_group) == part


def _squad(path, articles):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"data": articles}, ensure_ascii=False), encoding="utf-8")


def test_items_are_simplified_with_their_offsets_and_split_by_title(tmp_path):
    ctx = "臺灣的首都是臺北。"
    qa = {"id": "q1", "question": "臺灣的首都是哪裡？", "answers": [{"text": "臺北", "answer_start": 6}]}
    dev = [{"id": str(n), "title": f"條目{n}", "paragraphs": [{"context": ctx, "qas": [dict(qa, id=f"d{n}")]}]}
           for n in range(5)]
    test = [{"id": "t0", "title": "條目0", "paragraphs": [{"context": ctx, "qas": [dict(qa, id="t0")]}]},
            {"id": "t1", "title": "新條目", "paragraphs": [{"context": ctx, "qas": [dict(qa, id="t1")]}]}]
    simple = {"id": "TRIAL_1", "title": "北京", "paragraphs": [{"context": "北京是首都。", "qas": [
        {"id": "c1", "question": "哪里是首都？", "answers": [{"text": "北京", "answer_start": 0}]},
        {"id": "c2", "question": "空答案？", "answers": [{"text": " ", "answer_start": 0}]}]}]}
    _squad(tmp_path / "drcd" / "DRCD_dev.json", dev)
    _squad(tmp_path / "drcd" / "DRCD_test_pool.json", test)
    _squad(tmp_path / "cmrc2018" / "cmrc2018_trial.json", [simple])
    _squad(tmp_path / "cmrc2018" / "cmrc2018_dev_pool.json", [dict(simple, id="DEV_0")])
    items = reader_data.load_items(tmp_path)
    assert len(items) == 5 + 2 + 1 + 1  # the question with a blank answer is left out
    first = next(it for it in items if it.source == "drcd-dev")
    assert first.passage == "台湾的首都是台北。" and first.question == "台湾的首都是哪里？"
    assert first.passage[first.start:first.start + len(first.answer)] == first.answer == "台北"
    assert [it.part for it in items if it.source == "drcd-test-pool"] == ["report", "train"]  # 條目0 is dev group 0
    assert reader_data.counts(items)["report"] == {"cmrc-trial": 1, "drcd-dev": 1, "drcd-test-pool": 1}


def test_missing_data_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="RAG_SHARED_DATA"):
        reader_data.load_items(tmp_path)


def test_a_runs_order_and_dropout_depend_only_on_the_seed_and_the_step():
    assert fit_reader.epoch_order(50, 0, 1) == fit_reader.epoch_order(50, 0, 1)
    assert fit_reader.epoch_order(50, 0, 1) != fit_reader.epoch_order(50, 0, 2)
    assert sorted(fit_reader.epoch_order(50, 3, 0)) == list(range(50))
    assert fit_reader.hash_seed(0, 7) == fit_reader.hash_seed(0, 7) != fit_reader.hash_seed(0, 8)
    cfg = dict(fit_reader.DEFAULTS)
    assert fit_reader.run_key(cfg) == fit_reader.run_key(dict(reversed(list(cfg.items()))))
    assert fit_reader.run_key(cfg) != fit_reader.run_key(dict(cfg, epochs=3.0))
