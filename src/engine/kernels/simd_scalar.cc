// The scalar twin of every SIMD kernel: plain C++ loops, the specification the Highway versions
// are tested against (and the "scalar" target STREAMGEN_ISA can force).
#include <cmath>
#include <cstddef>

#include "engine/core/half.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/blocks.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

// Sequential float accumulation: error <= n * eps * sum|a_i b_i| (the bound the tests use).
float DotF32Scalar(const float* a, const float* b, int64_t n) {
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

void Dot4F32Scalar(const float* w, int64_t w_stride, const float* x, int64_t n, float* out) {
  for (int r = 0; r < 4; ++r) out[r] = DotF32Scalar(w + r * w_stride, x, n);
}

void AxpyF32Scalar(float alpha, const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

void F16ToF32Scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = F16ToF32(src[i]);
}

void Bf16ToF32Scalar(const uint16_t* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = Bf16ToF32(src[i]);
}

void SiluMulF32Scalar(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

// The spec of attend_block_f32 (simd_dispatch.h): explicit fma so that FMA targets match it.
void AttendBlockF32Scalar(const float* q, int64_t rows, const int64_t* counts, const float* kt,
                          const float* v, int64_t v_stride, int64_t d, float scale, float* row_max,
                          float* row_sum, float* acc) {
  constexpr int64_t kSlots = kAttendBlockSlots;
  for (int64_t r = 0; r < rows; ++r) {
    const float* qr = q + r * d;
    float* a = acc + r * d;
    const int64_t n = counts[r];
    float s[kSlots], p[kSlots];
    for (int64_t j = 0; j < n; ++j) {
      float c[4] = {0.0f, 0.0f, 0.0f, 0.0f};
      for (int64_t e = 0; e < d; ++e) c[e % 4] = std::fma(qr[e], kt[e * kSlots + j], c[e % 4]);
      s[j] = ((c[0] + c[1]) + (c[2] + c[3])) * scale;
    }
    float block_max = -INFINITY;
    for (int64_t j = 0; j < n; ++j) block_max = std::fmax(block_max, s[j]);
    if (block_max > row_max[r]) {
      const float correction = std::exp(row_max[r] - block_max);
      if (row_sum[r] > 0.0f) {
        for (int64_t e = 0; e < d; ++e) a[e] *= correction;
      }
      row_sum[r] *= correction;
      row_max[r] = block_max;
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      p[j] = std::exp(s[j] - row_max[r]);
      sum += p[j];
    }
    row_sum[r] += sum;
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t e = 0; e < d; ++e) a[e] = std::fma(p[j], v[j * v_stride + e], a[e]);
    }
  }
}

// Scalar multiply-adds in 8 independent chains (the compiler may vectorize nothing here).
double FmaProbeScalar(int64_t iterations, float* sink) {
  float a[8] = {1.0f, 1.1f, 1.2f, 1.3f, 1.4f, 1.5f, 1.6f, 1.7f};
  for (int64_t i = 0; i < iterations; ++i) {
    for (float& v : a) v = v * 0.999999f + 1e-7f;
  }
  float sum = 0.0f;
  for (float v : a) sum += v;
  *sink = sum;
  return static_cast<double>(iterations) * 8.0 * 2.0;
}

// The q8_0 KV rows: the quant layer's own Q8_0 dequantizer (GGUF blocks), block by block.
void Q8_0ToF32Scalar(const void* src, float* dst, int64_t n) {
  GetQuantTraits(DType::kQ8_0)->dequantize_row(src, dst, n);
}

void Q8_0ToF32KtScalar(const void* src, int64_t stride, int64_t count, int64_t d, float* kt) {
  const QuantTraits* q8 = GetQuantTraits(DType::kQ8_0);
  const auto* bytes = static_cast<const std::byte*>(src);
  float block[kQK];
  for (int64_t j = 0; j < kAttendBlockSlots; ++j) {
    for (int64_t b = 0; b < d / kQK; ++b) {
      if (j < count) q8->dequantize_row(bytes + j * stride + b * sizeof(BlockQ8_0), block, kQK);
      for (int64_t i = 0; i < kQK; ++i) {
        kt[(b * kQK + i) * kAttendBlockSlots + j] = j < count ? block[i] : 0.0f;
      }
    }
  }
}

}  // namespace

const SimdKernels& ScalarSimdKernels() {
  static const SimdKernels kScalar = {
      &DotF32Scalar,         &Dot4F32Scalar,   &AxpyF32Scalar,          &F16ToF32Scalar,
      &Bf16ToF32Scalar,      &FmaProbeScalar,  ScalarQuantDotKernels(), &SiluMulF32Scalar,
      &AttendBlockF32Scalar, &Q8_0ToF32Scalar, &Q8_0ToF32KtScalar};
  return kScalar;
}

}  // namespace sg
