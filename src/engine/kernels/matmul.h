// Matrix products against stored weights of any supported type, and embedding lookup.
// The weight type is resolved once per call (through quant traits / the SIMD dispatch table),
// never per element. Kernels write into caller-provided outputs and never allocate per call
// beyond a per-thread scratch sized on first use for the largest row.
// Thread rules: called by the engine thread; the work is split on `pool`.
#pragma once

#include <cstdint>
#include <span>

#include "engine/core/tensor_view.h"
#include "engine/core/thread_pool.h"

namespace sg {

// y[t, o] = sum_i w[o, i] * x[t, i] for t in [0, num_tokens).
// w: {out, in}, any type with QuantTraits; x: num_tokens x in (f32, row-major);
// y: num_tokens x out (f32, row-major). Accumulation is float, block by block.
void MatMul(const TensorView& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool);

// out[t, :] = w[ids[t], :] dequantized to f32. w: {rows, cols}; out: ids.size() x cols.
// ids must be in [0, rows) (callers validate token ids first).
void GetRows(const TensorView& w, std::span<const int32_t> ids, float* out);

// Dequantizes a 1-D (or any) tensor of f32/f16/bf16 into out (numel floats): norm weights, biases.
void ToFloat(const TensorView& t, float* out);

}  // namespace sg
