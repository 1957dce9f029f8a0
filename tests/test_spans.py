"""rag.ingest.spans: runs, position mapping, slicing and the locate check."""

import pytest

from rag.ingest.spans import locate, runs_from_positions, slice_runs, source_span, to_source

# "abcXYZdef" in the source; the text "abcdef" skips XYZ (a cut-out pull quote).
SOURCE = "abcXYZdef"
TEXT = "abcdef"
POS = [0, 1, 2, 6, 7, 8]


def test_runs_compress_contiguous_positions():
    assert runs_from_positions(POS) == ((0, 0), (3, 6))
    assert runs_from_positions([5, 6, 7]) == ((0, 5),)
    assert runs_from_positions([]) == ()


def test_to_source_follows_runs():
    runs = runs_from_positions(POS)
    assert [to_source(runs, i) for i in range(len(TEXT))] == POS
    assert all(SOURCE[to_source(runs, i)] == TEXT[i] for i in range(len(TEXT)))


def test_to_source_without_runs_is_an_error():
    with pytest.raises(ValueError):
        to_source((), 0)


def test_source_span_across_a_gap_and_at_edges():
    runs = runs_from_positions(POS)
    assert source_span(runs, 0, 6) == (0, 9)
    assert source_span(runs, 1, 3) == (1, 3)  # ends at "c", not after the gap
    assert source_span(runs, 2, 4) == (2, 7)
    assert source_span(runs, 3, 3) == (6, 6)


def test_slice_runs_rebases_to_the_slice():
    runs = runs_from_positions(POS)
    sub = slice_runs(runs, 2, 5)  # "cde"
    assert [to_source(sub, k) for k in range(3)] == [2, 6, 7]
    assert slice_runs(runs, 4, 6) == ((0, 7),)
    assert slice_runs(runs, 3, 3) == ()


def test_locate_accepts_in_order_text_with_exact_edges():
    assert locate(TEXT, SOURCE, 0, 9)
    assert locate("cd", SOURCE, 2, 7)
    assert locate("X", SOURCE, 3, 4)


def test_locate_rejects_wrong_edges_and_order():
    assert not locate(TEXT, SOURCE, 0, 8)  # too narrow: f is outside
    assert not locate("bc", SOURCE, 0, 3)  # too wide at the start
    assert not locate("ad", SOURCE, 0, 8)  # too wide at the end
    assert not locate("cba", SOURCE, 0, 3)  # out of order
    assert not locate("abz", SOURCE, 0, 9)
    assert not locate("", SOURCE, 0, 1)
    assert not locate("a", SOURCE, 0, 100)


def test_locate_ignores_whitespace_and_folds_punctuation():
    source = "会议(通讯员 李)\r\n召开,成功!"
    assert locate("会议（通讯员李）召开，成功！", source, 0, len(source))
    assert locate("召开，", source, source.index("召"), source.index(",") + 1)
