// Helpers shared by the scalar quantizers (internal to the quant layer).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "engine/core/half.h"

namespace sg::quant_internal {

// Nearest integer to v (ties to even), clamped to [lo, hi]. NaN maps to lo; never UB on any
// float (the range check comes before the conversion).
// max |x_i| over n floats (NaN ignored, as std::fmax does); 0 for n = 0.
inline float AbsMax(const float* x, int n) {
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) amax = std::fmax(amax, std::fabs(x[i]));
  return amax;
}

inline int RoundClamp(float v, int lo, int hi) {
  if (!(v > static_cast<float>(lo))) return lo;
  if (!(v < static_cast<float>(hi))) return hi;
  return static_cast<int>(std::nearbyint(v));
}

// Smallest integer >= v, clamped to [lo, hi]; NaN maps to lo.
inline int CeilClamp(float v, int lo, int hi) {
  if (!(v > static_cast<float>(lo))) return lo;
  if (!(v < static_cast<float>(hi))) return hi;
  return static_cast<int>(std::ceil(v));
}

// fp16 bits of the smallest half >= v (v finite, >= 0 expected for scales). Rounding the stored
// scale UP keeps every input inside the representable range, so no element is clipped: the
// per-element error stays <= scale/2. Bound: F16ToF32(F16Up(v)) <= v * (1 + 2^-10) + 2^-24.
inline uint16_t F16Up(float v) {
  uint16_t h = F32ToF16(v);
  if (F16ToF32(h) < v && (h & 0x7fffu) < 0x7c00u) {
    if (h & 0x8000u) {
      h = (h == 0x8000u) ? 0x0001u : static_cast<uint16_t>(h - 1);  // toward zero from below
    } else {
      ++h;  // next magnitude; 0x7bff + 1 is +inf, only for v > 65504
    }
  }
  return h;
}

// fp16 bits of the largest half <= v. Bound: F16ToF32(F16Down(v)) >= v - |v| 2^-10 - 2^-24.
inline uint16_t F16Down(float v) {
  const uint16_t up = F16Up(-v);
  return static_cast<uint16_t>(up ^ 0x8000u);
}

// Scale of a block of n values stored as codes c in [-levels, levels - 1] with y = d * c (Q4_0:
// levels 8, Q5_0: 16). The side of the distribution whose extreme is larger gets the extra negative
// level: d > 0 needs max(-x)/d <= levels + 1/2 and max(x)/d <= levels - 1/2, d < 0 the mirror; the
// smaller |d| wins. Then round(x / d) never clips by more than d/2, so |err| <= |d|/2, and
// |d| <= amax / (levels - 1/2) * (1 + 2^-10) + 2^-24. Returns the fp16 bits of d.
inline uint16_t SymmetricScaleF16(const float* x, int n, int levels) {
  float pos = 0.0f, neg = 0.0f;
  for (int i = 0; i < n; ++i) {
    pos = x[i] > pos ? x[i] : pos;
    neg = -x[i] > neg ? -x[i] : neg;
  }
  const float wide = static_cast<float>(levels) + 0.5f;
  const float narrow = static_cast<float>(levels) - 0.5f;
  const float d_pos = std::fmax(neg / wide, pos / narrow);
  const float d_neg = std::fmax(pos / wide, neg / narrow);
  if (d_pos <= d_neg) return F16Up(d_pos);
  return static_cast<uint16_t>(F16Up(d_neg) | 0x8000u);
}

// Scale and minimum of a block of n values stored as codes c in [0, levels] with y = d * c + m
// (Q4_1: levels 15, Q5_1: 31). m is min(x) rounded down to fp16 and d is (max(x) - m) / levels
// rounded up, so (x - m) / d lies in [0, levels] and |err| <= d/2 (+ float rounding).
inline void MinScaleF16(const float* x, int n, int levels, uint16_t* d_bits, uint16_t* m_bits) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = x[i] < lo ? x[i] : lo;
    hi = x[i] > hi ? x[i] : hi;
  }
  *m_bits = F16Down(lo);
  *d_bits = F16Up((hi - F16ToF32(*m_bits)) / static_cast<float>(levels));
}

// Bits 4 of 32 five-bit codes, as the little-endian u32 `qh` of Q5_0/Q5_1.
inline void StoreU32(uint8_t* dst, uint32_t v) {
  for (int i = 0; i < 4; ++i) dst[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t LoadU32(const uint8_t* src) {
  return static_cast<uint32_t>(src[0]) | (static_cast<uint32_t>(src[1]) << 8) |
         (static_cast<uint32_t>(src[2]) << 16) | (static_cast<uint32_t>(src[3]) << 24);
}

// Reference dot product of a row of blocks with x: each block is dequantized into a stack
// buffer and multiply-added into one float accumulator in element order.
template <int kBlockElems, typename Block, void (*kDequantize)(const void*, float*, int64_t)>
float DotViaDequantize(const void* row, const float* x, int64_t n) {
  const Block* blocks = static_cast<const Block*>(row);
  float tmp[kBlockElems];
  float sum = 0.0f;
  for (int64_t b = 0; b < n / kBlockElems; ++b) {
    kDequantize(&blocks[b], tmp, kBlockElems);
    const float* xb = x + b * kBlockElems;
    for (int i = 0; i < kBlockElems; ++i) sum += tmp[i] * xb[i];
  }
  return sum;
}

}  // namespace sg::quant_internal
