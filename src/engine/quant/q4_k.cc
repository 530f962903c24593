// Q4_K: super-blocks of 256 four-bit codes in 8 sub-blocks of 32, each with a 6-bit scale and
// min (k_scales.h); y = (d * sc_j) * q - dmin * m_j. Quantizer: ChooseKScales with 15 levels.
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/k_scales.h"

namespace sg {

void DequantizeRowQ4_K(const void* src, float* dst, int64_t n) {
  const BlockQ4_K* blocks = static_cast<const BlockQ4_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const BlockQ4_K& blk = blocks[b];
    const float d = F16ToF32(blk.d);
    const float dmin = F16ToF32(blk.dmin);
    float* y = dst + b * kQKK;
    // Group g of 64 elements: sub-block 2g = low nibbles of qs[32g..), 2g+1 = high nibbles.
    for (int g = 0; g < 4; ++g) {
      const uint8_t* q = blk.qs + 32 * g;
      uint8_t sc, m;
      quant_internal::GetScaleMinK4(2 * g, blk.scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(m);
      quant_internal::GetScaleMinK4(2 * g + 1, blk.scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) y[64 * g + l] = d1 * static_cast<float>(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) y[64 * g + 32 + l] = d2 * static_cast<float>(q[l] >> 4) - m2;
    }
  }
}

void QuantizeRowQ4_K(const float* src, void* dst, int64_t n) {
  BlockQ4_K* blocks = static_cast<BlockQ4_K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float* x = src + b * kQKK;
    const quant_internal::KScaleChoice c = quant_internal::ChooseKScales(x, 15);
    BlockQ4_K& blk = blocks[b];
    blk.d = c.d;
    blk.dmin = c.dmin;
    quant_internal::PackScaleMinK4(c.sc, c.m, blk.scales);
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) {
        const int lo = quant_internal::KCode(c, 2 * g, x[64 * g + l], 15);
        const int hi = quant_internal::KCode(c, 2 * g + 1, x[64 * g + 32 + l], 15);
        blk.qs[32 * g + l] = static_cast<uint8_t>(lo | (hi << 4));
      }
    }
  }
}

float DotF32Q4_K(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQKK, BlockQ4_K, DequantizeRowQ4_K>(row, x, n);
}

}  // namespace sg
