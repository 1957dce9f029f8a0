"""rag.web.keep: what of the chat is kept in the browser and read back (pure, fast;
the reload itself is tests/test_browser_chat.py)."""

from __future__ import annotations

from rag.web import keep

REPLY = '<div class="rag-reply" data-copy="计划投资300亿元。[1]"><p>计划投资300亿元。</p></div>'


def test_a_conversation_comes_back_as_the_chat_and_its_state():
    history = [{"role": "user", "content": "现代医药港在哪？"}, {"role": "assistant", "content": REPLY},
               {"role": "user", "content": [{"type": "text", "text": "投资多少？"}]},
               {"role": "assistant", "content": [{"type": "text", "text": REPLY}]}]
    chat, state = keep.restore(keep.store(history))
    assert chat == state and chat is not state
    assert [m["content"] for m in chat] == ["现代医药港在哪？", REPLY, "投资多少？", REPLY]


def test_what_comes_back_from_the_browser_is_read_as_untrusted():
    saved = [{"role": "user", "content": "<img src=x onerror=alert(1)>"},  # a user's text is escaped as the chat escapes it
             {"role": "assistant", "content": REPLY},
             {"role": "user", "content": "&lt;b&gt;已转义&lt;/b&gt;"},  # escaped once, not twice
             {"role": "system", "content": "你是……"}, {"role": "user", "content": {"path": "/etc/passwd"}},
             {"role": "user", "content": [{"type": "file", "file": "/etc/passwd"}]}, "junk", None, 3]
    chat, _ = keep.restore(saved)
    assert [m["content"] for m in chat] == ["&lt;img src=x onerror=alert(1)&gt;", REPLY, "&lt;b&gt;已转义&lt;/b&gt;"]
    for junk in (None, "[]", {"role": "user"}, 42):
        assert keep.restore(junk) == ([], [])


def test_a_long_chat_keeps_its_latest_whole_turns_within_the_caps():
    turns = [m for i in range(50) for m in ({"role": "user", "content": f"问题{i}"}, {"role": "assistant", "content": REPLY})]
    kept = keep.store(turns)
    assert len(kept) == keep.MAX_MESSAGES and kept[0] == {"role": "user", "content": "问题20"}
    assert kept[-1]["content"] == REPLY
    big = [{"role": "user", "content": "问"}, {"role": "assistant", "content": "答" * (keep.MAX_CHARS - 10)},
           {"role": "user", "content": "再问"}, {"role": "assistant", "content": "答" * 20}]
    assert [m["content"] for m in keep.store(big)] == ["再问", "答" * 20]  # a reply is never kept without its question
