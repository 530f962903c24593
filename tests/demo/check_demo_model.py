#!/usr/bin/python3
"""Acceptance of issue 4: the bundled demo model (models/demo) as streamgen runs it.

  1. Tokenizer: SentencePiece itself (models/demo/hf/tokenizer.model) vs `streamgen tokenize` with
     the HF folder's tokenizer.json and with the GGUF's embedded vocabulary, on every held-out
     line and on the whole held-out text: identical ids.
  2. Greedy: 64 greedy tokens from the GGUF (Q8_0) and from the HF folder (float32 holding the same
     Q8_0-grid values) are identical, for several prompts, on the float (reference) kernels.
  3. Perplexity: `streamgen perplexity --json` on the held-out 10 % (split exactly as the training
     script does) must be under half the add-one unigram baseline's perplexity, and equal the
     training script's own PyTorch evaluation (models/demo/training.json) within 1e-3 relative —
     on the default integer kernels (Q8 activations), so this is also their accuracy check.
  4. Logits: the training script's DemoLlama (PyTorch, float32) on the HF weights vs
     `streamgen logits` on a 256-position held-out window: max |dlogit| within a derived bound.
Usage: check_demo_model.py STREAMGEN_BINARY REPO_ROOT CORPUS
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import sentencepiece as spm
import torch

binary, root, corpus = sys.argv[1:4]
sys.path.insert(0, os.path.join(root, "tools"))
import train_demo_model as tdm  # noqa: E402

HF = os.path.join(root, "models", "demo", "hf")
GGUF = os.path.join(root, "models", "demo", "shakespeare-q8_0.gguf")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        failures.append(what)


def run(args, stdin=None, env=None):
    return subprocess.run([binary] + args, input=stdin, capture_output=True, text=True,
                          check=True, env=env).stdout


# The float kernel set (dequantized weights, f32 dots): the same values in the same order for
# the GGUF and the HF copy. The default integer kernels quantize activations, which only the
# Q8_0 GGUF goes through; their accuracy is what the perplexity check (3.) measures.
REFERENCE = dict(os.environ, STREAMGEN_MATMUL="reference")


with open(corpus, encoding="utf-8") as f:
    train_text, held_text = tdm.split_corpus(f.read())
sp = spm.SentencePieceProcessor(model_file=os.path.join(HF, "tokenizer.model"))

# 1. Tokenizer agreement.
lines = [l for l in held_text.split("\n") if l] + [held_text]
jsonl = "".join(json.dumps({"text": l}) + "\n" for l in lines)
for name, path in (("tokenizer.json", HF), ("GGUF vocabulary", GGUF)):
    out = [json.loads(x) for x in run(["tokenize", "--tokenizer", path, "--jsonl"], jsonl).splitlines()]
    bad = sum(1 for l, o in zip(lines, out) if o["ids"] != sp.encode(l))
    check(len(out) == len(lines) and bad == 0,
          f"{name}: {len(lines) - bad}/{len(lines)} held-out strings tokenize as SentencePiece does")

# 2. Greedy identity, 64 tokens (reference kernels).
for prompt in ("ROMEO:", "First Citizen:\n", "To be, or not", "KING HENRY VI:\nO God"):
    ids = ",".join(str(i) for i in [tdm.BOS_ID] + sp.encode(prompt))
    a = run(["generate", "--model", GGUF, "--prompt-ids", ids, "--max-new-tokens", "64"],
            env=REFERENCE).split()
    b = run(["generate", "--model", HF, "--prompt-ids", ids, "--max-new-tokens", "64"],
            env=REFERENCE).split()
    check(len(a) == 64 and a == b, f"greedy 64 tokens identical from GGUF and HF for {prompt!r}")

# 3. Perplexity vs the unigram baseline and vs the training script's evaluation.
with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
    f.write(held_text)
    held_path = f.name
res = json.loads(run(["perplexity", "--model", GGUF, "--file", held_path, "--ctx",
                      str(tdm.CONTEXT), "--json"]))
os.unlink(held_path)
train_ids, held_ids = sp.encode(train_text), sp.encode(held_text)
baseline = math.exp(tdm.unigram_loss(train_ids, held_ids))
check(res["tokens"] == len(held_ids), f"perplexity scored {res['tokens']} tokens = all held-out")
check(res["perplexity"] < baseline / 2,
      f"held-out perplexity {res['perplexity']:.3f} < half the unigram baseline {baseline:.3f}")
with open(os.path.join(root, "models", "demo", "training.json")) as f:
    report = json.load(f)
rel = abs(res["perplexity"] - report["held_out_perplexity_q8_0"]) / report["held_out_perplexity_q8_0"]
check(rel < 1e-3, f"streamgen PPL {res['perplexity']:.4f} vs PyTorch {report['held_out_perplexity_q8_0']}"
      f" (relative {rel:.1e} < 1e-3; the report rounds to 3 decimals)")

# 4. Logits against the trained PyTorch model.
tensors = {}
with open(os.path.join(HF, "model.safetensors"), "rb") as f:
    raw = f.read()
n = int.from_bytes(raw[:8], "little")
header = json.loads(raw[8:8 + n])
for name, info in header.items():
    if name == "__metadata__":
        continue
    b, e = info["data_offsets"]
    tensors[name] = np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(info["shape"]).copy()
model = tdm.DemoLlama()
tdm.load_hf_tensors(model, tensors)
window = [tdm.BOS_ID] + held_ids[:tdm.CONTEXT - 1]
with torch.no_grad():
    ref = model(torch.tensor([window]))[0].numpy()
with tempfile.NamedTemporaryFile(suffix=".f32", delete=False) as f:
    out_path = f.name
run(["logits", "--model", HF, "--prompts", ",".join(map(str, window)), "--all-positions",
     "--out", out_path])
ours = np.fromfile(out_path, dtype="<f4").reshape(len(window), tdm.VOCAB)
os.unlink(out_path)
diff = float(np.abs(ours - ref).max())
# Both sides are float32: each of the 4*layers+1 chained matmul stages (K <= 640) adds a relative
# error of about 2^-24 * sqrt(K) on each side; with a safety factor 8 relative to max |logit|.
bound = 8 * 2 * (4 * tdm.LAYERS + 1) * 2.0 ** -24 * math.sqrt(tdm.FFN) * float(np.abs(ref).max())
check(diff <= bound, f"held-out logits (256 positions x 2048): max |dlogit| {diff:.2e} <= {bound:.2e}")

print(f"demo model: {len(failures)} failure(s)")
sys.exit(1 if failures else 0)
