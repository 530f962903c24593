#!/usr/bin/python3
"""Acceptance driver of issue 2: streamgen's CPU engine vs the independent PyTorch reference.

For one architecture and a list of weight types it writes tiny random models with make_test_model,
runs `streamgen logits` and llama_reference (in this process) on
  batch 1: one prompt of 11 tokens, every prompt position's logits (--all-positions);
  batch 4: prompts of 1, 5, 13 and 29 tokens in ONE batch with --chunk 4, so prefill chunks of the
           long prompts and decode tokens of the short ones share steps;
both with --generate 32, and checks
  * max |logit_streamgen - logit_reference| <= bound (derived below);
  * the 32 greedy ids are identical (a divergence is tolerated only at an exact-tie step: where
    the reference's own margin between the two candidates is within 2 * bound, it is reported as
    tie@step, since no float32 engine can be required to break a tie the same way);
  * for f32/f16/bf16: streamgen on the GGUF and on the HF folder of the same seed agree within the
    bound (the HF folder runs rotate_half RoPE on unpermuted q/k, the GGUF llama file interleaved
    RoPE on permuted rows, so this also checks streamgen's permutation handling).
Prints a table (arch, type, batch, max|d|, bound, greedy) and exits non-zero on any failure.

THE BOUND. The reference runs in float64 on the very float32 weight values streamgen uses
(quantized types: the dequantized values), so its own error (~1e-16) is negligible and the
difference is streamgen's float32 rounding. A length-K float32 dot product with round-to-nearest
has a relative error that behaves as a random walk, about u * sqrt(K) with u = 2^-24 (Higham,
"Accuracy and Stability of Numerical Algorithms", probabilistic bound; the worst case K * u is not
reached on random data). The logits sit behind n_stages = 4 * layers + 1 chained matmul stages
(q/k/v, o, gate/up, down per layer, then the output projection); their errors add through the
residual stream, and RMSNorm keeps every stage at a relative scale of about max|logit|. So
    bound = S * n_stages * u * sqrt(K) * max|logit_ref|,   K = max(hidden, intermediate, Nh * D)
with a safety factor S = 8 for the amplification by softmax / RMSNorm and for taking the max over
all vocab x rows values. For tiny (K = 512, 2 layers) that is ~1e-4 relative to max|logit|.
Quantized types: streamgen and the numpy dequantizer may each round the dequantized weight
(e.g. d * sc * q - dmin * m) to float32 in a different order: one more u-sized relative
perturbation per weight, i.e. one more u * sqrt(K) term per stage, so the bound doubles.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_reference as ref  # noqa: E402

FLOAT_TYPES = ("f32", "f16", "bf16")
ALL_TYPES = ["f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1", "q4_K", "q5_K", "q6_K",
             "q4_K_M"]
U32 = 2.0 ** -24
SAFETY = 8.0
GENERATE = 32
FLAG_LABELS = {"--tied": "+tied", "llama3": "+llama3", "linear": "+linear", "--shards": "+shards"}


def derive_bound(cfg, max_logit, quantized):
    k = max(cfg.hidden, cfg.inter, cfg.heads * cfg.head_dim)
    n_stages = 4 * cfg.layers + 1
    per_weight = 2.0 if quantized else 1.0
    return SAFETY * n_stages * U32 * math.sqrt(k) * per_weight * max_logit


def greedy_verdict(ref_ids, ref_steps, ids, bound):
    """'yes' if identical; 'tie@j' if they first differ at step j where the reference's margin
    between its choice and the other is <= 2 * bound; otherwise 'NO@j' (or 'NO:len')."""
    if len(ids) != len(ref_ids):
        return "NO:len"
    for j, (a, b) in enumerate(zip(ref_ids, ids)):
        if a != b:
            if not 0 <= b < ref_steps.shape[1]:
                return f"NO@{j}"
            margin = ref_steps[j][a] - ref_steps[j][b]
            return f"tie@{j}" if margin <= 2 * bound else f"NO@{j}"
    return "yes"


def passed(verdict):
    return verdict == "yes" or verdict.startswith("tie@")


class Failure(Exception):
    pass


def run_cmd(cmd, timeout=120):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure(f"{os.path.basename(cmd[0])}: {e}")
    if p.returncode != 0:
        msg = (p.stderr.strip() or p.stdout.strip()).splitlines()
        raise Failure(f"{' '.join(os.path.basename(c) for c in cmd[:2])} exit {p.returncode}: "
                      f"{msg[-1] if msg else ''}")
    return p.stdout


def run_streamgen(binary, model, prompts, all_positions, chunk, out, threads):
    cmd = [binary, "logits", "--model", model,
           "--prompts", ";".join(",".join(str(t) for t in p) for p in prompts),
           "--generate", str(GENERATE), "--out", out]
    if all_positions:
        cmd.append("--all-positions")
    if chunk:
        cmd += ["--chunk", str(chunk)]
    if threads:
        cmd += ["--threads", str(threads)]
    stdout = run_cmd(cmd)
    lines = [ln for ln in stdout.splitlines() if ln.strip().startswith("{")]
    if not lines:
        raise Failure(f"streamgen logits printed no JSON: {stdout[-200:]!r}")
    res = json.loads(lines[-1])
    vocab = int(res["vocab_size"])
    data = np.fromfile(out, dtype="<f4")
    want_rows = sum(len(p) for p in prompts) if all_positions else len(prompts)
    if data.size != want_rows * vocab:
        raise Failure(f"{out}: {data.size} floats, want {want_rows} rows x {vocab}")
    rows, at = [], 0
    for p in prompts:
        n = len(p) if all_positions else 1
        rows.append(data[at * vocab:(at + n) * vocab].reshape(n, vocab).astype(np.float64))
        at += n
    return vocab, rows, res["generated"]


def max_diff(rows_a, rows_b):
    return max(float(np.abs(a - b).max()) for a, b in zip(rows_a, rows_b))


def make_prompts(vocab, seed):
    rng = np.random.default_rng(1000 + seed)
    batch1 = [rng.integers(0, vocab, 11).tolist()]
    batch4 = [rng.integers(0, vocab, n).tolist() for n in (1, 5, 13, 29)]
    return batch1, batch4


def check_variant(args, type_name, flags, table):
    """Runs one model variant; appends table rows; returns True when everything passed."""
    label = type_name + "".join(FLAG_LABELS.get(f, "") for f in flags)
    vdir = os.path.join(args.work, f"{args.arch}-{label}")
    os.makedirs(vdir, exist_ok=True)
    gguf = os.path.join(vdir, "m.gguf")
    hf = os.path.join(vdir, "hf") if type_name in FLOAT_TYPES else None
    cmd = [args.make_test_model, "--arch", args.arch, "--type", type_name, "--size", "tiny",
           "--seed", str(args.seed), "--gguf", gguf] + flags
    if hf:
        cmd += ["--hf", hf]
    ok = True
    try:
        run_cmd(cmd)
        cfg, w = ref.load_model(gguf)
    except Exception as e:  # noqa: BLE001 - any writer/loader failure is a reported FAIL row
        table.append((args.arch, label, "-", "-", float("nan"), float("nan"), f"FAIL: {e}"))
        return False
    batch1, batch4 = make_prompts(cfg.vocab, args.seed)
    quantized = type_name not in FLOAT_TYPES
    for bname, prompts, all_pos, chunk in (("1", batch1, True, 0), ("4", batch4, False, 4)):
        rrows, rgen, rsteps = ref.run(cfg, w, prompts, all_pos, GENERATE)
        max_logit = max(float(np.abs(r).max()) for r in rrows)
        bound = derive_bound(cfg, max_logit, quantized)
        sources = [("gguf", gguf)] + ([("hf", hf)] if hf else [])
        sg_rows = {}
        for src, path in sources:
            out = os.path.join(vdir, f"sg-{src}-b{bname}.bin")
            try:
                vocab, rows, gen = run_streamgen(args.streamgen, path, prompts, all_pos, chunk,
                                                 out, args.threads)
                if vocab != cfg.vocab:
                    raise Failure(f"vocab_size {vocab}, reference {cfg.vocab}")
            except (Failure, ValueError, KeyError) as e:
                table.append((args.arch, label, bname, src, float("nan"), bound, f"FAIL: {e}"))
                ok = False
                continue
            sg_rows[src] = rows
            d = max_diff(rows, rrows)
            verdicts = [greedy_verdict(a, s, b, bound) for a, s, b in zip(rgen, rsteps, gen)]
            if len(gen) != len(prompts):
                verdicts = ["NO:count"]
            bad = [v for v in verdicts if not passed(v)]
            ties = [v for v in verdicts if v.startswith("tie")]
            greedy = "yes" if not bad and not ties else ",".join(bad or ties)
            row_ok = d <= bound and not bad
            ok &= row_ok
            table.append((args.arch, label, bname, f"{src}-ref", d, bound,
                          greedy + ("" if row_ok else "  <-- FAIL")))
        if "gguf" in sg_rows and "hf" in sg_rows:
            d = max_diff(sg_rows["gguf"], sg_rows["hf"])
            table.append((args.arch, label, bname, "gguf-hf", d, bound,
                          "" if d <= bound else "<-- FAIL"))
            ok &= d <= bound
    return ok


def main():
    ap = argparse.ArgumentParser(description="streamgen vs PyTorch reference (issue 2 acceptance)")
    ap.add_argument("--arch", required=True, choices=["llama", "qwen2", "qwen3"])
    ap.add_argument("--make-test-model", required=True, help="path of make_test_model")
    ap.add_argument("--streamgen", required=True, help="path of the streamgen binary")
    ap.add_argument("--work", required=True, help="scratch directory for models and outputs")
    ap.add_argument("--types", default=",".join(ALL_TYPES))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--no-extras", action="store_true", help="skip --tied / rope-scaling variants")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work, exist_ok=True)
    variants = [(t, []) for t in args.types.split(",") if t]
    if not args.no_extras:
        # The tied model's HF copy is written in 2 shards, to cover the sharded index too.
        variants.append(("f32", ["--tied", "--shards", "2"]))
        if args.arch == "llama":
            variants.append(("f32", ["--rope-scaling", "llama3"]))
            variants.append(("f32", ["--rope-scaling", "linear"]))
    table, ok, t0 = [], True, time.time()
    for type_name, flags in variants:
        ok &= check_variant(args, type_name, flags, table)
    print(f"{'arch':6} {'type':16} {'batch':5} {'compare':8} {'max|d|':>10} {'bound':>10}  greedy")
    for arch, label, b, src, d, bound, note in table:
        print(f"{arch:6} {label:16} {b:5} {src:8} {d:10.3e} {bound:10.3e}  {note}")
    print(f"{args.arch}: {'PASSED' if ok else 'FAILED'} ({len(variants)} models, "
          f"{time.time() - t0:.1f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
