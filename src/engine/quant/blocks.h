// On-disk block layouts of the quantized weight formats, bit-compatible with ggml/GGUF
// (ggml-common.h). All multi-byte fields are little-endian; fp16 fields are IEEE binary16 bits
// (decode with sg::F16ToF32). A row of n elements is n / block_elems consecutive blocks.
//
// Value of element i of a block (q = the stored integer code of i):
//   Q4_0  y = d * (q - 8)                 q in [0, 15]
//   Q4_1  y = d * q + m                   q in [0, 15]
//   Q5_0  y = d * (q - 16)                q in [0, 31], bit 4 from qh
//   Q5_1  y = d * q + m                   q in [0, 31], bit 4 from qh
//   Q8_0  y = d * q                       q in [-128, 127]
//   Q4_K  y = (d * sc_j) * q - dmin * m_j q in [0, 15], 8 sub-blocks of 32 with 6-bit sc_j, m_j
//   Q5_K  as Q4_K with q in [0, 31]
//   Q6_K  y = (d * sc_j) * (q - 32)       q in [0, 63], 16 sub-blocks of 16 with int8 sc_j
//   Q8_K  y = d * q (d is f32)            q in [-128, 127]; bsums are sums of 16 q's
#pragma once

#include <cstdint>

#include "engine/core/dtype.h"

namespace sg {

inline constexpr int kQK = 32;           // elements per block of the "legacy" formats
inline constexpr int kQKK = 256;         // elements per super-block of the K formats
inline constexpr int kKScaleBytes = 12;  // 8 six-bit scales + 8 six-bit mins, packed

struct BlockQ4_0 {
  uint16_t d;           // fp16 scale
  uint8_t qs[kQK / 2];  // byte j: element j in the low nibble, element j+16 in the high one
};

struct BlockQ4_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 minimum (offset)
  uint8_t qs[kQK / 2];  // as BlockQ4_0
};

struct BlockQ5_0 {
  uint16_t d;           // fp16 scale
  uint8_t qh[4];        // little-endian u32: bit j is bit 4 of element j (j in [0, 32))
  uint8_t qs[kQK / 2];  // low 4 bits, packed as BlockQ4_0
};

struct BlockQ5_1 {
  uint16_t d;           // fp16 scale
  uint16_t m;           // fp16 minimum
  uint8_t qh[4];        // as BlockQ5_0
  uint8_t qs[kQK / 2];  // as BlockQ5_0
};

struct BlockQ8_0 {
  uint16_t d;  // fp16 scale
  int8_t qs[kQK];
};

// 256 elements = 4 groups of 64; group g uses sub-blocks 2g (low nibbles of qs[32g .. 32g+32))
// and 2g+1 (high nibbles of the same bytes).
struct BlockQ4_K {
  uint16_t d;                    // fp16 super-scale of the 6-bit sub-block scales
  uint16_t dmin;                 // fp16 super-scale of the 6-bit sub-block mins
  uint8_t scales[kKScaleBytes];  // see k_scales.h
  uint8_t qs[kQKK / 2];
};

// As BlockQ4_K plus a fifth bit: bit 4 of element 64g + l (l < 32) is bit 2g of qh[l], bit 4 of
// element 64g + 32 + l is bit 2g+1 of qh[l].
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[kKScaleBytes];
  uint8_t qh[kQKK / 8];
  uint8_t qs[kQKK / 2];
};

// 256 elements = 2 halves of 128; in half h, for l < 32 (ql, qh relative to the half:
// ql + 64h, qh + 32h):
//   element l      : low nibble of ql[l],      bits 0-1 of qh[l]
//   element l + 32 : low nibble of ql[l + 32], bits 2-3 of qh[l]
//   element l + 64 : high nibble of ql[l],     bits 4-5 of qh[l]
//   element l + 96 : high nibble of ql[l + 32],bits 6-7 of qh[l]
// Sub-block of 16 elements k (k in [0, 16)) uses scales[k].
struct BlockQ6_K {
  uint8_t ql[kQKK / 2];  // low 4 bits
  uint8_t qh[kQKK / 4];  // high 2 bits
  int8_t scales[kQKK / 16];
  uint16_t d;  // fp16 super-scale
};

// Activation format of the K-quant dot products (never stored in files written by llama.cpp).
struct BlockQ8_K {
  float d;  // f32 scale
  int8_t qs[kQKK];
  int16_t bsums[kQKK / 16];  // bsums[k] = sum of qs[16k .. 16k+16)
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);
static_assert(sizeof(BlockQ8_K) == 292);

// GetDTypeInfo is not constexpr, so the equality sizeof(BlockX) == GetDTypeInfo(kX).block_bytes is
// asserted by the quant tests (TraitsTest.BlockSizesMatchDTypeTable); the numbers above are the
// ggml sizes.

}  // namespace sg
