// Q5_0 (y = d * (q - 16)) and Q5_1 (y = d * q + m): blocks of 32 five-bit codes; the low 4 bits
// are packed as in Q4_0, bit 4 of element j is bit j of the little-endian u32 qh.
// Quantizers: as Q4_0 / Q4_1 with 16 / 31 levels; |err| <= |d|/2.
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/quant_common.h"

namespace sg {
namespace {

using quant_internal::LoadU32;
using quant_internal::StoreU32;

// Five-bit code of element j (j < 32) of a block.
inline int Code5(const uint8_t* qs, uint32_t qh, int j) {
  const int low = j < kQK / 2 ? (qs[j] & 0x0f) : (qs[j - kQK / 2] >> 4);
  return low | static_cast<int>(((qh >> j) & 1u) << 4);
}

void PackCodes5(const uint8_t* codes, uint8_t* qs, uint8_t* qh_bytes) {
  uint32_t qh = 0;
  for (int j = 0; j < kQK; ++j) qh |= static_cast<uint32_t>(codes[j] >> 4) << j;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((codes[j] & 0x0f) | ((codes[j + kQK / 2] & 0x0f) << 4));
  }
  StoreU32(qh_bytes, qh);
}

}  // namespace

void DequantizeRowQ5_0(const void* src, float* dst, int64_t n) {
  const BlockQ5_0* blocks = static_cast<const BlockQ5_0*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = F16ToF32(blocks[b].d);
    const uint32_t qh = LoadU32(blocks[b].qh);
    for (int j = 0; j < kQK; ++j) {
      dst[b * kQK + j] = static_cast<float>(Code5(blocks[b].qs, qh, j) - 16) * d;
    }
  }
}

void QuantizeRowQ5_0(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ5_0* blocks = static_cast<BlockQ5_0*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    blocks[b].d = quant_internal::SymmetricScaleF16(x, kQK, 16);
    const float d = F16ToF32(blocks[b].d);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) {
      codes[j] = static_cast<uint8_t>(d != 0.0f ? RoundClamp(x[j] / d, -16, 15) + 16 : 16);
    }
    PackCodes5(codes, blocks[b].qs, blocks[b].qh);
  }
}

float DotF32Q5_0(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQK, BlockQ5_0, DequantizeRowQ5_0>(row, x, n);
}

void DequantizeRowQ5_1(const void* src, float* dst, int64_t n) {
  const BlockQ5_1* blocks = static_cast<const BlockQ5_1*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float d = F16ToF32(blocks[b].d);
    const float m = F16ToF32(blocks[b].m);
    const uint32_t qh = LoadU32(blocks[b].qh);
    for (int j = 0; j < kQK; ++j) {
      dst[b * kQK + j] = static_cast<float>(Code5(blocks[b].qs, qh, j)) * d + m;
    }
  }
}

void QuantizeRowQ5_1(const float* src, void* dst, int64_t n) {
  using quant_internal::RoundClamp;
  BlockQ5_1* blocks = static_cast<BlockQ5_1*>(dst);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const float* x = src + b * kQK;
    quant_internal::MinScaleF16(x, kQK, 31, &blocks[b].d, &blocks[b].m);
    const float d = F16ToF32(blocks[b].d);
    const float m = F16ToF32(blocks[b].m);
    uint8_t codes[kQK];
    for (int j = 0; j < kQK; ++j) {
      codes[j] = static_cast<uint8_t>(d > 0.0f ? RoundClamp((x[j] - m) / d, 0, 31) : 0);
    }
    PackCodes5(codes, blocks[b].qs, blocks[b].qh);
  }
}

float DotF32Q5_1(const void* row, const float* x, int64_t n) {
  return quant_internal::DotViaDequantize<kQK, BlockQ5_1, DequantizeRowQ5_1>(row, x, n);
}

}  // namespace sg
