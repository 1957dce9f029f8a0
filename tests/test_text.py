"""Folding, pinyin terms for English questions, and the engine using them."""

from pathlib import Path

import pytest

from rag.config import Settings
from rag.engine import Engine
from rag.ingest.issues import read_issue
from rag.text import fold, is_pinyin, latin_terms, pinyin_terms


def test_fold_makes_traditional_and_fullwidth_comparable():
    assert fold("現代醫藥港計劃投資３００億元") == "现代医药港计划投资300亿元"


@pytest.mark.parametrize("word, expected", [
    ("heze", True), ("zhanghui", True), ("shandong", True), ("luxinan", True),
    ("general", False), ("manager", False), ("factory", False), ("xyz", False),
])
def test_is_pinyin(word, expected):
    assert is_pinyin(word) is expected


def test_pinyin_terms_cover_words_and_names_jieba_splits():
    terms = pinyin_terms("知和（山东）大药厂占地150亩")
    assert "shandong" in terms and "zhihe" in terms
    assert all(t.isascii() and t.isalpha() for t in terms)


def test_latin_terms_keep_pinyin_names_and_numbers_only():
    terms = latin_terms("where did zhang hui go for an inspection on june 2?")
    assert "zhanghui" in terms and "2" in terms
    assert not {"where", "inspection", "go"} & set(terms)


@pytest.fixture
def engine(tiny_data, tmp_path, fake_embedder):
    return Engine.open(Settings(data_dir=tiny_data, index_dir=tmp_path / "ix", answerer="rules"), progress=lambda *_: None,
                       embedder=fake_embedder)


def test_english_question_found_by_its_pinyin_name(engine, tiny_data):
    a = engine.ask("How many companies took part in the Nanhu job fair?")
    assert a.answerable and a.answer == "120家"
    text = read_issue(Path(tiny_data) / a.citations[0].source)
    assert text[a.answer_start:a.answer_end] == "120家"


def test_english_question_about_a_place_never_named_is_refused(engine):
    a = engine.ask("How many companies took part in the Beijing job fair?")
    assert not a.answerable and a.answer is None


def test_authorship_answered_from_byline_and_photo_credit(engine, tiny_data):
    text = read_issue(Path(tiny_data) / "tiny-issue.txt")
    wrote = engine.ask("城东污水处理厂那篇报道是谁写的？")
    assert wrote.answerable and wrote.answer == "陈晨"
    assert text[wrote.answer_start:wrote.answer_end] == "陈晨"
    photo = engine.ask("招聘会的照片是谁拍的？")
    assert photo.answerable and photo.answer == "周红"
    c = photo.citations[0]
    assert text[c.start:c.end] == c.text and "摄" in c.text


def test_capitalised_names_only_when_the_question_capitalises():
    # "along" reads as pinyin (a-long) but is an English word; the capitals mark the names
    assert latin_terms("How many volunteers cleaned up along the Lu River?") == []
    assert "beijing" in latin_terms("What is the weather in Beijing tomorrow?")
    assert "zhanghui" in latin_terms("where did zhang hui go?")  # no capitals: every pinyin-like word


def test_followup_tried_when_the_question_alone_finds_nothing(engine, monkeypatch):
    from rag.search.query import is_followup, resolve

    q, history = "街上一共有多少家商户？", ["城东污水处理厂什么时候投产？"]
    assert not is_followup(q)  # it names 街上 and 商户: not taken for a follow-up
    forced = resolve(q, history, engine.corpus, force=True)
    assert forced.followup and forced.query.startswith("城东污水处理厂")

    seen = []
    real = engine._answer

    def spy(shown, resolved, earlier):
        seen.append(resolved.query)
        return real(shown, resolved, earlier)

    monkeypatch.setattr(engine, "_answer", spy)
    a = engine.ask(q, history)
    assert not a.answerable  # the issue does not say; but the carried query was tried first
    assert seen == [q, forced.query]


def test_traditional_text_is_tagged_in_its_simplified_form_with_its_own_characters():
    from rag.text import _lexicon, tagged, to_simplified

    trad = "蘋果公司於1976年由史蒂夫·賈伯斯創立，總部位於美國加州庫比蒂諾。"
    simple = to_simplified(trad)
    assert simple != trad and len(simple) == len(trad)
    got = tagged(trad)
    assert "".join(w for w, _ in got) == trad  # pieces of the text itself, in order
    want = [(w.word, w.flag) for w in _lexicon().tagger.cut(simple)]
    assert [f for _, f in got] == [f for _, f in want] and [len(w) for w, _ in got] == [len(w) for w, _ in want]
    # Simplified text is tagged as jieba tags it
    text = "现代医药港占地4平方公里，计划投资300亿元。"
    assert tagged(text) == [(w.word, w.flag) for w in _lexicon().tagger.cut(text)]


def test_tag_table_from_the_cache_is_the_dictionary_files(tmp_path):
    """rag.text._posseg reads jieba's word tags from its cache, written at the first
    start; they are the ones jieba.posseg reads from its dictionary file. Each start
    is a fresh process (jieba.posseg is imported once per process)."""
    import marshal
    import subprocess
    import sys

    code = ("import sys, jieba, rag.text as t\n"
            "from pathlib import Path\n"
            f"t.CACHE = Path({str(tmp_path)!r})\n"
            "p = t._posseg()\n"
            "tab = dict(p.dt.word_tag_tab)\n"
            "p.dt.load_word_tag(jieba.dt.get_dict_file())\n"
            "print(len(tab), tab.get('缓存里的词'), {k: v for k, v in tab.items() if k != '缓存里的词'} == p.dt.word_tag_tab)\n")

    def start() -> list[str]:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        return out.stdout.split()

    n, mark, same = start()  # no cache yet: read from the file, then written
    assert int(n) > 300000 and mark == "None" and same == "True"
    (cache,) = tmp_path.glob("posseg-tags-*.marshal")
    table = marshal.loads(cache.read_bytes())
    table["缓存里的词"] = "zz"  # a word only the cache holds: the next start must show it
    cache.write_bytes(marshal.dumps(table))
    n, mark, same = start()
    assert mark == "zz" and same == "True"
