"""A one-shot `rag ask` answered by the chat already running over the same index.

Loading the model, the reader and the segmenter takes a one-shot command
seconds and most of a gigabyte before its first word; a running chat has them
loaded. So the chat, once it listens, announces itself in its index folder
(`chat.json`: address, pid, data folder, model), and `rag ask` on that index
sends its question to the chat's /ask endpoint (the `ask --json` object, over
Gradio's REST protocol, stdlib only) when the announcement is live and says
so; otherwise, or when the chat does not answer in time, it answers in process.

The chat normalises its input (strips the question and earlier turns, keeps
the last MAX_HISTORY turns), so only input already in that form is sent: the
answer is then the one this process would give.

Takes Settings and the question; gives (answer dict or None, a line saying
which was done). Never raises for a missing or stale chat: that is the common case.
"""

from __future__ import annotations

import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from rag.liveness import pid_alive

FILE = "chat.json"
MAX_HISTORY = 6  # rag.web.handlers.MAX_HISTORY: the chat passes no more earlier turns on
NONE_RUNNING = "no chat is running over this index"  # the usual case: not worth a line on stderr
TIMEOUT_S = 30.0  # a busy chat's queue; the fallback would take seconds too


def _identity(settings) -> dict:
    """What must be equal for the chat's answer to be this process's answer."""
    return {"data_dir": str(Path(settings.data_dir).resolve()), "model": settings.model}


def announce(settings, url: str) -> Path | None:
    """Write the announcement into the index folder (atomically); None when it cannot be
    written (a read-only index: one-shot commands then answer in process)."""
    target = Path(settings.index_dir) / FILE
    doc = {"url": url, "pid": os.getpid(), **_identity(settings)}
    try:
        fd, tmp = tempfile.mkstemp(prefix=".chat-", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(doc, f, ensure_ascii=False)
        os.replace(tmp, target)
        return target
    except OSError:
        return None


def withdraw(path: Path | None) -> None:
    """Remove our announcement (at exit), unless another chat has replaced it since."""
    if path is None:
        return
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def running(settings) -> tuple[str | None, str]:
    """(the live chat's address or None, why not)."""
    path = Path(settings.index_dir) / FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, NONE_RUNNING
    except (OSError, ValueError) as e:
        return None, f"the chat's announcement {path} is unreadable ({type(e).__name__})"
    if not isinstance(doc, dict) or not isinstance(doc.get("url"), str) or not isinstance(doc.get("pid"), int):
        return None, f"the chat's announcement {path} is not one"
    if doc["pid"] <= 0 or not pid_alive(doc["pid"]):
        return None, "the chat that announced itself has stopped"
    if {k: doc.get(k) for k in _identity(settings)} != _identity(settings):
        return None, "the running chat uses other issues or another model"
    if not doc["url"].startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
        return None, "the running chat is not on this machine"
    return doc["url"], ""


def normal_form(question: str, history: list[str]) -> bool:
    """Is the input as the chat would pass it to the engine (so its answer is ours)?"""
    return (question == question.strip() and len(history) <= MAX_HISTORY
            and all(isinstance(h, str) and h and h == h.strip() for h in history))


def ask(settings, question: str, history: list[str], timeout: float = TIMEOUT_S) -> tuple[dict | None, str]:
    """(the chat's answer, "answered by the chat at URL"), or (None, why it was not asked)."""
    if not normal_form(question, history):
        return None, "the question or an earlier turn has surrounding spaces, or there are many turns"
    url, why = running(settings)
    if url is None:
        return None, why
    try:
        answer = _call(url, [question, list(history)], timeout)
    except (OSError, ValueError, KeyError, TypeError) as e:  # URLError and timeouts are OSErrors
        return None, f"the chat at {url} did not answer ({type(e).__name__})"
    if not is_answer(answer):
        return None, f"the chat at {url} gave no answer"
    return answer, f"answered by the chat running at {url}"


CITATION_KEYS = {"rank": int, "story": str, "paragraph": int, "text": str, "source": str, "start": int, "end": int}


def is_answer(d) -> bool:
    """Has `d` what `rag ask` prints (the `ask --json` object's keys, of their types)?"""
    if not isinstance(d, dict) or not isinstance(d.get("answerable"), bool):
        return False
    if not all(isinstance(d.get(k), str) for k in ("question", "query")):
        return False
    if not all(d.get(k) is None or isinstance(d.get(k), str) for k in ("answer", "sentence", "reason")):
        return False
    cites = d.get("citations")
    return isinstance(cites, list) and all(
        isinstance(c, dict) and all(isinstance(c.get(k), t) for k, t in CITATION_KEYS.items()) for c in cites)


def _call(url: str, data: list, timeout: float):
    """One call of the chat's `ask` endpoint: POST the data, then read the event stream."""
    body = json.dumps({"data": data}).encode("utf-8")
    req = urllib.request.Request(f"{url}/gradio_api/call/ask", data=body,
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        event_id = json.loads(r.read())["event_id"]
    event = None
    with urllib.request.urlopen(f"{url}/gradio_api/call/ask/{event_id}", timeout=timeout) as s:
        for raw in s:
            line = raw.decode("utf-8").rstrip("\r\n")
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event == "complete":
                return json.loads(line[5:].strip())[0]
            elif line.startswith("data:") and event == "error":
                raise ValueError("the chat answered with an error")
    raise ValueError("the chat's stream ended without an answer")
