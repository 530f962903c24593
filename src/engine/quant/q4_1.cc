// Q4_1: blocks of 32 four-bit codes with fp16 scale and minimum; y = d * q + m.
// Quantizer: MinScaleF16 (m = min rounded down, d = (max - m) / 15 rounded up); |err| <= d/2.
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {

void DequantizeRowQ4_1(const void* src, float* dst, int64_t n) {
  const BlockQ4_1* blocks = static_cast<const BlockQ4_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = F16ToF32(blocks[b].d);
    const float m = F16ToF32(blocks[b].m);
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = blocks[b].qs[j] & 0x0f;
      const int x1 = blocks[b].qs[j] >> 4;
      y[j] = static_cast<float>(x0) * d + m;
      y[j + kQK / 2] = static_cast<float>(x1) * d + m;
    }
  }
}

void QuantizeRowQ4_1(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ4_1* blocks = static_cast<BlockQ4_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    quant_internal::MinScaleF16(x, kQK, 15, &blocks[b].d, &blocks[b].m);
    const float d = F16ToF32(blocks[b].d);
    const float m = F16ToF32(blocks[b].m);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) {
      codes[j] = static_cast<uint8_t>(d > 0.0f ? RoundClamp((x[j] - m) / d, 0, 15) : 0);
    }
    for (int j = 0; j < kQK / 2; ++j) {
      blocks[b].qs[j] = static_cast<uint8_t>(codes[j] | (codes[j + kQK / 2] << 4));
    }
  }
}

float DotF32Q4_1(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQK, BlockQ4_1, DequantizeRowQ4_1>(row, x, n);
}

}  // namespace sg
