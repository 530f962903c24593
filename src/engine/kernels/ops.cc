// Scalar implementations of the per-row ops. They are memory-light next to the matmuls (O(dim)
// per token vs O(dim^2)), so plain loops that the compiler may vectorize are enough; they are
// also the specification of any future SIMD versions.
#include "engine/kernels/ops.h"

#include <cmath>
#include <limits>

#include "engine/kernels/simd_dispatch.h"

namespace sg {

void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
             float* out) {
  if (dim <= 0) return;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = out + r * dim;
    // Double accumulation: the mean of squares is exact to float precision for any dim.
    double sum_sq = 0.0;
    for (int64_t i = 0; i < dim; ++i) sum_sq += static_cast<double>(xr[i]) * xr[i];
    const float scale =
        static_cast<float>(1.0 / std::sqrt(sum_sq / static_cast<double>(dim) + eps));
    for (int64_t i = 0; i < dim; ++i) yr[i] = xr[i] * scale * weight[i];
  }
}

void RopeCosSin(int64_t head_dim, int64_t pos, const float* inv_freq, float* cs) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    // The angle is rounded to float like Hugging Face's float32 outer(t, inv_freq); cos and sin
    // are then evaluated accurately (double) and rounded once.
    const float angle = static_cast<float>(pos) * inv_freq[i];
    cs[i] = static_cast<float>(std::cos(static_cast<double>(angle)));
    cs[half + i] = static_cast<float>(std::sin(static_cast<double>(angle)));
  }
}

void ApplyRopeCosSin(float* x, int64_t num_heads, int64_t head_dim, const float* cs,
                     RopeStyle style) {
  const int64_t half = head_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float c = cs[i], s = cs[half + i];
    // kHalves pairs (i, i + head_dim/2) (rotate_half); kInterleaved pairs (2i, 2i + 1).
    const int64_t i0 = style == RopeStyle::kHalves ? i : 2 * i;
    const int64_t i1 = style == RopeStyle::kHalves ? i + half : 2 * i + 1;
    for (int64_t h = 0; h < num_heads; ++h) {
      float* xh = x + h * head_dim;
      const float a = xh[i0], b = xh[i1];
      xh[i0] = a * c - b * s;
      xh[i1] = b * c + a * s;
    }
  }
}

void SiluMul(const float* gate, const float* up, float* out, int64_t n) {
  GetSimdKernels().silu_mul_f32(gate, up, out, n);
}

void Softmax(float* x, int64_t n) {
  if (n <= 0) return;
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  if (!std::isfinite(max)) {
    // Every entry -inf (fully masked) or a NaN/+inf present: there is no meaningful distribution.
    // Write zeros for the masked case rather than NaNs that would poison the next matmul.
    if (max == -std::numeric_limits<float>::infinity()) {
      for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
      return;
    }
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void AddInPlace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace sg
