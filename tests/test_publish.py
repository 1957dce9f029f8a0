"""Publishing issues (rag.publish): an upload checked and previewed like the data
folder reads it, the folder changed atomically, the index re-opened in the
background with only the new issue embedded, and the engine swapped. Fast: the
fake embedder and tiny issues in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from conftest import FakeEmbedder
from rag.config import Settings
from rag.errors import PublishError
from rag.ingest.issues import load_issues
from rag.publish.folder import KEPT, TEMP_SUFFIX, IssueFolder
from rag.publish.preview import check_upload, name_problem, read_upload
from rag.publish.reindex import Publisher

NEW_ISSUE = """\
西湖大桥今日通车

本报讯(记者 李雷)6月1日,西湖大桥正式通车,全长1.8公里,总投资9.6亿元,
是本市第一座斜拉桥。

大桥通车后,城西到城东的车程缩短20分钟。
"""
LATIN_BREAK = """\
新区引进 Smart
City 项目

本报讯(记者 王明)新区引进 Smart
City 项目,总投资3亿元。
"""


def _issue_hashes(d):
    from rag.ingest.issues import issue_hashes

    return issue_hashes(d, 1 << 20)


# ------------------------------------------------------------ preview

def test_a_good_upload_is_read_as_the_index_reads_it_with_rejoined_breaks_marked():
    p = check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20)
    assert p.ok and not p.replaces and p.same_as is None and p.data
    [st] = p.stories
    assert st.title == "西湖大桥今日通车" and st.byline == "记者 李雷" and st.date == "6月1日"
    assert len(st.paragraphs) == 2 and st.joins == 1
    first = st.paragraphs[0]
    k = first.joins[0]
    assert first.text[:k].endswith("9.6亿元，") and first.text[k:].startswith("是本市")  # the break, where it was


def test_a_latin_word_broken_across_lines_is_marked_at_its_space():
    p = check_upload("latin.txt", LATIN_BREAK.encode("utf-8"), 1 << 20)
    para = p.stories[0].paragraphs[0]
    assert "Smart City" in para.text and para.text[para.joins[0]] == " "


@pytest.mark.parametrize("name, data, says", [
    ("a.pdf", b"text", "only .txt"),
    (".hidden.txt", "正文。".encode(), "starting with '.'"),
    ("../x.txt", "正文。".encode(), "not a path"),
    ("bad\x07.txt", "正文。".encode(), "control characters"),
    ("x" * 300 + ".txt", "正文。".encode(), "too long"),
    ("png.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary"),
    ("empty.txt", b"  \n", "empty"),
    ("big.txt", "很长。".encode() * 100, "too large"),
    ("latin1.txt", b"caf\xe9 \x80\x81\xfe", "not UTF-8 or GBK"),
])
def test_bad_uploads_are_refused_with_the_data_folders_reasons(name, data, says):
    p = check_upload(name, data, 200)
    assert not p.ok and says in p.problem and not p.stories and p.data == b""


def test_gbk_and_utf16_uploads_are_read():
    for enc in ("gb18030", "utf-16"):
        p = check_upload("g.txt", NEW_ISSUE.encode(enc), 1 << 20)
        assert p.ok and p.stories[0].title == "西湖大桥今日通车", enc


def test_a_published_name_is_a_replacement_and_the_same_bytes_are_nothing_new():
    data = NEW_ISSUE.encode("utf-8")
    published = {"new.txt": "0" * 64, "other.txt": check_upload("x.txt", data, 1 << 20).sha256}
    p = check_upload("new.txt", data, 1 << 20, published)
    assert p.ok and p.replaces and p.same_as == "other.txt"
    again = check_upload("other.txt", data, 1 << 20, published)
    assert not again.ok and "already published" in again.problem


def test_read_upload_reads_no_more_than_the_limit_and_tells_the_size(tmp_path):
    f = tmp_path / "u.txt"
    f.write_bytes(b"x" * 5000)
    data, size = read_upload(f, 100)
    assert len(data) == 101 and size == 5000
    p = check_upload("u.txt", data, 100, size=size)
    assert "too large (5000 bytes" in p.problem


def test_names_the_ingester_reads_are_the_names_accepted():
    assert name_problem("heze-2021-06.txt") is None and name_problem("报纸.TXT") is None
    assert name_problem(".txt") and name_problem("a.txt.tmp")


# ------------------------------------------------------------ the folder

def test_put_replace_remove_and_undo_keep_every_earlier_file(tiny_data):
    folder = IssueFolder(tiny_data)
    added = folder.put("new.txt", b"one")
    assert added.kind == "added" and (tiny_data / "new.txt").read_bytes() == b"one"
    replaced = folder.put("new.txt", b"two")
    assert replaced.kind == "replaced" and replaced.kept.read_bytes() == b"one"
    assert (tiny_data / "new.txt").read_bytes() == b"two"
    folder.undo(replaced)
    assert (tiny_data / "new.txt").read_bytes() == b"one" and not replaced.kept.exists()
    removed = folder.remove("new.txt")
    assert not (tiny_data / "new.txt").exists() and removed.kept.read_bytes() == b"one"
    folder.undo(removed)
    assert (tiny_data / "new.txt").read_bytes() == b"one"
    folder.undo(added)
    assert not (tiny_data / "new.txt").exists()
    assert sorted(p.name for p in tiny_data.iterdir()) == [KEPT, "tiny-issue.txt"]
    with pytest.raises(PublishError, match="no such issue"):
        folder.remove("gone.txt")
    (tiny_data / "dir.txt").mkdir()
    with pytest.raises(PublishError, match="folder or link"):
        folder.put("dir.txt", b"x")
    with pytest.raises(PublishError, match="not a path"):
        folder.put("../escape.txt", b"x")


def test_temp_files_are_never_read_and_a_killed_writer_leaves_nothing_half(tiny_data):
    """A publish killed while writing: its temp file is there, the ingester
    skips it, the issue it was writing is not there at all, and the next start
    sweeps the temp file."""
    code = ("import os, sys, time\n"
            "from rag.publish import folder as f\n"
            "real = os.replace\n"
            "def slow(a, b): print('written', flush=True); time.sleep(60)\n"
            "f.os.replace = slow\n"
            f"f.IssueFolder({str(tiny_data)!r}).put('half.txt', 'x'.encode() * 10000)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        assert proc.stdout.readline().strip() == "written"
        proc.kill()
        proc.wait(10)
    finally:
        proc.kill()
    left = [p.name for p in tiny_data.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    assert len(left) == 1 and not (tiny_data / "half.txt").exists()
    stories, skipped = load_issues(tiny_data, 1 << 20)
    assert {s.source for s in stories} == {"tiny-issue.txt"} and skipped == []
    assert "half.txt" not in _issue_hashes(tiny_data)
    assert IssueFolder(tiny_data).sweep() == left
    assert not [p for p in tiny_data.iterdir() if p.name.endswith(TEMP_SUFFIX)]


# ------------------------------------------------------------ the job

class CountingEmbedder(FakeEmbedder):
    def __init__(self):
        self.passages = []

    def encode_passages(self, texts, progress=None):
        self.passages += list(texts)
        return super().encode_passages(texts, progress)


@pytest.fixture
def engine(tiny_data, tmp_path):
    from rag.engine import Engine

    settings = Settings(data_dir=tiny_data, index_dir=tmp_path / "index", answerer="rules", max_issue_bytes=1 << 20)
    return Engine.open(settings, progress=lambda *a: None, embedder=CountingEmbedder())


def _publisher(engine, **kw):
    held = {"engine": engine}
    pub = Publisher(engine.settings, current=lambda: held["engine"], swap=lambda e: held.update(engine=e), **kw)
    return pub, held


def test_publishing_embeds_only_the_new_issue_and_swaps_the_engine_when_ready(engine, tiny_data):
    embedder = engine.embedder
    embedder.passages.clear()
    pub, held = _publisher(engine)
    p = check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20, _issue_hashes(tiny_data))
    job = pub.publish([p], user="editor")
    assert job.running and job.user == "editor"
    with pytest.raises(PublishError, match="another job"):
        pub.publish([p])
    job = pub.wait(60)
    assert job.state == "done" and "报道已可检索" in job.message, job
    assert held["engine"] is not engine and held["engine"].embedder is embedder  # the model is not loaded again
    assert embedder.passages and all("西湖大桥" in t for t in embedder.passages)  # only the new issue's passages
    assert any("unchanged issue(s) read back" in line for line in job.lines)
    answer = held["engine"].ask("西湖大桥总投资多少？")
    assert answer.answerable and "9.6亿元" in answer.sentence
    assert not engine.ask("西湖大桥总投资多少？").answerable  # the old engine knew nothing of it


def test_a_replacement_must_be_confirmed_and_removal_refuses_the_last_issue(engine, tiny_data):
    pub, held = _publisher(engine)
    p = check_upload("tiny-issue.txt", NEW_ISSUE.encode("utf-8"), 1 << 20, _issue_hashes(tiny_data))
    assert p.replaces
    with pytest.raises(PublishError, match="confirm"):
        pub.publish([p])
    with pytest.raises(PublishError, match="last issue"):
        pub.remove(["tiny-issue.txt"])
    with pytest.raises(PublishError, match="nothing to publish"):
        pub.publish([check_upload("x.pdf", b"x", 10)])
    assert pub.publish([p], replace_ok=True) and pub.wait(60).state == "done"
    assert "西湖大桥" in held["engine"].stories[0].title


def test_remove_then_the_question_is_refused(engine, tiny_data):
    pub, held = _publisher(engine)
    pub.publish([check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20)])
    assert pub.wait(60).state == "done"
    engine.embedder.passages.clear()
    pub.remove(["new.txt"])
    job = pub.wait(60)
    assert job.state == "done" and not (tiny_data / "new.txt").exists()
    assert engine.embedder.passages == []  # nothing to embed: every issue left is read back
    assert not held["engine"].ask("西湖大桥总投资多少？").answerable


def test_a_failed_reindex_puts_the_folder_back_and_keeps_the_running_engine(engine, tiny_data):
    def broken(settings, current, progress):
        progress("Embedding ...")
        raise RuntimeError("the model fell over")

    pub, held = _publisher(engine, open_engine=broken)
    before = sorted(p.name for p in tiny_data.iterdir() if p.is_file())
    pub.publish([check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20)])
    job = pub.wait(60)
    assert job.state == "failed" and "恢复原样" in job.message and "RuntimeError" in job.message
    assert "fell over" not in job.message  # an unexpected error's text goes to the log only
    assert sorted(p.name for p in tiny_data.iterdir() if p.is_file()) == before
    assert held["engine"] is engine
    assert pub.publish([check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20)])  # the next job may start
    pub.wait(60)


def test_start_sweeps_what_a_killed_publish_left(engine, tiny_data):
    stale = tiny_data / f".x.txt.999999999.abcd1234{TEMP_SUFFIX}"
    stale.write_bytes(b"half")
    _publisher(engine)
    assert not stale.exists()


def test_a_job_is_a_snapshot_and_keeps_its_lines(engine):
    pub, _ = _publisher(engine)
    job = pub.publish([check_upload("new.txt", NEW_ISSUE.encode("utf-8"), 1 << 20)])
    deadline = time.monotonic() + 60
    while pub.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert job.running and job.lines == ()  # the snapshot handed out does not change under the caller
    assert pub.status().lines[0].startswith("写入")


# ------------------------------------------------------------ the tab's callbacks (rag.web.issues)

def _desk(engine):
    from rag.web.handlers import Handlers
    from rag.web.issues import IssueDesk

    h = Handlers(engine, engine.settings)
    desk = IssueDesk(h, None)
    desk.publisher = Publisher(engine.settings, current=lambda: h.engine, swap=desk.swap)
    return desk, h


def test_the_tab_previews_escapes_publishes_and_says_what_it_did(engine, tiny_data, tmp_path):
    from rag.web import issues

    desk, h = _desk(engine)
    good = tmp_path / "up" / "new.txt"
    good.parent.mkdir()
    good.write_text(NEW_ISSUE.replace("是本市", "<script>alert(1)</script>是本市"), encoding="utf-8")
    bad = tmp_path / "up" / "photo.png"
    bad.write_bytes(b"\x89PNG\x00\x00")
    html, previews = desk.check([str(good), str(bad)])
    assert len(previews) == 2 and previews[0].ok and not previews[1].ok
    assert "&lt;script&gt;" in html and "<script>" not in html and "不能发布" in html and "可以发布" in html
    assert html.count('class="rag-join"') == 1 and str(tmp_path) not in html
    shown = list(desk.publish(previews, False))
    assert 'data-state="done"' in shown[-1] and "已写入" in shown[-1] and str(tmp_path) not in shown[-1]
    assert h.engine is not engine and "new.txt" in desk.names() and desk.published(previews)
    again = list(desk.publish(previews, False))  # the same preview twice: nothing new
    assert len(again) == 1 and "already published" in again[0]
    assert "请勾选" in next(desk.remove("new.txt", False)) and "请先选择" in next(desk.remove("", True))
    assert 'data-state="done"' in list(desk.remove("new.txt", True))[-1] and "new.txt" not in desk.names()
    assert issues.job_line("Index built in 0.2 s: /srv/x/index/current") == "Index built in 0.2 s: current"
    assert issues.job_line("  embedded 2/23") == "embedded 2/23"
