// Matrix products against stored weights of any supported type, and embedding lookup.
//
// Two kernel sets:
//  * fast (default): each call quantizes its input rows ONCE into the caller's scratch (Q8 blocks
//    for the 32-element formats, Q8_K for the K formats; quant_dot.h) and runs the integer dot
//    kernel of the weight type; F16/BF16 rows are widened in registers, F32 rows use FMA.
//  * reference: every quantized row is dequantized to float scratch and dotted in f32 (the
//    issue-2 path the PyTorch tests are written against). Chosen by STREAMGEN_MATMUL=reference or
//    SetMatMulKernels(kReference).
// The weight type is resolved once per call, never per element. Output rows are split over the
// pool; fused variants below share one input quantization and one pool round trip.
// Thread rules: called by the engine thread; the work is split on `pool`. The kernel-set switch
// is for tests and tools: change it only while no matmul runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "engine/core/tensor_view.h"
#include "engine/core/thread_pool.h"

namespace sg {

enum class MatMulKernels { kFast, kReference };
void SetMatMulKernels(MatMulKernels k);
MatMulKernels GetMatMulKernels();  // first call reads STREAMGEN_MATMUL ("reference" or "fast")

// Benchmarks: when on, the wall time of every MatMul* call (outermost only) is added to a counter,
// so a bench can report the share of a step spent outside the matrix products. Off by default
// (two clock reads per call when on). MatMulNanos is read by the thread that runs the matmuls.
void SetMatMulTiming(bool on);
uint64_t MatMulNanos();

// Bytes of input scratch any call below needs for num_tokens rows of at most max_cols inputs
// (room for two activation layouts at once: a fused call may mix 32-element and K formats).
int64_t MatMulScratchBytes(int64_t num_tokens, int64_t max_cols);

// y[t, o] (+)= sum_i w[o, i] * x[t, i] for t in [0, num_tokens).
// w: {out, in}, any type with QuantTraits; x: num_tokens x in (f32, row-major);
// y: num_tokens x out (f32, row-major). accumulate: add into y instead of overwriting it.
// scratch: at least MatMulScratchBytes(num_tokens, in) bytes; empty = a per-thread buffer that
// grows on first use (tests, tools).
void MatMul(const TensorView& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            std::span<std::byte> scratch = {}, bool accumulate = false);

// Several weights over the same input (q/k/v): y_j = x @ w_j^T, one quantization of x per
// activation layout and one split of all their rows over the pool.
struct MatMulOutput {
  const TensorView* w = nullptr;  // {out_j, in}
  float* y = nullptr;             // {num_tokens, out_j}
};
void MatMulMulti(std::span<const MatMulOutput> outs, const float* x, int64_t num_tokens,
                 ThreadPool& pool, std::span<std::byte> scratch = {});

// The SwiGLU input half of a feed-forward block: out[t, r] = silu(x@gate^T)[t, r] * (x@up^T)[t, r],
// computed row by row so each gate/up pair is combined while hot. gate, up: {inter, in} (any
// types); out: {num_tokens, inter}; up_scratch: num_tokens x inter floats the kernel may use.
void MatMulSwiGlu(const TensorView& gate, const TensorView& up, const float* x, int64_t num_tokens,
                  float* out, float* up_scratch, ThreadPool& pool,
                  std::span<std::byte> scratch = {});

// out[t, :] = w[ids[t], :] dequantized to f32. w: {rows, cols}; out: ids.size() x cols.
// ids must be in [0, rows) (callers validate token ids first).
void GetRows(const TensorView& w, std::span<const int32_t> ids, float* out);

// Dequantizes a 1-D (or any) tensor of f32/f16/bf16 into out (numel floats): norm weights, biases.
void ToFloat(const TensorView& t, float* out);

}  // namespace sg
