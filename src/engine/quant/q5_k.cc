// Q5_K: as Q4_K with a fifth bit per code in qh (bit 2g of qh[l] for element 64g + l, bit 2g+1
// for element 64g + 32 + l); y = (d * sc_j) * q - dmin * m_j, q in [0, 31].
// Quantizer: ChooseKScales with 31 levels.
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/k_scales.h"

namespace sg {

void DequantizeRowQ5_K(const void* src, float* dst, int64_t n) {
  const BlockQ5_K* blocks = static_cast<const BlockQ5_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const BlockQ5_K& blk = blocks[b];
    const float d = F16ToF32(blk.d);
    const float dmin = F16ToF32(blk.dmin);
    float* y = dst + b * kQKK;
    for (int g = 0; g < 4; ++g) {
      const uint8_t* ql = blk.qs + 32 * g;
      const uint8_t u1 = static_cast<uint8_t>(1u << (2 * g));
      const uint8_t u2 = static_cast<uint8_t>(2u << (2 * g));
      uint8_t sc, m;
      quant_internal::GetScaleMinK4(2 * g, blk.scales, &sc, &m);
      const float d1 = d * static_cast<float>(sc);
      const float m1 = dmin * static_cast<float>(m);
      quant_internal::GetScaleMinK4(2 * g + 1, blk.scales, &sc, &m);
      const float d2 = d * static_cast<float>(sc);
      const float m2 = dmin * static_cast<float>(m);
      for (int l = 0; l < 32; ++l) {
        const int q = (ql[l] & 0x0f) + ((blk.qh[l] & u1) ? 16 : 0);
        y[64 * g + l] = d1 * static_cast<float>(q) - m1;
      }
      for (int l = 0; l < 32; ++l) {
        const int q = (ql[l] >> 4) + ((blk.qh[l] & u2) ? 16 : 0);
        y[64 * g + 32 + l] = d2 * static_cast<float>(q) - m2;
      }
    }
  }
}

void QuantizeRowQ5_K(const float* src, void* dst, int64_t n) {
  BlockQ5_K* blocks = static_cast<BlockQ5_K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float* x = src + b * kQKK;
    const quant_internal::KScaleChoice c = quant_internal::ChooseKScales(x, 31);
    BlockQ5_K& blk = blocks[b];
    blk.d = c.d;
    blk.dmin = c.dmin;
    quant_internal::PackScaleMinK4(c.sc, c.m, blk.scales);
    for (int l = 0; l < 32; ++l) blk.qh[l] = 0;
    for (int g = 0; g < 4; ++g) {
      for (int l = 0; l < 32; ++l) {
        const int lo = quant_internal::KCode(c, 2 * g, x[64 * g + l], 31);
        const int hi = quant_internal::KCode(c, 2 * g + 1, x[64 * g + 32 + l], 31);
        blk.qs[32 * g + l] = static_cast<uint8_t>((lo & 0x0f) | ((hi & 0x0f) << 4));
        blk.qh[l] |= static_cast<uint8_t>(((lo >> 4) << (2 * g)) | ((hi >> 4) << (2 * g + 1)));
      }
    }
  }
}

float DotF32Q5_K(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQKK, BlockQ5_K, DequantizeRowQ5_K>(row, x, n);
}

}  // namespace sg
