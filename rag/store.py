"""The index folder: FAISS vectors + chunks.jsonl + stories.json + manifest.json.

Layout (see index/README.md): `<index_dir>/current/` holds one complete build.
A build is written into a sibling temp folder and renamed into place, so an
interrupted build never leaves a half-written index in use. `load` checks the
manifest against the files (checksums, counts, dimension, format) and against
what the caller expects (model, chunk settings, issue hashes); any mismatch
raises IndexStale naming it, and the engine rebuilds. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rag.errors import IndexError_
from rag.types import Chunk, Paragraph, Story

FORMAT = 1
FILES = ("vectors.faiss", "chunks.jsonl", "stories.json")


class IndexStale(IndexError_):
    """The stored index does not match the data, model or settings."""


@dataclass
class Stored:
    chunks: list[Chunk]
    stories: list[Story]
    vectors: object  # faiss.Index
    manifest: dict


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expected_manifest(model: str, dim: int, chunking: dict, issues: dict[str, str]) -> dict:
    """The part of a manifest that decides whether a stored index is current."""
    return {"format": FORMAT, "model": model, "dim": dim, "chunking": chunking, "issues": issues}


def story_to_json(s: Story) -> dict:
    d = s.to_json()
    d["paragraphs"] = [
        {"text": p.text, "start": p.start, "end": p.end, "runs": [list(r) for r in p.runs]}
        for p in s.paragraphs
    ]
    return d


def story_from_json(d: dict) -> Story:
    paras = tuple(
        Paragraph(p["text"], p["start"], p["end"], tuple(tuple(r) for r in p.get("runs", ())))
        for p in d["paragraphs"]
    )
    return Story(
        source=d["source"], index=d["index"], headline=d["headline"], kicker=d.get("kicker"),
        subheadline=d.get("subheadline"), byline=d.get("byline"), date=d.get("date"),
        credits=tuple(d.get("credits", ())), pullquotes=tuple(d.get("pullquotes", ())),
        paragraphs=paras,
    )


def save(index_dir: Path, expected: dict, chunks: list[Chunk], stories: list[Story], vectors: np.ndarray) -> Path:
    """Write a complete build aside, then rename it to `<index_dir>/current`."""
    import faiss

    if vectors.shape != (len(chunks), expected["dim"]):
        raise IndexError_(f"vectors shape {vectors.shape} does not match {len(chunks)} chunks x dim {expected['dim']}")
    index_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=index_dir))
    try:
        index = faiss.IndexFlatIP(expected["dim"])
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        (tmp / "stories.json").write_text(
            json.dumps([story_to_json(s) for s in stories], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        manifest = dict(expected)
        manifest["counts"] = {"chunks": len(chunks), "stories": len(stories)}
        manifest["checksums"] = {name: sha256_file(tmp / name) for name in FILES}
        manifest["built_at"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        # The manifest is written last: a folder without it is never loaded.
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        current = index_dir / "current"
        old = None
        if current.exists():
            old = index_dir / f".old-{os.getpid()}-{time.time_ns()}"
            os.replace(current, old)
        try:
            os.replace(tmp, current)
        except BaseException:
            if old is not None and not current.exists():
                os.replace(old, current)  # put the previous build back
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _sweep(index_dir)
    return current


def _sweep(index_dir: Path) -> None:
    """Remove leftovers of interrupted builds (older than a minute)."""
    for p in index_dir.glob(".build-*"):
        if time.time() - p.stat().st_mtime > 60:
            shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(".old-*"):
        shutil.rmtree(p, ignore_errors=True)


def load(index_dir: Path, expected: dict) -> Stored:
    """Load `<index_dir>/current`, or raise IndexStale saying what is wrong."""
    import faiss

    current = index_dir / "current"
    mpath = current / "manifest.json"
    if not mpath.exists():
        raise IndexStale(f"no complete index in {current}")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexStale(f"unreadable manifest {mpath}: {e}") from e
    for key in ("format", "model", "dim", "chunking", "issues"):
        if manifest.get(key) != expected[key]:
            raise IndexStale(f"{key} changed: index has {manifest.get(key)!r}, expected {expected[key]!r}")
    for name in FILES:
        path = current / name
        if not path.exists():
            raise IndexStale(f"missing {name}")
        if sha256_file(path) != manifest.get("checksums", {}).get(name):
            raise IndexStale(f"checksum mismatch for {name}")
    try:
        vectors = faiss.read_index(str(current / "vectors.faiss"))
        with open(current / "chunks.jsonl", encoding="utf-8") as f:
            chunks = [Chunk.from_json(json.loads(line)) for line in f if line.strip()]
        stories = [story_from_json(d) for d in json.loads((current / "stories.json").read_text(encoding="utf-8"))]
    except Exception as e:  # corrupt despite checksums (hand-edited manifest)
        raise IndexStale(f"unreadable index files: {e}") from e
    counts = manifest.get("counts", {})
    if vectors.d != expected["dim"]:
        raise IndexStale(f"dimension {vectors.d} != {expected['dim']}")
    if not (vectors.ntotal == len(chunks) == counts.get("chunks")) or len(stories) != counts.get("stories"):
        raise IndexStale(
            f"counts disagree: {vectors.ntotal} vectors, {len(chunks)} chunks, {len(stories)} stories, manifest {counts}"
        )
    if any(c.id != i for i, c in enumerate(chunks)):
        raise IndexStale("chunk ids are not their row numbers")
    return Stored(chunks, stories, vectors, manifest)
