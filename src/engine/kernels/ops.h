// Element-wise and per-row operations of the transformer block. All f32, in place where noted.
// Every function here has a scalar implementation that is its specification.
#pragma once

#include <cstdint>

#include "engine/model/model_config.h"

namespace sg {

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]^2) + eps) * weight[:]; x, out: rows x dim (may alias).
void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps, float* out);

// RoPE in two steps. One position's rotation table (head_dim floats): cs[i] = cos(angle_i), cs[half
// + i] = sin(angle_i), half = head_dim / 2. Computed once per token of a step and shared by q, k
// and every layer (the cos/sin are the expensive part of RoPE).
void RopeCosSin(int64_t head_dim, int64_t pos, const float* inv_freq, float* cs);

// Rotates one token's heads in place with its position's table: x is num_heads x head_dim,
// angle_i = pos * inv_freq[i] (inv_freq: head_dim/2 entries); style selects which dimensions form
// a pair.
void ApplyRopeCosSin(float* x, int64_t num_heads, int64_t head_dim, const float* cs,
                     RopeStyle style);

// out[i] = silu(gate[i]) * up[i]; silu(g) = g / (1 + exp(-g)). out may alias gate. Runs the
// selected SIMD target's kernel (SimdKernels::silu_mul_f32: a vector exp, within a few ulps).
void SiluMul(const float* gate, const float* up, float* out, int64_t n);

// In-place numerically stable softmax over n values.
void Softmax(float* x, int64_t n);

// y[i] += x[i]
void AddInPlace(float* y, const float* x, int64_t n);

}  // namespace sg
