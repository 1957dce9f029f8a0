"""Crash safety: SIGKILL `rag build` at random moments and check what is left.

Each trial changes the data (a marker story with the trial's number), starts
`rag build --force` in a subprocess and kills it with SIGKILL after a random
delay: a third of the kills anywhere in the run, two thirds inside the window
where the build writes its folder and renames it into place (from the build's
own "WRITING" line, within the window's length timed on an unkilled build). After each kill the next open must load a complete index,
either the previous build or the new one, never a mix (store.load checks every
checksum and record; the chunks must hold exactly that build's marker). Then
the next build runs to the end and must leave no `.build-*` or `.old-*` folder.

--model fake (default) runs the build with the tests' hashing embedder, so a
trial takes seconds; --model real loads the default model in every build.
Prints figures; asserts nothing. Usage:
    .venv/bin/python scripts/killtest.py [--trials 50] [--seed 1] [--model fake|real]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The build as the CLI runs it; with the fake model the embedder is swapped in
# first. "WRITING"/"WRITTEN" mark the window in which the index folder is written.
DRIVER = """
import sys, time
sys.path[:0] = [{root!r}, {tests!r}]
import rag.model.embed, rag.store.folder as store
if {fake!r}:
    from conftest import FakeEmbedder
    rag.model.embed.load_embedder = lambda s, p=None: FakeEmbedder()
real = store.save
def save(*a, **k):
    print("WRITING", time.monotonic(), flush=True)
    out = real(*a, **k)
    print("WRITTEN", time.monotonic(), flush=True)
    return out
store.save = save
from rag import cli
sys.exit(cli.main(["build", "--force", "--data", {data!r}, "--index", {index!r}]))
"""


def marker(n: int) -> str:
    return f"试验报道第{n}号\n\n本报讯(记者 王明)今天，试验编号{n}号的报道在会展中心发布，共有{n}家单位参加。\n"


def write_generation(data: Path, n: int) -> None:
    (data / "marker.txt").write_text(marker(n), encoding="utf-8")


def start_build(data: Path, index: Path, fake: bool) -> subprocess.Popen:
    code = DRIVER.format(root=str(ROOT), tests=str(ROOT / "tests"), fake=fake, data=str(data), index=str(index))
    env = dict(os.environ, HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def full_build(data: Path, index: Path, fake: bool) -> tuple[float, float, float]:
    """Run a build to the end: (total, write start, write end) seconds from launch."""
    t0 = time.monotonic()
    p = start_build(data, index, fake)
    out, err = p.communicate(timeout=900)
    total = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"an unkilled build failed ({p.returncode}):\n{err[-2000:]}")
    marks = dict(line.split() for line in out.splitlines() if line.startswith(("WRITING", "WRITTEN")))
    return total, float(marks["WRITING"]) - t0, float(marks["WRITTEN"]) - t0


def generation_of(index: Path, hashes: dict[int, dict]) -> tuple[int | None, str]:
    """Which generation the index folder holds, loaded and checked as the next open does."""
    from rag.store import folder as store

    mpath = index / "current" / "manifest.json"
    try:
        store._recover(index, wait=False)  # what store.load does first
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, f"no loadable manifest: {e}"
    matches = [g for g, h in hashes.items() if manifest.get("issues") == h]
    if len(matches) != 1:
        return None, "manifest issues match neither the old nor the new data"
    g = matches[0]
    expected = store.expected_manifest(manifest["model"], manifest["dim"], manifest["chunking"], hashes[g])
    try:
        s = store.load(index, expected)
    except store.IndexStale as e:
        return None, f"not loadable: {e}"
    found = {n for n in hashes if any(f"试验编号{n}号" in c.text for c in s.chunks)}
    if found != {g}:
        return None, f"mixed: manifest says generation {g}, chunks hold {sorted(found)}"
    return g, "ok"


def leftovers(index: Path) -> list[str]:
    return sorted(p.name for p in index.iterdir() if p.is_dir() and p.name.startswith((".build-", ".old-")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--model", choices=["fake", "real"], default="fake")
    ap.add_argument("--copies", type=int, default=8, help="copies of the real issue in the data folder")
    args = ap.parse_args()
    from rag.ingest.issues import issue_hashes

    fake = args.model == "fake"
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="newsrag-kill-"))
    data, index = work / "issues", work / "index"
    data.mkdir()
    real_issue = ROOT / "data" / "issues" / "heze-kaifaqu-2021-06.txt"
    for i in range(args.copies):
        shutil.copy(real_issue, data / f"issue-{i:02d}.txt")
    hashes: dict[int, dict] = {}
    write_generation(data, 0)
    hashes[0] = issue_hashes(data)
    total, w0, w1 = full_build(data, index, fake)
    print(f"killtest: model {args.model}, {args.copies + 1} issue files, an unkilled build takes {total:.1f} s, "
          f"writing its folder from {w0:.2f} s to {w1:.2f} s after launch")

    current_gen = 0
    bad, mixed, left_after_next, left_after_kill = [], 0, 0, 0
    phases = {"before writing": 0, "while writing": 0, "after renaming": 0}
    t_start = time.monotonic()
    for trial in range(1, args.trials + 1):
        new_gen = trial
        write_generation(data, new_gen)
        hashes = {current_gen: hashes[current_gen], new_gen: issue_hashes(data)}
        p = start_build(data, index, fake)
        t0 = time.monotonic()
        seen = ""
        if rng.random() < 1 / 3:
            time.sleep(rng.uniform(0, total))
        else:
            # inside the write window: it lasts tens of ms and moves with the machine's
            # load, so wait for this build's own WRITING line, then kill within the
            # window's measured length (a fixed delay mostly landed after the rename)
            for line in p.stdout:
                seen += line
                if line.startswith("WRITING"):
                    break
            time.sleep(rng.uniform(0, max(w1 - w0, 0.01)))
        delay = time.monotonic() - t0
        p.send_signal(signal.SIGKILL)
        out, _ = p.communicate()
        wrote = "WRITING" in seen + out
        left = leftovers(index)
        left_after_kill += bool(left)
        g, why = generation_of(index, hashes)
        if g is None:
            mixed += 1
            bad.append(f"trial {trial} (killed at {delay:.2f} s): {why}")
        phase = "before writing" if not wrote else "after renaming" if g == new_gen else "while writing"
        phases[phase] += 1
        # the next build, to the end: it sweeps what the killed one left
        full_build(data, index, fake)
        g2, why2 = generation_of(index, {new_gen: hashes[new_gen]})
        if g2 != new_gen:
            bad.append(f"trial {trial}: the next build did not load: {why2}")
        rest = leftovers(index)
        if rest:
            left_after_next += 1
            bad.append(f"trial {trial}: left after the next build: {rest}")
        current_gen = new_gen
        hashes = {current_gen: hashes[new_gen]}
        print(f"  trial {trial:3d}: killed at {delay:5.2f} s ({phase}), next open: generation {g} ({why}), "
              f"temp folders after the kill {len(left)}, after the next build {len(rest)}", file=sys.stderr, flush=True)
    print(f"trials: {args.trials} SIGKILLs in {time.monotonic() - t_start:.0f} s; "
          + ", ".join(f"{k}: {v}" for k, v in phases.items()))
    print(f"mixed or unloadable indexes after a kill: {mixed}")
    print(f"kills that left a temp folder: {left_after_kill}; leftover folders after the next build: {left_after_next}")
    for b in bad[:10]:
        print("  " + b)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
