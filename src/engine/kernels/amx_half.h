// F16 and BF16 weights through the AMX-BF16 tile unit (Intel Sapphire Rapids and later). F16
// takes it for matmuls of several tokens (matmul.cc: from kHalfAmxMinTokens on; fewer keep the
// f32 FMA kernels, whose results differ from these in the last bits); BF16 for every call (its
// weights need no split). Within this kernel a (row, token) result never depends on the other
// tokens of the call, their number or the token's place among them.
//
// The arithmetic. Every f16 weight w is split exactly into two bfloat16 values, w = wh + wl
// (wh = w rounded to 8 significant bits by Veltkamp's split, wl = w - wh, at most 4 significant
// bits, so exact in bfloat16). Every f32 activation x is split into xh = bf16(x) and
// xl = bf16(x - xh) (both to nearest even): xh + xl keeps 16 of x's 24 significant bits,
// |x - xh - xl| <= 2^-16 |x|. Per 32-element chunk of the row, in chunk order, the tile unit adds
// wh*xh, then wh*xl, then wl*xh into one f32 accumulator per (row, token) (TDPBF16PS: products of
// bfloat16 pairs, exact in f32, summed in f32, denormals flushed). The dropped wl*xl is at most
// about 2^-16 |w x|, so each product is within 2^-15 |w x| (worst case), against f16-rounded
// activations' 2^-11 in llama.cpp's F16 path.
//
// Why: the f32 FMA path peaks at 64 flop/cycle per core; TDPBF16PS does 1024, so three of them
// per product still leave 5x the FMA roof.
//
// Enabled with the int8 tile kernels (amx.h: the CPU, the OS and Linux's permission) where the
// CPU also has AMX-BF16, AVX512-BF16 and F16C. STREAMGEN_AMX=0 or STREAMGEN_AMX_F16=0 turn it
// off (then F16 and BF16 run the f32 FMA kernels, whose results differ in the last bits).
// Thread rules: any thread; each call loads and releases its own tile configuration and uses
// per-thread scratch.
#pragma once

#include <cstdint>

namespace sg {

// Whether HalfGemmAmx may run here.
bool AmxHalfUsable();

// Bytes PackHalfTiles writes for num_tokens activation rows of n floats: per tile of 16 tokens
// and per 32-element chunk, 2 KiB (the xh B tile, then the xl one: 16 rows of 64 bytes, row p
// holding each token's elements 2p and 2p + 1).
int64_t HalfTilesBytes(int64_t num_tokens, int64_t n);

// Packs token tiles [first_tile, end_tile) of x (num_tokens rows of n floats, x_stride floats
// apart) into `tiles` (64-byte aligned, HalfTilesBytes bytes); tokens past the last and
// elements past n are zeros.
void PackHalfTiles(const float* x, int64_t x_stride, int64_t num_tokens, int64_t n,
                   int64_t first_tile, int64_t end_tile, void* tiles);

// out[t * out_stride + r] (+)= row r . token t in the arithmetic above, for r < num_rows (row r
// of n f16 values at w + r * w_stride; bf16_weights: bfloat16 values, their own wh, two products
// per weight, wh*xh then wh*xl) and t < num_tokens (packed by PackHalfTiles); `accumulate`
// adds the dot product to out (one rounding) instead of storing it.
void HalfGemmAmx(const uint16_t* w, int64_t w_stride, int64_t num_rows, const void* tiles,
                 int64_t num_tokens, int64_t n, float* out, int64_t out_stride, bool accumulate,
                 bool bf16_weights = false);

// Peak-throughput probe (benchmarks only): `iterations` rounds of four independent TDPBF16PS on
// registers; returns the bfloat16 float operations executed (2 per multiply-add). Only where
// AmxHalfUsable().
double AmxHalfProbe(int64_t iterations);

}  // namespace sg
