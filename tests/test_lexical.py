"""BM25 and coverage against hand-computed values on a 3-document toy corpus.

The reference below is written out from the textbook (Lucene) BM25:
    idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
    score(d) = sum over distinct query terms t of
               idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))
with k1 = 1.2, b = 0.75. The first test pins literal numbers worked out on
paper, so a reference that drifted along with the code would still fail.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from rag.search.lexical import BM25

DOCS = [
    ["apple", "banana", "apple"],  # |d| = 3
    ["banana", "cherry"],  # |d| = 2
    ["cherry", "cherry", "date", "egg"],  # |d| = 4
]
N, AVGDL, K1, B = 3, 3.0, 1.2, 0.75
DF = {"apple": 1, "banana": 2, "cherry": 2, "date": 1, "egg": 1}


def ref_idf(df: float) -> float:
    return math.log(1 + (N - df + 0.5) / (df + 0.5))


def ref_score(query: list[str], doc: list[str]) -> float:
    total = 0.0
    for t in set(query):
        if t not in DF:
            continue
        tf = doc.count(t)
        total += ref_idf(DF[t]) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len(doc) / AVGDL))
    return total


@pytest.fixture
def bm25():
    return BM25(DOCS, k1=K1, b=B)


def test_single_term_against_numbers_worked_on_paper(bm25):
    # apple: df 1 -> idf = ln(1 + 2.5/1.5) = ln(8/3) = 0.980829
    # doc 0: tf 2, |d| = avgdl -> denominator 2 + 1.2 = 3.2 -> 0.980829 * 2 * 2.2 / 3.2 = 1.348640
    assert bm25.scores(["apple"]) == pytest.approx([1.348640, 0.0, 0.0], abs=1e-5)
    # cherry: df 2 -> idf = ln(1 + 1.5/2.5) = ln(1.6) = 0.470004
    # doc 1: tf 1, |d| 2 -> K = 1.2 * (0.25 + 0.5) = 0.9 -> 0.470004 * 2.2 / 1.9 = 0.544215
    # doc 2: tf 2, |d| 4 -> K = 1.2 * (0.25 + 1.0) = 1.5 -> 0.470004 * 4.4 / 3.5 = 0.590862
    assert bm25.scores(["cherry"]) == pytest.approx([0.0, 0.544215, 0.590862], abs=1e-5)


@pytest.mark.parametrize("query", [
    ["banana"],
    ["apple", "cherry"],
    ["banana", "cherry", "egg"],
    ["date", "egg", "apple", "banana"],
])
def test_scores_match_reference(bm25, query):
    expected = [ref_score(query, d) for d in DOCS]
    assert bm25.scores(query) == pytest.approx(expected, rel=1e-5)


def test_idf_matches_reference(bm25):
    for term, df in DF.items():
        assert bm25.term_idf(term) == pytest.approx(ref_idf(df))
    # a term in fewer documents weighs more
    assert bm25.term_idf("apple") > bm25.term_idf("banana")


def test_unseen_terms_add_nothing_to_scores(bm25):
    base = bm25.scores(["banana", "cherry"])
    with_unseen = bm25.scores(["banana", "cherry", "zebra", "gdp"])
    assert np.allclose(base, with_unseen)
    assert not bm25.scores(["zebra"]).any()


def test_unseen_term_weighs_more_than_any_seen_term(bm25):
    # treated as seen in half a document: ln(1 + 3/1) = ln 4
    assert bm25.term_idf("zebra") == pytest.approx(math.log(4.0))
    assert bm25.term_idf("zebra") > max(bm25.term_idf(t) for t in DF)


def test_coverage_hand_computed(bm25):
    apple, cherry = math.log(8 / 3), math.log(1.6)
    assert bm25.coverage(["apple", "cherry"], 0) == pytest.approx(apple / (apple + cherry))
    assert bm25.coverage(["apple", "cherry"], 1) == pytest.approx(cherry / (apple + cherry))
    assert bm25.coverage(["apple", "cherry"], 2) == pytest.approx(cherry / (apple + cherry))
    # every term present: full coverage; none present: zero
    assert bm25.coverage(["cherry", "date", "egg"], 2) == pytest.approx(1.0)
    assert bm25.coverage(["apple"], 2) == 0.0


def test_coverage_counts_distinct_terms_once(bm25):
    assert bm25.coverage(["apple", "apple", "cherry"], 0) == pytest.approx(bm25.coverage(["apple", "cherry"], 0))


def test_unseen_term_pulls_coverage_down(bm25):
    apple = math.log(8 / 3)
    # the unseen term weighs as much as the median known term (here apple itself): 1/2
    assert bm25.coverage(["apple", "zebra"], 0) == pytest.approx(0.5)
    assert bm25.weights(["apple", "zebra"]) == pytest.approx({"apple": apple, "zebra": apple})


def test_unseen_terms_alone_weigh_as_rarest(bm25):
    # nothing known to compare with: an unseen term gets the IDF of a term seen half a time
    assert bm25.weights(["zebra"]) == pytest.approx({"zebra": math.log(4.0)})
    assert bm25.coverage(["zebra"], 0) == 0.0


def test_empty_query_and_empty_corpus():
    assert BM25(DOCS).coverage([], 0) == 0.0
    assert not BM25(DOCS).scores([]).any()
    empty = BM25([])
    assert empty.scores(["apple"]).shape == (0,)


def test_postings_give_the_full_sum_bit_for_bit():
    """Scoring walks only the chunks holding a term; a chunk without it adds
    exactly 0 in the textbook sum over every chunk, so the two agree to the bit."""
    rng = np.random.default_rng(3)
    vocab = [f"w{i}" for i in range(60)]
    docs = [list(rng.choice(vocab, size=int(rng.integers(1, 30)))) for _ in range(300)] + [[]]
    bm25 = BM25(docs)
    norm = K1 * (1 - B + B * bm25.len / bm25.avglen)
    for _ in range(50):
        query = list(rng.choice(vocab + ["unseen"], size=int(rng.integers(1, 6))))
        full = np.zeros(len(docs), dtype=np.float32)
        for t in sorted(set(query)):
            if t in bm25.idf:
                tf = np.array([bm25.tf(d).get(t, 0) for d in range(bm25.n)], dtype=np.float32)
                full += bm25.idf[t] * tf * (K1 + 1) / (tf + norm)
        assert np.array_equal(bm25.scores(query), full)


def test_saved_terms_give_the_same_index():
    """An index opened from saved term arrays (rag.store.folder's terms.json/.npz) scores
    as one built from the token lists, bit for bit, and holds the same counts."""
    from rag.search.lexical import Terms

    rng = np.random.default_rng(5)
    vocab = [f"w{i}" for i in range(40)]
    docs = [list(rng.choice(vocab, size=int(rng.integers(0, 25)))) for _ in range(120)]
    built = BM25(docs)
    terms = Terms.of([Counter(d) for d in docs])
    opened = BM25.from_terms(Terms(list(terms.vocab), terms.offsets.copy(), terms.ids.copy(), terms.counts.copy()))
    assert opened.idf == built.idf and np.array_equal(opened.len, built.len)
    assert [opened.tf(i) for i in range(len(docs))] == [dict(Counter(d)) for d in docs]
    for _ in range(30):
        query = list(rng.choice(vocab + ["unseen"], size=int(rng.integers(1, 6))))
        assert np.array_equal(opened.scores(query), built.scores(query))
        assert opened.weights(query) == built.weights(query)
        assert [opened.coverage(query, i) for i in range(len(docs))] == [built.coverage(query, i) for i in range(len(docs))]
