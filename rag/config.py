"""Settings: defaults <- environment <- explicit arguments.

This is the one module that reads os.environ. Everything else receives a
Settings value. Build-time settings (model, chunking) go into the index
manifest so that a change triggers a rebuild.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import timedelta, timezone, tzinfo
from pathlib import Path

from rag.errors import RagError

_PACKAGE_PARENT = Path(__file__).resolve().parent.parent
# In a source checkout the defaults are the repo's own folders; installed from a
# wheel (site-packages), they are the current folder's, and the model cache the user's.
ROOT = _PACKAGE_PARENT if (_PACKAGE_PARENT / "pyproject.toml").is_file() else Path.cwd()
_CACHE = ROOT / ".cache" if ROOT == _PACKAGE_PARENT else Path.home() / ".cache" / "newsrag"

# Retrieval modes, used by the eval's ablations.
MODES = ("hybrid", "dense", "lexical")
ANSWERERS = ("reader", "rules")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = ROOT / "data" / "issues"
    index_dir: Path = ROOT / "index"
    model: str | None = None  # None: the bundled offline default (rag.model.provision)
    model_cache: Path = _CACHE / "models"
    chunk_size: int = 160  # characters; far below the model's 512 tokens
    chunk_overlap: int = 0
    top_k: int = 5  # citations shown
    candidates: int = 20  # per branch, before fusion
    mode: str = "hybrid"
    followups: bool = True  # resolve follow-ups with earlier turns
    extract: bool = True  # pick a short answer inside the sentence
    answerer: str = "reader"  # the answer stage: "reader" (fitted span reader) or "rules"
    read: int = 4  # passages the reader reads (the first hits' paragraphs)
    # characters of each such paragraph the reader reads, centred on its hit (one
    # 192-token window holds about 200 with the question); 0: the whole paragraph,
    # in as many overlapping windows as it takes
    read_chars: int = 200
    decisions: Path | None = None  # fitted decisions file (None: rag/knowledge/decisions.json)
    max_question_chars: int = 500
    # Issue files larger than this are skipped with a message (env RAG_MAX_ISSUE_MB):
    # an issue is a few kB to tens of kB, and embedding costs about 12 s per MB on
    # 2 cores, so a 50 MB file took 10 minutes; 5 MB is a year of issues in one file.
    max_issue_bytes: int = 5 * 1024 * 1024
    # the chat's feedback and unanswered-questions log (rag.web.feedback; env RAG_LOG_DIR)
    log_dir: Path = _CACHE / "log"
    # the staff accounts (rag.web.accounts; env RAG_STAFF_FILE); None: staff.json beside the feedback log
    staff_file: Path | None = None
    # The chat's queue (env RAG_QUEUE_SIZE): requests waiting beyond the 2 being
    # answered; one more gets "busy, try again" at once rather than a long wait.
    # Sized for a wait under 2 s at the 95th percentile: scripts/loadtest.py (50
    # clients, 2 cores, reader stage, 2026-11-27) gave p95 3.5 s with 8 waiting,
    # 2.3 s with 4, 1.8 s and 2.0 s with 3 (2.0 s over 10 minutes); the server answered
    # about 4.5 questions a second. More cores: about 2 s x that rate, minus 2.
    queue_size: int = 3
    # Conversations the chat keeps on the server (env RAG_SESSIONS; Gradio's
    # state_session_capacity), least recently used dropped first: each holds its
    # history, about 150 KB under scripts/loadtest.py, so the default (Gradio's
    # own) can reach about 1.5 GB. With 300 the server's memory levelled off
    # (+130 MB in 50 s, +47 MB in the next 2 min, then flat; 10,000: +300 MB in
    # 4 min and still rising; 2026-11-27). Fewer saves memory, but a conversation
    # idle while that many newer ones came loses its earlier turns.
    sessions: int = 10_000
    # The time zone staff times are shown in (env RAG_TIMEZONE, an IANA name): the
    # unanswered list, the per-day chart's days and the CSV. The log itself stores UTC.
    time_zone: str = "Asia/Shanghai"

    def __post_init__(self):
        zone_of(self.time_zone)  # a bad name fails here, at start-up, not on the first staff page
        if self.mode not in MODES:
            raise ValueError(f"mode ({self.mode}) must be one of {', '.join(MODES)}")
        if self.max_issue_bytes < 1:
            raise ValueError(f"max issue size ({self.max_issue_bytes} bytes) must be at least 1 byte")
        if self.queue_size < 1:
            raise ValueError(f"queue size ({self.queue_size}) must be at least 1")
        if self.sessions < 1:
            raise ValueError(f"sessions ({self.sessions}) must be at least 1")
        if self.read_chars < 0:
            raise ValueError(f"read_chars ({self.read_chars}) must be 0 (the whole paragraph) or more")
        if self.answerer not in ANSWERERS:
            raise ValueError(f"answerer ({self.answerer}) must be one of {', '.join(ANSWERERS)}")
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk overlap ({self.chunk_overlap}) larger than chunk size ({self.chunk_size})"
            )

    def staff_path(self) -> Path:
        return self.staff_file if self.staff_file is not None else self.log_dir / "staff.json"

    def with_(self, **changes) -> "Settings":
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def zone(self) -> tzinfo:
        """`time_zone` as a tzinfo (rag.web.feedback reads staff times in it)."""
        return zone_of(self.time_zone)


class TimeZoneError(RagError, ValueError):
    """A time zone name that names no zone (a ValueError too, like the other bad settings)."""


# Without the IANA database (no /usr/share/zoneinfo and no tzdata package) the
# default still works: China has kept UTC+8 with no summer time since 1991.
_FIXED = {"UTC": timezone.utc, "Asia/Shanghai": timezone(timedelta(hours=8), "Asia/Shanghai")}


def zone_of(name: str) -> tzinfo:
    """The tzinfo of an IANA time zone name ("Asia/Shanghai", "UTC"); TimeZoneError naming it otherwise."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name.strip():
        raise TimeZoneError(f"time zone ({name!r}) must be an IANA name such as Asia/Shanghai or UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        if name in _FIXED:
            return _FIXED[name]
        raise TimeZoneError(f"time zone ({name!r}) is not a known IANA name; use one such as Asia/Shanghai, "
                            "Europe/Berlin or UTC") from None


def _whole(env, name: str, most: int) -> int:
    """A whole number from 1 to `most` in env[name], else a one-line RagError."""
    n = env[name].strip()
    if not n.isdigit() or not 0 < int(n) <= most:
        raise RagError(f"{name} ({env[name]!r}) must be a whole number from 1 to {most}")
    return int(n)


def from_env(env: dict | None = None, **overrides) -> Settings:
    """Settings from the environment (RAG_*), then explicit overrides."""
    env = os.environ if env is None else env
    s = Settings()
    if env.get("RAG_DATA_DIR"):
        s = s.with_(data_dir=Path(env["RAG_DATA_DIR"]))
    if env.get("RAG_INDEX_DIR"):
        s = s.with_(index_dir=Path(env["RAG_INDEX_DIR"]))
    if env.get("RAG_MODEL"):
        s = s.with_(model=env["RAG_MODEL"])
    if env.get("RAG_MAX_ISSUE_MB"):
        try:
            mb = float(env["RAG_MAX_ISSUE_MB"])
        except ValueError:
            mb = float("nan")
        if not 0 < mb < 1e6:
            raise RagError(f"RAG_MAX_ISSUE_MB ({env['RAG_MAX_ISSUE_MB']!r}) must be a positive number of megabytes")
        s = s.with_(max_issue_bytes=max(1, int(mb * 1024 * 1024)))
    if env.get("RAG_ANSWERER"):
        s = s.with_(answerer=env["RAG_ANSWERER"])
    if env.get("RAG_LOG_DIR"):
        s = s.with_(log_dir=Path(env["RAG_LOG_DIR"]))
    if env.get("RAG_STAFF_FILE"):
        s = s.with_(staff_file=Path(env["RAG_STAFF_FILE"]))
    if env.get("RAG_QUEUE_SIZE"):
        s = s.with_(queue_size=_whole(env, "RAG_QUEUE_SIZE", 10_000))
    if env.get("RAG_SESSIONS"):
        s = s.with_(sessions=_whole(env, "RAG_SESSIONS", 1_000_000))
    if env.get("RAG_TIMEZONE"):
        try:
            s = s.with_(time_zone=env["RAG_TIMEZONE"].strip())
        except TimeZoneError:
            raise TimeZoneError(f"RAG_TIMEZONE ({env['RAG_TIMEZONE']!r}) is not a known time zone; use an IANA "
                                "name such as Asia/Shanghai, Europe/Berlin or UTC") from None
    if env.get("RAG_MODEL_CACHE"):
        s = s.with_(model_cache=Path(env["RAG_MODEL_CACHE"]))
    overrides = {k: (Path(v) if k.endswith(("_dir", "_file")) and v is not None else v) for k, v in overrides.items()}
    return s.with_(**overrides)


def server_address(env: dict | None = None) -> tuple[str, int]:
    """Where the web app listens: GRADIO_SERVER_NAME (default 127.0.0.1, this
    machine only) and GRADIO_SERVER_PORT (default 7860), the variables Gradio's own
    launch read, kept so that existing set-ups start the same."""
    env = os.environ if env is None else env
    host = (env.get("GRADIO_SERVER_NAME") or "127.0.0.1").strip()
    port = (env.get("GRADIO_SERVER_PORT") or "7860").strip()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise RagError(f"GRADIO_SERVER_PORT ({env.get('GRADIO_SERVER_PORT')!r}) must be a port number from 1 to 65535")
    return host, int(port)


def offline_hub_default(env: dict | None = None) -> None:
    """Make a hub name fail fast instead of hanging ~70 s on closed networks.

    Set before sentence-transformers / huggingface_hub are imported. A user who
    has a hub sets HF_HUB_OFFLINE=0 (or HF_ENDPOINT) to opt back in.
    """
    env = os.environ if env is None else env
    if "HF_HUB_OFFLINE" not in env and "HF_ENDPOINT" not in env:
        env["HF_HUB_OFFLINE"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
