"""One publishing job at a time: change the data folder, re-open the index beside the running one, swap.

Takes checked Previews (rag.publish.preview) or names to remove; gives a Job that
runs in a background thread: the files are written (rag.publish.folder), then the
engine is opened again on the same Settings with the running engine's model and
reader, which re-embeds only the issues whose passages changed (rag.store.folder
segments) and saves the new index aside before renaming it into place; then
`swap(new_engine)` hands it to the page. Until then the running engine keeps
answering. A job that fails puts the data folder back as it was, so files and
index agree again and the running engine stays. Killed midway, nothing is lost:
each file is whole or absent, and the next start re-opens the index on what the
folder holds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from rag.config import Settings
from rag.errors import EXITS, PublishError, RagError
from rag.publish.folder import Change, IssueFolder
from rag.publish.preview import Preview

log = logging.getLogger("newsrag.publish")
LINES_KEPT = 200  # progress lines a job keeps for the page


@dataclass(frozen=True)
class Job:
    """What a job is doing, as a snapshot for the page (a copy, never shared)."""

    id: int
    what: str  # "发布 a.txt、b.txt" / "删除 a.txt"
    state: str = "running"  # running | done | failed
    lines: tuple[str, ...] = ()
    started: float = 0.0
    ended: float | None = None
    message: str = ""  # the outcome, for people
    user: str | None = None

    @property
    def running(self) -> bool:
        return self.state == "running"


def reopen(settings: Settings, engine, progress):
    """The engine on `settings` again, with `engine`'s model and reader (nothing reloaded)."""
    from rag.engine import Engine

    return Engine.open(settings, progress=progress, embedder=engine.embedder,
                       reader=getattr(getattr(engine, "answerer", None), "reader", None))


@dataclass
class Publisher:
    settings: Settings
    current: Callable[[], object]  # the engine answering now
    swap: Callable[[object], None]  # called with the new engine once it is open
    open_engine: Callable = reopen  # (settings, engine, progress) -> engine; tests pass their own
    folder: IssueFolder = field(default=None)
    _job: Job | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if self.folder is None:
            self.folder = IssueFolder(self.settings.data_dir)
        for name in self.folder.sweep():
            log.info("removed %s, left by a publish that was stopped", name)

    # ------------------------------------------------------------ what the page calls

    def status(self) -> Job | None:
        with self._lock:
            return self._job

    def publish(self, previews: list[Preview], replace_ok: bool = False, user: str | None = None) -> Job:
        """Start writing the checked uploads and re-indexing. Raises PublishError
        (another job runs, nothing to publish, a replacement not confirmed)."""
        published = self._hashes()  # the folder now: a preview may be older than the last job
        ready = [p for p in previews if p.ok and published.get(p.name) != p.sha256]
        if not ready:
            same = [p.name for p in previews if p.ok]
            raise PublishError("nothing to publish: " + ("already published with exactly this content: "
                               + "、".join(same) if same else "no file passed the checks"))
        names = [p.name for p in ready]
        if len(set(names)) != len(names):
            raise PublishError("two uploads have the same name: " + "、".join(sorted({n for n in names if names.count(n) > 1})))
        replacing = [p.name for p in ready if p.name in published]
        if replacing and not replace_ok:
            raise PublishError("already published (confirm the replacement): " + "、".join(replacing))
        return self._start("发布 " + "、".join(names), user,
                           [lambda p=p: self.folder.put(p.name, p.data) for p in ready])

    def remove(self, names: list[str], user: str | None = None) -> Job:
        names = [n for n in dict.fromkeys(names) if n]
        if not names:
            raise PublishError("no issue chosen")
        published = set(self._published())
        missing = [n for n in names if n not in published]
        if missing:
            raise PublishError("no such issue in the data folder: " + "、".join(missing))
        if not published - set(names):
            raise PublishError("the last issue cannot be removed: the chat would have nothing to answer from")
        return self._start("删除 " + "、".join(names), user, [lambda n=n: self.folder.remove(n) for n in names])

    def wait(self, timeout: float | None = None) -> Job | None:
        t = self._thread
        if t is not None:
            t.join(timeout)
        return self.status()

    # ------------------------------------------------------------ the job

    def _hashes(self) -> dict[str, str]:
        from rag.ingest.issues import issue_hashes

        return issue_hashes(self.settings.data_dir, self.settings.max_issue_bytes)

    def _published(self) -> list[str]:
        return [n for n, h in self._hashes().items() if not h.startswith("skipped:")]

    def _start(self, what: str, user: str | None, steps: list[Callable[[], Change]]) -> Job:
        with self._lock:
            if self._job is not None and self._job.running:
                raise PublishError(f"another job is running ({self._job.what}); wait until it ends")
            job = Job(id=(self._job.id + 1 if self._job else 1), what=what, started=time.time(), user=user)
            self._job = job
            self._thread = threading.Thread(target=self._run, args=(steps,), name="publish", daemon=True)
            self._thread.start()
        log.info("%s: %s", user or "staff", what)
        return job

    def _say(self, line: str) -> None:
        with self._lock:
            self._job = replace(self._job, lines=(self._job.lines + (line,))[-LINES_KEPT:])

    def _end(self, state: str, message: str) -> None:
        with self._lock:
            self._job = replace(self._job, state=state, ended=time.time(), message=message)
        (log.info if state == "done" else log.warning)("%s: %s", self._job.what, message)

    def _run(self, steps: list[Callable[[], Change]]) -> None:
        done: list[Change] = []  # what was changed so far, undone in reverse if a later step fails
        try:
            self._say("写入数据文件夹 …")
            for step in steps:
                done.append(step())
                self._say(f"{done[-1].name}: {dict(added='已写入', replaced='已替换', removed='已移除')[done[-1].kind]}")
            self._say("更新索引（只嵌入有变化的期次）…")
            engine = self.open_engine(self.settings, self.current(), self._say)
            self._say("切换到新索引 …")
            self.swap(engine)
            self._end("done", f"完成：{len(engine.stories)} 篇报道已可检索和问答。")
        except EXITS:
            raise
        except BaseException as e:  # a native panic too: the page says so, the server lives on
            if isinstance(e, RagError):
                why = str(e)
            else:
                log.exception("publish job failed")
                why = f"unexpected {type(e).__name__}"
            self._end("failed", f"失败，数据文件夹已恢复原样，问答仍用原来的索引：{why}"
                      if self._put_back(done) else f"失败：{why}；数据文件夹未能完全恢复，请查看服务器日志。")

    def _put_back(self, done: list[Change]) -> bool:
        ok = True
        for c in reversed(done):
            try:
                self.folder.undo(c)
            except PublishError as e:
                log.error("could not undo %s of %s: %s", c.kind, c.name, e)
                ok = False
        return ok
