// Integer dot products of quantized weight rows with quantized activations, and F16/BF16 rows
// widened in registers. One table per SIMD target (SimdKernels::quant); the scalar twin
// (quant_dot_scalar.cc) is the SPEC and every SIMD kernel equals it bit for bit.
//
// Activations: a matmul quantizes each input row once, into the layout its weight type asks for
// (ActivationTypeFor): ActQ8Block for the 32-element formats, BlockQ8_K for the K formats.
//
// The arithmetic every kernel must reproduce exactly (so SIMD widths differ only in speed):
//  32-element formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0), block b, weight codes w_i (signed for
//  Q4_0/Q5_0/Q8_0: q - 8, q - 16, q; unsigned q for Q4_1/Q5_1), activation codes a_i:
//    p_l  = sum_{i = 4l .. 4l+3} w_i * a_i                  exact int, l in [0, 8)
//    s_b  = float(d_w) * d_a                                 one float multiply
//    acc[8 * (b & 1) + l] = fmaf(s_b, float(p_l), acc[...])  16 float lanes
//    for Q4_1/Q5_1: macc[b & 7] = fmaf(float(m_w) * d_a, float(sum_a), macc[b & 7])
//    result = Reduce16(acc) (+ Reduce8(macc))
//  K formats, super-block b (256 elements), exact int32 sums over the whole super-block:
//    Q4_K/Q5_K: isum = sum_j sc_j * sum_{i in sub j} q_i a_i; msum = sum_j m_j * bsum(j)
//               acc = fmaf(d_w * d_a, isum, acc); acc = fmaf(-(dmin_w * d_a), msum, acc)
//    Q6_K:      isum = sum_k sc_k * sum_{i in sub k} (q_i - 32) a_i; acc = fmaf(d_w * d_a, isum,
//    acc)
//  Reduce8(v) = ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7)) and
//  Reduce16(v) = Reduce8(v_i + v_{i+8}): the order of a 256-bit horizontal sum.
//  No step can overflow: |p_l| <= 4 * 128 * 127; the K sums stay below 2^28.
//  8-row tiles (WeightLayout::kRows8, engine/quant/rows8.h; Q4_0, Q5_0, Q8_0), for each row r of
//  the group and block column b, with the row's codes w_i and scale d_w:
//    isum = sum_{i < 32} w_i * a_i                          exact int
//    s    = float(d_w) * d_a                                 one float multiply
//    acc[b & 1][r] = fmaf(s, float(isum), acc[b & 1][r])
//    out[r] = acc[0][r] + acc[1][r]
//  One SIMD lane per row, so no horizontal float sum; this rounds differently from the one-row
//  spec, so a packed model and one run on the file mapping (--no-repack) differ in the last bits.
//  Q4_K and Q6_K tiles follow the K spec above row by row (one accumulator per row, the FMAs per
//  super-block), so they equal the one-row kernel bit for bit.
//
// Thread rules: pure functions of their inputs; call from any thread.
#pragma once

#include <cstdint>

#include "engine/core/dtype.h"

namespace sg {

inline constexpr int kActBlockElems = 32;

// One block of a quantized activation row for the 32-element weight formats:
// value_i = d * qs[i], qs in [-127, 127], sum = sum of qs (for the Q4_1/Q5_1 minimum term).
struct ActQ8Block {
  float d;
  int32_t sum;
  int8_t qs[kActBlockElems];
};
static_assert(sizeof(ActQ8Block) == 40);

// float dot of one stored weight row of n elements with an activation row in its layout.
using QuantDotFn = float (*)(const void* w_row, const void* act, int64_t n);
// F16 or BF16 weight row (bit patterns) with an f32 vector, n elements; widened in registers.
using HalfDotFn = float (*)(const uint16_t* w_row, const float* x, int64_t n);

// Several F16 or BF16 rows against several f32 token rows (prefill chunks, batched decode):
// out[t * out_stride + r] (+)= the same table's HalfDotFn on row r (at w + r * w_stride elements)
// and token t (at x + t * x_stride floats), bit for bit, for r < num_rows, t < num_tokens;
// `accumulate` adds to out instead of storing. SIMD targets widen each weight vector once for
// several tokens.
using HalfGemmFn = void (*)(const uint16_t* w, int64_t w_stride, int64_t num_rows, const float* x,
                            int64_t x_stride, int64_t num_tokens, int64_t n, float* out,
                            int64_t out_stride, bool accumulate);

// Four consecutive rows (w, w + row_bytes, ...) with one activation row: out[k] equals the
// one-row kernel on row k bit for bit. The rows are streamed together (4 weight streams per
// core reach more of DRAM's bandwidth than one) and each activation block is loaded once.
using QuantDot4Fn = void (*)(const void* w, int64_t row_bytes, const void* act, int64_t n,
                             float* out);

// One group of 8 rows in the kRows8 layout (8 * row_bytes bytes) with one activation row:
// out[r] for the group's rows r = 0..7 (the 8-row tile spec above).
using QuantDot8Fn = void (*)(const void* group, const void* act, int64_t n, float* out);

// One kRows8 group against several token rows (prefill chunks, batched decode):
// out[t * out_stride + r] = the group kernel's out[r] for the activation row at
// act + t * act_stride bytes, bit for bit, for t in [0, num_tokens). SIMD targets unpack each tile
// once for several tokens.
using QuantGemm8Fn = void (*)(const void* group, const void* act, int64_t act_stride,
                              int64_t num_tokens, int64_t n, float* out, int64_t out_stride);

// The token side of the AMX strip kernels (amx.h): activation rows packed into tiles of 16
// tokens; tile i (tokens 16 i .. 16 i + 15) starts Tiles16Bytes(act, 16 i, n) bytes in, zeros past
// the last token. act kQ8_0 (ActQ8Block rows): per block b, 512 bytes (row t = token t's 32
// codes), then per block 16 floats (token t's d). act kQ8_K (BlockQ8_K rows): amx_gemm_k-inl.h.
int64_t Tiles16Bytes(DType act, int64_t num_tokens, int64_t n);

// Packs tiles [first_tile, end_tile) of num_tokens activation rows (act + t * act_stride bytes)
// into `tiles` (64-byte aligned, the layout above).
using PackTiles16Fn = void (*)(const void* act, int64_t act_stride, int64_t num_tokens, int64_t n,
                               int64_t first_tile, int64_t end_tile, void* tiles);

// num_strips strips of two consecutive kRows8 groups (16 rows; group g at strips + g *
// group_bytes, strip j = groups 2j, 2j + 1) against num_tokens tokens packed by PackTiles16Fn,
// through the AMX tile unit (amx.h): out[t * out_stride + 16 j + r] (+)= the group kernel's output
// of row r of strip j (r < 8 from its first group, r - 8 from its second) for token t's
// activation row, bit for bit (the tile sums are the exact integer block sums, the float steps
// the 8-row spec's); `accumulate` adds. Only on targets whose CPU and OS allow AMX; null elsewhere.
using QuantGemm16Fn = void (*)(const void* strips, int64_t group_bytes, int64_t num_strips,
                               const void* tiles, int64_t num_tokens, int64_t n, float* out,
                               int64_t out_stride, bool accumulate);

// n floats (n a multiple of the layout's block) into one activation row of a layout.
using ActQuantizeFn = void (*)(const float* x, void* out, int64_t n);

// The 8 integer formats, in the order of QuantDotKernels' members.
inline constexpr int kNumQuantDotTypes = 8;

struct QuantDotKernels {
  QuantDotFn q4_0, q4_1, q5_0, q5_1, q8_0, q4_k, q5_k, q6_k;
  HalfDotFn f16, bf16;
  HalfGemmFn f16_gemm, bf16_gemm;         // their several-token forms
  QuantDot4Fn rows4[kNumQuantDotTypes];   // q4_0 ... q6_k as above
  QuantDot8Fn rows8[kNumQuantDotTypes];   // kRows8 groups; null where the format has no layout
  QuantGemm8Fn gemm8[kNumQuantDotTypes];  // the same groups against several tokens
  // The activation quantizers (QuantizeActivationRow's two layouts), equal to the twin bit for bit.
  ActQuantizeFn quantize_q8, quantize_q8_k;
  QuantGemm16Fn gemm16[kNumQuantDotTypes] = {};  // AMX 16-row strips; null without AMX
  PackTiles16Fn pack_tiles16 = nullptr;          // their token side (Q8_0 rows); null without AMX
  PackTiles16Fn pack_tiles16_k = nullptr;        // the same for Q8_K rows
  // F16 weights run HalfGemmAmx (amx_half.h) for any number of tokens: on the AVX3_DL target
  // where AmxHalfUsable(), so forcing another target (STREAMGEN_ISA) also turns it off.
  bool half_amx = false;
  // Peak-throughput probe of the integer products (benchmarks only): `iterations` rounds of
  // register-only int8 multiply-add chains with the target's widest instruction (AMX TDPBSSD
  // where the strip kernels use the tile unit, else 512-bit VPDPBUSD, else 256-bit
  // VPMADDUBSW/VPMADDWD); returns the int8 operations executed (2 per multiply-add). Null on
  // targets without integer kernels of their own. int8_probe_name says which instruction.
  double (*int8_probe)(int64_t iterations) = nullptr;
  const char* int8_probe_name = "";
};

// The scalar twin's table (the spec).
const QuantDotKernels& ScalarQuantDotKernels();

// The integer kernel of a weight type in `k`, or nullptr for float types (and types without one).
QuantDotFn QuantDotFor(const QuantDotKernels& k, DType weight);
// The four-row form of the same kernel, or nullptr.
QuantDot4Fn QuantDot4For(const QuantDotKernels& k, DType weight);
// The kRows8 group kernel of a weight type, or nullptr.
QuantDot8Fn QuantDot8For(const QuantDotKernels& k, DType weight);
// Its several-token form, or nullptr.
QuantGemm8Fn QuantGemm8For(const QuantDotKernels& k, DType weight);

// The AMX 16-row form of a kRows8 format, or nullptr.
QuantGemm16Fn QuantGemm16For(const QuantDotKernels& k, DType weight);

// Activation layout of a weight type: kQ8_0 (ActQ8Block rows) for the 32-element formats, kQ8_K
// (BlockQ8_K rows) for the K formats, kF32 for float weights (no quantization).
DType ActivationTypeFor(DType weight);

// Bytes of one activation row of n elements in layout `act` (kF32: 4 n).
int64_t ActivationRowBytes(DType act, int64_t n);

// Quantizes n floats (n a multiple of 32) into n/32 ActQ8Blocks: d = amax / 127 (f32),
// q = x * (127 / amax) rounded to nearest (ties to even) and clamped to [-127, 127] (NaN: -127);
// all zeros when amax is 0.
void QuantizeActQ8(const float* x, ActQ8Block* out, int64_t n);

// Quantizes one activation row into layout `act` (n a multiple of the layout's block; kF32 copies).
void QuantizeActivationRow(DType act, const float* x, void* out, int64_t n);

}  // namespace sg
