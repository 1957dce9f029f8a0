"""rag.model.bert's arithmetic pieces, against their plain NumPy expressions."""

import numpy as np
import pytest

from rag.model.bert import erf, gelu


@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 7, 1536), (4, 300, 1536)])
def test_gelu_in_place_gives_the_same_bits_as_the_plain_expression(shape):
    x = (np.random.default_rng(sum(shape)).standard_normal(shape) * 4).astype(np.float32)
    x[..., 0] = 0.0
    keep = x.copy()
    plain = 0.5 * x * (1.0 + erf(x * np.float32(0.7071067811865476)))
    out = gelu(x)
    assert out.dtype == np.float32 and np.array_equal(out, plain)
    assert np.array_equal(x, keep)  # the input is not overwritten


def test_erf_close_to_the_exact_function():
    import math

    xs = np.linspace(-5, 5, 201).astype(np.float32)
    exact = np.array([math.erf(float(v)) for v in xs])
    assert np.abs(erf(xs) - exact).max() < 1e-6


# ------------------------------------------------------------- slow: the real model folder

@pytest.fixture(scope="module")
def model_dir():
    from rag.config import Settings
    from rag.model.provision import default_model_dir

    return default_model_dir(Settings())


@pytest.mark.slow
def test_shared_vocabulary_tokenizers_encode_as_one_loaded_from_the_file(model_dir):
    """load_tokenizer shares one vocabulary between callers; each configured as the
    reader and the embedder configure theirs encodes exactly as a tokenizer loaded
    from tokenizer.json: ids, offsets, overflowing windows, sequence ids."""
    import random
    from pathlib import Path

    from tokenizers import Tokenizer

    from rag.model.bert import load_tokenizer

    own = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    shared, plain = load_tokenizer(model_dir), load_tokenizer(model_dir)
    for t in (own, shared):
        t.enable_truncation(max_length=96, stride=32, strategy="only_second")
        t.no_padding()
    mine = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    issue = (Path(__file__).resolve().parent.parent / "data" / "issues" / "heze-kaifaqu-2021-06.txt").read_text(
        encoding="utf-8")
    rng = random.Random(0)
    texts = [issue[i : i + rng.randint(1, 400)] for i in (rng.randrange(len(issue) - 400) for _ in range(150))]
    texts += ["<s>现代</s> <mask> 医药<pad>港 ", "  多  空格 ", "e\u0301", "😀𠀀", "ＡＢＣ１２３", "臺灣 DRCD 問答"]
    for text in texts:
        for q in ("现代医药港投资多少？", "<mask>谁"):
            a, b = own.encode(q, text), shared.encode(q, text)
            assert (a.ids, a.offsets, a.sequence_ids) == (b.ids, b.offsets, b.sequence_ids)
            assert [w.ids for w in a.overflowing] == [w.ids for w in b.overflowing]
        a, b = mine.encode(text), plain.encode(text)
        assert (a.ids, a.offsets) == (b.ids, b.offsets)


@pytest.mark.slow
def test_mapped_word_table_holds_the_files_values(model_dir):
    from safetensors.numpy import load_file

    from rag.model.bert import WORD_TABLE, _mapped, load_encoder

    table = load_encoder(model_dir).word
    assert isinstance(table, np.memmap)
    assert np.array_equal(np.asarray(table), load_file(str(model_dir / "model.safetensors"))[WORD_TABLE])
    assert _mapped(model_dir / "model.safetensors", "no.such.tensor") is None
