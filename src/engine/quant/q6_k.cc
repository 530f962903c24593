// Q6_K: super-blocks of 256 six-bit codes (low 4 bits in ql, high 2 bits in qh, see blocks.h) in
// 16 sub-blocks of 16 with int8 scales; y = (d * sc_j) * (q - 32).
// Quantizer: s_j = amax_j / 31.5 (so round(x / s_j) stays in [-32, 31] up to a clip of s_j / 2);
// d = max_j s_j / 127 rounded up to fp16; sc_j = ceil(s_j / d) in [0, 127]. Then
// |err| <= (d * sc_j) / 2 <= (s_j + d) / 2.
#include <cmath>

#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {
namespace {

constexpr int kSubBlocks = kQKK / 16;

}  // namespace

void DequantizeRowQ6_K(const void* src, float* dst, int64_t n) {
  const BlockQ6_K* blocks = static_cast<const BlockQ6_K*>(src);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const BlockQ6_K& blk = blocks[b];
    const float d = F16ToF32(blk.d);
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = blk.ql + 64 * h;
      const uint8_t* qh = blk.qh + 32 * h;
      const int8_t* sc = blk.scales + 8 * h;
      float* y = dst + b * kQKK + 128 * h;
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = ((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        // (d * sc) * q, in this order: the bit-exact spec shared with ggml and gguf_quants.py.
        y[l] = d * static_cast<float>(sc[is + 0]) * static_cast<float>(q1);
        y[l + 32] = d * static_cast<float>(sc[is + 2]) * static_cast<float>(q2);
        y[l + 64] = d * static_cast<float>(sc[is + 4]) * static_cast<float>(q3);
        y[l + 96] = d * static_cast<float>(sc[is + 6]) * static_cast<float>(q4);
      }
    }
  }
}

void QuantizeRowQ6_K(const float* src, void* dst, int64_t n) {
  using quant_internal::CeilClamp;
  using quant_internal::RoundClamp;
  BlockQ6_K* blocks = static_cast<BlockQ6_K*>(dst);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float* x = src + b * kQKK;
    BlockQ6_K& blk = blocks[b];
    float s[kSubBlocks];
    float max_s = 0.0f;
    for (int j = 0; j < kSubBlocks; ++j) {
      float amax = 0.0f;
      for (int l = 0; l < 16; ++l) amax = std::fmax(amax, std::fabs(x[16 * j + l]));
      s[j] = amax / 31.5f;
      max_s = std::fmax(max_s, s[j]);
    }
    blk.d = quant_internal::F16Up(max_s / 127.0f);
    const float d = F16ToF32(blk.d);
    uint8_t codes[kQKK];
    for (int j = 0; j < kSubBlocks; ++j) {
      const int sc = d > 0.0f ? CeilClamp(s[j] / d, 0, 127) : 0;
      blk.scales[j] = static_cast<int8_t>(sc);
      const float scale = d * static_cast<float>(sc);
      for (int l = 0; l < 16; ++l) {
        const int q = scale > 0.0f ? RoundClamp(x[16 * j + l] / scale, -32, 31) : 0;
        codes[16 * j + l] = static_cast<uint8_t>(q + 32);
      }
    }
    for (int h = 0; h < 2; ++h) {
      const uint8_t* c = codes + 128 * h;
      uint8_t* ql = blk.ql + 64 * h;
      uint8_t* qh = blk.qh + 32 * h;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((c[l] & 0x0f) | ((c[l + 64] & 0x0f) << 4));
        ql[l + 32] = static_cast<uint8_t>((c[l + 32] & 0x0f) | ((c[l + 96] & 0x0f) << 4));
        qh[l] = static_cast<uint8_t>((c[l] >> 4) | ((c[l + 32] >> 4) << 2) |
                                     ((c[l + 64] >> 4) << 4) | ((c[l + 96] >> 4) << 6));
      }
    }
  }
}

float DotF32Q6_K(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQKK, BlockQ6_K, DequantizeRowQ6_K>(row, x, n);
}

}  // namespace sg
