"""Minimal safetensors reader for the PyTorch reference (no `safetensors` package needed).

Format: u64 LE header length N | N bytes of JSON {name: {dtype, shape, data_offsets: [b, e]},
"__metadata__": {...}} | data; offsets are relative to the end of the header.
A Hugging Face folder holds model.safetensors, or shards listed in model.safetensors.index.json
({"weight_map": {tensor name: shard file}}).
"""

import json
import os
import struct

import numpy as np

_NP_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I32": "<i4", "I64": "<i8"}


class SafetensorsError(Exception):
    pass


def _decode(dtype, raw, shape, name):
    n = 1
    for d in shape:
        n *= d
    if dtype == "BF16":
        # bfloat16 is the top half of a float32: shift the bits into place.
        if len(raw) != 2 * n:
            raise SafetensorsError(f"tensor '{name}': {len(raw)} bytes for {n} BF16 values")
        bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
        return bits.view(np.float32).reshape(shape)
    if dtype not in _NP_DTYPES:
        raise SafetensorsError(f"tensor '{name}': unsupported dtype {dtype}")
    arr = np.frombuffer(raw, dtype=_NP_DTYPES[dtype])
    if arr.size != n:
        raise SafetensorsError(f"tensor '{name}': {arr.size} values, shape {shape}")
    return arr.reshape(shape)


def read_file(path):
    """Returns {name: (numpy array, dtype string)} for one .safetensors file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise SafetensorsError(f"{path}: too short")
    (hlen,) = struct.unpack("<Q", buf[:8])
    if 8 + hlen > len(buf):
        raise SafetensorsError(f"{path}: header length {hlen} past end of file")
    header = json.loads(buf[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if not (0 <= begin <= end and base + end <= len(buf)):
            raise SafetensorsError(f"{path}: tensor '{name}' offsets out of bounds")
        shape = tuple(info["shape"])
        out[name] = (_decode(info["dtype"], buf[base + begin:base + end], shape, name),
                     info["dtype"])
    return out


def read_folder(folder):
    """All tensors of a Hugging Face folder: model.safetensors or the sharded index."""
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.exists(single):
        return read_file(single)
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for shard in sorted(set(weight_map.values())):
            tensors.update(read_file(os.path.join(folder, shard)))
        missing = [n for n in weight_map if n not in tensors]
        if missing:
            raise SafetensorsError(f"{folder}: index lists tensors not in shards: {missing[:3]}")
        return tensors
    raise SafetensorsError(f"{folder}: no model.safetensors or model.safetensors.index.json")
