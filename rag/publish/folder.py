"""The data folder changed one whole file at a time: write, replace, remove, undo.

Takes the data folder; gives Changes. A new or replaced issue is written to a temp
file in the same folder (a name starting with '.' and not ending in .txt, so the
ingester never reads it), flushed and fsynced, then renamed over its name with
os.replace: a reader sees the old file or the new one, never half of one, and a
process killed mid-write leaves only a temp file, swept at the next start. A
replaced or removed issue is first kept under `.replaced/` (a hard link, or a
copy where links are not allowed), so nothing staff publish over is lost, and a
failed publish can put the folder back as it was (Change.undo).
"""

from __future__ import annotations

import os
import shutil
import stat
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from rag.errors import PublishError
from rag.publish.preview import name_problem
from rag.liveness import pid_alive

TEMP_SUFFIX = ".publishing"
KEPT = ".replaced"  # a folder, so the ingester (regular *.txt files only) never lists it


@dataclass(frozen=True)
class Change:
    name: str
    kind: str  # "added", "replaced" or "removed"
    kept: Path | None = None  # the earlier file under .replaced/, for replaced and removed


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return  # a platform without directory handles: the rename is as durable as it gets
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class IssueFolder:
    def __init__(self, data_dir):
        self.dir = Path(data_dir)

    def _target(self, name: str) -> Path:
        problem = name_problem(name)
        if problem:
            raise PublishError(problem)
        return self.dir / name

    def _kind(self, path: Path) -> str | None:
        """'file', 'other' (a folder, a link, a FIFO...) or None when nothing is there."""
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            return None
        except OSError as e:
            raise PublishError(f"{path.name}: cannot read: {e.strerror or type(e).__name__}") from None
        return "file" if stat.S_ISREG(st.st_mode) else "other"

    def write_atomic(self, name: str, data: bytes) -> None:
        target = self._target(name)
        tmp = self.dir / f".{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
        try:
            with open(tmp, "xb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except OSError as e:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise PublishError(f"{name}: cannot write to the data folder: {e.strerror or type(e).__name__}") from None
        _fsync_dir(self.dir)

    def _keep(self, name: str, move: bool) -> Path:
        """Keep the published file under .replaced/ before it is replaced (linked
        or copied) or removed (moved)."""
        src = self.dir / name
        kept_dir = self.dir / KEPT
        dest = kept_dir / f"{name}.{time.strftime('%Y%m%d-%H%M%S')}.{uuid.uuid4().hex[:6]}"
        try:
            kept_dir.mkdir(exist_ok=True)
            if move:
                os.replace(src, dest)
            else:
                try:
                    os.link(src, dest, follow_symlinks=False)
                except OSError:
                    shutil.copy2(src, dest, follow_symlinks=False)
        except OSError as e:
            raise PublishError(f"{name}: cannot keep the earlier file: {e.strerror or type(e).__name__}") from None
        _fsync_dir(kept_dir)
        return dest

    def put(self, name: str, data: bytes) -> Change:
        """Publish `data` as `name`: a new issue, or the replacement of one."""
        kind = self._kind(self._target(name))
        if kind == "other":
            raise PublishError(f"{name}: the data folder holds a folder or link of that name; it is not replaced")
        kept = self._keep(name, move=False) if kind == "file" else None
        try:
            self.write_atomic(name, data)
        except PublishError:
            self._drop(kept)
            raise
        return Change(name, "replaced" if kept else "added", kept)

    def remove(self, name: str) -> Change:
        if self._kind(self._target(name)) != "file":
            raise PublishError(f"{name}: no such issue file in the data folder")
        return Change(name, "removed", self._keep(name, move=True))

    def undo(self, change: Change) -> None:
        """Put the folder back as it was before `change`."""
        if change.kind == "added":
            try:
                (self.dir / change.name).unlink()
            except FileNotFoundError:
                pass
            except OSError as e:
                raise PublishError(f"{change.name}: cannot take it back: {e.strerror or type(e).__name__}") from None
            _fsync_dir(self.dir)
            return
        try:
            data = change.kept.read_bytes()
        except OSError as e:
            raise PublishError(f"{change.name}: cannot read the kept file back: {e.strerror or type(e).__name__}") \
                from None
        self.write_atomic(change.name, data)
        self._drop(change.kept)

    @staticmethod
    def _drop(kept: Path | None) -> None:
        if kept is not None:
            try:
                kept.unlink()
            except OSError:
                pass

    def sweep(self) -> list[str]:
        """Remove the temp files of publishes killed mid-write (their process is
        gone); return their names."""
        swept = []
        try:
            entries = list(os.scandir(self.dir))
        except OSError:
            return swept
        for e in entries:
            if not (e.name.startswith(".") and e.name.endswith(TEMP_SUFFIX)):
                continue
            parts = e.name[:-len(TEMP_SUFFIX)].rsplit(".", 2)
            pid = parts[1] if len(parts) == 3 else ""
            if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
                continue
            try:
                os.unlink(e.path)
                swept.append(e.name)
            except OSError:
                pass
        return swept
