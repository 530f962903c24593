// F32, F16 and BF16 "blocks" of one element. Narrowing rounds to nearest even (engine/core/half.h);
// NaN stays NaN, overflow becomes inf, as numpy's float32 -> float16 cast does.
#include <cstring>

#include "engine/core/half.h"
#include "engine/quant/formats.h"

namespace sg {
namespace {

// Dot products of float rows accumulate in one float, in element order (the spec the SIMD
// kernels are compared to, with a K * eps * sum|a||b| tolerance).
template <float (*kLoad)(const uint8_t*)>
float DotFloatRow(const void* row, const float* x, int64_t n, int elem_bytes) {
  const uint8_t* p = static_cast<const uint8_t*>(row);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) sum += kLoad(p + i * elem_bytes) * x[i];
  return sum;
}

float LoadF32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, 4);
  return v;
}
float LoadF16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}
float LoadBf16(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return Bf16ToF32(h);
}

}  // namespace

void DequantizeRowF32(const void* src, float* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
void QuantizeRowF32(const float* src, void* dst, int64_t n) {
  std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}
float DotF32F32(const void* row, const float* x, int64_t n) {
  return DotFloatRow<LoadF32>(row, x, n, 4);
}

void DequantizeRowF16(const void* src, float* dst, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = LoadF16(p + 2 * i);
}
void QuantizeRowF16(const float* src, void* dst, int64_t n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = F32ToF16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}
float DotF32F16(const void* row, const float* x, int64_t n) {
  return DotFloatRow<LoadF16>(row, x, n, 2);
}

void DequantizeRowBF16(const void* src, float* dst, int64_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = LoadBf16(p + 2 * i);
}
void QuantizeRowBF16(const float* src, void* dst, int64_t n) {
  uint8_t* p = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = F32ToBf16(src[i]);
    std::memcpy(p + 2 * i, &h, 2);
  }
}
float DotF32BF16(const void* row, const float* x, int64_t n) {
  return DotFloatRow<LoadBf16>(row, x, n, 2);
}

}  // namespace sg
