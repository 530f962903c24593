// The SIMD dispatch point: kernels are compiled for several instruction sets (Google Highway) and
// the table for the best one the CPU supports is picked once, at first use. STREAMGEN_ISA
// (e.g. "scalar", "avx2", "avx3"; case-insensitive, any name of CompiledSimdTargets()) forces a
// target so tests can cover every path on one host. An unknown name, or a target this CPU cannot
// run, falls back to the best target; SimdSelectionNote() says why.
// Thread rules: GetSimdKernels() may be called from any thread (the table is immutable once
// chosen). ForceSimdTarget() is for tests and benches: call it only while no kernel is running.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/status.h"
#include "engine/kernels/quant_dot.h"

namespace sg {

struct SimdKernels {
  // sum_i a[i] * b[i] over n floats.
  float (*dot_f32)(const float* a, const float* b, int64_t n);
  // out[r] = sum_i w[r * w_stride + i] * x[i] for r in [0, 4): four rows against one vector,
  // loading x once per four products (the matmul's register tile when tokens share a row block).
  void (*dot4_f32)(const float* w, int64_t w_stride, const float* x, int64_t n, float* out);
  // y[i] += alpha * x[i] over n floats.
  void (*axpy_f32)(float alpha, const float* x, float* y, int64_t n);
  // dst[i] = float(src[i]) over n IEEE binary16 values (bit patterns); exact.
  void (*f16_to_f32)(const uint16_t* src, float* dst, int64_t n);
  // dst[i] = float(src[i]) over n bfloat16 values (bit patterns); exact.
  void (*bf16_to_f32)(const uint16_t* src, float* dst, int64_t n);
  // Peak-throughput probe (benchmarks only): `iterations` rounds of 8 independent vector FMAs
  // on registers; returns the float operations executed (2 per lane per FMA) and writes a value
  // derived from the results to *sink so the work cannot be optimized away.
  double (*fma_probe)(int64_t iterations, float* sink);
  // Integer dot products of quantized rows and widened half rows (quant_dot.h).
  QuantDotKernels quant;
  // out[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i] over n floats (out may
  // alias gate or up). SIMD targets use a 1-ulp vector exp, so they are within a few ulps of the
  // twin (std::exp), not bit for bit; gate below -104 gives -0 * up as std::exp's overflow does.
  void (*silu_mul_f32)(const float* gate, const float* up, float* out, int64_t n);
  // One step of attention's online softmax over one KV block of kAttendBlockSlots (16) slots,
  // fused, for `rows` query rows (q, acc: rows x d floats, contiguous). K comes TRANSPOSED: kt is
  // d x 16 floats (row e holds element e of the 16 slots). Row r sees slots [0, counts[r]),
  // 1 <= counts[r] <= 16 (other slots of kt and v may hold anything, NaN included: never read
  // into a result). Per row, exactly as the twin orders it:
  //   c_m[j] = fma chain over e = m, m + 4, ... (e ascending) of q[e] * kt[e][j], m in [0, 4);
  //   s[j] = ((c_0 + c_1) + (c_2 + c_3)) * scale;  block_max = max_{j < n} s[j];
  //   if block_max > row_max: corr = std::exp(row_max - block_max); acc *= corr (if row_sum > 0);
  //     row_sum *= corr; row_max = block_max;
  //   p[j] = exp(s[j] - row_max); row_sum += sum_j p[j];
  //   acc[e] = fma(p[j], v[j * v_stride + e], acc[e]) for j ascending.
  // The scores, the max, the correction and the P.V update are bit for bit the twin's on targets
  // with a fused multiply-add; p[j] uses a vector exp (Highway's, within 2 ulps of
  // std::exp) and the sum of p is a tree (within 16 ulps of the twin's sequential sum).
  // A row's operations depend only on its own q, count and state, never on the other rows of the
  // call, so a row gives the same bits whatever tile it is batched in.
  void (*attend_block_f32)(const float* q, int64_t rows, const int64_t* counts, const float* kt,
                           const float* v, int64_t v_stride, int64_t d, float scale, float* row_max,
                           float* row_sum, float* acc);
  // The q8_0 KV cache widened for attention. A q8_0 head row of n elements is n / 32 GGUF Q8_0
  // blocks (a binary16 scale, then 32 int8 codes; 34 bytes). Every value is the exact product
  // float(code) * float(scale), so every target gives the twin's bits.
  //   q8_0_to_f32: dst[i] for one row of n elements (n a multiple of 32).
  //   q8_0_to_f32_kt: one block's K of one head TRANSPOSED, as attend_block_f32 reads it: slot j
  //   (j < count <= 16) has its row of d elements (d a multiple of 32) at src + j * stride bytes;
  //   kt[e * 16 + j] = its element e, and +0.0f for count <= j < 16. The bytes of all 16 slots
  //   must be readable (the rows past count are read, never used).
  void (*q8_0_to_f32)(const void* src, float* dst, int64_t n);
  void (*q8_0_to_f32_kt)(const void* src, int64_t stride, int64_t count, int64_t d, float* kt);
};

// Slots per block of attend_block_f32 (the KV pool's kKvBlockTokens).
inline constexpr int64_t kAttendBlockSlots = 16;

const SimdKernels& GetSimdKernels();
// Name of the selected target ("AVX3", "AVX2", "SSE4", "EMU128", "HWY_SCALAR", "scalar").
std::string SimdTargetName();

// Why the selected target was chosen: empty when it is the best one and nothing was asked, else
// e.g. "STREAMGEN_ISA=avx3 is not supported by this CPU; using AVX2".
std::string SimdSelectionNote();

// Targets that were compiled in AND that this CPU can run, best first, always ending with
// "scalar" (the plain C++ twin that is the spec of every SIMD kernel).
std::vector<std::string> CompiledSimdTargets();

// Makes GetSimdKernels() return the named target's table (case-insensitive; "best" restores the
// default choice). Error (and no change) if the name is unknown or the CPU cannot run it.
Status ForceSimdTarget(std::string_view name);

// The scalar twin, callable directly (tests compare every target against it).
const SimdKernels& ScalarSimdKernels();

}  // namespace sg
