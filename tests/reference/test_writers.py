"""Tiny GGUF and safetensors writers, used only by the reference's self-test (selftest.py).

They let the reference be checked before (and independently of) streamgen's make_test_model:
the same random model is written as an HF folder and as a llama.cpp-style GGUF (q/k permuted for
arch llama, rope_freqs for llama3 scaling), and the reference must give the same logits on both.
"""

import json
import struct

import numpy as np

# GGUF value types used here.
_U32, _I32, _F32, _BOOL, _STRING, _ARRAY = 4, 5, 6, 7, 8, 9
_GGML = {"f32": (0, "<f4"), "f16": (1, "<f2"), "bf16": (30, None)}


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(v):
    if isinstance(v, bool):
        return struct.pack("<I?", _BOOL, v)
    if isinstance(v, int):
        return struct.pack("<Ii", _I32, v) if v < 0 else struct.pack("<II", _U32, v)
    if isinstance(v, float):
        return struct.pack("<If", _F32, v)
    if isinstance(v, str):
        return struct.pack("<I", _STRING) + _str(v)
    if isinstance(v, list):  # arrays of strings only (enough for tokenizer-like keys)
        return struct.pack("<IIQ", _ARRAY, _STRING, len(v)) + b"".join(_str(s) for s in v)
    raise TypeError(type(v))


def bf16_bytes(a):
    """Round-to-nearest-even float32 -> bfloat16 bits."""
    bits = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return rounded.astype("<u2").tobytes()


def write_gguf(path, metadata, tensors, type_name="f32", alignment=32):
    """tensors: {name: float32 array, shape outermost first}; 1-D tensors are always f32."""
    infos, blobs, offset = [], [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        t = type_name if arr.ndim > 1 else "f32"
        ggml_id, np_type = _GGML[t]
        raw = bf16_bytes(arr) if t == "bf16" else arr.astype(np_type).tobytes()
        ne = list(reversed(arr.shape))
        infos.append(_str(name) + struct.pack("<I", len(ne)) +
                     b"".join(struct.pack("<Q", d) for d in ne) +
                     struct.pack("<IQ", ggml_id, offset))
        pad = (-len(raw)) % alignment
        blobs.append(raw + b"\0" * pad)
        offset += len(raw) + pad
    meta = dict(metadata)
    meta["general.alignment"] = alignment
    head = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(meta))
    head += b"".join(_str(k) + _value(v) for k, v in meta.items())
    head += b"".join(infos)
    head += b"\0" * ((-len(head)) % alignment)
    with open(path, "wb") as f:
        f.write(head)
        for b in blobs:
            f.write(b)


def write_safetensors(path, tensors, dtype="F32"):
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr, dtype=np.float32)
        d = dtype if arr.ndim > 1 else "F32"
        raw = {"F32": lambda a: a.astype("<f4").tobytes(),
               "F16": lambda a: a.astype("<f2").tobytes(), "BF16": bf16_bytes}[d](arr)
        header[name] = {"dtype": d, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = {"format": "pt"}
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for b in blobs:
            f.write(b)


def permute_llama_qk(w, n_head):
    """llama.cpp convert_hf_to_gguf's permute: reshape(n_head, 2, D/2, in).swapaxes(1, 2)."""
    rows = w.shape[0]
    return (w.reshape(n_head, 2, rows // n_head // 2, *w.shape[1:]).swapaxes(1, 2)
            .reshape(w.shape))
