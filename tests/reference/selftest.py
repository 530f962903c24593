#!/usr/bin/python3
"""Self-test of the PyTorch reference, independent of streamgen's binaries.

Writes random models (llama, qwen2, qwen3; GQA; tied; llama3 and linear RoPE scaling) as HF folders
(single file, sharded, F32/F16/BF16) and as llama.cpp-style GGUF files, then checks:
  1. the reference gives the same logits on the GGUF and the HF copy (loading, q/k un-permute,
     rope_freqs factors vs HF llama3 smoothing, tied output, safetensors shards, bf16 decoding);
  2. llama GGUF: a separate numpy forward that uses the PERMUTED weights with llama.cpp's
     interleaved RoPE (pairs 2i, 2i+1) agrees, so the un-permute direction is the right one;
  3. KV-cached decoding equals a full recomputation of the whole sequence;
  4. the CLI writes the documented output contract.
Usage: selftest.py WORKDIR
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama_reference as ref  # noqa: E402
import test_writers as tw  # noqa: E402

V, H, I, L, NH, NKV = 64, 32, 48, 2, 4, 2


def make_weights(arch, head_dim, tied, seed):
    rng = np.random.default_rng(seed)

    def lin(o, i):
        return (rng.standard_normal((o, i)) / math.sqrt(i)).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n)).astype(np.float32)

    w = {"model.embed_tokens.weight": rng.standard_normal((V, H)).astype(np.float32),
         "model.norm.weight": norm(H)}
    if not tied:
        w["lm_head.weight"] = (3 * lin(V, H)).astype(np.float32)
    for i in range(L):
        p, a = f"model.layers.{i}.", f"model.layers.{i}.self_attn."
        w[p + "input_layernorm.weight"] = norm(H)
        w[a + "q_proj.weight"] = lin(NH * head_dim, H)
        w[a + "k_proj.weight"] = lin(NKV * head_dim, H)
        w[a + "v_proj.weight"] = lin(NKV * head_dim, H)
        w[a + "o_proj.weight"] = lin(H, NH * head_dim)
        if arch == "qwen2":
            for n, rows in (("q", NH), ("k", NKV), ("v", NKV)):
                w[a + f"{n}_proj.bias"] = (0.1 * rng.standard_normal(rows * head_dim)).astype(
                    np.float32)
        if arch == "qwen3":
            w[a + "q_norm.weight"] = norm(head_dim)
            w[a + "k_norm.weight"] = norm(head_dim)
        w[p + "post_attention_layernorm.weight"] = norm(H)
        w[p + "mlp.gate_proj.weight"] = lin(I, H)
        w[p + "mlp.up_proj.weight"] = lin(I, H)
        w[p + "mlp.down_proj.weight"] = lin(H, I)
    return w


ROPE3 = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
         "original_max_position_embeddings": 16}


def write_hf(folder, arch, head_dim, w, rope, dtype, shards):
    os.makedirs(folder, exist_ok=True)
    cfg = {"model_type": arch, "vocab_size": V, "hidden_size": H, "intermediate_size": I,
           "num_hidden_layers": L, "num_attention_heads": NH, "num_key_value_heads": NKV,
           "head_dim": head_dim, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
           "max_position_embeddings": 256, "tie_word_embeddings": "lm_head.weight" not in w}
    if rope == "llama3":
        cfg["rope_scaling"] = ROPE3
    elif rope == "linear":
        cfg["rope_scaling"] = {"type": "linear", "factor": 4.0}
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    if shards == 1:
        tw.write_safetensors(os.path.join(folder, "model.safetensors"), w, dtype)
        return
    names = list(w)
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        tw.write_safetensors(os.path.join(folder, fname), {n: w[n] for n in part}, dtype)
        weight_map.update({n: fname for n in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {}, "weight_map": weight_map}, f)


def llama3_factors(head_dim):
    """Per-pair divisors the way llama.cpp's converter writes rope_freqs.weight."""
    r = ROPE3
    old = r["original_max_position_embeddings"]
    lo_w, hi_w = old / r["low_freq_factor"], old / r["high_freq_factor"]
    out = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * 10000.0 ** (i / head_dim)
        if wavelen < hi_w:
            out.append(1.0)
        elif wavelen > lo_w:
            out.append(r["factor"])
        else:
            lo, hi = r["low_freq_factor"], r["high_freq_factor"]
            s = (old / wavelen - lo) / (hi - lo)
            out.append(1.0 / ((1 - s) / r["factor"] + s))
    return np.array(out, dtype=np.float32)


def write_gguf(path, arch, head_dim, w, rope, type_name):
    md = {"general.architecture": arch, "general.name": "selftest",
          f"{arch}.vocab_size": V, f"{arch}.context_length": 256, f"{arch}.embedding_length": H,
          f"{arch}.block_count": L, f"{arch}.feed_forward_length": I,
          f"{arch}.attention.head_count": NH, f"{arch}.attention.head_count_kv": NKV,
          f"{arch}.attention.key_length": head_dim, f"{arch}.attention.value_length": head_dim,
          f"{arch}.rope.dimension_count": head_dim, f"{arch}.rope.freq_base": 10000.0,
          f"{arch}.attention.layer_norm_rms_epsilon": 1e-5}
    if rope == "linear":
        md[f"{arch}.rope.scaling.type"] = "linear"
        md[f"{arch}.rope.scaling.factor"] = 4.0
    t = {"token_embd.weight": w["model.embed_tokens.weight"]}
    if rope == "llama3":
        t["rope_freqs.weight"] = llama3_factors(head_dim)
    names = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q",
             "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
             "self_attn.o_proj": "attn_output", "self_attn.q_norm": "attn_q_norm",
             "self_attn.k_norm": "attn_k_norm", "post_attention_layernorm": "ffn_norm",
             "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for i in range(L):
        for hf, gg in names.items():
            for suffix in ("weight", "bias"):
                src = f"model.layers.{i}.{hf}.{suffix}"
                if src not in w:
                    continue
                a = w[src]
                if arch == "llama" and gg in ("attn_q", "attn_k"):
                    a = tw.permute_llama_qk(a, NH if gg == "attn_q" else NKV)
                t[f"blk.{i}.{gg}.{suffix}"] = a
    t["output_norm.weight"] = w["model.norm.weight"]
    if "lm_head.weight" in w:
        t["output.weight"] = w["lm_head.weight"]
    tw.write_gguf(path, md, t, type_name)


def interleaved_numpy_forward(path, ids):
    """llama.cpp-style forward on the GGUF's own (permuted) q/k with interleaved RoPE, float64."""
    import gguf_read
    g = gguf_read.GgufFile(path)
    W = {n: gguf_read.dequantize(t).astype(np.float64) for n, t in g.tensors.items()}
    D = H // NH
    inv = 1.0 / 10000.0 ** (np.arange(0, D, 2) / D)

    def rms(x, wt):
        return wt * x / np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)

    def rope_interleaved(x, pos):  # x: (heads, D)
        out = x.copy()
        for i in range(D // 2):
            c, s = math.cos(pos * inv[i]), math.sin(pos * inv[i])
            a, b = x[:, 2 * i], x[:, 2 * i + 1]
            out[:, 2 * i], out[:, 2 * i + 1] = a * c - b * s, a * s + b * c
        return out

    x = W["token_embd.weight"][ids]
    for li in range(L):
        p = f"blk.{li}."
        h = rms(x, W[p + "attn_norm.weight"])
        q = [rope_interleaved((W[p + "attn_q.weight"] @ h[t]).reshape(NH, D), t)
             for t in range(len(ids))]
        k = [rope_interleaved((W[p + "attn_k.weight"] @ h[t]).reshape(NKV, D), t)
             for t in range(len(ids))]
        v = [(W[p + "attn_v.weight"] @ h[t]).reshape(NKV, D) for t in range(len(ids))]
        att = np.zeros((len(ids), NH * D))
        for t in range(len(ids)):
            for hd in range(NH):
                kv = hd // (NH // NKV)
                s = np.array([q[t][hd] @ k[j][kv] for j in range(t + 1)]) / math.sqrt(D)
                pr = np.exp(s - s.max())
                pr /= pr.sum()
                att[t, hd * D:(hd + 1) * D] = sum(pr[j] * v[j][kv] for j in range(t + 1))
        x = x + att @ W[p + "attn_output.weight"].T
        h = rms(x, W[p + "ffn_norm.weight"])
        g_ = h @ W[p + "ffn_gate.weight"].T
        x = x + ((g_ / (1 + np.exp(-g_))) * (h @ W[p + "ffn_up.weight"].T)) @ W[
            p + "ffn_down.weight"].T
    out = W.get("output.weight", W["token_embd.weight"])
    return rms(x, W["output_norm.weight"]) @ out.T


def check(name, cond, detail=""):
    print(f"{'ok  ' if cond else 'FAIL'} {name} {detail}")
    return bool(cond)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="sg_ref_selftest_")
    os.makedirs(work, exist_ok=True)
    prompts = [[1, 2, 3, 4, 5, 6, 7], [9], [10, 11, 12]]
    ok = True
    cases = [("llama", 8, False, "none", "F32", 1), ("llama", 8, True, "llama3", "F32", 2),
             ("llama", 8, False, "linear", "BF16", 1), ("qwen2", 8, False, "none", "F16", 3),
             ("qwen2", 8, True, "none", "F32", 1), ("qwen3", 16, False, "none", "F32", 1)]
    for n, (arch, hd, tied, rope, dtype, shards) in enumerate(cases):
        tag = f"{arch}-{'tied-' if tied else ''}{rope}-{dtype}-shards{shards}"
        w = make_weights(arch, hd, tied, seed=n)
        if dtype != "F32":  # give both files the same values: round through the dtype first
            cast = {"BF16": lambda a: np.frombuffer(tw.bf16_bytes(a), "<u2").astype(np.uint32)
                    << 16, "F16": lambda a: a.astype(np.float16).astype(np.float32)}[dtype]
            w = {k: (cast(a).view(np.float32).reshape(a.shape) if dtype == "BF16" else cast(a))
                 if a.ndim > 1 else a for k, a in w.items()}
        hf_dir, gguf = os.path.join(work, tag), os.path.join(work, tag + ".gguf")
        write_hf(hf_dir, arch, hd, w, rope, dtype, shards)
        write_gguf(gguf, arch, hd, w, rope, dtype.lower())
        cg, wg = ref.load_model(gguf)
        ch, wh = ref.load_model(hf_dir)
        rg, gg, _ = ref.run(cg, wg, prompts, all_positions=True, generate=6)
        rh, gh, _ = ref.run(ch, wh, prompts, all_positions=True, generate=6)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(rg, rh))
        scale = max(float(np.abs(a).max()) for a in rh)
        # Only float32 rounding of inv_freq (rope_freqs stored as f32) separates the two.
        ok &= check(f"{tag}: GGUF == HF", diff <= 1e-6 * scale and gg == gh,
                    f"max|d|={diff:.2e} max|logit|={scale:.1f}")
        if arch == "llama" and rope == "none":
            nl = interleaved_numpy_forward(gguf, prompts[0])
            d2 = float(np.abs(nl - rg[0]).max())
            ok &= check(f"{tag}: interleaved RoPE on permuted GGUF == reference",
                        d2 <= 1e-9 * scale,
                        f"max|d|={d2:.2e}")
        # KV cache vs full recompute: logits of generated step n == full forward's last row.
        seq = prompts[0] + gh[0][:-1]
        full = ref.forward(ch, wh, ref.Sequence(ch), seq).numpy()
        _, _, steps = ref.run(ch, wh, [prompts[0]], generate=6)
        d3 = float(np.abs(full[len(prompts[0]) - 1:] - steps[0]).max())
        ok &= check(f"{tag}: KV-cached decode == full recompute", d3 <= 1e-10 * scale,
                    f"max|d|={d3:.2e}")
    # CLI contract.
    out = os.path.join(work, "cli.bin")
    proc = subprocess.run([sys.executable, os.path.join(HERE, "llama_reference.py"), "--model",
                           os.path.join(work, cases[0][0] + "-none-F32-shards1"), "--prompts",
                           "1,2,3;4,5", "--generate", "3", "--out", out],
                          capture_output=True, text=True)
    res = json.loads(proc.stdout) if proc.returncode == 0 else {}
    size_ok = os.path.exists(out) and os.path.getsize(out) == 2 * V * 4
    ok &= check("CLI contract", proc.returncode == 0 and res.get("vocab_size") == V and
                [len(g) for g in res.get("generated", [])] == [3, 3] and size_ok,
                proc.stderr.strip())
    bad = subprocess.run([sys.executable, os.path.join(HERE, "llama_reference.py"), "--model",
                          os.path.join(work, "missing.gguf"), "--prompts", "1", "--out", out],
                         capture_output=True, text=True)
    ok &= check("CLI error on missing file", bad.returncode == 1 and "error" in bad.stderr)
    print("SELFTEST", "PASSED" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(main())
