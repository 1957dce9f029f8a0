"""The index folder: FAISS vectors + chunks.jsonl + stories.json + terms.json/.npz
(BM25 term counts) + segments/ (each issue's passage vectors) + manifest.json.

Layout (see index/README.md): `<index_dir>/current/` holds one complete build.
A build is written into a sibling temp folder and renamed into place, so an
interrupted build never leaves a half-written index in use; builds of one folder
are serialised by a file lock, and the next build sweeps what a killed one left.
`load` checks the manifest and every record by schema (types, ranges, sources
the manifest lists), against the files (checksums, counts, dimension, format)
and against what the caller expects (model, chunk settings, issue hashes); any
mismatch raises IndexStale naming it, and the engine rebuilds. No pickle anywhere.

Segments: each issue file's passage vectors are also kept alone, named by a
hash of the model and the exact passage texts, so a later build embeds only the
issues whose passages changed and reads the others back (checked by checksum
and shape). A passage's vector depends a little (1e-7) on the passages embedded
in the same batch, so every issue is embedded alone, in a full build too: the
index of a set of issues is the same however it was arrived at.
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
from rag.liveness import pid_alive
from rag.search.lexical import Terms
from rag.types import Chunk, Paragraph, Story

FORMAT = 2
FILES = ("vectors.faiss", "chunks.jsonl", "stories.json")  # always there
TERMS = ("terms.json", "terms.npz")  # the chunks' BM25 term counts (vocabulary; arrays), when saved
SEGMENTS = "segments"


class IndexStale(IndexError_):
    """The stored index does not match the data, model or settings."""


@dataclass
class Stored:
    chunks: list[Chunk]
    stories: list[Story]
    vectors: object  # faiss.Index
    manifest: dict
    folder: Path | None = None  # where it was loaded from (the terms are read from there on demand)


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


# Exact (flat) search below this many passages, approximate (IVF) from it on.
# scripts/bench_scale.py vectors (one core, 2026-11-27; synthetic vectors mixed
# from real e5 passage vectors, real questions): flat p50 6.4 ms at 100k
# passages and 68 ms at 1M, linear in between, so the 50 ms a question may spend
# on the vector search runs out near 700k; switching at 200k leaves a slower
# machine room. IVF at 1M: p50 1.6 ms with recall@10 0.96 against flat.
APPROXIMATE_FROM = 200_000
# Lists searched per question: in that benchmark recall@10 at 1M passages was
# 0.94 with 16, 0.95 with 32, 0.96 with 64 (1.6 ms); at 100k, 0.95 with 64.
NPROBE = 64


def vector_index(vectors: np.ndarray, approximate_from: int | None = None):
    """A FAISS inner-product index of the normalised passage vectors: flat while
    small, IVF-flat (4 sqrt(n) lists, NPROBE searched) from `approximate_from` on.
    The lists are trained on a sample drawn with a fixed seed: same input, same index."""
    import faiss

    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    if n < max(APPROXIMATE_FROM if approximate_from is None else approximate_from, 1):
        index = faiss.IndexFlatIP(dim)
        index.add(x)
        return index
    nlist = max(1, int(4 * np.sqrt(n)))
    sample = np.sort(np.random.default_rng(0).choice(n, min(n, 40 * nlist), replace=False))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    index.train(x[sample])
    index.add(x)
    index.nprobe = min(NPROBE, nlist)
    return index


# ---------------------------------------------------------------- segments

def by_issue(chunks: list[Chunk]) -> list[list[Chunk]]:
    """Chunks grouped by issue file, in order (an issue's chunks are contiguous)."""
    groups: list[list[Chunk]] = []
    for c in chunks:
        if not groups or groups[-1][0].source != c.source:
            groups.append([])
        groups[-1].append(c)
    return groups


def segment_key(model: str, dim: int, chunks: list[Chunk]) -> str:
    """What an issue's vectors depend on: the model and the exact passage texts."""
    payload = json.dumps([model, dim, [c.embed_text for c in chunks]], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def previous_segments(index_dir: Path, model: str, dim: int) -> dict[str, dict]:
    """The segments of the current build made with this model: key -> its manifest
    entry with `path` added. Empty when there is none or it cannot be read."""
    current = Path(index_dir) / "current"
    try:
        m = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(m, dict) or m.get("format") != FORMAT or m.get("model") != model or m.get("dim") != dim:
        return {}
    out = {}
    for seg in m.get("segments") or []:
        if _is_segment(seg):
            out[seg["key"]] = dict(seg, path=current / SEGMENTS / f"{seg['key']}.npy")
    return out


def read_segment(seg: dict, n: int, dim: int) -> np.ndarray | None:
    """A previous segment's vectors if its file is whole (checksum) and of the
    expected shape; None otherwise (the issue is embedded again)."""
    try:
        if seg["chunks"] != n or sha256_file(seg["path"]) != seg["checksum"]:
            return None
        v = np.load(seg["path"], allow_pickle=False)
    except (OSError, ValueError, KeyError):
        return None  # gone (a concurrent build replaced it) or damaged
    return v if v.shape == (n, dim) and v.dtype == np.float32 else None


def save(index_dir: Path, expected: dict, chunks: list[Chunk], stories: list[Story], vectors: np.ndarray,
         terms: Terms | None = None, lexicon: str | None = None, names: list[str] | None = None,
         lexicon_base: str | None = None) -> Path:
    """Write a complete build aside, then rename it to `<index_dir>/current`.
    `terms` (each chunk's BM25 term counts) are saved with the `lexicon`
    fingerprint they were made under (rag.text.Lexicon), and, so that the next
    build can reuse them issue by issue, the names taught and the fingerprint
    without them (`lexicon_base`)."""
    from filelock import Timeout

    if vectors.shape != (len(chunks), expected["dim"]):
        raise IndexError_(f"vectors shape {vectors.shape} does not match {len(chunks)} chunks x dim {expected['dim']}")
    check_index_dir(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    try:
        with build_lock(index_dir):
            _recover(index_dir)
            _sweep(index_dir)
            return _save_locked(index_dir, expected, chunks, stories, vectors, terms, lexicon, names, lexicon_base)
    except Timeout:
        raise IndexError_(f"another build of {index_dir} has held its lock for an hour; is it stuck?") from None


def _save_locked(index_dir: Path, expected: dict, chunks: list[Chunk], stories: list[Story],
                 vectors: np.ndarray, terms: Terms | None, lexicon: str | None, names: list[str] | None = None,
                 lexicon_base: str | None = None) -> Path:
    import faiss

    # the builder's pid in the name: a later build sweeps the folders of dead builders at once
    tmp = Path(tempfile.mkdtemp(prefix=f".build-{os.getpid()}-", dir=index_dir))
    try:
        index = vector_index(vectors)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        with open(tmp / "chunks.jsonl", "w", encoding="utf-8") as f:
            for c in chunks:
                f.write(json.dumps(c.to_json(), ensure_ascii=False) + "\n")
        (tmp / "stories.json").write_text(
            json.dumps([story_to_json(s) for s in stories], ensure_ascii=False, indent=1), encoding="utf-8"
        )
        if terms is not None:
            if len(terms) != len(chunks) or not lexicon:
                raise IndexError_(f"{len(terms)} term counts for {len(chunks)} chunks (lexicon {lexicon!r})")
            (tmp / TERMS[0]).write_text(json.dumps(terms.vocab, ensure_ascii=False), encoding="utf-8")
            with open(tmp / TERMS[1], "wb") as f:
                np.savez(f, offsets=terms.offsets, ids=terms.ids, counts=terms.counts)
        (tmp / SEGMENTS).mkdir()
        segments, row = [], 0
        for group in by_issue(chunks):
            key = segment_key(expected["model"], expected["dim"], group)
            path = tmp / SEGMENTS / f"{key}.npy"
            if not path.exists():  # two issue files with the same passages share one
                np.save(path, np.ascontiguousarray(vectors[row : row + len(group)], dtype=np.float32))
            segments.append({"issue": group[0].source, "key": key, "chunks": len(group),
                             "checksum": sha256_file(path)})
            row += len(group)
        manifest = dict(expected)
        manifest["counts"] = {"chunks": len(chunks), "stories": len(stories)}
        manifest["segments"] = segments
        if terms is not None:
            manifest["lexicon"] = lexicon
            if names is not None and lexicon_base:
                manifest["lexicon_base"], manifest["names"] = lexicon_base, list(names)
        manifest["search"] = ({"kind": "ivf", "lists": index.nlist, "probes": index.nprobe}
                              if hasattr(index, "nlist") else {"kind": "flat"})
        manifest["checksums"] = {name: sha256_file(tmp / name) for name in FILES + (TERMS if terms is not None else ())}
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
    return current


def build_lock(index_dir: Path, timeout: float = 3600):
    """An inter-process lock serialising builds of one index folder (filelock).

    Builds wait for each other instead of racing; the lock file stays beside
    `current` and is never part of a build.
    """
    from filelock import FileLock

    return FileLock(str(index_dir / ".build.lock"), timeout=timeout)


def check_index_dir(index_dir: Path, writable: bool = True) -> None:
    """IndexError_ unless index_dir is a folder, or can be created as one; with
    `writable`, one we may write (a read-only index can still be loaded)."""
    p = Path(index_dir)
    if p.exists() and not p.is_dir():
        raise IndexError_(f"the index folder {p} is a file, not a folder")
    if p.is_dir() and not writable:
        return
    probe = p
    while not probe.exists() and probe.parent != probe:  # the nearest existing ancestor
        probe = probe.parent
    if not probe.is_dir():
        raise IndexError_(f"cannot create the index folder {p}: {probe} is not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise IndexError_(f"cannot write the index folder {p}: {probe} is not writable")


def _sweep(index_dir: Path) -> None:
    """Remove leftovers of interrupted builds. Runs under the build lock: a
    `.build-<pid>-*` folder whose builder is gone, or any older than a minute,
    is a dead build's (builds of this version hold the lock while they write)."""
    for p in index_dir.glob(".build-*"):
        if p.name == ".build.lock":
            continue
        pid = p.name.split("-")[1] if p.name.count("-") >= 2 else ""
        try:
            dead = (pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid))) \
                or time.time() - p.stat().st_mtime > 60
        except OSError:
            continue
        if dead:
            shutil.rmtree(p, ignore_errors=True)
    for p in index_dir.glob(".old-*"):
        shutil.rmtree(p, ignore_errors=True)


def _recover(index_dir: Path, wait: bool = True) -> None:
    """Put the previous build back when a build was killed between moving it
    aside and renaming the new one into place (no `current`, an `.old-*`)."""
    current = index_dir / "current"
    if current.exists() or not any(index_dir.glob(".old-*")):
        return
    from filelock import Timeout

    lock = build_lock(index_dir, timeout=-1 if wait else 0)
    try:
        lock.acquire()
    except (Timeout, OSError):
        return  # a build is running (or the folder is read-only): it will put a current in place
    try:
        if current.exists():
            return
        olds = sorted((p for p in index_dir.glob(".old-*") if (p / "manifest.json").is_file()),
                      key=lambda p: p.stat().st_mtime, reverse=True)
        if olds:
            os.replace(olds[0], current)
    except OSError:
        pass
    finally:
        lock.release()


# ---------------------------------------------------------------- schema
# A manifest or a record that parses is not yet one we wrote: every field is
# checked for type and range before use, and any mismatch is IndexStale (rebuild).

def _need(ok: bool, what: str) -> None:
    if not ok:
        raise IndexStale(f"index files do not match their schema: {what}")


def _is_int(v, lo: int = 0) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= lo


def _is_opt_str(v) -> bool:
    return v is None or isinstance(v, str)


def _is_runs(v) -> bool:
    return isinstance(v, list) and all(isinstance(r, list) and len(r) == 2 and all(_is_int(x) for x in r) for r in v)


def _plain_name(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name and "\\" not in name \
        and "\x00" not in name


def _is_segment(seg) -> bool:
    return isinstance(seg, dict) and _plain_name(seg.get("issue")) and isinstance(seg.get("key"), str) \
        and len(seg["key"]) == 64 and all(c in "0123456789abcdef" for c in seg["key"]) \
        and _is_int(seg.get("chunks"), 1) and isinstance(seg.get("checksum"), str)


def check_manifest(m) -> None:
    _need(isinstance(m, dict), "the manifest is not a JSON object")
    _need(_is_int(m.get("format")), "format")
    _need(isinstance(m.get("model"), str), "model")
    _need(_is_int(m.get("dim"), 1), "dim")
    _need(isinstance(m.get("chunking"), dict), "chunking")
    issues = m.get("issues")
    _need(isinstance(issues, dict) and all(_plain_name(k) and isinstance(v, str) for k, v in issues.items()),
          "issues must map plain file names to hashes")
    counts = m.get("counts")
    _need(isinstance(counts, dict) and _is_int(counts.get("chunks")) and _is_int(counts.get("stories")), "counts")
    sums = m.get("checksums")
    _need(isinstance(sums, dict) and all(isinstance(sums.get(n), str) for n in FILES), "checksums")
    segments = m.get("segments")
    _need(isinstance(segments, list) and all(_is_segment(x) for x in segments), "segments")
    _need(m.get("lexicon") is None or (isinstance(m["lexicon"], str) and all(isinstance(sums.get(n), str) for n in TERMS)),
          "lexicon")
    skipped = m.get("skipped", [])
    _need(isinstance(skipped, list) and all(isinstance(x, list) and len(x) == 2 and all(isinstance(y, str) for y in x)
                                            for x in skipped), "skipped")


def _indexed(issues: dict) -> set[str]:
    """Issue files the manifest says were read (a sha256, not a 'skipped: ...' note)."""
    return {k for k, v in issues.items() if len(v) == 64 and all(c in "0123456789abcdef" for c in v)}


def check_stories(records, issues: dict) -> list[Story]:
    _need(isinstance(records, list), "stories.json is not a list")
    sources = _indexed(issues)
    stories, seen = [], set()
    for d in records:
        _need(isinstance(d, dict), "a story is not an object")
        _need(isinstance(d.get("source"), str) and d["source"] in sources, f"story source {str(d.get('source'))[:80]!r} is not an indexed issue")
        _need(_is_int(d.get("index")) and (d["source"], d["index"]) not in seen, "story index")
        seen.add((d["source"], d["index"]))
        _need(isinstance(d.get("headline"), str), "headline")
        _need(all(_is_opt_str(d.get(k)) for k in ("kicker", "subheadline", "byline", "date")), "story fields")
        _need(all(isinstance(d.get(k, []), list) and all(isinstance(x, str) for x in d.get(k, []))
                  for k in ("credits", "pullquotes")), "credits")
        paras = d.get("paragraphs")
        _need(isinstance(paras, list) and all(
            isinstance(p, dict) and isinstance(p.get("text"), str) and _is_int(p.get("start"))
            and _is_int(p.get("end")) and p["start"] <= p["end"] and _is_runs(p.get("runs", [])) for p in paras),
            "paragraphs")
        stories.append(story_from_json(d))
    return stories


CHUNK_KEYS = {"id", "source", "story", "title", "paragraph", "text", "start", "end", "runs"}


def check_chunks(records, issues: dict) -> list[Chunk]:
    """Chunk records by schema; each names an issue file the manifest says was read."""
    sources = _indexed(issues)
    chunks = []
    for row, d in enumerate(records):
        _need(isinstance(d, dict) and set(d) == CHUNK_KEYS, f"chunk {row} fields")
        _need(d["id"] == row and _is_int(d["id"]), f"chunk {row} id")
        _need(d["source"] in sources if isinstance(d["source"], str) else False,
              f"chunk {row} source {str(d['source'])[:80]!r} is not an indexed issue")
        _need(_is_int(d["story"]) and _is_int(d["paragraph"], 1), f"chunk {row} story or paragraph")
        _need(isinstance(d["title"], str) and isinstance(d["text"], str), f"chunk {row} text")
        _need(_is_int(d["start"]) and _is_int(d["end"]) and d["start"] <= d["end"], f"chunk {row} offsets")
        _need(_is_runs(d["runs"]), f"chunk {row} runs")
        chunks.append(Chunk.from_json(d))
    return chunks


def load(index_dir: Path, expected: dict) -> Stored:
    """Load `<index_dir>/current`, or raise IndexStale saying what is wrong."""
    import faiss

    current = index_dir / "current"
    mpath = current / "manifest.json"
    if not index_dir.is_dir():
        raise IndexStale(f"no index folder {index_dir}")
    if not mpath.exists():
        _recover(index_dir, wait=False)  # a build killed between its two renames left the old one aside
    if not mpath.exists():
        raise IndexStale(f"no complete index in {current}")
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexStale(f"unreadable manifest {mpath}: {e}") from e
    if isinstance(manifest, dict) and manifest.get("format") != expected["format"]:
        # an index of another version: said as such, before its fields are judged by this one's schema
        raise IndexStale(f"format changed: index has {manifest.get('format')!r}, expected {expected['format']!r}")
    check_manifest(manifest)
    for key in ("format", "model", "dim", "chunking", "issues"):
        if manifest.get(key) != expected[key]:
            raise IndexStale(f"{key} changed: index has {manifest.get(key)!r}, expected {expected[key]!r}")
    for name in FILES + (TERMS if manifest.get("lexicon") else ()):
        path = current / name
        if not path.is_file():
            raise IndexStale(f"missing {name}")
        if sha256_file(path) != manifest["checksums"].get(name):
            raise IndexStale(f"checksum mismatch for {name}")
    try:
        vectors = faiss.read_index(str(current / "vectors.faiss"))
        with open(current / "chunks.jsonl", encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        story_records = json.loads((current / "stories.json").read_text(encoding="utf-8"))
        stories = check_stories(story_records, manifest["issues"])
        chunks = check_chunks(records, manifest["issues"])
    except IndexStale:
        raise
    except Exception as e:  # corrupt despite checksums (hand-edited manifest)
        raise IndexStale(f"unreadable index files: {type(e).__name__}: {e}") from e
    counts = manifest["counts"]
    if vectors.d != expected["dim"]:
        raise IndexStale(f"dimension {vectors.d} != {expected['dim']}")
    if not (vectors.ntotal == len(chunks) == counts.get("chunks") == sum(x["chunks"] for x in manifest["segments"])) \
            or len(stories) != counts.get("stories"):
        raise IndexStale(
            f"counts disagree: {vectors.ntotal} vectors, {len(chunks)} chunks, {len(stories)} stories, manifest {counts}"
        )
    if any(c.id != i for i, c in enumerate(chunks)):
        raise IndexStale("chunk ids are not their row numbers")
    groups = by_issue(chunks)
    segments = manifest["segments"]
    if [(g[0].source, len(g)) for g in groups] != [(x["issue"], x["chunks"]) for x in segments]:
        raise IndexStale("the segments do not match the chunks' issues")
    for seg in segments:  # their contents are checked when a build reuses them
        if not (current / SEGMENTS / f"{seg['key']}.npy").is_file():
            raise IndexStale(f"missing segment of {seg['issue']}")
    return Stored(chunks, stories, vectors, manifest, current)


def load_terms(stored: Stored) -> Terms:
    """The saved term counts of the chunks (checksummed by `load`, checked here
    for shape and range); IndexStale when the build saved none or they do not fit."""
    if not stored.manifest.get("lexicon") or stored.folder is None:
        raise IndexStale("no saved terms")
    return _read_terms(stored.folder, len(stored.chunks))


def _read_terms(folder: Path, n: int) -> Terms:
    try:
        vocab = json.loads((folder / TERMS[0]).read_text(encoding="utf-8"))
        with np.load(folder / TERMS[1], allow_pickle=False) as z:
            offsets, ids, counts = z["offsets"], z["ids"], z["counts"]
    except (OSError, ValueError, KeyError) as e:
        raise IndexStale(f"unreadable saved terms: {type(e).__name__}: {e}") from e
    _need(isinstance(vocab, list) and all(isinstance(t, str) for t in vocab), "the terms' vocabulary")
    _need(offsets.dtype == np.int64 and ids.dtype == np.int32 and counts.dtype == np.int32
          and offsets.ndim == ids.ndim == counts.ndim == 1 and len(ids) == len(counts), "the terms' arrays")
    _need(len(offsets) == n + 1 and (len(offsets) == 0 or offsets[0] == 0)
          and bool(np.all(np.diff(offsets) >= 0)) and offsets[-1] == len(ids), "the terms' offsets")
    _need(len(ids) == 0 or (int(ids.min()) >= 0 and int(ids.max()) < len(vocab) and int(counts.min()) >= 1),
          "the terms' ids or counts")
    return Terms(vocab, offsets, ids, counts)


@dataclass
class PreviousTerms:
    """The current build's term counts, for the next build to reuse issue by issue."""

    names: list[str]  # the names they were cut with
    rows: dict[str, range]  # segment key -> its chunks' rows in `terms`
    terms: Terms


def previous_terms(index_dir: Path, lexicon_base: str) -> PreviousTerms | None:
    """The term counts of the current build when they were cut with the same code,
    packages and dictionary (`lexicon_base`) and their files are whole (checksums);
    None otherwise: every issue is cut again."""
    current = Path(index_dir) / "current"
    try:
        m = json.loads((current / "manifest.json").read_text(encoding="utf-8"))
        check_manifest(m)
        names, segments, sums = m.get("names"), m["segments"], m["checksums"]
        if m.get("lexicon_base") != lexicon_base or not isinstance(names, list) \
                or not all(isinstance(x, str) for x in names):
            return None
        if any(sha256_file(current / name) != sums.get(name) for name in TERMS):
            return None
        n = sum(seg["chunks"] for seg in segments)
        terms = _read_terms(current, n)
    except (OSError, ValueError, IndexStale):
        return None  # none, another format, damaged, or replaced by a concurrent build
    rows, at = {}, 0
    for seg in segments:
        rows[seg["key"]] = range(at, at + seg["chunks"])
        at += seg["chunks"]
    return PreviousTerms(names, rows, terms)
