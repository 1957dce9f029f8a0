"""Benchmark: the reader's pass in NumPy, on onnxruntime, and on onnxruntime with int8 weights.

Reads real questions with their gold passages (the CMRC 2018 trial set, the
first --questions of it; never fitted on) and prints, per runtime: ms per
question (all windows of a question in one batch, one thread), the largest
logit difference from the NumPy pass, and how many best spans change (the
reader's answer before any decision). int8 is dynamic quantization per output
channel, of every matrix product or only the feed-forward ones; it needs the
`onnx` package (in the test extras), which serving does not.
Prints figures; asserts nothing.
Usage: .venv/bin/python scripts/bench_reader.py [--questions 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def quantized(model: tuple[bytes, dict], ffn_only: bool) -> bytes:
    """`model` with MatMul weights int8 per output channel (all, or the 384x1536 and 1536x384 ones)."""
    import onnx
    from onnx import numpy_helper
    from onnxruntime.quantization import QuantType, quantize_dynamic

    data, arrays = model
    proto = onnx.load_from_string(data)
    for i, t in enumerate(proto.graph.initializer):  # the weights into the file, as the quantizer reads them
        if t.name in arrays:
            proto.graph.initializer[i].CopyFrom(numpy_helper.from_array(arrays[t.name], t.name))
    inits = {i.name: list(i.dims) for i in proto.graph.initializer}
    names = [n.name for n in proto.graph.node if n.op_type == "MatMul" and n.input[1] in inits
             and (not ffn_only or max(inits[n.input[1]]) == 4 * min(inits[n.input[1]]))]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "f.onnx", Path(tmp) / "q.onnx"
        src.write_bytes(proto.SerializeToString())
        quantize_dynamic(src, dst, per_channel=True, weight_type=QuantType.QInt8, nodes_to_quantize=names,
                         op_types_to_quantize=["MatMul"])
        return dst.read_bytes()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=200)
    args = ap.parse_args()

    from safetensors.numpy import load_file

    from rag.answer.reader import Reader, Reading, load_default
    from rag.config import from_env
    from rag.knowledge import READER_WEIGHTS
    from rag.model import runtime
    from rag.model.bert import load_encoder
    from rag.model.provision import default_model_dir

    settings = from_env()
    reader = load_default(settings)
    numpy_encoder = load_encoder(default_model_dir(settings)).with_layers(load_file(str(READER_WEIGHTS)))
    data = json.loads((ROOT.parent / "shared" / "data" / "cmrc2018" / "cmrc2018_trial.json").read_text("utf-8"))
    cases = [(qa["question"], p["context"]) for art in data["data"] for p in art["paragraphs"] for qa in p["qas"]]
    cases = cases[: args.questions]
    batches = [reader.windows(q, [c]) for q, c in cases]
    print(f"{len(cases)} CMRC trial questions with their passages, {sum(len(b) for b in batches)} windows")

    def run(encoder) -> tuple[list, float]:
        r = object.__new__(Reader)  # the shipped reader's windows and head, read by `encoder`
        r.__dict__.update(reader.__dict__)
        r.encoder = encoder
        r.logits(batches[0])  # the first pass allocates
        t = time.perf_counter()
        out = [r.logits(windows) for windows in batches]
        return out, (time.perf_counter() - t) * 1000 / len(batches)

    def best(windows, s, e) -> tuple:
        from rag.answer.reader import Window

        spans = Reading([Window(p, o, s[k], e[k]) for k, (p, _, o) in enumerate(windows)],
                        reader.spec.max_answer_tokens).spans(1)
        return (spans[0].start, spans[0].end) if spans else None

    ref, ms = run(numpy_encoder)
    ref_best = [best(w, s, e) for w, (s, e, _) in zip(batches, ref)]
    print(f"{'runtime':<28} {'ms/question':>11} {'max |dlogit|':>13} {'best span changed':>18}")
    print(f"{'numpy float32':<28} {ms:11.1f} {0.0:13.2e} {0:>18}")
    base = runtime.graph(numpy_encoder)
    variants = [("onnxruntime float32", base)]
    try:
        variants += [("onnxruntime int8 (ffn only)", quantized(base, True)),
                     ("onnxruntime int8 (all)", quantized(base, False))]
    except ImportError:
        print("(int8 rows need the onnx package: pip install onnx)")
    for name, model in variants:
        out, ms = run(runtime.Runtime(numpy_encoder, model))
        diff = max(float(np.abs(np.stack([s, e]) - np.stack([rs, re]))[:, m.astype(bool)].max())
                   for (s, e, m), (rs, re, _) in zip(out, ref))
        changed = sum(best(w, s, e) != b for w, (s, e, _), b in zip(batches, out, ref_best))
        print(f"{name:<28} {ms:11.1f} {diff:13.2e} {changed:>11}/{len(batches)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
