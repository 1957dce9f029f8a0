"""The compact tokenizer (rag.model.pieces) and the encoder inputs (rag.model.tokens).

Fast tests use a made-up vocabulary; the slow ones hold the default model's
pieces against `tokenizers` on real text (a sample of eval/data's CMRC 2018
and DRCD; all of ../shared/data is scripts/check_pieces.py's job, about a minute)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from rag.errors import ModelError
from rag.model import pieces as P
from rag.model.pieces import META, Pieces
from rag.model.tokens import Tokens

ROOT = Path(__file__).resolve().parent.parent
SPECIALS = {"bos": 0, "pad": 1, "eos": 2, "unk": 3}


def toy(tmp_path=None) -> Pieces:
    pieces = ["<s>", "<pad>", "</s>", "<unk>", META, f"{META}a", "a", "b", "ab", "abc", "c", "中", "文", "中文",
              f"{META}中", "x"]
    scores = [0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -3.0, -4.5, -6.5, -3.0, -2.0, -2.0, -3.0, -2.5, -9.0]
    norm = {ord("Ａ"): "a", ord("\t"): " ", ord("ﷺ"): "x x", ord("\x07"): ""}
    return Pieces(pieces, scores, SPECIALS, norm)


def test_viterbi_takes_the_best_path_and_the_first_of_equals():
    t = toy()
    # "abc": ▁ abc (-7.5) beats ▁ ab c (-8.5) and ▁a b c (-8.0)
    assert t.encode("abc").ids == [4, 9]
    # "中文": 中文 (-3.0) vs ▁中 + 文 (-4.5): after the ▁ (-1.0) the word is 中文 whole
    assert t.encode("中文").ids == [4, 13]
    # ties: the path found first stays (a later one only when strictly better); ▁ aa
    # (-3) ends at the last character before ▁ a a (-3) is tried
    t2 = Pieces(["<s>", "<pad>", "</s>", "<unk>", META, "a", "aa"], [0, 0, 0, 0, -1.0, -1.0, -2.0], SPECIALS, {})
    assert t2.encode("aa").ids == [4, 6]


def test_unknown_characters_are_one_token_and_offsets_follow_the_original_text():
    t = toy()
    e = t.encode("ab??c")
    assert e.ids == [5, 7, 3, 10] and e.offsets == [(0, 1), (1, 2), (2, 4), (4, 5)]
    # runs of spaces are one ▁ at the last space's place; a tab is a space by the map
    e = t.encode("a \t b")
    assert e.ids == [5, 4, 7] and e.offsets == [(0, 1), (3, 4), (4, 5)]
    # one character mapped to several: each keeps the source character's offsets
    assert t.encode("ﷺ").ids == [4, 15, 4, 15] and t.encode("ﷺ").offsets == [(0, 1)] * 4


def test_texts_the_copy_does_not_cover_are_declined():
    t = toy()
    # Ａ is in the map: Ａ + ́ is one cluster `tokenizers` normalises whole; a mark after
    # a control or at the start begins a cluster of its own
    for text in ("Ａ\u0301", "a<s>b", "\t\u200db", "\u0301x", "a\u200b\u0301", "\r\n", "한\u1161", "a\x07b",
                 "🇨🇳"):
        assert not t.copyable(text) and t.encode(text) is None
    # marks and joiners after a character the map leaves alone are copied
    for text in ("现代医药港", "a\u200bb", "ＡＢＣ", "😀", "", "e\u0301", "e" + "\u0301" * 30, "a\u200db", "ปทุม"):
        assert t.copyable(text)


def test_file_round_trip(tmp_path):
    pieces = ["<s>", "<pad>", "</s>", "<unk>", META, "中文", "𠀀", "é"]
    scores = [0.0, 0.0, 0.0, 0.0, -1.0, -2.5, -3.25, -4.0]
    norm = {0x3000: " ", 0xFDFA: "صلى الله", 7: ""}
    P.write(tmp_path / P.FILE, pieces, scores, SPECIALS, norm)
    back = Pieces.load(tmp_path / P.FILE)
    assert back.ids == {p: i for i, p in enumerate(pieces)} and back.scores == scores
    assert back.norm == {chr(k): v for k, v in norm.items()} and back.specials == SPECIALS
    (tmp_path / "bad.bin").write_bytes(b"XXXX" + b"\0" * 40)
    with pytest.raises(ValueError):
        Pieces.load(tmp_path / "bad.bin")
    whole = (tmp_path / P.FILE).read_bytes()
    (tmp_path / P.FILE).write_bytes(whole[: len(whole) // 2])  # cut short: a clear error, not a struct.error
    with pytest.raises(ModelError, match="remove"):
        Tokens(tmp_path)


def test_windows_overlap_by_the_stride(tmp_path):
    P.write(tmp_path / P.FILE, ["<s>", "<pad>", "</s>", "<unk>", META, "a", "b"], [0, 0, 0, 0, -1.0, -1.0, -1.0],
            SPECIALS, {})
    tokens = Tokens(tmp_path)
    q = tokens.encode("b")  # ▁ b
    wins = tokens.windows(q, "a" * 9, max_len=12, stride=2)  # room 12 - 2 - 4 = 6 passage tokens
    starts = [offs[len(q.ids) + 3] for _, offs in wins]
    assert [len(ids) for ids, _ in wins] == [12, 12]
    assert starts == [(0, 1), (3, 4)]  # ▁ a a a a a | then 4 tokens on, 2 repeated
    assert wins[0][0][:6] == [0, 4, 6, 2, 2, 4] and wins[-1][0][-1] == 2
    assert tokens.windows(q, "", 12, 2) == [([0, 4, 6, 2, 2, 2], [None] * 6)]
    with pytest.raises(ValueError):
        tokens.windows(tokens.encode("b" * 7), "a" * 9, 12, 2)


# ------------------------------------------------------------- slow: the default model's pieces

@pytest.fixture(scope="module")
def model_dir():
    from rag.config import Settings
    from rag.model.provision import default_model_dir

    return default_model_dir(Settings())


def _sample(n: int) -> list[tuple[str, str]]:
    from rag.text import to_simplified

    from eval.external import SOURCES  # the copies in eval/data: a fresh clone has them

    rng = random.Random(0)
    out = []
    for f in (SOURCES["cmrc"], SOURCES["drcd"]):
        pairs = [(qa["question"], p["context"]) for a in json.loads(f.read_text(encoding="utf-8"))["data"]
                 for p in a["paragraphs"] for qa in p["qas"]]
        out += rng.sample(pairs, n)
    return out + [(to_simplified(q), to_simplified(c)) for q, c in out]


@pytest.mark.slow
def test_compact_tokenizer_is_tokenizers_on_real_text(model_dir):
    """Ids, offsets, the query input and the reader's windows, as `tokenizers` gives them."""
    from tokenizers import Tokenizer

    tokens = Tokens(model_dir)
    assert tokens.compact is not None
    pair = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    pair.enable_truncation(max_length=192, stride=64, strategy="only_second")
    own = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    single = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    single.enable_truncation(max_length=512)
    issue = (ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(encoding="utf-8")
    pairs = _sample(120) + [("现代医药港计划投资多少？", issue), ("  多  空格 ", "ＡＢＣ１２３ 😀𠀀\t臺灣")]
    compact = 0
    for q, c in pairs:
        for text in (q, c):
            mine = tokens.compact.encode(text)
            compact += mine is not None
            e = own.encode(text, add_special_tokens=False)
            got = tokens.encode(text)
            assert (got.ids, got.offsets) == (e.ids, [tuple(o) for o in e.offsets]), text[:40]
        for text in (q, c):
            assert tokens.query("query: " + text) == single.encode("query: " + text).ids
        e = pair.encode(q, c)
        want = [(w.ids, [tuple(o) if s == 1 else None for o, s in zip(w.offsets, w.sequence_ids)])
                for w in [e, *e.overflowing]]
        assert tokens.windows(tokens.encode(q), c, 192, 64) == want, q
    assert compact >= 2 * len(pairs) - 2  # real text takes the compact path
    assert tokens._full is None or compact < 2 * len(pairs)


@pytest.mark.slow
def test_declined_texts_are_tokenized_by_tokenizers(model_dir):
    from tokenizers import Tokenizer

    tokens = Tokens(model_dir)
    own = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    for text in ("Ａ\u0301 现代", "<s>现代</s> <mask> 医药<pad>港 ", "\x07a", "한\u1161국", "a\r\nb", "\u0301x"):
        assert tokens.compact.encode(text) is None
        e = own.encode(text, add_special_tokens=False)
        got = tokens.encode(text)
        assert (got.ids, got.offsets) == (e.ids, [tuple(o) for o in e.offsets])
