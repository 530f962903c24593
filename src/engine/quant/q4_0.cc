// Q4_0: blocks of 32 four-bit codes with one fp16 scale; y = d * (q - 8).
// Quantizer: SymmetricScaleF16 (signed d, the larger side gets code -8); |err| <= |d|/2 with
// |d| <= amax / 7.5 (+ fp16 rounding up).
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {

void DequantizeRowQ4_0(const void* src, float* dst, int64_t n) {
  const BlockQ4_0* blocks = static_cast<const BlockQ4_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = F16ToF32(blocks[b].d);
    float* y = dst + b * kQK;
    for (int j = 0; j < kQK / 2; ++j) {
      const int x0 = (blocks[b].qs[j] & 0x0f) - 8;
      const int x1 = (blocks[b].qs[j] >> 4) - 8;
      y[j] = static_cast<float>(x0) * d;
      y[j + kQK / 2] = static_cast<float>(x1) * d;
    }
  }
}

void QuantizeRowQ4_0(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ4_0* blocks = static_cast<BlockQ4_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    blocks[b].d = quant_internal::SymmetricScaleF16(x, kQK, 8);
    const float d = F16ToF32(blocks[b].d);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) {
      codes[j] = static_cast<uint8_t>(d != 0.0f ? RoundClamp(x[j] / d, -8, 7) + 8 : 8);
    }
    for (int j = 0; j < kQK / 2; ++j) {
      blocks[b].qs[j] = static_cast<uint8_t>(codes[j] | (codes[j + kQK / 2] << 4));
    }
  }
}

float DotF32Q4_0(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQK, BlockQ4_0, DequantizeRowQ4_0>(row, x, n);
}

}  // namespace sg
