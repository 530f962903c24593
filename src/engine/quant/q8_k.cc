// Q8_K: the activation format of K-quant integer dot products. 256 int8 codes with an f32 scale
// and per-16 code sums (bsums, used by kernels to apply the K-quant mins in one multiply).
// Quantizer: d = amax / 127 (f32, not rounded), q = round(x / d) in [-127, 127]; |err| <= d/2.
#include <cmath>

#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {

void DequantizeRowQ8_K(const void* src, float* dst, int64_t n) {
  const BlockQ8_K* blocks = static_cast<const BlockQ8_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float d = blocks[b].d;
    for (int j = 0; j < kQKK; ++j) dst[b * kQKK + j] = d * static_cast<float>(blocks[b].qs[j]);
  }
}

void QuantizeRowQ8_K(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ8_K* blocks = static_cast<BlockQ8_K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float* x = src + b * kQKK;
    BlockQ8_K& blk = blocks[b];
    blk.d = quant_internal::AbsMax(x, kQKK) / 127.0f;
    for (int j = 0; j < kQKK; ++j) {
      blk.qs[j] = static_cast<int8_t>(blk.d > 0.0f ? RoundClamp(x[j] / blk.d, -127, 127) : 0);
    }
    for (int k = 0; k < kQKK / 16; ++k) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += blk.qs[16 * k + l];
      blk.bsums[k] = static_cast<int16_t>(sum);  // |sum| <= 16 * 127 fits int16
    }
  }
}

float DotF32Q8_K(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQKK, BlockQ8_K, DequantizeRowQ8_K>(row, x, n);
}

}  // namespace sg
