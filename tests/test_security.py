"""Regression tests for the holes a reliability and security probe found (issue 14)
and the bad-input cases of issue 12: files outside the data folder, user text as a
regex template, unreadable or odd files, hand-edited index files, bounded work,
markup in user bubbles, request bodies, one-line errors, server paths.

Fast tests use the fake embedder; the `slow` ones start `python app.py` (real
model) and the `browser` one drives Debian Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT, TINY_ISSUE, FakeEmbedder
from rag import cli
from rag.store import folder as store
from rag.config import Settings
from rag.engine import Engine
from rag.errors import DataDirError, IndexError_, IssueReadError, RagError
from rag.ingest.issues import issue_hashes, load_issues, read_issue
from rag.search.query import resolve
from rag.store.folder import IndexStale

SECRET = "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
# backslashes, $, group references and regex metacharacters a user may type
NASTY = ["\\1现代医药港计划投资多少？", "C:\\new\\table 现代医药港", "\\g<0>南湖新区", "$1 ${x} 南湖新区",
         "(.*)+[招聘会]{2,}?|^$", "\\", "\\\\\\", "a\\0b", "\\g<name>污水处理厂", "*?+[(){}^$|\\"]


def open_engine(data_dir, index_dir, **settings):
    messages: list[str] = []
    engine = Engine.open(Settings(data_dir=data_dir, index_dir=index_dir, **settings),
                         progress=messages.append, embedder=FakeEmbedder())
    return engine, messages


@pytest.fixture
def fake_model(monkeypatch):
    import rag.model.embed

    calls = []

    def load(settings, progress=None):
        calls.append(settings)
        return FakeEmbedder()

    for k in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(k)
    monkeypatch.setattr(rag.model.embed, "load_embedder", load)
    return calls


def run_main(capsys, *args):
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------ files outside the data folder

@pytest.fixture
def data_with_links(tiny_data, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET, encoding="utf-8")
    (tiny_data / "x.txt").symlink_to(outside / "passwd")  # out of the folder
    (tiny_data / "inside.txt").symlink_to(tiny_data / "tiny-issue.txt")  # even a link to a file inside
    return tiny_data


def test_symlinks_are_skipped_by_name_and_never_read(data_with_links):
    stories, skipped = load_issues(data_with_links)
    assert {s.source for s in stories} == {"tiny-issue.txt"}
    assert dict(skipped).keys() == {"inside.txt", "x.txt"}
    assert all("symbolic link" in why for _, why in skipped)
    assert not any("nologin" in p.text for s in stories for p in s.paragraphs)
    hashes = issue_hashes(data_with_links)
    assert hashes["x.txt"].startswith("skipped:") and len(hashes["tiny-issue.txt"]) == 64
    with pytest.raises(IssueReadError, match="symbolic link"):
        read_issue(data_with_links / "x.txt")


def test_symlinked_file_cannot_be_searched_or_served(data_with_links, tmp_path):
    engine, messages = open_engine(data_with_links, tmp_path / "index")
    assert any("Skipped x.txt" in m for m in messages)
    for q in ("nologin", "root bin bash", "nobody nonexistent"):
        for h in engine.search(q, k=50):
            assert "nologin" not in h.chunk.text and "/bin/bash" not in h.chunk.text
    assert engine._source_text("x.txt") == ""  # a skipped file is never read for credits either
    for name in ("../outside/passwd", str(tmp_path / "outside" / "passwd"), "/etc/passwd", "..", ""):
        assert engine._source_text(name) == ""


def test_search_filters_are_never_paths(data_with_links, tmp_path):
    from rag.web import handlers

    engine, _ = open_engine(data_with_links, tmp_path / "index")
    h = handlers.Handlers(engine, engine.settings)
    for issue in ("../../etc/passwd", "/etc/passwd", str(tmp_path / "outside" / "passwd"), "x.txt", ["a"], None):
        for story in (handlers.ALL, "../../etc/passwd", "/etc/passwd"):
            html, lines = h.search("nologin root", issue, story)
            assert "/bin/bash" not in html and "nologin:" not in lines and "root:x" not in html


# ------------------------------------------------------------ odd entries, unreadable files

def test_odd_entries_are_reported_by_name_and_good_issues_kept(tiny_data):
    (tiny_data / "y.txt").mkdir()  # a folder named like an issue
    os.mkfifo(tiny_data / "fifo.txt")  # reading it would block for ever
    (tiny_data / "upper.TXT").write_text(TINY_ISSUE.replace("南湖", "北湖"), encoding="utf-8")
    (tiny_data / "png.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tiny_data / "empty.txt").write_bytes(b"")
    stories, skipped = load_issues(tiny_data)
    # upper.TXT is accepted: the extension is matched case-insensitively
    assert {s.source for s in stories} == {"tiny-issue.txt", "upper.TXT"}
    assert [n for n, _ in skipped] == ["empty.txt", "fifo.txt", "png.txt", "y.txt"]
    why = dict(skipped)
    assert "folder" in why["y.txt"] and "regular file" in why["fifo.txt"]
    assert all(str(tiny_data) not in m for _, m in skipped), "no server path in a message"
    assert set(issue_hashes(tiny_data)) == {"empty.txt", "fifo.txt", "png.txt", "tiny-issue.txt", "upper.TXT", "y.txt"}


def test_file_over_the_size_limit_is_refused_with_a_message(tiny_data, monkeypatch):
    (tiny_data / "big.txt").write_text(TINY_ISSUE * 50, encoding="utf-8")
    stories, skipped = load_issues(tiny_data, max_bytes=4096)
    assert {s.source for s in stories} == {"tiny-issue.txt"}
    assert [n for n, _ in skipped] == ["big.txt"] and "too large" in skipped[0][1]
    assert issue_hashes(tiny_data, max_bytes=4096)["big.txt"].startswith("skipped:")
    monkeypatch.setenv("RAG_MAX_ISSUE_MB", "0.004")  # the configured default applies too
    assert [n for n, _ in load_issues(tiny_data)[1]] == ["big.txt"]
    monkeypatch.setenv("RAG_MAX_ISSUE_MB", "lots")
    with pytest.raises(RagError, match="RAG_MAX_ISSUE_MB"):
        load_issues(tiny_data)


def test_one_large_line_and_odd_names_do_not_stop_the_others(tiny_data):
    (tiny_data / "line.txt").write_text("本报讯" + "现代医药港计划投资300亿元，" * 40_000, encoding="utf-8")
    (tiny_data / "bad-\udcff-name.txt").write_bytes(TINY_ISSUE.encode())  # a file name that is not UTF-8
    (tiny_data / "tab\tname.txt").write_text(TINY_ISSUE, encoding="utf-8")
    stories, skipped = load_issues(tiny_data)
    assert "tiny-issue.txt" in {s.source for s in stories}
    names = [n for n, _ in skipped]
    assert "bad-\\udcff-name.txt" in names and "tab\\u0009name.txt" in names
    json.dumps(skipped, ensure_ascii=False).encode("utf-8")  # printable and valid UTF-8


def _deny(monkeypatch, name):
    """Reading `name` fails as it would for an unprivileged user (root reads anything)."""
    import rag.ingest.issues as ingest

    real = ingest.os.open

    def fake_open(path, *a, **k):
        if Path(path).name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *a, **k)

    monkeypatch.setattr(ingest.os, "open", fake_open)


def test_unreadable_file_is_skipped_and_build_goes_on(tiny_data, tmp_path, monkeypatch, fake_model, capsys):
    (tiny_data / "locked.txt").write_text(TINY_ISSUE, encoding="utf-8")
    _deny(monkeypatch, "locked.txt")
    assert issue_hashes(tiny_data)["locked.txt"] == "skipped: locked.txt: cannot read: Permission denied"
    code, out, err = run_main(capsys, "build", "--data", str(tiny_data), "--index", str(tmp_path / "ix"))
    assert code == 0, err
    assert "Skipped locked.txt: locked.txt: cannot read: Permission denied" in err
    assert str(tiny_data) + "/locked" not in err


def test_unreadable_data_folder_says_so(tiny_data, monkeypatch):
    import rag.ingest.issues as ingest

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(ingest.os, "scandir", denied)
    with pytest.raises(DataDirError, match="cannot read the data folder .*Permission denied"):
        load_issues(tiny_data)
    with pytest.raises(DataDirError, match="cannot read the data folder"):
        issue_hashes(tiny_data)


def _unprivileged_python():
    """(argv prefix, env) to run Python as `nobody`, or None where that cannot work."""
    if os.geteuid() != 0:
        return [sys.executable], {}
    site = next(p for p in sys.path if p.endswith("site-packages"))
    for exe in (sys.executable, f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"):
        env = {"PYTHONPATH": f"{ROOT}:{site}", "HOME": "/tmp", "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
        try:
            r = subprocess.run([exe, "-c", "import numpy, jieba"], env=env, capture_output=True, timeout=60,
                               preexec_fn=_drop)
        except (OSError, subprocess.SubprocessError):
            continue
        if r.returncode == 0:
            return [exe], env
    return None


def _drop():
    if os.geteuid() == 0:
        os.setgid(65534)
        os.setuid(65534)


def test_unreadable_file_and_folder_as_an_unprivileged_user(tmp_path):
    runner = _unprivileged_python()
    if runner is None:
        pytest.skip("no interpreter an unprivileged user may run (the venv's Python lies under /root)")
    exe, env = runner
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="newsrag-unpriv-", dir="/tmp"))  # pytest's tmp_path is root-only
    os.chmod(base, 0o755)
    try:
        _unprivileged_checks(exe, env, base)
    finally:
        for p in base.rglob("*"):
            os.chmod(p, 0o755) if p.is_dir() else None
        os.chmod(base / "shut", 0o755)
        shutil.rmtree(base)


def _unprivileged_checks(exe, env, tmp_path):
    data = tmp_path / "issues"
    data.mkdir()
    (data / "good.txt").write_text(TINY_ISSUE, encoding="utf-8")
    (data / "locked.txt").write_text(TINY_ISSUE, encoding="utf-8")
    os.chmod(data / "locked.txt", 0)
    shut = tmp_path / "shut"
    shut.mkdir()
    (shut / "a.txt").write_text(TINY_ISSUE, encoding="utf-8")
    os.chmod(shut, 0)
    for p in (tmp_path, data):
        os.chmod(p, 0o755)
    code = (
        "import sys\nfrom rag.ingest.issues import load_issues, issue_hashes\n"
        f"stories, bad = load_issues({str(data)!r})\nprint(sorted({{s.source for s in stories}}), bad)\n"
        f"print(issue_hashes({str(data)!r})['locked.txt'])\n"
        f"from rag import cli\nsys.exit(cli.main(['stories', '--data', {str(shut)!r}]))\n"
    )
    r = subprocess.run(exe + ["-c", code], env=env, capture_output=True, text=True, timeout=120, preexec_fn=_drop,
                       cwd="/tmp")
    assert "Traceback" not in r.stderr, r.stderr
    assert "['good.txt']" in r.stdout and "locked.txt: cannot read: Permission denied" in r.stdout
    assert "skipped: locked.txt: cannot read" in r.stdout
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [
        f"Error: cannot read the data folder {shut}: Permission denied"]


# ------------------------------------------------------------ regex templates from user text

@pytest.mark.parametrize("earlier", NASTY)
def test_user_text_is_never_a_regex_template(earlier):
    r = resolve("那它占地多大？", [earlier])
    assert "\n" not in r.query  # C:\new once became "c:" + newline
    if r.followup and r.carried:
        assert r.carried in r.query  # the subject goes in as typed


def test_backslash_history_via_the_cli(tiny_data, tmp_path, fake_model, capsys):
    for earlier in ("\\1南湖新区春季招聘会有多少家企业参加？", "C:\\new\\南湖新区春季招聘会"):
        code, out, err = run_main(capsys, "ask", "--json", "--data", str(tiny_data), "--index", str(tmp_path / "ix"),
                                  "--history", earlier, "那它提供多少岗位？")
        assert code == 0, err
        d = json.loads(out)
        assert "\n" not in d["query"] and "invalid group" not in err


@pytest.mark.parametrize("text", NASTY)
def test_every_question_path_takes_regex_text(tiny_data, tmp_path, text):
    engine, _ = open_engine(tiny_data, tmp_path / "index")
    for q, history in ((text, []), ("那它占地多大？", [text]), (text, [text, "他是谁？"]), ("他说了什么？", [text])):
        a = engine.ask(q, history)
        json.dumps(a.to_json(), ensure_ascii=False).encode("utf-8")
    try:
        engine.search(text)
    except RagError:
        pass


# ------------------------------------------------------------ hand-edited index files

@pytest.fixture
def built(tiny_data, tmp_path):
    open_engine(tiny_data, tmp_path / "index")
    return tiny_data, tmp_path / "index"


def _edit_manifest(index_dir, change):
    path = index_dir / "current" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m = change(m)
    path.write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")


def _edit_chunks(index_dir, change):
    """Rewrite chunks.jsonl and fix its checksum, as a determined hand would."""
    current = index_dir / "current"
    rows = [json.loads(line) for line in (current / "chunks.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = change(rows)
    (current / "chunks.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                          encoding="utf-8")

    def fix(m):
        m["checksums"]["chunks.jsonl"] = store.sha256_file(current / "chunks.jsonl")
        return m

    _edit_manifest(index_dir, fix)


@pytest.mark.parametrize("manifest", [[1, 2, 3], "text", 3, None, {"format": "1"}])
def test_manifest_that_is_not_ours_is_stale_then_rebuilt(built, manifest):
    data, index_dir = built
    _edit_manifest(index_dir, lambda m: manifest)
    engine, messages = open_engine(data, index_dir)
    assert any("rebuild" in m for m in messages), messages
    assert engine.ask("南湖新区春季招聘会有多少家企业参加？").answerable


@pytest.mark.parametrize("change", [
    lambda r: r | {"source": "../../../../etc/passwd"},
    lambda r: r | {"source": "/etc/passwd"},
    lambda r: r | {"source": ["tiny-issue.txt"]},
    lambda r: r | {"story": "0"},
    lambda r: r | {"paragraph": 0},
    lambda r: r | {"start": -5},
    lambda r: r | {"runs": [[0]]},
    lambda r: r | {"extra": 1},
    lambda r: {k: v for k, v in r.items() if k != "text"},
    lambda r: [r],
])
def test_chunk_records_are_checked_by_schema(built, change):
    data, index_dir = built
    _edit_chunks(index_dir, lambda rows: [change(rows[0])] + rows[1:])
    expected = json.loads((index_dir / "current" / "manifest.json").read_text(encoding="utf-8"))
    with pytest.raises(IndexStale, match="schema|unreadable"):
        store.load(index_dir, {k: expected[k] for k in ("format", "model", "dim", "chunking", "issues")})
    engine, messages = open_engine(data, index_dir)  # rebuilt, never an unexpected error
    assert any("rebuild" in m for m in messages)
    assert all(c.source == "tiny-issue.txt" for c in engine.chunks)


def test_skipped_list_in_manifest_is_checked(built):
    data, index_dir = built
    _edit_manifest(index_dir, lambda m: m | {"skipped": [["a.txt", 3]]})
    _, messages = open_engine(data, index_dir)
    assert any("skipped" in m for m in messages)


# ------------------------------------------------------------ builds: lock, leftovers, --index

def test_leftovers_of_a_killed_build_are_swept_by_the_next_build(built):
    data, index_dir = built
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = index_dir / f".build-{dead.stdout.strip()}-abc"
    shutil.copytree(index_dir / "current", leftover)  # fresh, but its builder is gone
    open_engine(data, index_dir, chunk_size=120)  # a setting change: rebuild
    assert not leftover.exists()
    assert not [p.name for p in index_dir.iterdir() if p.name.startswith((".build-", ".old-")) and p.is_dir()]


def test_build_killed_between_its_renames_loads_the_old_index(built):
    data, index_dir = built
    os.replace(index_dir / "current", index_dir / ".old-123-456")  # what a kill at that moment leaves
    engine, messages = open_engine(data, index_dir)
    assert not any("rebuild" in m for m in messages), messages  # the old build was put back
    assert (index_dir / "current" / "manifest.json").exists()


def test_concurrent_builds_of_one_folder_are_serialised(tmp_path, monkeypatch):
    import threading
    import time

    import numpy as np

    from test_store import expected, make_corpus

    inside, overlaps = [0], []
    real = store._save_locked

    def slow(*a, **k):
        inside[0] += 1
        overlaps.append(inside[0])
        time.sleep(0.3)
        try:
            return real(*a, **k)
        finally:
            inside[0] -= 1

    monkeypatch.setattr(store, "_save_locked", slow)
    errors = []

    def build(seed):
        try:
            chunks, stories, vectors = make_corpus(6, seed=seed)
            store.save(tmp_path, expected(), chunks, stories, vectors.astype(np.float32))
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=build, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and max(overlaps) == 1
    store.load(tmp_path, expected())


def test_index_pointing_at_a_file_fails_before_the_model_loads(tiny_data, tmp_path, fake_model, capsys):
    afile = tmp_path / "index.txt"
    afile.write_text("not a folder", encoding="utf-8")
    for command in (["build"], ["ask", "投资多少？"], ["search", "投资"]):
        code, out, err = run_main(capsys, *command[:1], "--data", str(tiny_data), "--index", str(afile), *command[1:])
        assert code == 2 and err.strip().splitlines() == [f"Error: the index folder {afile} is a file, not a folder"]
    code, out, err = run_main(capsys, "build", "--data", str(tiny_data), "--index", str(afile / "sub"))
    assert code == 2 and "is not a folder" in err and len(err.strip().splitlines()) == 1
    assert fake_model == []
    with pytest.raises(IndexError_, match="is a file"):
        store.check_index_dir(afile)


@pytest.mark.parametrize("k", ["0", "-3", "100000"])
def test_search_k_is_checked_before_the_model_loads(tiny_data, tmp_path, fake_model, capsys, k):
    code, out, err = run_main(capsys, "search", "-k", k, "--data", str(tiny_data), "--index", str(tmp_path / "i"), "投资")
    assert code == 2 and err.strip().splitlines() == [f"Error: -k must be between 1 and {cli.MAX_K} (got {k})"]
    assert fake_model == []


def test_cli_output_is_valid_utf8_whatever_the_input(tiny_data, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(HF_HUB_OFFLINE="1", PYTHONIOENCODING="ascii", LC_ALL="C")
    code = ("import sys; sys.path.insert(0, 'tests'); import conftest, rag.model.embed\n"
            "rag.model.embed.load_embedder = lambda s, p=None: conftest.FakeEmbedder()\n"
            "import rag.answer.reader; rag.answer.reader.load_default = lambda s: conftest.FakeReader()\n"
            "from rag import cli\n"
            f"sys.exit(cli.main(['ask', '--json', '--data', {str(tiny_data)!r}, '--index', {str(tmp_path / 'ix')!r},"
            " '南湖\\udc95新区\\u202e春季招聘会\\u200b在哪天举行？\\x00']))\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode("utf-8", "replace")
    d = json.loads(r.stdout.decode("utf-8"))  # strict: raises on invalid UTF-8
    assert d["question"] == "南湖新区春季招聘会在哪天举行？ " and d["answerable"]


# ------------------------------------------------------------ bounded work per question

def test_history_is_bounded_and_cleaned():
    from rag.search.query import clean_history

    long_turns = [f"问题{i}" + "现代医药港" * 90 for i in range(40)] + ["\udc95他\u202e是谁\u200b？", 42, None, "", "x" * 20_000]
    kept = clean_history(long_turns, 6, 1500, 500)
    assert len(kept) <= 6 and sum(map(len, kept)) <= 1500
    assert kept[-1] == "他是谁？"
    assert clean_history("一个问题？", 6, 1500) == ["一个问题？"]
    assert clean_history(None, 6, 1500) == [] and clean_history(12, 6, 1500) == []


def test_each_earlier_turn_is_read_once(monkeypatch):
    import rag.search.query as query

    calls = []
    real = query.subject

    def counting(q, corpus=""):
        calls.append(q)
        return real(q, corpus)

    monkeypatch.setattr(query, "subject", counting)
    monkeypatch.setattr(query, "is_followup", lambda q: True)  # every turn points back: the worst case
    history = ["那它呢？"] * 8  # no turn names a subject: every earlier turn is looked at
    resolve("它有多少家企业？", history)
    assert len(calls) <= len(history), f"{len(calls)} subject() calls for {len(history)} turns"


def test_a_ten_kilobyte_history_is_cut_before_any_work(tiny_data, tmp_path, monkeypatch):
    import rag.engine as engine_mod

    engine, _ = open_engine(tiny_data, tmp_path / "index")
    seen = []
    real = engine_mod.resolve
    monkeypatch.setattr(engine_mod, "resolve", lambda q, h, *a, **k: (seen.append(list(h)), real(q, h, *a, **k))[1])
    history = ["南湖新区春季招聘会有多少家企业参加？" + "很多" * 200] * 30  # about 13 kB
    engine.ask("那它提供多少岗位？", history)
    assert seen and all(sum(map(len, h)) <= engine_mod.MAX_HISTORY_CHARS and len(h) <= engine_mod.MAX_HISTORY
                        for h in seen)


# ------------------------------------------------------------ the web app

@pytest.mark.parametrize("name, field, good, bads", [
    ("RAG_QUEUE_SIZE", "queue_size", "5", ("0", "-1", "many", "1e3", "99999")),
    ("RAG_SESSIONS", "sessions", "300", ("0", "-5", "lots", "2e3", "9999999")),
])
def test_whole_number_settings_and_bad_values_are_one_line_errors(monkeypatch, name, field, good, bads):
    from rag.config import from_env

    monkeypatch.setenv(name, good)
    assert getattr(from_env(), field) == int(good)
    for bad in bads:
        monkeypatch.setenv(name, bad)
        with pytest.raises(RagError, match=name):
            from_env()


def test_queue_size_and_kept_conversations_reach_the_app(tiny_data, tmp_path):
    from rag.web import page, serve

    engine, _ = open_engine(tiny_data, tmp_path / "index")
    settings = engine.settings.with_(queue_size=7, sessions=5, log_dir=tmp_path / "log")
    h = page.make_handlers(engine, settings)
    public, staff = page.build_public(h), page.build_staff(h)
    assert public._queue.max_size == 7 and staff._queue.max_size == 7
    serve.build_app(public, staff, serve.open_staff(settings), settings)
    for demo in (public, staff):
        assert demo.state_session_capacity == 5 and demo.state_holder.capacity == 5


def test_user_bubbles_are_escaped_text_and_markdown_is_off(tiny_data, tmp_path):
    from rag.web import handlers, page

    engine, _ = open_engine(tiny_data, tmp_path / "index")
    demo = page.build_public(page.make_handlers(engine, engine.settings))
    import gradio as gr

    bots = [b for b in demo.blocks.values() if isinstance(b, gr.Chatbot)]
    assert bots and all(b.render_markdown is False for b in bots)
    # the ChatInterface the page uses, found through the handlers it registered
    ci = next(f.fn.__self__ for f in demo.fns.values() if isinstance(getattr(f.fn, "__self__", None), gr.ChatInterface))
    typed = "![x](http://evil.example/y.png) <img src=http://evil.example/z.png> [a](javascript:alert(1))"
    history = ci._append_message_to_history(typed, [], "user")
    content = history[0]["content"]
    assert "<img" not in content and "&lt;img" in content
    again = ci._append_message_to_history(content, [], "user")  # a retried message is not escaped twice
    assert again[0]["content"] == content
    assert handlers.user_questions(history) == [typed]  # the engine still gets what was typed


def test_rejected_questions_log_one_line_not_a_traceback(caplog):
    import logging

    import gradio as gr

    from rag.web import handlers

    class Eng:
        stories = ()

        def ask(self, q, h=()):
            raise AssertionError("not asked")

    caplog.set_level(logging.INFO, logger="newsrag.app")
    h = handlers.Handlers(Eng(), Settings(max_question_chars=10))
    for bad in ("", "问" * 11, 12, ["list"]):
        with pytest.raises(gr.Error) as e:
            h.ask(bad, "")
        assert e.value.print_exception is False
    assert "太长" in h.chat("问" * 11, []) and "请输入" in h.chat("  ", [])
    lines = [r for r in caplog.records if "rejected" in r.getMessage()]
    assert len(lines) == 6 and not any(r.exc_info for r in caplog.records)


def test_no_server_paths_on_the_page(tiny_data, tmp_path):
    from rag.web import handlers, page

    engine, _ = open_engine(tiny_data, tmp_path / "index")
    engine.skipped = [("png.txt", f"{tiny_data}/png.txt: looks like a binary file, not text"),
                      ("c.txt", "C:\\data\\issues\\c.txt: not text")]
    info = page.page_info(engine)
    text = json.dumps(info, ensure_ascii=False)
    assert str(tiny_data) not in text and "C:\\\\data" not in text
    assert info["skipped"][0] == ["png.txt", "png.txt: looks like a binary file, not text"]
    assert handlers.no_paths("data/issues/x.txt: cannot read") == "x.txt: cannot read"


def _asgi(guard, method="POST", headers=(), chunks=(b"",), path="/gradio_api/call/ask"):
    """Drive an ASGI middleware with one request; return (status, body, app_saw)."""
    import asyncio

    sent, saw = [], []
    pending = list(chunks)

    async def receive():
        body = pending.pop(0) if pending else b""
        return {"type": "http.request", "body": body, "more_body": bool(pending)}

    async def send(message):
        sent.append(message)

    asyncio.run(guard({"type": "http", "method": method, "path": path,
                       "headers": [(k.encode(), v.encode()) for k, v in headers]}, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body, saw


def test_request_bodies_are_capped_and_a_full_queue_says_busy():
    from rag.web import serve

    async def ok_app(scope, receive, send):
        got = b""
        while True:
            m = await receive()
            got += m.get("body", b"")
            if not m.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"got %d" % len(got)})

    async def full_app(scope, receive, send):
        await send({"type": "http.response.start", "status": 503, "headers": []})
        await send({"type": "http.response.body", "body": b'{"detail": "Queue is full. Max size is 32"}'})

    g = serve.Guard(ok_app, max_bytes=1000)
    assert _asgi(g, headers=[("content-length", "5000")])[0] == 413
    assert _asgi(g, headers=[("content-length", "junk")])[0] == 413
    assert _asgi(g, chunks=[b"x" * 600, b"x" * 600])[0] == 413  # no Content-Length: counted as it comes
    assert _asgi(g, chunks=[b"x" * 400, b"x" * 400])[:2] == (200, b"got 800")
    assert _asgi(g, headers=[("content-length", "3")], chunks=[b"abc"])[:2] == (200, b"got 3")
    status, body, _ = _asgi(serve.Guard(full_app), headers=[("content-length", "2")], chunks=[b"{}"])
    assert status == 503 and json.loads(body)["detail"] == serve.BUSY and b"Queue is full" not in body


def test_a_call_of_an_api_the_page_does_not_serve_is_a_plain_404():
    """The public page serves /chat and /ask; a call of its old /search (the staff page's)
    made Gradio raise: a 500 and a traceback in the log for every such request."""
    from gradio.route_utils import FnIndexInferError

    from rag.web import serve

    async def gradio_like(scope, receive, send):
        if scope["path"].endswith("/search"):  # as the page's own error middleware does: a 500, then raise
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            raise FnIndexInferError("Could not infer function index for API name: search")
        if scope["path"].endswith("/broken"):  # any other failure stays a 500
            await send({"type": "http.response.start", "status": 500, "headers": []})
            await send({"type": "http.response.body", "body": b"Internal Server Error"})
            return
        if scope["path"].endswith("/late"):  # an error after the answer began is not ours to turn
            await send({"type": "http.response.start", "status": 200, "headers": []})
            raise FnIndexInferError("late")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    g = serve.Guard(gradio_like)
    status, body, _ = _asgi(g, headers=[("content-length", "2")], chunks=[b"{}"], path="/gradio_api/call/search")
    assert status == 404 and "No such API endpoint" in json.loads(body)["detail"]
    assert _asgi(g, headers=[("content-length", "2")], chunks=[b"{}"])[:2] == (200, b"ok")
    with pytest.raises(FnIndexInferError):
        _asgi(g, headers=[("content-length", "2")], chunks=[b"{}"], path="/gradio_api/call/late")
    assert _asgi(g, headers=[("content-length", "2")], chunks=[b"{}"], path="/x/broken")[:2] == (
        500, b"Internal Server Error")


# ------------------------------------------------------------ jieba cache

def test_unwritable_jieba_cache_prints_no_traceback(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go", encoding="utf-8")
    code = ("import rag.text as t, pathlib, tempfile\n"
            f"t.CACHE = pathlib.Path({str(blocker / 'jieba')!r})\n"
            f"tempfile.tempdir = {str(blocker / 'tmp')!r}\n"  # the temp fallback is unusable too
            "print(t.tagged('现代医药港计划投资多少')[:2])\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "现代" in r.stdout


# ------------------------------------------------------------ slow: the real server

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from test_app import start_server

    tmp = tmp_path_factory.mktemp("security")
    s = start_server(tmp)
    yield s
    s.stop()


def _post(server, path, payload: bytes, headers=None):
    import httpx

    return httpx.post(server.url.rstrip("/") + path, content=payload, timeout=60,
                      headers={"content-type": "application/json", **(headers or {})})


@pytest.mark.slow
def test_server_refuses_big_bodies_and_logs_rejections_in_one_line(server):
    big = b'{"data": ["' + b"a" * (3 * 1024 * 1024) + b'", ""]}'
    assert _post(server, "/gradio_api/call/ask", big).status_code == 413
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(server.url, verbose=False)
    for bad in ("", "投资" * 400):
        with pytest.raises(AppError):
            client.predict(bad, "", api_name="/ask")
    from test_app import staff_client

    html, lines = staff_client(server).predict("nologin", "../../etc/passwd", "/etc/passwd", api_name="/search")
    assert "root:x" not in html and lines == ""
    out = server.output()
    assert "Traceback" not in out, out[-3000:]
    assert out.count("rejected a question") >= 2 and "refused a request body" in out


@pytest.mark.slow
def test_config_and_api_hold_no_server_paths(server):
    import httpx

    from test_app import staff_cookie

    config = httpx.get(server.url.rstrip("/") + "/config", timeout=60).text
    staff = httpx.get(server.url + "staff/config", timeout=60, headers={"Cookie": staff_cookie(server)})
    assert staff.status_code == 200
    for text in (config, staff.text):
        for root in (str(ROOT), str(Path(server.log).parent), "/root/", "/tmp/"):
            assert root not in text, root


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian chromium not installed")
def test_markdown_image_in_a_user_bubble_loads_nothing(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    from test_browser import ARGS, ask

    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pg = b.new_page()
        urls = []
        pg.on("request", lambda r: urls.append(r.url))
        pg.goto(server.url)
        pg.wait_for_selector("textarea")
        reply = ask(pg, "![x](http://127.0.0.1:9/evil.png) <img src=http://127.0.0.1:9/evil2.png> 投资多少？")
        pg.wait_for_timeout(1000)
        assert pg.locator(".message.user img").count() == 0
        assert "![x](http://127.0.0.1:9/evil.png)" in pg.locator(".message.user").last.inner_text()
        assert not [u for u in urls if "evil" in u]
        reply = ask(pg, "现代医药港计划投资多少？")
        assert "300亿元" in reply.locator("p.rag-sentence").inner_text()  # replies still render their HTML
        b.close()


def test_usage_errors_are_one_line(capsys):
    for argv in (["ask", "--history", "-x", "q"], ["frobnicate"], ["search", "-k", "many", "q"]):
        with pytest.raises(SystemExit) as e:
            cli.main(argv)
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith("Error: ") and len(err.strip().splitlines()) == 1, err
    code, out, err = run_main(capsys, "ask", "--json", "--data", "/nowhere", "--history=-x 招聘会", "q")
    assert code == 2 and "data folder not found" in err  # --history=-x is how a value starting with '-' is given
