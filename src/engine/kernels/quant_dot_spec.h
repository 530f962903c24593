// Internal to the kernels layer: the float reductions of the integer dot spec (quant_dot.h),
// shared by the scalar twin and the SIMD kernels' tails so both sum in one order.
#pragma once

namespace sg::quant_dot_spec {

// The 16 float accumulators of the 32-element formats: lane 8 * (block & 1) + l.
struct Lanes16 {
  float v[16];
};

// ((v0 + v4) + (v2 + v6)) + ((v1 + v5) + (v3 + v7)): the order of a 256-bit horizontal sum
// (add the 128-bit halves, then the upper pair onto the lower pair, then the two lanes).
inline float Reduce8(const float* v) {
  const float w0 = v[0] + v[4], w1 = v[1] + v[5], w2 = v[2] + v[6], w3 = v[3] + v[7];
  const float u0 = w0 + w2, u1 = w1 + w3;
  return u0 + u1;
}

inline float Reduce16(const Lanes16& a) {
  float v[8];
  for (int i = 0; i < 8; ++i) v[i] = a.v[i] + a.v[i + 8];
  return Reduce8(v);
}

}  // namespace sg::quant_dot_spec
