"""Independent numpy reference of the GGUF/ggml weight formats (dequantization only).

Written from the format definition (ggml-common.h block structs, ggml-quants.c dequantize_row_*),
not from streamgen's C++. Every float is computed with the same float32 operations in the same
order as ggml's scalar code, so results are bit-identical to a correct implementation:
  q4_0  y = f32(q - 8) * d              q4_1  y = f32(q) * d + m
  q5_0  y = f32(q - 16) * d             q5_1  y = f32(q) * d + m
  q8_0  y = f32(q) * d                  q8_K  y = d * f32(q)      (d is f32)
  q4_K/q5_K  y = (d * f32(sc)) * f32(q) - (dmin * f32(m))
  q6_K  y = (d * f32(sc)) * f32(q - 32)

API (used by the quant known-answer test and by the PyTorch model reference):
  block_info(type_name) -> (block_elems, block_bytes)
  dequantize(type_name, raw, n_elems) -> np.ndarray of float32, shape (n_elems,)
Type names are streamgen's DTypeName: f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q4_K q5_K q6_K q8_K.
"""

import numpy as np

QK = 32
QKK = 256

_BLOCK_INFO = {
    "f32": (1, 4),
    "f16": (1, 2),
    "bf16": (1, 2),
    "q4_0": (QK, 18),
    "q4_1": (QK, 20),
    "q5_0": (QK, 22),
    "q5_1": (QK, 24),
    "q8_0": (QK, 34),
    "q4_K": (QKK, 144),
    "q5_K": (QKK, 176),
    "q6_K": (QKK, 210),
    "q8_K": (QKK, 292),
}


def block_info(type_name):
    """(elements per block, bytes per block) of a type; KeyError for unknown names."""
    return _BLOCK_INFO[type_name]


def _f16(col):
    """uint8 array (..., 2) of little-endian fp16 bits -> float32 (exact widening)."""
    return np.ascontiguousarray(col).view("<f2")[..., 0].astype(np.float32)


def _nibbles32(qs):
    """qs (nb, 16) bytes -> (nb, 32) codes: element j low nibble of qs[j], j+16 high nibble."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int32)


def _qh_bits32(qh):
    """qh (nb, 4) bytes = little-endian u32 -> (nb, 32) bit j as 0/1."""
    word = np.ascontiguousarray(qh).view("<u4")[:, 0].astype(np.uint64)
    shifts = np.arange(32, dtype=np.uint64)
    return ((word[:, None] >> shifts[None, :]) & 1).astype(np.int32)


def _scale_min_k4(scales):
    """scales (nb, 12) -> (sc, m), each (nb, 8) int32 in [0, 63] (get_scale_min_k4)."""
    s = scales.astype(np.int32)
    sc = np.empty((s.shape[0], 8), dtype=np.int32)
    mn = np.empty((s.shape[0], 8), dtype=np.int32)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def _k_apply(d, dmin, sc, mn, q):
    """q (nb, 256) codes in sub-blocks of 32 -> float32 values of Q4_K/Q5_K."""
    d1 = d[:, None] * sc.astype(np.float32)        # (nb, 8), float32 products
    m1 = dmin[:, None] * mn.astype(np.float32)
    qf = q.astype(np.float32).reshape(-1, 8, 32)
    y = d1[:, :, None] * qf - m1[:, :, None]
    return y.reshape(-1, QKK)


def _k_low_high(qs):
    """qs (nb, 128) -> (nb, 256) 4-bit codes: group g: low nibbles of qs[32g:32g+32], then high."""
    q = qs.reshape(-1, 4, 32).astype(np.int32)
    return np.stack([q & 0x0F, q >> 4], axis=2).reshape(-1, QKK)


def _deq_blocks(type_name, b):
    """b: (nb, block_bytes) uint8 -> (nb, block_elems) float32."""
    if type_name == "q4_0":
        d = _f16(b[:, 0:2])
        q = _nibbles32(b[:, 2:18]) - 8
        return q.astype(np.float32) * d[:, None]
    if type_name == "q4_1":
        d, m = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        q = _nibbles32(b[:, 4:20])
        return q.astype(np.float32) * d[:, None] + m[:, None]
    if type_name == "q5_0":
        d = _f16(b[:, 0:2])
        q = (_nibbles32(b[:, 6:22]) | (_qh_bits32(b[:, 2:6]) << 4)) - 16
        return q.astype(np.float32) * d[:, None]
    if type_name == "q5_1":
        d, m = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        q = _nibbles32(b[:, 8:24]) | (_qh_bits32(b[:, 4:8]) << 4)
        return q.astype(np.float32) * d[:, None] + m[:, None]
    if type_name == "q8_0":
        d = _f16(b[:, 0:2])
        q = b[:, 2:34].view(np.int8)
        return q.astype(np.float32) * d[:, None]
    if type_name == "q8_K":
        d = np.ascontiguousarray(b[:, 0:4]).view("<f4")[:, 0].astype(np.float32)
        q = b[:, 4:260].view(np.int8)
        return d[:, None] * q.astype(np.float32)
    if type_name == "q4_K":
        d, dmin = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        sc, mn = _scale_min_k4(b[:, 4:16])
        return _k_apply(d, dmin, sc, mn, _k_low_high(b[:, 16:144]))
    if type_name == "q5_K":
        d, dmin = _f16(b[:, 0:2]), _f16(b[:, 2:4])
        sc, mn = _scale_min_k4(b[:, 4:16])
        qh = b[:, 16:48].astype(np.int32)               # (nb, 32)
        low = _k_low_high(b[:, 48:176]).reshape(-1, 8, 32)
        # Sub-block s (= 2g or 2g+1) takes its fifth bit from bit s of qh[l].
        high = np.stack([(qh >> s) & 1 for s in range(8)], axis=1)  # (nb, 8, 32)
        q = (low + high * 16).reshape(-1, QKK)
        return _k_apply(d, dmin, sc, mn, q)
    if type_name == "q6_K":
        ql = b[:, 0:128].astype(np.int32).reshape(-1, 2, 64)
        qh = b[:, 128:192].astype(np.int32).reshape(-1, 2, 32)
        sc = b[:, 192:208].view(np.int8).astype(np.float32)  # (nb, 16)
        d = _f16(b[:, 208:210])
        lo_a, lo_b = ql[:, :, 0:32], ql[:, :, 32:64]
        q = np.concatenate([
            (lo_a & 0x0F) | (((qh >> 0) & 3) << 4),
            (lo_b & 0x0F) | (((qh >> 2) & 3) << 4),
            (lo_a >> 4) | (((qh >> 4) & 3) << 4),
            (lo_b >> 4) | (((qh >> 6) & 3) << 4),
        ], axis=2).reshape(-1, QKK) - 32             # element order within each half of 128
        scale = d[:, None] * sc                        # (nb, 16): d * sc first, as ggml
        y = scale[:, :, None] * q.astype(np.float32).reshape(-1, 16, 16)
        return y.reshape(-1, QKK)
    raise KeyError(type_name)


def dequantize(type_name, raw, n_elems):
    """Dequantizes n_elems elements stored as type_name in raw (bytes-like) to float32."""
    block_elems, block_bytes = block_info(type_name)
    if n_elems % block_elems != 0:
        raise ValueError(f"{type_name}: {n_elems} elements is not a multiple of {block_elems}")
    nb = n_elems // block_elems
    data = np.frombuffer(raw, dtype=np.uint8, count=nb * block_bytes)
    if type_name == "f32":
        return data.view("<f4").astype(np.float32)
    if type_name == "f16":
        return data.view("<f2").astype(np.float32)
    if type_name == "bf16":
        return (data.view("<u2").astype(np.uint32) << 16).view(np.float32)
    with np.errstate(all="ignore"):
        y = _deq_blocks(type_name, data.reshape(nb, block_bytes))
    return np.ascontiguousarray(y, dtype=np.float32).reshape(n_elems)
