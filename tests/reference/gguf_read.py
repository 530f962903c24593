"""Minimal GGUF (v2/v3) reader for the PyTorch reference: metadata + raw tensor bytes.

Written from the GGUF format description (llama.cpp docs/gguf.md), independent of streamgen's C++:
  header:  magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
  kv:      string key | u32 value_type | value           (string = u64 length + UTF-8 bytes)
  tensor:  string name | u32 n_dims | u64 ne[n_dims] (innermost first) | u32 ggml_type | u64 offset
  data:    starts at the header end rounded up to general.alignment (default 32); each tensor's
           offset is relative to that start.
Tensors are returned as raw bytes plus a type name and a shape OUTERMOST FIRST (numpy order), so a
Linear weight is (out, in). Dequantization lives in gguf_quants.dequantize (f32/f16/bf16 handled
here as a fallback so the reference works before that module exists).
"""

import struct

import numpy as np

# GGUF metadata value types -> struct format (scalars).
_SCALAR_FMT = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
               10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9

# ggml type id -> (name, elements per block, bytes per block).
GGML_TYPES = {
    0: ("f32", 1, 4), 1: ("f16", 1, 2), 2: ("q4_0", 32, 18), 3: ("q4_1", 32, 20),
    6: ("q5_0", 32, 22), 7: ("q5_1", 32, 24), 8: ("q8_0", 32, 34), 9: ("q8_1", 32, 36),
    10: ("q2_K", 256, 84), 11: ("q3_K", 256, 110), 12: ("q4_K", 256, 144), 13: ("q5_K", 256, 176),
    14: ("q6_K", 256, 210), 15: ("q8_K", 256, 292), 24: ("i8", 1, 1), 25: ("i16", 1, 2),
    26: ("i32", 1, 4), 27: ("i64", 1, 8), 28: ("f64", 1, 8), 30: ("bf16", 1, 2),
}


class GgufError(Exception):
    pass


class _Cursor:
    def __init__(self, buf):
        self.buf = buf
        self.pos = 0

    def take(self, n):
        if n < 0 or self.pos + n > len(self.buf):
            raise GgufError(f"truncated GGUF at byte {self.pos} (want {n} bytes)")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self):
        n = self.unpack("<Q")
        return bytes(self.take(n)).decode("utf-8", errors="replace")

    def value(self, vtype):
        if vtype in _SCALAR_FMT:
            return self.unpack(_SCALAR_FMT[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype = self.unpack("<I")
            count = self.unpack("<Q")
            if etype in _SCALAR_FMT:
                fmt = _SCALAR_FMT[etype]
                size = struct.calcsize(fmt)
                raw = self.take(size * count)
                return list(struct.unpack("<" + fmt[1] * count, raw))
            return [self.value(etype) for _ in range(count)]
        raise GgufError(f"unknown GGUF value type {vtype} at byte {self.pos}")


class GgufTensor:
    def __init__(self, name, type_name, shape, raw):
        self.name = name
        self.type_name = type_name  # "f32", "q4_K", ...
        self.shape = shape          # tuple, outermost first
        self.raw = raw              # bytes of the stored blocks

    @property
    def n_elems(self):
        n = 1
        for d in self.shape:
            n *= d
        return n


class GgufFile:
    def __init__(self, path):
        with open(path, "rb") as f:
            buf = f.read()
        cur = _Cursor(memoryview(buf))
        if bytes(cur.take(4)) != b"GGUF":
            raise GgufError(f"{path}: not a GGUF file (bad magic)")
        self.version = cur.unpack("<I")
        if self.version not in (2, 3):
            raise GgufError(f"{path}: unsupported GGUF version {self.version}")
        n_tensors = cur.unpack("<Q")
        n_kv = cur.unpack("<Q")
        self.metadata = {}
        for _ in range(n_kv):
            key = cur.string()
            vtype = cur.unpack("<I")
            self.metadata[key] = cur.value(vtype)
        infos = []
        for _ in range(n_tensors):
            name = cur.string()
            n_dims = cur.unpack("<I")
            ne = [cur.unpack("<Q") for _ in range(n_dims)]
            ttype = cur.unpack("<I")
            offset = cur.unpack("<Q")
            infos.append((name, ne, ttype, offset))
        self.alignment = int(self.metadata.get("general.alignment", 32))
        data_start = (cur.pos + self.alignment - 1) // self.alignment * self.alignment
        self.data_offset = data_start
        self.tensors = {}
        for name, ne, ttype, offset in infos:
            if ttype not in GGML_TYPES:
                raise GgufError(f"{path}: tensor '{name}' has unknown ggml type {ttype}")
            type_name, block_elems, block_bytes = GGML_TYPES[ttype]
            n = 1
            for d in ne:
                n *= d
            if ne and ne[0] % block_elems != 0:
                raise GgufError(f"{path}: tensor '{name}' row {ne[0]} not a multiple of "
                                f"{block_elems}")
            nbytes = n // block_elems * block_bytes
            begin = data_start + offset
            if begin + nbytes > len(buf):
                raise GgufError(f"{path}: tensor '{name}' data out of file bounds")
            self.tensors[name] = GgufTensor(name, type_name, tuple(reversed(ne)),
                                            buf[begin:begin + nbytes])

    def arch(self):
        return self.metadata.get("general.architecture")


def dequantize(tensor):
    """Returns the tensor as a float32 numpy array of tensor.shape."""
    t = tensor.type_name
    n = tensor.n_elems
    if t == "f32":
        out = np.frombuffer(tensor.raw, dtype="<f4", count=n).astype(np.float32)
    elif t == "f16":
        out = np.frombuffer(tensor.raw, dtype="<f2", count=n).astype(np.float32)
    elif t == "bf16":
        bits = np.frombuffer(tensor.raw, dtype="<u2", count=n).astype(np.uint32) << 16
        out = bits.view(np.float32)
    else:
        import gguf_quants  # written by the quant engineer; the block formats live there.
        out = np.asarray(gguf_quants.dequantize(t, bytes(tensor.raw), n), dtype=np.float32)
    if out.size != n:
        raise GgufError(f"tensor '{tensor.name}': dequantized {out.size} values, want {n}")
    return out.reshape(tensor.shape)
