#!/usr/bin/python3
"""Independent PyTorch reference of Llama / Qwen2 / Qwen3 forward passes (issue 2 acceptance).

Written from Hugging Face transformers' modeling definitions, not from streamgen's C++:
  RMSNorm        y = w * x / sqrt(mean(x^2) + eps)
  RoPE           rotate_half: pairs (i, i + D/2); angle = pos * inv_freq[i],
                 inv_freq = theta^(-2i/D)
                 scaled by rope_scaling (llama3 smoothing as _compute_llama3_parameters, or linear)
                 or, in GGUF, divided by the rope_freqs.weight factors.
  attention      GQA: kv head of query head h is h // (Nh / Nkv) (repeat_kv); scores / sqrt(D),
                 causal mask, softmax, weighted V, o_proj.
  qwen2          q/k/v biases.   qwen3: RMSNorm over each head of q and k before RoPE.
  MLP            down(silu(gate(x)) * up(x)).
GGUF llama files have q/k rows permuted by llama.cpp's converter for its interleaved RoPE; they are
un-permuted here so every model runs the one HF formulation above.

Precision: float64. The weights are float32 values (dequantized where quantized), exact in float64,
so the reference's own rounding (~1e-16 relative) is negligible next to streamgen's float32
rounding (~1e-7 per operation): the measured difference is streamgen's error alone.

CLI (same contract as `streamgen logits`):
  llama_reference.py --model PATH --prompts "1,2,3;4,5" [--all-positions] [--generate N] --out F
  F: float32 LE logits; per sequence in order, its last prompt row (or every prompt row with
  --all-positions); vocab floats per row. stdout: {"vocab_size":V,"generated":[[ids],...]} with N
  greedy ids per sequence, the first the argmax of the last prompt row.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_read  # noqa: E402
import safetensors_read  # noqa: E402

DT = torch.float64


class ReferenceError_(Exception):
    pass


class Config:
    def __init__(self, **kw):
        self.arch = kw["arch"]
        self.vocab = int(kw["vocab"])
        self.hidden = int(kw["hidden"])
        self.inter = int(kw["inter"])
        self.layers = int(kw["layers"])
        self.heads = int(kw["heads"])
        self.kv_heads = int(kw["kv_heads"])
        self.head_dim = int(kw["head_dim"])
        self.eps = float(kw["eps"])
        self.inv_freq = kw["inv_freq"]  # torch float64 (head_dim/2,)

    def __repr__(self):
        return (f"Config({self.arch} V={self.vocab} H={self.hidden} I={self.inter} "
                f"L={self.layers} Nh={self.heads} Nkv={self.kv_heads} D={self.head_dim})")


def default_inv_freq(head_dim, theta):
    i = torch.arange(0, head_dim, 2, dtype=DT)
    return 1.0 / (float(theta) ** (i / head_dim))


def llama3_inv_freq(inv_freq, factor, low_freq_factor, high_freq_factor, old_context):
    """Llama-3.1 frequency smoothing, as transformers' _compute_llama3_parameters defines it."""
    low_freq_wavelen = old_context / low_freq_factor
    high_freq_wavelen = old_context / high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
    return torch.where(is_medium, smoothed, scaled)


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def unpermute_llama_qk(w, n_head):
    """Inverse of llama.cpp's convert_hf_to_gguf permute(w, n_head):
    w.reshape(n_head, 2, D/2, ...).swapaxes(1, 2).
    Works for weights (rows, in) and biases (rows,)."""
    rows = w.shape[0]
    d = rows // n_head
    rest = tuple(w.shape[1:])
    return w.reshape(n_head, d // 2, 2, *rest).transpose(1, 2).reshape(rows, *rest)


# --------------------------------------------------------------------------- loading


def load_gguf(path):
    g = gguf_read.GgufFile(path)
    arch = g.arch()
    if arch not in ("llama", "qwen2", "qwen3"):
        raise ReferenceError_(f"{path}: unsupported architecture {arch!r}")
    md = g.metadata

    def key(name, default=None):
        v = md.get(f"{arch}.{name}", default)
        if v is None:
            raise ReferenceError_(f"{path}: missing key {arch}.{name}")
        return v

    hidden = key("embedding_length")
    heads = key("attention.head_count")
    head_dim = key("attention.key_length", hidden // heads)
    if key("rope.dimension_count", head_dim) != head_dim:
        raise ReferenceError_("partial RoPE is not supported by the reference")
    W = {}
    for name, t in g.tensors.items():
        W[name] = _t(gguf_read.dequantize(t))
    vocab = md.get(f"{arch}.vocab_size", W["token_embd.weight"].shape[0])
    inv_freq = default_inv_freq(head_dim, key("rope.freq_base", 10000.0))
    if md.get(f"{arch}.rope.scaling.type") == "linear":
        inv_freq = inv_freq / float(key("rope.scaling.factor"))
    if "rope_freqs.weight" in W:
        inv_freq = inv_freq / W["rope_freqs.weight"].reshape(-1)
    cfg = Config(arch=arch, vocab=vocab, hidden=hidden, inter=key("feed_forward_length"),
                 layers=key("block_count"), heads=heads,
                 kv_heads=key("attention.head_count_kv", heads), head_dim=head_dim,
                 eps=key("attention.layer_norm_rms_epsilon", 1e-5), inv_freq=inv_freq)

    def get(name, required=True):
        if name in W:
            return W[name]
        if required:
            raise ReferenceError_(f"{path}: missing tensor {name}")
        return None

    w = {"embed": get("token_embd.weight"), "norm": get("output_norm.weight"),
         "lm_head": get("output.weight", False), "layers": []}
    if w["lm_head"] is None:
        w["lm_head"] = w["embed"]
    for i in range(cfg.layers):
        p = f"blk.{i}."
        lw = {"attn_norm": get(p + "attn_norm.weight"), "wq": get(p + "attn_q.weight"),
              "wk": get(p + "attn_k.weight"), "wv": get(p + "attn_v.weight"),
              "wo": get(p + "attn_output.weight"), "bq": get(p + "attn_q.bias", False),
              "bk": get(p + "attn_k.bias", False), "bv": get(p + "attn_v.bias", False),
              "q_norm": get(p + "attn_q_norm.weight", arch == "qwen3"),
              "k_norm": get(p + "attn_k_norm.weight", arch == "qwen3"),
              "ffn_norm": get(p + "ffn_norm.weight"), "w_gate": get(p + "ffn_gate.weight"),
              "w_up": get(p + "ffn_up.weight"), "w_down": get(p + "ffn_down.weight")}
        if arch == "llama":
            # llama.cpp permutes q with n_head and k with n_head_kv (convert_hf_to_gguf).
            lw["wq"] = unpermute_llama_qk(lw["wq"], cfg.heads)
            lw["wk"] = unpermute_llama_qk(lw["wk"], cfg.kv_heads)
            if lw["bq"] is not None:
                lw["bq"] = unpermute_llama_qk(lw["bq"], cfg.heads)
            if lw["bk"] is not None:
                lw["bk"] = unpermute_llama_qk(lw["bk"], cfg.kv_heads)
        w["layers"].append(lw)
    return cfg, w


def load_hf(folder):
    with open(os.path.join(folder, "config.json")) as f:
        c = json.load(f)
    model_type = c.get("model_type")
    arch = {"llama": "llama", "mistral": "llama", "qwen2": "qwen2",
            "qwen3": "qwen3"}.get(model_type)
    if arch is None:
        raise ReferenceError_(f"{folder}: unsupported model_type {model_type!r}")
    W = {name: _t(arr) for name, (arr, _) in safetensors_read.read_folder(folder).items()}
    hidden = c["hidden_size"]
    heads = c["num_attention_heads"]
    head_dim = c.get("head_dim") or hidden // heads
    inv_freq = default_inv_freq(head_dim, c.get("rope_theta", 10000.0))
    rs = c.get("rope_scaling")
    if rs:
        kind = rs.get("rope_type", rs.get("type"))
        if kind == "llama3":
            inv_freq = llama3_inv_freq(inv_freq, rs["factor"], rs["low_freq_factor"],
                                       rs["high_freq_factor"],
                                       rs["original_max_position_embeddings"])
        elif kind == "linear":
            inv_freq = inv_freq / rs["factor"]
        elif kind not in (None, "default"):
            raise ReferenceError_(f"{folder}: unsupported rope_scaling {kind!r}")
    cfg = Config(arch=arch, vocab=c["vocab_size"], hidden=hidden, inter=c["intermediate_size"],
                 layers=c["num_hidden_layers"], heads=heads,
                 kv_heads=c.get("num_key_value_heads") or heads, head_dim=head_dim,
                 eps=c.get("rms_norm_eps", 1e-6), inv_freq=inv_freq)

    def get(name, required=True):
        if name in W:
            return W[name]
        if required:
            raise ReferenceError_(f"{folder}: missing tensor {name}")
        return None

    w = {"embed": get("model.embed_tokens.weight"), "norm": get("model.norm.weight"),
         "lm_head": get("lm_head.weight", False), "layers": []}
    if w["lm_head"] is None or c.get("tie_word_embeddings", False):
        w["lm_head"] = w["embed"]
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        a = p + "self_attn."
        w["layers"].append({
            "attn_norm": get(p + "input_layernorm.weight"), "wq": get(a + "q_proj.weight"),
            "wk": get(a + "k_proj.weight"), "wv": get(a + "v_proj.weight"),
            "wo": get(a + "o_proj.weight"), "bq": get(a + "q_proj.bias", False),
            "bk": get(a + "k_proj.bias", False), "bv": get(a + "v_proj.bias", False),
            "q_norm": get(a + "q_norm.weight", arch == "qwen3"),
            "k_norm": get(a + "k_norm.weight", arch == "qwen3"),
            "ffn_norm": get(p + "post_attention_layernorm.weight"),
            "w_gate": get(p + "mlp.gate_proj.weight"), "w_up": get(p + "mlp.up_proj.weight"),
            "w_down": get(p + "mlp.down_proj.weight")})
    return cfg, w


def load_model(path):
    return load_hf(path) if os.path.isdir(path) else load_gguf(path)


# --------------------------------------------------------------------------- forward


def rms_norm(x, weight, eps):
    var = x.pow(2).mean(-1, keepdim=True)
    return weight * (x * torch.rsqrt(var + eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def linear(x, w, b=None):
    y = x @ w.T
    return y + b if b is not None else y


class Sequence:
    """One sequence's KV cache: per layer k, v of shape (Nkv, T, D), RoPE already applied."""

    def __init__(self, cfg):
        self.k = [torch.zeros(cfg.kv_heads, 0, cfg.head_dim, dtype=DT) for _ in range(cfg.layers)]
        self.v = [torch.zeros(cfg.kv_heads, 0, cfg.head_dim, dtype=DT) for _ in range(cfg.layers)]
        self.length = 0


def forward(cfg, w, seq, ids):
    """Runs the new tokens `ids` of one sequence after its cached ones; returns logits (T, V)."""
    T = len(ids)
    if any(i < 0 or i >= cfg.vocab for i in ids):
        raise ReferenceError_(f"token id out of range [0, {cfg.vocab})")
    start = seq.length
    pos = torch.arange(start, start + T, dtype=DT)
    freqs = pos[:, None] * cfg.inv_freq[None, :]               # (T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1)                    # (T, D)
    cos, sin = emb.cos()[None], emb.sin()[None]                # (1, T, D)
    group = cfg.heads // cfg.kv_heads
    # Causal mask over [cached + new] keys: new token t (absolute start+t) sees keys <= start+t.
    total = start + T
    mask = torch.arange(total)[None, :] > (start + torch.arange(T))[:, None]   # (T, total)
    x = w["embed"][torch.tensor(ids, dtype=torch.long)]        # (T, H)
    for li, lw in enumerate(w["layers"]):
        h = rms_norm(x, lw["attn_norm"], cfg.eps)
        q = linear(h, lw["wq"], lw["bq"]).view(T, cfg.heads, cfg.head_dim).transpose(0, 1)
        k = linear(h, lw["wk"], lw["bk"]).view(T, cfg.kv_heads, cfg.head_dim).transpose(0, 1)
        v = linear(h, lw["wv"], lw["bv"]).view(T, cfg.kv_heads, cfg.head_dim).transpose(0, 1)
        if lw["q_norm"] is not None:  # qwen3: per-head RMSNorm before RoPE
            q = rms_norm(q, lw["q_norm"], cfg.eps)
            k = rms_norm(k, lw["k_norm"], cfg.eps)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        seq.k[li] = torch.cat((seq.k[li], k), dim=1)
        seq.v[li] = torch.cat((seq.v[li], v), dim=1)
        keys = seq.k[li].repeat_interleave(group, dim=0)       # (Nh, total, D)
        vals = seq.v[li].repeat_interleave(group, dim=0)
        scores = (q @ keys.transpose(1, 2)) / math.sqrt(cfg.head_dim)   # (Nh, T, total)
        scores = scores.masked_fill(mask[None], float("-inf"))
        attn = torch.softmax(scores, dim=-1) @ vals            # (Nh, T, D)
        attn = attn.transpose(0, 1).reshape(T, cfg.heads * cfg.head_dim)
        x = x + linear(attn, lw["wo"])
        h = rms_norm(x, lw["ffn_norm"], cfg.eps)
        x = x + linear(torch.nn.functional.silu(linear(h, lw["w_gate"])) * linear(h, lw["w_up"]),
                       lw["w_down"])
    seq.length = total
    return linear(rms_norm(x, w["norm"], cfg.eps), w["lm_head"])


def run(cfg, w, prompts, all_positions=False, generate=0):
    """Each prompt alone. Returns (prompt_rows: list of (rows, V) float64 arrays,
    generated: list of id lists, step_logits: list of (generate, V) arrays, the logits each
    generated id was chosen from)."""
    rows, generated, steps = [], [], []
    for prompt in prompts:
        if not prompt:
            raise ReferenceError_("empty prompt")
        seq = Sequence(cfg)
        logits = forward(cfg, w, seq, prompt)
        rows.append((logits if all_positions else logits[-1:]).numpy())
        ids, chosen = [], []
        last = logits[-1]
        for n in range(generate):
            ids.append(int(torch.argmax(last)))
            chosen.append(last.numpy())
            if n + 1 < generate:
                last = forward(cfg, w, seq, [ids[-1]])[-1]
        generated.append(ids)
        steps.append(np.array(chosen).reshape(len(chosen), cfg.vocab))
    return rows, generated, steps


def parse_prompts(text):
    return [[int(t) for t in p.split(",") if t.strip() != ""] for p in text.split(";")]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompts", required=True)
    ap.add_argument("--all-positions", action="store_true")
    ap.add_argument("--generate", type=int, default=0)
    ap.add_argument("--chunk", type=int, default=0, help="accepted for CLI parity; no effect")
    ap.add_argument("--threads", type=int, default=0, help="accepted for CLI parity")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    try:
        cfg, w = load_model(args.model)
        rows, generated, _ = run(cfg, w, parse_prompts(args.prompts), args.all_positions,
                                 args.generate)
    except (ReferenceError_, gguf_read.GgufError, safetensors_read.SafetensorsError, KeyError,
            ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    with open(args.out, "wb") as f:
        for r in rows:
            f.write(np.asarray(r, dtype="<f4").tobytes())
    print(json.dumps({"vocab_size": cfg.vocab, "generated": generated}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
