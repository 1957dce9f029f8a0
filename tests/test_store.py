"""The index folder: round trip against NumPy, every staleness check, atomic saves."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import replace

import numpy as np
import pytest

from rag.store import folder as store
from rag.errors import IndexError_
from rag.store.folder import IndexStale
from rag.types import Chunk, Paragraph, Story

DIM = 16
CHUNKING = {"size": 160, "overlap": 0, "splitter": "news-v1"}
ISSUES = {"a.txt": "0" * 64, "b.txt": "1" * 64}


def make_corpus(n: int, seed: int = 0, label: str = "v1"):
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [
        Chunk(id=i, source="a.txt" if i % 2 else "b.txt", story=i % 3, title=f"标题{i % 3}", paragraph=1 + i % 4,
              text=f"{label} 第{i}段正文。", start=10 * i, end=10 * i + 8, runs=((0, 10 * i), (3, 10 * i + 5)))
        for i in range(n)
    ]
    stories = [
        Story(source="a.txt", index=k, headline=f"标题{k}", byline="记者 王明", date="3月12日",
              credits=("记者 周红 摄",), paragraphs=(Paragraph(f"{label}正文{k}", 5 * k, 5 * k + 4, ((0, 5 * k),)),))
        for k in range(3)
    ]
    return chunks, stories, vectors


def expected(**changes):
    e = store.expected_manifest("fake-model", DIM, CHUNKING, ISSUES)
    e.update(changes)
    return e


@pytest.fixture
def saved(tmp_path):
    chunks, stories, vectors = make_corpus(40)
    store.save(tmp_path, expected(), chunks, stories, vectors)
    return tmp_path, chunks, stories, vectors


def test_round_trip_keeps_chunks_and_stories(saved):
    index_dir, chunks, stories, _ = saved
    s = store.load(index_dir, expected())
    assert s.chunks == chunks
    assert s.stories == stories
    assert s.manifest["counts"] == {"chunks": 40, "stories": 3}
    assert s.manifest["model"] == "fake-model"


def test_faiss_search_equals_numpy_dot_product(saved):
    index_dir, _, _, vectors = saved
    s = store.load(index_dir, expected())
    rng = np.random.default_rng(7)
    queries = rng.standard_normal((5, DIM)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    k = 6
    scores, ids = s.vectors.search(queries, k)
    ref = queries @ vectors.T
    for q in range(len(queries)):
        top = np.argsort(-ref[q])[:k]
        assert list(ids[q]) == list(top)
        assert np.allclose(scores[q], ref[q][top], atol=1e-5)


def test_no_pickle_and_plain_files(saved):
    current = saved[0] / "current"
    assert {p.name for p in current.iterdir()} == {"manifest.json", store.SEGMENTS, *store.FILES}
    assert all(p.suffix == ".npy" for p in (current / store.SEGMENTS).iterdir())
    lines = (current / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40 and json.loads(lines[3])["id"] == 3


@pytest.mark.parametrize("key, value", [
    ("model", "another-model"),
    ("dim", DIM * 2),
    ("chunking", {"size": 200, "overlap": 20, "splitter": "news-v1"}),
    ("issues", {"a.txt": "0" * 64, "b.txt": "2" * 64}),
    ("issues", {"a.txt": "0" * 64}),  # an issue removed
    ("format", store.FORMAT + 1),
])
def test_changed_expectation_is_stale(saved, key, value):
    with pytest.raises(IndexStale, match=key):
        store.load(saved[0], expected(**{key: value}))


def test_tampered_chunks_fail_checksum(saved):
    path = saved[0] / "current" / "chunks.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace("第3段", "第9段"), encoding="utf-8")
    with pytest.raises(IndexStale, match="checksum.*chunks.jsonl"):
        store.load(saved[0], expected())


@pytest.mark.parametrize("name", store.FILES)
def test_deleted_file(saved, name):
    (saved[0] / "current" / name).unlink()
    with pytest.raises(IndexStale, match=f"missing {name}"):
        store.load(saved[0], expected())


@pytest.mark.parametrize("field", ["chunks", "stories"])
def test_manifest_with_wrong_counts(saved, field):
    path = saved[0] / "current" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["counts"][field] += 1
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexStale, match="counts"):
        store.load(saved[0], expected())


def test_unreadable_manifest(saved):
    (saved[0] / "current" / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexStale, match="manifest"):
        store.load(saved[0], expected())


def test_interrupted_build_without_manifest_is_not_loaded(tmp_path):
    # what a build killed before its rename leaves: a .build-* folder, no current
    chunks, stories, vectors = make_corpus(5)
    store.save(tmp_path, expected(), chunks, stories, vectors)
    os.replace(tmp_path / "current", tmp_path / ".build-killed")
    (tmp_path / ".build-killed" / "manifest.json").unlink()
    with pytest.raises(IndexStale, match="no complete index"):
        store.load(tmp_path, expected())


def test_current_without_manifest_is_not_loaded(saved):
    (saved[0] / "current" / "manifest.json").unlink()
    with pytest.raises(IndexStale, match="no complete index"):
        store.load(saved[0], expected())


def test_missing_index_dir_is_stale(tmp_path):
    with pytest.raises(IndexStale):
        store.load(tmp_path / "never-built", expected())


def test_save_rejects_vectors_of_wrong_shape(tmp_path):
    chunks, stories, vectors = make_corpus(5)
    with pytest.raises(IndexError_, match=r"\(4, 16\).*5 chunks"):
        store.save(tmp_path, expected(), chunks, stories, vectors[:4])
    assert not (tmp_path / "current").exists()


def test_second_save_replaces_first(saved):
    index_dir = saved[0]
    chunks, stories, vectors = make_corpus(7, seed=1, label="v2")
    store.save(index_dir, expected(model="m2"), chunks, stories, vectors)
    s = store.load(index_dir, expected(model="m2"))
    assert s.chunks == chunks
    with pytest.raises(IndexStale, match="model"):
        store.load(index_dir, expected())
    assert not list(index_dir.glob(".old-*"))


# ------------------------------------------------------- interrupted saves

def assert_first_build_intact(index_dir, chunks):
    s = store.load(index_dir, expected())
    assert s.chunks == chunks
    assert not list(index_dir.glob(".build-*")), "the failed build folder was left behind"


def test_failing_faiss_write_keeps_previous_index(saved, monkeypatch):
    import faiss

    index_dir, old_chunks, _, _ = saved

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", boom)
    chunks, stories, vectors = make_corpus(9, seed=2, label="v2")
    with pytest.raises(OSError, match="disk full"):
        store.save(index_dir, expected(), chunks, stories, vectors)
    assert_first_build_intact(index_dir, old_chunks)


def test_failing_json_midway_keeps_previous_index(saved, monkeypatch):
    index_dir, old_chunks, _, _ = saved
    real_dumps, calls = json.dumps, []

    def flaky(*a, **k):
        calls.append(1)
        if len(calls) == 4:  # in the middle of chunks.jsonl
            raise KeyboardInterrupt
        return real_dumps(*a, **k)

    monkeypatch.setattr(store.json, "dumps", flaky)
    chunks, stories, vectors = make_corpus(9, seed=2, label="v2")
    with pytest.raises(KeyboardInterrupt):
        store.save(index_dir, expected(), chunks, stories, vectors)
    monkeypatch.undo()
    assert_first_build_intact(index_dir, old_chunks)


def test_failing_final_rename_keeps_previous_index(saved, monkeypatch):
    index_dir, old_chunks, _, _ = saved
    real_replace = os.replace

    def replace(src, dst):
        if str(src).rsplit(os.sep, 1)[-1].startswith(".build-"):
            raise OSError("rename failed")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", replace)
    chunks, stories, vectors = make_corpus(9, seed=2, label="v2")
    with pytest.raises(OSError):
        store.save(index_dir, expected(), chunks, stories, vectors)
    monkeypatch.undo()
    assert_first_build_intact(index_dir, old_chunks)


def test_fresh_leftover_build_folder_is_not_swept_but_old_one_is(saved):
    index_dir = saved[0]
    fresh = index_dir / ".build-fresh"
    stale = index_dir / ".build-stale"
    for d in (fresh, stale):
        shutil.copytree(index_dir / "current", d)
    long_ago = 10_000
    os.utime(stale, (os.stat(stale).st_atime - long_ago, os.stat(stale).st_mtime - long_ago))
    chunks, stories, vectors = make_corpus(3, seed=3)
    store.save(index_dir, expected(), chunks, stories, vectors)
    # a build younger than a minute may belong to another process still writing it
    assert fresh.exists()
    assert not stale.exists()


# ------------------------------------------------------------------ segments and saved terms

def one_issue_each(n: int = 12):
    """A corpus whose chunks come issue by issue (a.txt, then b.txt), as a build makes them."""
    chunks, stories, vectors = make_corpus(n)
    chunks = [replace(c, source="a.txt" if c.id < n // 2 else "b.txt") for c in chunks]
    return chunks, stories, vectors


def test_segments_hold_each_issues_vectors(tmp_path):
    chunks, stories, vectors = one_issue_each()
    store.save(tmp_path, expected(), chunks, stories, vectors)
    s = store.load(tmp_path, expected())
    segs = s.manifest["segments"]
    assert [(x["issue"], x["chunks"]) for x in segs] == [("a.txt", 6), ("b.txt", 6)]
    old = store.previous_segments(tmp_path, "fake-model", DIM)
    for seg, rows in zip(segs, (slice(0, 6), slice(6, 12))):
        assert seg["key"] == store.segment_key("fake-model", DIM, chunks[rows])
        assert np.array_equal(store.read_segment(old[seg["key"]], 6, DIM), vectors[rows])
    assert store.previous_segments(tmp_path, "another-model", DIM) == {}  # another model's vectors are never reused


def test_damaged_or_missing_segment(tmp_path):
    chunks, stories, vectors = one_issue_each()
    store.save(tmp_path, expected(), chunks, stories, vectors)
    old = store.previous_segments(tmp_path, "fake-model", DIM)
    first, second = sorted(old.values(), key=lambda x: x["issue"])
    raw = bytearray(first["path"].read_bytes())
    raw[-1] ^= 0xFF
    first["path"].write_bytes(bytes(raw))
    assert store.read_segment(first, 6, DIM) is None  # embedded again, not trusted
    assert store.read_segment(second, 7, DIM) is None  # wrong count
    second["path"].unlink()
    assert store.read_segment(second, 6, DIM) is None
    with pytest.raises(IndexStale, match="missing segment of b.txt"):
        store.load(tmp_path, expected())


def test_saved_terms_round_trip_and_are_checked(tmp_path):
    from rag.search.lexical import Terms

    chunks, stories, vectors = one_issue_each()
    terms = Terms.of([{"南湖": 1 + i % 3, "p": 2} for i in range(len(chunks))])
    store.save(tmp_path, expected(), chunks, stories, vectors, terms, "f" * 64)
    s = store.load(tmp_path, expected())
    back = store.load_terms(s)
    assert s.manifest["lexicon"] == "f" * 64 and back.vocab == terms.vocab
    assert all(np.array_equal(getattr(back, k), getattr(terms, k)) for k in ("offsets", "ids", "counts"))
    path = tmp_path / "current" / "terms.json"
    path.write_text(json.dumps(["南湖", "q"]), encoding="utf-8")
    with pytest.raises(IndexStale, match="checksum.*terms.json"):
        store.load(tmp_path, expected())
    short = Terms(terms.vocab, terms.offsets[:-1], terms.ids, terms.counts)
    with pytest.raises(IndexError_, match="term counts"):
        store.save(tmp_path, expected(), chunks, stories, vectors, short, "f" * 64)


def test_previous_terms_are_offered_per_issue_only_when_whole_and_cut_alike(tmp_path):
    from rag.search.lexical import Terms

    chunks, stories, vectors = one_issue_each()
    terms = Terms.of([{f"t{i}": 1, "p": 2} for i in range(len(chunks))])
    store.save(tmp_path, expected(), chunks, stories, vectors, terms, "f" * 64, ["赵立新"], "b" * 64)
    prev = store.previous_terms(tmp_path, "b" * 64)
    assert prev.names == ["赵立新"]
    for group in store.by_issue(chunks):
        rows = prev.rows[store.segment_key(expected()["model"], expected()["dim"], group)]
        assert [prev.terms.doc(i) for i in rows] == [terms.doc(c.id) for c in group]
    assert store.previous_terms(tmp_path, "c" * 64) is None  # cut by other code or another dictionary
    assert store.previous_terms(tmp_path / "nowhere", "b" * 64) is None
    with open(tmp_path / "current" / "terms.npz", "ab") as f:
        f.write(b"\0")
    assert store.previous_terms(tmp_path, "b" * 64) is None  # damaged: every issue is cut again


def test_saved_terms_out_of_range_are_stale(tmp_path):
    from rag.search.lexical import Terms

    chunks, stories, vectors = one_issue_each()
    bad = Terms(["a"], np.arange(len(chunks) + 1, dtype=np.int64), np.full(len(chunks), 3, dtype=np.int32),
                np.ones(len(chunks), dtype=np.int32))  # term 3 of a one-word vocabulary
    store.save(tmp_path, expected(), chunks, stories, vectors, bad, "f" * 64)
    with pytest.raises(IndexStale, match="ids or counts"):
        store.load_terms(store.load(tmp_path, expected()))


def test_an_index_of_another_format_is_stale_as_such(saved):
    path = saved[0] / "current" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m["format"] = 1
    del m["segments"]  # what a format 1 index lacks
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexStale, match="format changed: index has 1"):
        store.load(saved[0], expected())
