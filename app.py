"""Gradio web chat over the indexed newspaper issues: the entry the chat is started with.

Takes Settings from the environment (rag.config.from_env: RAG_DATA_DIR,
RAG_INDEX_DIR, RAG_LOG_DIR, ...; Gradio itself reads GRADIO_SERVER_NAME/PORT),
opens the Engine once per process (building the index on first start, with
progress on the console) and serves the page of rag.web:
  - a multi-turn chat: answer sentence with the short answer in bold, numbered
    sources, the rewritten query for follow-ups, a help reply to small talk;
    👍/👎 on every reply, stored with refusals in the feedback log (rag.web.feedback);
    the copy button gives plain text (the sentence and a citation line);
  - a staff search tab: passages holding the keyword first, issue/story filters,
    one copy control per citation line;
  - a staff tab of refused and 👎 questions, most frequent first, a count per
    day, and a CSV export at /staff/unanswered.csv;
  - API endpoints /chat (reply HTML text), /ask (the `ask --json` object), /search.
The callbacks are rag.web.handlers, the page rag.web.page, serving (body cap,
"busy" replies, the CSV route) rag.web.serve.
"""

from __future__ import annotations

import logging
import sys

from rag.config import from_env, offline_hub_default
from rag.errors import RagError
from rag.web.page import build_demo, gradio_env
from rag.web.serve import launch, limit_malloc_arenas, open_engine, open_log

log = logging.getLogger("newsrag.app")


def main() -> int:
    limit_malloc_arenas()
    # Libraries log chatty INFO lines (faiss loader, model loading); keep ours only.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    offline_hub_default()
    gradio_env()
    settings = from_env()
    try:
        engine = open_engine(settings)
    except RagError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    feedback = open_log(settings)
    demo = build_demo(engine, settings, feedback)
    launch(demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
