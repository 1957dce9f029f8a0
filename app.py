"""Gradio web chat over the indexed newspaper issues: the entry the chat is started with.

Takes Settings from the environment (rag.config.from_env: RAG_DATA_DIR,
RAG_INDEX_DIR, RAG_LOG_DIR, RAG_STAFF_FILE, ...; GRADIO_SERVER_NAME/PORT say where
to listen), opens the Engine once per process (building the index on first
start, with progress on the console) and serves two faces of one app:
  - at /, the public chat: answer sentence with the short answer in bold, numbered
    sources, the rewritten query for follow-ups, a help reply to small talk;
    👍/👎 on every reply, stored with refusals in the feedback log (rag.web.feedback);
    the copy button gives plain text; API endpoints /chat (reply HTML) and /ask
    (the `ask --json` object);
  - at /staff, behind a login (accounts made by `rag staff add NAME`; none: the
    staff side is off): search with filters and copyable citations, the refused and
    👎 questions with a CSV export at /staff/unanswered.csv, and the issues tab that
    previews, publishes, replaces and removes issue files while the chat answers on.
The callbacks are rag.web.handlers, the pages rag.web.page, the login
rag.web.login, the issues tab rag.web.issues, serving rag.web.serve.
"""

from __future__ import annotations

import logging
import sys

from rag.config import from_env, offline_hub_default, server_address
from rag.errors import RagError
from rag.web.page import build_public, build_staff, gradio_env, make_handlers
from rag.web.serve import build_app, limit_malloc_arenas, open_desk, open_engine, open_log, open_staff, serve

log = logging.getLogger("newsrag.app")


def main() -> int:
    limit_malloc_arenas()
    # Libraries log chatty INFO lines (faiss loader, model loading); keep ours only.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    logging.getLogger("newsrag.publish").setLevel(logging.INFO)
    offline_hub_default()
    gradio_env()
    try:
        settings = from_env()
        host, port = server_address()
        engine = open_engine(settings)
    except RagError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    h = make_handlers(engine, settings, open_log(settings))
    app = build_app(build_public(h), build_staff(h, open_desk(h)), open_staff(settings), settings)
    serve(app, host, port, settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
