"""Keeping the chat across a reload: the conversation in the asker's browser.

Takes the page's gr.ChatInterface; gives it a gr.BrowserState (localStorage,
under KEY) that the chat's messages are written to whenever they change and
read back from when the page loads, into the chat and the conversation state
the answers' follow-ups are resolved with. Nothing is kept on the server: a
reload, or the browser reopened, shows the same conversation; the 清空对话
button empties it there too. Gradio encrypts the stored value with a key made
at each start, so a server restart begins a fresh conversation (its old replies
would cite an index that may have changed).

What comes back from the browser is the asker's own text and our replies, but
it is read as untrusted: only user/assistant messages of text, user text
escaped as the chat escapes it (rag.web.page.escape_user_text), and at most
the last MAX_MESSAGES messages and MAX_CHARS characters, whole turns, so a
long chat stays under the request body cap (rag.web.serve.MAX_BODY_BYTES).
"""

from __future__ import annotations

import html

KEY = "rag-chat"  # the page script (rag.web.page_js) looks for it: a kept chat needs no "leave?" question
MAX_MESSAGES = 60  # 30 turns
MAX_CHARS = 600_000  # a reply's HTML is a few kB


def _text(content) -> str | None:
    """A message's text: a string, or Gradio's list of text parts; None for anything else."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and content.get("type", "text") == "text" and isinstance(content.get("text"), str):
        return content["text"]
    if isinstance(content, (list, tuple)):
        parts = [_text(c) for c in content]
        return None if any(p is None for p in parts) else "".join(parts)
    return None


def trimmed(history) -> list[dict]:
    """The messages worth keeping, as {"role", "content"} with text content: the
    latest whole turns (starting at a question) within MAX_MESSAGES and MAX_CHARS."""
    msgs = []
    for m in history if isinstance(history, list) else []:
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            continue
        text = _text(m.get("content"))
        if text is None:
            continue
        if m["role"] == "user":
            text = html.escape(html.unescape(text), quote=False)  # as typed, escaped once (idempotent)
        msgs.append({"role": m["role"], "content": text})
    kept, size = [], 0
    for m in reversed(msgs):
        size += len(m["content"])
        if len(kept) >= MAX_MESSAGES or size > MAX_CHARS:
            break
        kept.append(m)
    kept.reverse()
    while kept and kept[0]["role"] != "user":  # a reply without its question is dropped
        kept.pop(0)
    return kept


def store(history) -> list[dict]:
    """What goes into the browser after the chat changed."""
    return trimmed(history)


def restore(saved) -> tuple[list[dict], list[dict]]:
    """The chat and its conversation state from what the browser kept."""
    history = trimmed(saved)
    return history, list(history)


def keep(gr, demo, ci) -> None:
    """Wire the browser state to `ci` (a gr.ChatInterface rendered in `demo`); call inside `with demo:`."""
    saved = gr.BrowserState([], storage_key=KEY)
    ci.chatbot.change(store, [ci.chatbot], [saved], api_visibility="private", queue=False, show_progress="hidden")
    demo.load(restore, [saved], [ci.chatbot, ci.chatbot_state], api_visibility="private", queue=False,
              show_progress="hidden")
