"""The example questions the page offers, and their cache beside the index.

Takes an engine (and its Settings); gives up to four questions built from the
indexed stories that the engine answers from the story they came from, kept in
the index folder for the next start of the same index, settings and code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from rag.config import Settings
from rag.search.turns import example_questions

log = logging.getLogger("newsrag.app")


def examples_for(engine, limit: int = 4, tries: int = 10) -> list[str]:
    """Questions to offer (clickable, and in the help reply): built from the
    indexed stories (rag.search.turns.example_questions), kept when the engine
    answers them from the story they came from (at most `tries` asked, at startup).
    An index of other issues gets its own examples, or none rather than wrong ones."""
    picked = []
    for ex in example_questions(engine.stories)[:tries]:
        try:
            a = engine.ask(ex.question)
        except Exception:  # an example is a nicety; never block startup on it
            log.exception("example %r failed", ex.question)
            continue
        if a.answerable and a.answer_shown and a.answer and a.citations and a.citations[0].story == ex.story \
                and (ex.answer is None or ex.answer in a.answer):
            picked.append(ex.question)
        if len(picked) >= limit:
            break
    return picked


EXAMPLES_FILE = "examples.json"  # beside the index's `current` folder


def _examples_key(settings: Settings) -> str | None:
    """What the examples depend on: the index (its manifest), the settings and the
    code and fitted files that answer. None when the index has no manifest file."""
    from dataclasses import asdict

    try:
        manifest = (settings.index_dir / "current" / "manifest.json").read_bytes()
    except OSError:
        return None
    h = hashlib.sha256(manifest)
    h.update(repr(sorted((k, str(v)) for k, v in asdict(settings).items())).encode("utf-8"))
    import rag

    code = Path(rag.__file__).resolve().parent
    for f in sorted(code.rglob("*")):
        if f.suffix in (".py", ".json", ".safetensors") and f.is_file():
            h.update(str(f.relative_to(code)).encode("utf-8"))
            # the fitted weights by size and time (28 MB); code and tables by content
            h.update(repr((f.stat().st_size, f.stat().st_mtime_ns)).encode() if f.suffix == ".safetensors"
                     else f.read_bytes())
    return h.hexdigest()


def cached_examples(engine, settings: Settings) -> list[str]:
    """examples_for, kept in the index folder for the next start of the same index,
    settings and code: asking them took about a third of a chat's start (2 s of 7).
    The cache is a nicety: unreadable, stale or unwritable, the examples are asked."""
    key = _examples_key(settings)
    path = settings.index_dir / EXAMPLES_FILE
    if key is not None:
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(saved, dict) and saved.get("key") == key and isinstance(saved.get("examples"), list) \
                    and all(isinstance(q, str) for q in saved["examples"]):
                return saved["examples"]
        except (OSError, ValueError):
            pass
    examples = examples_for(engine)
    if key is not None:
        tmp = path.with_name(f".{EXAMPLES_FILE}.{os.getpid()}")
        try:
            tmp.write_text(json.dumps({"key": key, "examples": examples}, ensure_ascii=False), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:  # a read-only index folder: ask them again next time
            try:
                tmp.unlink()
            except OSError:
                pass
    return examples
