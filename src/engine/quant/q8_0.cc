// Q8_0: blocks of 32 int8 codes with one fp16 scale; y = d * q.
// Quantizer: d = amax / 127 rounded up to fp16, q = round(x / d) in [-127, 127]; |err| <= d/2.
#include <cmath>

#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {

void DequantizeRowQ8_0(const void* src, float* dst, int64_t n) {
  const BlockQ8_0* blocks = static_cast<const BlockQ8_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = F16ToF32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) dst[b * kQK + j] = static_cast<float>(blocks[b].qs[j]) * d;
  }
}

void QuantizeRowQ8_0(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ8_0* blocks = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    float amax = 0.0f;
    for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    blocks[b].d = quant_internal::F16Up(amax / 127.0f);
    const float d = F16ToF32(blocks[b].d);
    for (int j = 0; j < kQK; ++j) {
      blocks[b].qs[j] = static_cast<int8_t>(d > 0.0f ? RoundClamp(x[j] / d, -127, 127) : 0);
    }
  }
}

float DotF32Q8_0(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQK, BlockQ8_0, DequantizeRowQ8_0>(row, x, n);
}

}  // namespace sg
