#!/usr/bin/env python3
"""Known-answer test of streamgen's weight formats against the numpy reference gguf_quants.py.

usage: quant_kat.py QUANT_TOOL_PATH

1. Dequantization: random raw blocks (seeded; fp16/f32 scale fields replaced by sane finite
   values) are dequantized by quant_tool and by gguf_quants; the float32 results must be equal bit
   for bit (NaN only where both are NaN, for the float types whose raw bits are fully random).
2. Quantization: random floats of several distributions are quantized by quant_tool and
   dequantized by gguf_quants; every element must be within the round-trip bound derived from the
   format and the quantizer's scale choice (see bound_* below). f16 must equal numpy's float16
   cast bit for bit, bf16 a round-to-nearest-even bf16 truncation.
Prints one line per type and exits 1 on any failure.
"""

import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_quants  # noqa: E402

TYPES = ["f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q4_K", "q5_K", "q6_K",
         "q8_K"]

# Byte offsets of the fp16 scale fields of each block (f32 for q8_K).
F16_FIELDS = {
    "q4_0": [0], "q4_1": [0, 2], "q5_0": [0], "q5_1": [0, 2], "q8_0": [0],
    "q4_K": [0, 2], "q5_K": [0, 2], "q6_K": [208],
}

EPS_F16 = 2.0 ** -10     # relative step of the fp16 mantissa
TINY_F16 = 2.0 ** -24    # smallest fp16 subnormal


def run_tool(tool, mode, type_name, data):
    proc = subprocess.run([tool, mode, type_name], input=data, capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"quant_tool {mode} {type_name} failed: {proc.stderr.decode()}")
    return proc.stdout


def random_blocks(rng, type_name, nb):
    _, block_bytes = gguf_quants.block_info(type_name)
    raw = rng.integers(0, 256, size=(nb, block_bytes), dtype=np.uint8)
    if type_name == "q8_K":
        d = rng.uniform(-0.05, 0.05, size=nb).astype("<f4")
        raw[:, 0:4] = d.view(np.uint8).reshape(nb, 4)
    for off in F16_FIELDS.get(type_name, []):
        # Mostly normal magnitudes, some fp16 subnormals, some exact zeros.
        mag = np.exp(rng.uniform(np.log(1e-4), np.log(4.0), size=nb))
        sub = rng.random(nb) < 0.1
        mag[sub] = rng.uniform(0, 6e-5, size=int(sub.sum()))
        vals = (mag * rng.choice([-1.0, 1.0], size=nb)).astype("<f2")
        vals[rng.random(nb) < 0.05] = 0
        raw[:, off:off + 2] = vals.view(np.uint8).reshape(nb, 2)
    return raw.tobytes()


def check_dequant(tool, rng, type_name):
    block_elems, _ = gguf_quants.block_info(type_name)
    nb = 257 if block_elems > 1 else 4099
    raw = random_blocks(rng, type_name, nb)
    n = nb * block_elems
    ours = np.frombuffer(run_tool(tool, "dequant", type_name, raw), dtype="<f4")
    ref = gguf_quants.dequantize(type_name, raw, n)
    if ours.shape != ref.shape:
        return f"dequant size {ours.shape} != {ref.shape}"
    nan_ours, nan_ref = np.isnan(ours), np.isnan(ref)
    if not np.array_equal(nan_ours, nan_ref):
        return f"dequant NaN positions differ ({int((nan_ours != nan_ref).sum())} elements)"
    ok = nan_ours | (ours.view(np.uint32) == ref.view(np.uint32))
    if not ok.all():
        i = int(np.argmin(ok))
        return f"dequant element {i}: ours {ours[i]!r} != reference {ref[i]!r}"
    return None


def f16_up(v):
    """Upper bound of the quantizer's fp16 round-up of v >= 0."""
    return v * (1 + EPS_F16) + TINY_F16


def bound_legacy(type_name, x):
    """x: (nb, 32) float64 -> per-element bound (nb, 32)."""
    amax = np.abs(x).max(axis=1)
    lo, hi = x.min(axis=1), x.max(axis=1)
    if type_name == "q8_0":
        d = f16_up(amax / 127)
    elif type_name in ("q4_0", "q5_0"):
        d = f16_up(amax / (7.5 if type_name == "q4_0" else 15.5))
    else:  # q4_1 / q5_1: m = min rounded down, d = (max - m) / levels rounded up
        levels = 15 if type_name == "q4_1" else 31
        d = f16_up((hi - lo + np.abs(lo) * EPS_F16 + TINY_F16) / levels)
    return np.repeat((d / 2 + 1e-5 * amax)[:, None], x.shape[1], axis=1)


def bound_k(type_name, x):
    """x: (nb, 256) float64 -> per-element bound (nb, 256)."""
    amax = np.abs(x).max(axis=1)
    if type_name == "q8_K":
        b = amax / 127 / 2
        return np.repeat((b + 1e-5 * amax)[:, None], 256, axis=1)
    if type_name == "q6_K":
        s = np.abs(x.reshape(-1, 16, 16)).max(axis=2) / 31.5          # (nb, 16)
        d = f16_up(s.max(axis=1) / 127)
        b = (s + d[:, None]) / 2 + 1e-5 * amax[:, None]
        return np.repeat(b, 16, axis=1)
    levels = 15 if type_name == "q4_K" else 31
    xs = x.reshape(-1, 8, 32)
    off = np.maximum(0, -xs.min(axis=2))                               # (nb, 8)
    hi = xs.max(axis=2)
    dmin = f16_up(off.max(axis=1) / 63)
    need = np.maximum(0, (hi + off + dmin[:, None]) / levels)
    d = f16_up(need.max(axis=1) / 63)
    b = (need + d[:, None]) / 2 + 1e-5 * amax[:, None]
    return np.repeat(b, 32, axis=1)


def distributions(rng, n):
    yield "normal", rng.standard_normal(n)
    yield "uniform", rng.uniform(-1, 1, n)
    yield "laplace+outliers", np.where(rng.random(n) < 0.01, 30.0, 1.0) * rng.laplace(0, 0.02, n)
    yield "positive", rng.uniform(1, 2, n)
    yield "negative", -rng.uniform(0.5, 3, n)
    yield "tiny", 1e-3 * rng.standard_normal(n)
    zeros = rng.standard_normal(n)
    zeros[: n // 2] = 0.0
    zeros[n // 2: n // 2 + 512] = 0.25
    yield "zeros+constant", zeros


def bf16_rne(x32):
    bits = x32.view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return (rounded.astype(np.uint32) << 16).view(np.float32)


def check_quant(tool, rng, type_name):
    block_elems, block_bytes = gguf_quants.block_info(type_name)
    n = 256 * 64
    worst = 0.0
    for name, x in distributions(rng, n):
        x32 = x.astype(np.float32)
        raw = run_tool(tool, "quant", type_name, x32.tobytes())
        if len(raw) != n // block_elems * block_bytes:
            return f"{name}: quant output {len(raw)} bytes, expected {n // block_elems * block_bytes}"
        y = gguf_quants.dequantize(type_name, raw, n)
        if type_name in ("f32", "f16", "bf16"):
            expect = {"f32": x32, "f16": x32.astype(np.float16).astype(np.float32),
                      "bf16": bf16_rne(x32)}[type_name]
            if not np.array_equal(y.view(np.uint32), expect.view(np.uint32)):
                return f"{name}: float conversion differs from numpy"
            continue
        xb = x32.astype(np.float64).reshape(-1, block_elems)
        bound = (bound_legacy if block_elems == 32 else bound_k)(type_name, xb)
        err = np.abs(y.astype(np.float64).reshape(-1, block_elems) - xb)
        if not np.all(err <= bound):
            i = np.unravel_index(np.argmax(err - bound), err.shape)
            return (f"{name}: block {i[0]} element {i[1]}: x={xb[i]!r} y={y.reshape(err.shape)[i]!r}"
                    f" |err|={err[i]:.3g} > bound {bound[i]:.3g}")
        worst = max(worst, float((err / np.maximum(bound, 1e-30)).max()))
    return None if worst <= 1.0 else f"worst err/bound {worst}"


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    failures = 0
    for i, type_name in enumerate(TYPES):
        rng = np.random.default_rng(1234 + i)
        problems = [p for p in (check_dequant(tool, rng, type_name),
                                check_quant(tool, rng, type_name)) if p]
        status = "ok" if not problems else "FAIL: " + "; ".join(problems)
        print(f"{type_name:5s} dequant bit-exact + quant round-trip bound: {status}")
        failures += bool(problems)
    print(f"{len(TYPES) - failures}/{len(TYPES)} types passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
