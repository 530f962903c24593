// Six-bit sub-block scales and mins of Q4_K / Q5_K, and the quantizer's choice of them.
//
// Packing (12 bytes for 8 scales sc_j and 8 mins m_j, each in [0, 63]):
//   j < 4:  sc_j = scales[j] & 63,            m_j = scales[j + 4] & 63
//   j >= 4: sc_j = (scales[j + 4] & 15) | (scales[j - 4] >> 6) << 4
//           m_j  = (scales[j + 4] >> 4) | (scales[j]     >> 6) << 4
// Element value in sub-block j: y = (d * sc_j) * q - (dmin * m_j), d and dmin fp16.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/core/half.h"
#include "engine/quant/blocks.h"
#include "engine/quant/quant_common.h"

namespace sg::quant_internal {

inline constexpr int kKSubBlocks = 8;                       // per 256-element super-block
inline constexpr int kKSubBlockElems = kQKK / kKSubBlocks;  // 32

inline void GetScaleMinK4(int j, const uint8_t* scales, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = scales[j] & 63;
    *m = scales[j + 4] & 63;
  } else {
    *sc = static_cast<uint8_t>((scales[j + 4] & 0x0f) | ((scales[j - 4] >> 6) << 4));
    *m = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// sc, m: 8 values each in [0, 63].
inline void PackScaleMinK4(const uint8_t* sc, const uint8_t* m, uint8_t* scales) {
  std::memset(scales, 0, kKScaleBytes);
  for (int j = 0; j < kKSubBlocks; ++j) {
    if (j < 4) {
      scales[j] = sc[j];
      scales[j + 4] = m[j];
    } else {
      scales[j + 4] = static_cast<uint8_t>((sc[j] & 0x0f) | ((m[j] & 0x0f) << 4));
      scales[j - 4] |= static_cast<uint8_t>((sc[j] >> 4) << 6);
      scales[j] |= static_cast<uint8_t>((m[j] >> 4) << 6);
    }
  }
}

// The quantizer's parameters of one super-block.
struct KScaleChoice {
  uint16_t d = 0;     // fp16 bits
  uint16_t dmin = 0;  // fp16 bits
  uint8_t sc[kKSubBlocks] = {};
  uint8_t m[kKSubBlocks] = {};
  float scale[kKSubBlocks] = {};   // d * sc_j, computed exactly as the dequantizer does
  float offset[kKSubBlocks] = {};  // dmin * m_j, likewise
};

// Chooses d, dmin, sc_j, m_j for 256 values x with codes in [0, levels] (15 for Q4_K, 31 Q5_K).
// Sub-block j needs offset O_j >= off_j = max(0, -min x_j) (mins are stored >= 0) and scale
// S_j >= (max x_j + O_j) / levels. Both are quantized UPWARD (ceil of the 6-bit value, fp16
// super-scales rounded up) so no element is clipped; then |err| <= (d * sc_j) / 2 with
//   dmin <= max_j off_j / 63 (1 + 2^-10) + 2^-24,  O_j <= off_j + dmin,
//   d * sc_j <= (max x_j + off_j + dmin) / levels + d,  d <= max_j S_j / 63 (1 + 2^-10) + 2^-24.
// Deterministic and single pass (not ggml's iterative search).
inline KScaleChoice ChooseKScales(const float* x, int levels) {
  KScaleChoice c;
  float off[kKSubBlocks], hi[kKSubBlocks];
  float max_off = 0.0f;
  for (int j = 0; j < kKSubBlocks; ++j) {
    const float* xj = x + j * kKSubBlockElems;
    float lo = 0.0f, top = xj[0];
    for (int l = 0; l < kKSubBlockElems; ++l) {
      lo = xj[l] < lo ? xj[l] : lo;
      top = xj[l] > top ? xj[l] : top;
    }
    off[j] = -lo;
    hi[j] = top;
    max_off = std::fmax(max_off, off[j]);
  }
  c.dmin = F16Up(max_off / 63.0f);
  const float dmin = F16ToF32(c.dmin);
  float need[kKSubBlocks];
  float max_need = 0.0f;
  for (int j = 0; j < kKSubBlocks; ++j) {
    c.m[j] = static_cast<uint8_t>(dmin > 0.0f ? CeilClamp(off[j] / dmin, 0, 63) : 0);
    c.offset[j] = dmin * static_cast<float>(c.m[j]);
    need[j] = std::fmax(0.0f, (hi[j] + c.offset[j]) / static_cast<float>(levels));
    max_need = std::fmax(max_need, need[j]);
  }
  c.d = F16Up(max_need / 63.0f);
  const float d = F16ToF32(c.d);
  for (int j = 0; j < kKSubBlocks; ++j) {
    c.sc[j] = static_cast<uint8_t>(d > 0.0f ? CeilClamp(need[j] / d, 0, 63) : 0);
    c.scale[j] = d * static_cast<float>(c.sc[j]);
  }
  return c;
}

// Code of x in sub-block j of a choice: round((x + O_j) / S_j) in [0, levels].
inline int KCode(const KScaleChoice& c, int j, float x, int levels) {
  if (!(c.scale[j] > 0.0f)) return 0;
  return RoundClamp((x + c.offset[j]) / c.scale[j], 0, levels);
}

}  // namespace sg::quant_internal
