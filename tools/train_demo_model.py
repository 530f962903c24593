#!/usr/bin/python3
"""Trains streamgen's bundled demo model on tinyshakespeare and exports it two ways.

    /usr/bin/python3 tools/train_demo_model.py --corpus ../shared/data/tinyshakespeare.txt \
        --out models/demo

Debian's /usr/bin/python3 with python3-torch, python3-numpy and python3-sentencepiece (installed by
scripts/setup.sh). Seeded: the same corpus, seed and thread count give the same files.

What it does
  1. Splits the corpus at a line boundary: the first 90 % of the characters train, the last 10 %
     are held out (validation; tests/demo reads the same split through held_out_text()).
  2. Trains a SentencePiece BPE tokenizer (2 048 pieces, byte fallback so every input encodes,
     identity normalization, no dummy prefix: a word after a newline encodes as in the corpus).
  3. Trains a small Llama (RMSNorm, rotate_half RoPE, grouped-query attention, SwiGLU, tied
     embeddings) on [BOS] + 255-token windows of the training text with AdamW and a cosine schedule.
  4. Rounds every matrix to the Q8_0 grid (blocks of 32 along a row: an fp16 scale times int8), so
     that the float32 Hugging Face export and the Q8_0 GGUF hold the very same weight values and
     streamgen gives the same logits for both. Validation loss is reported before and after.
  5. Writes models/demo/hf/ (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
     generation_config.json) and models/demo/shakespeare-q8_0.gguf (the tokenizer inside, q/k rows
     permuted as llama.cpp's converter does), plus training.json with the measured numbers.
"""

import argparse
import io
import json
import math
import os
import struct
import sys
import time

import numpy as np
import sentencepiece as spm
import torch
import torch.nn.functional as F

# ---- the model's shape (about 3.3 M parameters: 13 MB as float32, 3.5 MB as Q8_0) ----
VOCAB = 2048
DIM = 256
LAYERS = 4
HEADS = 8
KV_HEADS = 4
HEAD_DIM = DIM // HEADS
FFN = 640
CONTEXT = 2048  # long enough for a tool prompt with its schema (issue 14)
ROPE_THETA = 10000.0
NORM_EPS = 1e-5
DROPOUT = 0.0  # training only (attention probabilities, residual branches); set by --dropout

BOS_ID, EOS_ID, UNK_ID = 1, 2, 0
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] | upper }}:\n{{ message['content'] }}\n\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:\n{% endif %}")
MODEL_NAME = "streamgen-demo-shakespeare"


def split_corpus(text, held_out_fraction=0.1):
    """(train, held_out): cut at the first newline after 90 % of the characters."""
    cut = text.index("\n", int(len(text) * (1.0 - held_out_fraction))) + 1
    return text[:cut], text[cut:]


def held_out_text(corpus_path):
    with open(corpus_path, encoding="utf-8") as f:
        return split_corpus(f.read())[1]


# ---------------------------------------------------------------- tokenizer

def train_tokenizer(train_text):
    """The serialized SentencePiece model: BPE over ~2 000-character chunks that keep their newlines (the trainer would
    otherwise see one line per sentence and never learn a piece with a newline in it)."""
    lines = train_text.splitlines(keepends=True)
    chunks, cur = [], ""
    for line in lines:
        cur += line
        if len(cur) >= 2000:
            chunks.append(cur)
            cur = ""
    if cur:
        chunks.append(cur)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(chunks), model_writer=model, vocab_size=VOCAB, model_type="bpe",
        byte_fallback=True, character_coverage=1.0, normalization_rule_name="identity",
        remove_extra_whitespaces=False, add_dummy_prefix=False, split_digits=True,
        allow_whitespace_only_pieces=True, max_sentence_length=1 << 16, num_threads=1,
        unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=-1, shuffle_input_sentence=False,
        minloglevel=2)
    return model.getvalue()


def spm_pieces(sp):
    """[(piece, score, gguf_token_type)] in id order. GGUF token types: 1 normal, 2 unknown,
    3 control, 6 byte."""
    out = []
    for i in range(sp.get_piece_size()):
        if sp.is_unknown(i):
            kind = 2
        elif sp.is_control(i):
            kind = 3
        elif sp.is_byte(i):
            kind = 6
        else:
            kind = 1
        out.append((sp.id_to_piece(i), sp.get_score(i), kind))
    return out


def bpe_merges(pieces):
    """Merges that make Hugging Face's BPE reproduce SentencePiece BPE: every split of a normal
    piece into two normal pieces, ranked by the merged piece's score (higher first), then by the
    ids of the left and right parts (the order of Hugging Face's SentencePiece converter)."""
    ids = {p: i for i, (p, _, kind) in enumerate(pieces) if kind == 1}
    merges = []
    for piece, score, kind in pieces:
        if kind != 1 or len(piece) < 2:
            continue
        for k in range(1, len(piece)):
            left, right = piece[:k], piece[k:]
            if left in ids and right in ids:
                merges.append((-score, ids[piece], ids[left], ids[right], left, right))
    merges.sort()
    return [[m[4], m[5]] for m in merges]


def tokenizer_json(pieces):
    special = [(i, p) for i, (p, _, kind) in enumerate(pieces) if kind in (2, 3)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [{"id": i, "content": p, "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": False, "special": True}
                         for i, p in special],
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"},
        "pre_tokenizer": None,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                       {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                     {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}},
                     {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS_ID], "tokens": ["<s>"]}},
        },
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
            {"type": "ByteFallback"},
            {"type": "Fuse"}]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": "<unk>",
            "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True,
            "byte_fallback": True, "ignore_merges": False,
            "vocab": {p: i for i, (p, _, _) in enumerate(pieces)},
            "merges": bpe_merges(pieces),
        },
    }


def tokenizer_config():
    return {
        "add_bos_token": True,
        "add_eos_token": False,
        "bos_token": "<s>",
        "eos_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": None,
        "clean_up_tokenization_spaces": False,
        "legacy": False,
        "model_max_length": CONTEXT,
        "tokenizer_class": "LlamaTokenizerFast",
        "chat_template": CHAT_TEMPLATE,
    }


# ---------------------------------------------------------------- model

class RMSNorm(torch.nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(dim))

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return x * torch.rsqrt(var + NORM_EPS) * self.weight


def rope_tables(positions, dtype):
    inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM))
    ang = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    ang = torch.cat([ang, ang], dim=-1)
    return ang.cos().to(dtype), ang.sin().to(dtype)


def causal_mask(t, device):
    return torch.ones(t, t, dtype=torch.bool, device=device).triu(1)


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.input_layernorm = RMSNorm(DIM)
        self.q_proj = torch.nn.Linear(DIM, HEADS * HEAD_DIM, bias=False)
        self.k_proj = torch.nn.Linear(DIM, KV_HEADS * HEAD_DIM, bias=False)
        self.v_proj = torch.nn.Linear(DIM, KV_HEADS * HEAD_DIM, bias=False)
        self.o_proj = torch.nn.Linear(HEADS * HEAD_DIM, DIM, bias=False)
        self.post_attention_layernorm = RMSNorm(DIM)
        self.gate_proj = torch.nn.Linear(DIM, FFN, bias=False)
        self.up_proj = torch.nn.Linear(DIM, FFN, bias=False)
        self.down_proj = torch.nn.Linear(FFN, DIM, bias=False)

    def forward(self, x, cos, sin):
        b, t, _ = x.shape
        h = self.input_layernorm(x)
        q = self.q_proj(h).view(b, t, HEADS, HEAD_DIM).transpose(1, 2)
        k = self.k_proj(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        v = self.v_proj(h).view(b, t, KV_HEADS, HEAD_DIM).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = HEADS // KV_HEADS
        k = k.repeat_interleave(rep, dim=1)
        v = v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(HEAD_DIM))
        att = att.masked_fill(causal_mask(t, x.device), float("-inf"))
        a = F.dropout(torch.softmax(att, dim=-1), DROPOUT, self.training) @ v  # torch 1.13 (Debian 12) has no fused SDPA
        x = x + F.dropout(self.o_proj(a.transpose(1, 2).reshape(b, t, HEADS * HEAD_DIM)), DROPOUT,
                          self.training)
        h = self.post_attention_layernorm(x)
        return x + F.dropout(self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h)), DROPOUT,
                             self.training)


class DemoLlama(torch.nn.Module):
    """The Hugging Face LlamaForCausalLM math with tied embeddings; parameter names map 1:1 onto
    the safetensors names (see hf_tensors)."""

    def __init__(self):
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(VOCAB, DIM)
        self.layers = torch.nn.ModuleList([Block() for _ in range(LAYERS)])
        self.norm = RMSNorm(DIM)

    def forward(self, ids):
        t = ids.shape[1]
        cos, sin = rope_tables(torch.arange(t), self.embed_tokens.weight.dtype)
        cos, sin = cos.to(ids.device), sin.to(ids.device)
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x) @ self.embed_tokens.weight.T


def init_weights(model):
    for name, p in model.named_parameters():
        if p.dim() == 2:
            std = 0.02
            if name.endswith("o_proj.weight") or name.endswith("down_proj.weight"):
                std = 0.02 / math.sqrt(2 * LAYERS)  # GPT-2's residual-branch scaling
            torch.nn.init.normal_(p, 0.0, std)


def hf_tensors(model):
    """{safetensors name: float32 numpy array} in the Hugging Face Llama naming."""
    out = {"model.embed_tokens.weight": model.embed_tokens.weight,
           "model.norm.weight": model.norm.weight}
    for i, layer in enumerate(model.layers):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = layer.input_layernorm.weight
        out[p + "post_attention_layernorm.weight"] = layer.post_attention_layernorm.weight
        for n in ("q_proj", "k_proj", "v_proj", "o_proj"):
            out[p + f"self_attn.{n}.weight"] = getattr(layer, n).weight
        for n in ("gate_proj", "up_proj", "down_proj"):
            out[p + f"mlp.{n}.weight"] = getattr(layer, n).weight
    return {k: v.detach().to(torch.float32).cpu().numpy().copy() for k, v in out.items()}


def load_hf_tensors(model, tensors):
    with torch.no_grad():
        for name, p in model.named_parameters():
            hf = "model." + name
            hf = hf.replace(".q_proj", ".self_attn.q_proj").replace(".k_proj", ".self_attn.k_proj")
            hf = hf.replace(".v_proj", ".self_attn.v_proj").replace(".o_proj", ".self_attn.o_proj")
            for n in ("gate_proj", "up_proj", "down_proj"):
                hf = hf.replace("." + n, ".mlp." + n)
            p.copy_(torch.from_numpy(tensors[hf]).to(p.device))


# ---------------------------------------------------------------- Q8_0

def q8_0_quantize(w):
    """float32 [rows, K] (K % 32 == 0) -> (scales fp16 [rows, K/32], quants int8 [rows, K/32, 32])
    as ggml's reference quantizer: d = amax / 127, q = round(x / d) half away from zero."""
    blocks = w.reshape(w.shape[0], -1, 32).astype(np.float32)
    amax = np.abs(blocks).max(axis=-1)
    d = amax / 127.0
    inv = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0).astype(np.float32)
    x = blocks * inv[..., None]
    q = np.clip(np.trunc(x + np.copysign(0.5, x)), -127, 127).astype(np.int8)
    return d.astype(np.float16), q


def q8_0_dequantize(d, q):
    return (d.astype(np.float32)[..., None] * q.astype(np.float32)).reshape(q.shape[0], -1)


def round_to_q8_0(tensors):
    """Every matrix replaced by its Q8_0 value (exact in float32: an 11-bit fp16 significand times
    an 8-bit integer). 1-D norm weights stay float32, as in llama.cpp's Q8_0 files."""
    return {k: (q8_0_dequantize(*q8_0_quantize(v)) if v.ndim == 2 else v)
            for k, v in tensors.items()}


# ---------------------------------------------------------------- writers

def write_safetensors(path, tensors):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, arr in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for arr in tensors.values():
            f.write(np.ascontiguousarray(arr, dtype="<f4").tobytes())


GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY = 4, 5, 6, 7, 8, 9
GGML_F32, GGML_Q8_0 = 0, 8


def gguf_string(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key, vtype, value):
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == GGUF_ARRAY:
        etype, items = value
        out += struct.pack("<IQ", etype, len(items))
        fmt = {GGUF_I32: "<i", GGUF_F32: "<f"}.get(etype)
        for it in items:
            out += gguf_string(it) if etype == GGUF_STRING else struct.pack(fmt, it)
        return out
    if vtype == GGUF_STRING:
        return out + gguf_string(value)
    return out + struct.pack({GGUF_U32: "<I", GGUF_F32: "<f", GGUF_BOOL: "<?"}[vtype], value)


def permute_for_gguf(w, heads):
    """llama.cpp's converter: rows of each head reordered from rotate_half to interleaved pairs."""
    return (w.reshape(heads, 2, w.shape[0] // heads // 2, w.shape[1])
            .swapaxes(1, 2).reshape(w.shape))


def gguf_tensors(tensors):
    """[(gguf name, ggml type, dims innermost-first, bytes)]: matrices Q8_0, norms F32."""
    names = {"model.embed_tokens.weight": "token_embd.weight",
             "model.norm.weight": "output_norm.weight"}
    per_layer = {"input_layernorm": "attn_norm", "post_attention_layernorm": "ffn_norm",
                 "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
                 "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output",
                 "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}
    for i in range(LAYERS):
        for hf, gg in per_layer.items():
            names[f"model.layers.{i}.{hf}.weight"] = f"blk.{i}.{gg}.weight"
    out = []
    for hf, arr in tensors.items():
        if hf.endswith("q_proj.weight"):
            arr = permute_for_gguf(arr, HEADS)
        elif hf.endswith("k_proj.weight"):
            arr = permute_for_gguf(arr, KV_HEADS)
        dims = list(reversed(arr.shape))
        if arr.ndim == 2:
            d, q = q8_0_quantize(arr)
            blocks = np.zeros(q.shape[:2], dtype=[("d", "<f2"), ("qs", "i1", 32)])
            blocks["d"], blocks["qs"] = d, q
            out.append((names[hf], GGML_Q8_0, dims, blocks.tobytes()))
        else:
            out.append((names[hf], GGML_F32, dims, arr.astype("<f4").tobytes()))
    return out


def write_gguf(path, tensors, pieces):
    kvs = [
        gguf_kv("general.architecture", GGUF_STRING, "llama"),
        gguf_kv("general.name", GGUF_STRING, MODEL_NAME),
        gguf_kv("general.file_type", GGUF_U32, 7),  # LLAMA_FTYPE_MOSTLY_Q8_0
        gguf_kv("general.alignment", GGUF_U32, 32),
        gguf_kv("llama.vocab_size", GGUF_U32, VOCAB),
        gguf_kv("llama.context_length", GGUF_U32, CONTEXT),
        gguf_kv("llama.embedding_length", GGUF_U32, DIM),
        gguf_kv("llama.block_count", GGUF_U32, LAYERS),
        gguf_kv("llama.feed_forward_length", GGUF_U32, FFN),
        gguf_kv("llama.attention.head_count", GGUF_U32, HEADS),
        gguf_kv("llama.attention.head_count_kv", GGUF_U32, KV_HEADS),
        gguf_kv("llama.attention.layer_norm_rms_epsilon", GGUF_F32, NORM_EPS),
        gguf_kv("llama.rope.freq_base", GGUF_F32, ROPE_THETA),
        gguf_kv("llama.rope.dimension_count", GGUF_U32, HEAD_DIM),
        gguf_kv("tokenizer.ggml.model", GGUF_STRING, "llama"),
        gguf_kv("tokenizer.ggml.tokens", GGUF_ARRAY, (GGUF_STRING, [p for p, _, _ in pieces])),
        gguf_kv("tokenizer.ggml.scores", GGUF_ARRAY, (GGUF_F32, [s for _, s, _ in pieces])),
        gguf_kv("tokenizer.ggml.token_type", GGUF_ARRAY, (GGUF_I32, [k for _, _, k in pieces])),
        gguf_kv("tokenizer.ggml.bos_token_id", GGUF_U32, BOS_ID),
        gguf_kv("tokenizer.ggml.eos_token_id", GGUF_U32, EOS_ID),
        gguf_kv("tokenizer.ggml.unknown_token_id", GGUF_U32, UNK_ID),
        gguf_kv("tokenizer.ggml.add_bos_token", GGUF_BOOL, True),
        gguf_kv("tokenizer.ggml.add_eos_token", GGUF_BOOL, False),
        gguf_kv("tokenizer.ggml.add_space_prefix", GGUF_BOOL, False),
        gguf_kv("tokenizer.chat_template", GGUF_STRING, CHAT_TEMPLATE),
    ]
    infos, offset, datas = b"", 0, []
    for name, ggml_type, dims, data in gguf_tensors(tensors):
        infos += gguf_string(name) + struct.pack("<I", len(dims))
        infos += b"".join(struct.pack("<Q", d) for d in dims)
        infos += struct.pack("<IQ", ggml_type, offset)
        pad = -len(data) % 32
        datas.append(data + b"\0" * pad)
        offset += len(data) + pad
    head = b"GGUF" + struct.pack("<IQQ", 3, len(datas), len(kvs)) + b"".join(kvs) + infos
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for d in datas:
            f.write(d)


# ---------------------------------------------------------------- training

def evaluate(model, ids, context=CONTEXT):
    """Mean cross-entropy (nats/token) over the held-out ids: consecutive non-overlapping chunks of
    `context` tokens, each predicted from [BOS] + the chunk minus its last token, so every token is
    scored exactly once (`streamgen perplexity --ctx context` computes the same)."""
    model.eval()
    device = model.embed_tokens.weight.device
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(ids), context):
            chunk = ids[start:start + context]
            x = torch.tensor([[BOS_ID] + chunk[:-1]], device=device)
            y = torch.tensor([chunk], device=device)
            logits = model(x)
            total += F.cross_entropy(logits[0], y[0], reduction="sum").item()
            count += len(chunk)
    model.train()
    return total / count


def unigram_loss(train_ids, held_ids):
    """Cross-entropy of the add-one unigram model fitted on the training ids (the baseline)."""
    counts = np.bincount(np.asarray(train_ids), minlength=VOCAB).astype(np.float64) + 1.0
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(held_ids)].mean())


def train(args, train_ids, held_ids):
    torch.manual_seed(args.seed)
    model = DemoLlama()
    init_weights(model)  # on the CPU, so the initial weights do not depend on the device
    model.to(args.device)
    data = torch.tensor(train_ids, dtype=torch.long)
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    for step in range(args.steps):
        warm = max(1, args.steps // 10)
        lr = args.lr * min(1.0, (step + 1) / warm)
        if step >= warm:
            progress = (step - warm) / max(1, args.steps - warm)
            lr = args.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = lr
        # Long windows teach positions up to CONTEXT; short ones (when --short-batch is set, on
        # every step not divisible by --long-every) keep a 3 M-parameter model from memorizing
        # whole passages, which long windows alone let it do on a 1 MB corpus.
        long_step = args.short_batch == 0 or step % args.long_every == 0
        window = (CONTEXT if long_step else 256) - 1
        batch = args.batch if long_step else args.short_batch
        starts = torch.randint(0, len(data) - window - 1, (batch,), generator=gen)
        x = torch.stack([torch.cat([torch.tensor([BOS_ID]), data[s:s + window]]) for s in starts])
        y = torch.stack([data[s:s + window + 1] for s in starts])
        x, y = x.to(args.device), y.to(args.device)
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % args.log_every == 0 or step == args.steps - 1:
            msg = f"step {step:5d}/{args.steps}  loss {loss.item():.4f}  lr {lr:.2e}  " \
                  f"{time.time() - t0:7.1f} s"
            if step % (args.log_every * 5) == 0 or step == args.steps - 1:
                msg += f"  held-out {evaluate(model, held_ids[:20000]):.4f}"
            print(msg, flush=True)
    return model, time.time() - t0


def device_name(device):
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"cpu ({torch.get_num_threads()} threads)"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                     "shared", "data", "tinyshakespeare.txt"))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models",
                                                  "demo"))
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=4,
                    help="sequences of CONTEXT tokens on a long-window step (4 x 2048 = the 32 x 256 "
                         "tokens of a short-window step)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--device", default="cpu", help="torch device: cpu, or cuda where there is one")
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--short-batch", type=int, default=32,
                    help="sequences of 256 tokens on steps not divisible by --long-every (0: none)")
    ap.add_argument("--long-every", type=int, default=4)
    args = ap.parse_args()
    global DROPOUT
    DROPOUT = args.dropout
    # cuBLAS is deterministic only with a fixed workspace (must be set before CUDA starts).
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    torch.set_num_threads(args.threads)
    torch.use_deterministic_algorithms(True)
    with open(args.corpus, encoding="utf-8") as f:
        train_text, held_text = split_corpus(f.read())

    t0 = time.time()
    sp_model = train_tokenizer(train_text)
    sp = spm.SentencePieceProcessor(model_proto=sp_model)
    pieces = spm_pieces(sp)
    train_ids = sp.encode(train_text)
    held_ids = sp.encode(held_text)
    print(f"tokenizer: {len(pieces)} pieces in {time.time() - t0:.1f} s; train {len(train_ids)} "
          f"tokens ({len(train_text)} chars), held-out {len(held_ids)} tokens "
          f"({len(held_text)} chars)", flush=True)

    model, train_seconds = train(args, train_ids, held_ids)
    params = sum(p.numel() for p in model.parameters())
    loss_float = evaluate(model, held_ids)
    tensors = round_to_q8_0(hf_tensors(model))
    load_hf_tensors(model, tensors)
    loss_q8 = evaluate(model, held_ids)
    loss_q8_256 = evaluate(model, held_ids, context=256)
    baseline = unigram_loss(train_ids, held_ids)
    chars = len(held_text)
    report = {
        "model": MODEL_NAME, "parameters": params, "vocab": VOCAB, "dim": DIM, "layers": LAYERS,
        "heads": HEADS, "kv_heads": KV_HEADS, "ffn": FFN, "context": CONTEXT,
        "steps": args.steps, "batch": args.batch, "lr": args.lr, "seed": args.seed,
        "dropout": args.dropout, "short_batch": args.short_batch, "long_every": args.long_every,
        "threads": args.threads, "device": device_name(args.device),
        "train_seconds": round(train_seconds, 1),
        "train_tokens": len(train_ids), "held_out_tokens": len(held_ids),
        "held_out_chars": chars,
        "held_out_loss_float32": round(loss_float, 4),
        "held_out_loss_q8_0": round(loss_q8, 4),
        "held_out_perplexity_q8_0": round(math.exp(loss_q8), 3),
        "held_out_bits_per_char_q8_0": round(loss_q8 * len(held_ids) / chars / math.log(2), 4),
        "held_out_perplexity_q8_0_ctx256": round(math.exp(loss_q8_256), 3),
        "unigram_baseline_loss": round(baseline, 4),
        "unigram_baseline_perplexity": round(math.exp(baseline), 3),
    }
    print(json.dumps(report, indent=2), flush=True)

    hf_dir = os.path.join(args.out, "hf")
    os.makedirs(hf_dir, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB,
        "hidden_size": DIM, "intermediate_size": FFN, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HEAD_DIM,
        "max_position_embeddings": CONTEXT, "rms_norm_eps": NORM_EPS, "rope_theta": ROPE_THETA,
        "rope_scaling": None, "hidden_act": "silu", "tie_word_embeddings": True,
        "attention_bias": False, "mlp_bias": False, "bos_token_id": BOS_ID,
        "eos_token_id": EOS_ID, "torch_dtype": "float32", "_name_or_path": MODEL_NAME,
    }
    files = {
        "config.json": config,
        "generation_config.json": {"bos_token_id": BOS_ID, "eos_token_id": EOS_ID,
                                   "do_sample": True, "temperature": 0.8, "top_k": 40},
        "tokenizer.json": tokenizer_json(pieces),
        "tokenizer_config.json": tokenizer_config(),
    }
    for name, obj in files.items():
        with open(os.path.join(hf_dir, name), "w", encoding="utf-8") as f:
            json.dump(obj, f, ensure_ascii=False, indent=None if name == "tokenizer.json" else 2)
            f.write("\n")
    with open(os.path.join(hf_dir, "tokenizer.model"), "wb") as f:
        f.write(sp_model)  # the SentencePiece model itself (slow tokenizers, tests/demo)
    write_safetensors(os.path.join(hf_dir, "model.safetensors"), tensors)
    write_gguf(os.path.join(args.out, "shakespeare-q8_0.gguf"), tensors, pieces)
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    print(f"wrote {hf_dir} and {args.out}/shakespeare-q8_0.gguf", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
