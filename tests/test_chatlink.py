"""rag.chatlink: when a one-shot `rag ask` may go to the running chat (the round trip
itself is tested against the real chat in tests/test_app.py)."""

import json
import os
import subprocess
import sys

from rag import chatlink
from rag.config import Settings


def settings(tmp_path, **kw):
    (tmp_path / "index").mkdir(exist_ok=True)
    return Settings(data_dir=tmp_path / "issues", index_dir=tmp_path / "index", **kw)


def test_announcement_is_found_while_its_chat_lives_and_withdrawn_by_it(tmp_path):
    s = settings(tmp_path)
    assert chatlink.running(s) == (None, chatlink.NONE_RUNNING)
    path = chatlink.announce(s, "http://127.0.0.1:7860")
    assert path == tmp_path / "index" / chatlink.FILE
    assert chatlink.running(s) == ("http://127.0.0.1:7860", "")
    chatlink.withdraw(path)
    assert not path.exists()


def test_a_dead_or_foreign_chat_is_not_asked(tmp_path):
    s = settings(tmp_path)
    path = chatlink.announce(s, "http://127.0.0.1:7860")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    doc = json.loads(path.read_text(encoding="utf-8"))
    for change, why in [({"pid": int(dead.stdout)}, "stopped"), ({"pid": 0}, "stopped"),
                        ({"model": "other/model"}, "another model"), ({"data_dir": "/elsewhere"}, "other issues"),
                        ({"url": "http://203.0.113.5:7860"}, "not on this machine"), ({"pid": "1"}, "not one")]:
        path.write_text(json.dumps({**doc, **change}), encoding="utf-8")
        url, said = chatlink.running(s)
        assert url is None and why in said, (change, said)
    path.write_text("{not json", encoding="utf-8")
    assert chatlink.running(s)[0] is None and "unreadable" in chatlink.running(s)[1]
    # another process's announcement is not withdrawn by us
    path.write_text(json.dumps({**doc, "pid": os.getppid()}), encoding="utf-8")
    chatlink.withdraw(path)
    assert path.exists()


def test_only_input_the_chat_keeps_as_it_is_goes_to_it():
    assert chatlink.normal_form("现代医药港计划投资多少？", ["前一个问题"])
    assert not chatlink.normal_form(" 现代医药港计划投资多少？", [])
    assert not chatlink.normal_form("问题", ["  前一个问题"])
    assert not chatlink.normal_form("问题", [""])
    assert not chatlink.normal_form("问题", ["q"] * (chatlink.MAX_HISTORY + 1))


def test_a_chat_that_does_not_answer_means_answering_here(tmp_path):
    import socket

    s = settings(tmp_path)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once closed
    chatlink.announce(s, f"http://127.0.0.1:{port}")
    answer, why = chatlink.ask(s, "现代医药港计划投资多少？", [], timeout=2)
    assert answer is None and "did not answer" in why


def test_an_index_folder_that_cannot_be_written_is_no_announcement(tmp_path):
    s = Settings(data_dir=tmp_path, index_dir=tmp_path / "missing" / "index")
    assert chatlink.announce(s, "http://127.0.0.1:7860") is None


def test_the_history_limit_is_the_chats():
    from rag.web import handlers

    assert chatlink.MAX_HISTORY == handlers.MAX_HISTORY


def test_only_a_whole_answer_object_is_printed():
    good = {"question": "q", "query": "q", "answerable": True, "answer": "4平方公里", "sentence": "s", "reason": None,
            "citations": [{"rank": 1, "story": "t", "paragraph": 5, "text": "s", "source": "f.txt", "start": 0, "end": 1}]}
    assert chatlink.is_answer(good)
    assert not chatlink.is_answer({**good, "answerable": "yes"})
    assert not chatlink.is_answer({k: v for k, v in good.items() if k != "query"})
    assert not chatlink.is_answer({**good, "citations": [{"rank": 1}]})
    assert not chatlink.is_answer(["not", "a", "dict"])
