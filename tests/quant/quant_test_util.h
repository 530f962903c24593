// Shared helpers of the quant tests: test distributions and the per-element round-trip bound of
// each format, derived from the format and our quantizer's scale choice (same formulas as
// tests/reference/quant_kat.py).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/core/dtype.h"

namespace sg::quant_test {

// Block types with a lossy quantizer (the float types are checked exactly elsewhere).
inline const std::vector<DType>& LossyTypes() {
  static const std::vector<DType> kTypes = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                                            DType::kQ5_1, DType::kQ8_0, DType::kQ4_K,
                                            DType::kQ5_K, DType::kQ6_K, DType::kQ8_K};
  return kTypes;
}

struct Distribution {
  std::string name;
  std::vector<float> values;
};

// n values from each of several shapes: gaussian, uniform, heavy tails with outliers, all
// positive, all negative, tiny (fp16-subnormal scales), half zeros plus a constant run.
inline std::vector<Distribution> Distributions(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uni(-1.0f, 1.0f);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<Distribution> out;
  auto make = [&](const std::string& name, auto gen) {
    Distribution d{name, std::vector<float>(static_cast<size_t>(n))};
    for (int64_t i = 0; i < n; ++i) d.values[static_cast<size_t>(i)] = gen(i);
    out.push_back(std::move(d));
  };
  make("normal", [&](int64_t) { return normal(rng); });
  make("uniform", [&](int64_t) { return uni(rng); });
  make("outliers", [&](int64_t) {
    const float u = unit(rng);
    return (unit(rng) < 0.01f ? 30.0f : 1.0f) * 0.02f * std::log(u > 0 ? u : 1e-9f) *
           (unit(rng) < 0.5f ? -1.0f : 1.0f);
  });
  make("positive", [&](int64_t) { return 1.0f + unit(rng); });
  make("negative", [&](int64_t) { return -0.5f - 2.5f * unit(rng); });
  make("tiny", [&](int64_t) { return 1e-3f * normal(rng); });
  make("zeros_const", [&](int64_t i) {
    if (i < n / 2) return 0.0f;
    if (i < n / 2 + 512) return 0.25f;
    return normal(rng);
  });
  return out;
}

// Upper bound of F16Up(v): the quantizer rounds fp16 scales up by at most one ulp.
inline double F16UpBound(double v) {
  return v * (1.0 + std::ldexp(1.0, -10)) + std::ldexp(1.0, -24);
}

// Per-element bound on |dequantize(quantize(x)) - x| for one row x (n a multiple of the block).
// Each is (effective step)/2 plus 1e-5 * amax for float rounding in (de)quantization.
inline std::vector<double> RoundTripBounds(DType type, const float* x, int64_t n) {
  std::vector<double> bound(static_cast<size_t>(n));
  const int be =
      (type == DType::kQ4_K || type == DType::kQ5_K || type == DType::kQ6_K || type == DType::kQ8_K)
          ? 256
          : 32;
  for (int64_t b = 0; b < n / be; ++b) {
    const float* xb = x + b * be;
    double* out = bound.data() + b * be;
    double amax = 0, lo = xb[0], hi = xb[0];
    for (int i = 0; i < be; ++i) {
      amax = std::max(amax, std::fabs(static_cast<double>(xb[i])));
      lo = std::min(lo, static_cast<double>(xb[i]));
      hi = std::max(hi, static_cast<double>(xb[i]));
    }
    const double slack = 1e-5 * amax;
    auto fill = [&](int from, int count, double v) {
      std::fill(out + from, out + from + count, v);
    };
    switch (type) {
      case DType::kQ8_0:  // d = amax/127 rounded up; |err| <= d/2
        fill(0, be, F16UpBound(amax / 127) / 2 + slack);
        break;
      case DType::kQ4_0:  // |d| <= amax/7.5 (signed scale, extra level on the larger side)
        fill(0, be, F16UpBound(amax / 7.5) / 2 + slack);
        break;
      case DType::kQ5_0:
        fill(0, be, F16UpBound(amax / 15.5) / 2 + slack);
        break;
      case DType::kQ4_1:  // m = min rounded down, d = (max - m)/15 rounded up
      case DType::kQ5_1: {
        const double levels = type == DType::kQ4_1 ? 15 : 31;
        const double range = hi - lo + std::fabs(lo) * std::ldexp(1.0, -10) + std::ldexp(1.0, -24);
        fill(0, be, F16UpBound(range / levels) / 2 + slack);
        break;
      }
      case DType::kQ8_K:  // f32 d = amax/127
        fill(0, be, amax / 127 / 2 + slack);
        break;
      case DType::kQ6_K: {  // s_j = amax_j/31.5, d = max s/127 up, step d*sc_j <= s_j + d
        double s[16], max_s = 0;
        for (int j = 0; j < 16; ++j) {
          double a = 0;
          for (int l = 0; l < 16; ++l)
            a = std::max(a, std::fabs(static_cast<double>(xb[16 * j + l])));
          s[j] = a / 31.5;
          max_s = std::max(max_s, s[j]);
        }
        const double d = F16UpBound(max_s / 127);
        for (int j = 0; j < 16; ++j) fill(16 * j, 16, (s[j] + d) / 2 + slack);
        break;
      }
      case DType::kQ4_K:
      case DType::kQ5_K: {  // see k_scales.h ChooseKScales
        const double levels = type == DType::kQ4_K ? 15 : 31;
        double off[8], top[8], max_off = 0;
        for (int j = 0; j < 8; ++j) {
          double mn = 0, mx = xb[32 * j];
          for (int l = 0; l < 32; ++l) {
            mn = std::min(mn, static_cast<double>(xb[32 * j + l]));
            mx = std::max(mx, static_cast<double>(xb[32 * j + l]));
          }
          off[j] = -mn;
          top[j] = mx;
          max_off = std::max(max_off, off[j]);
        }
        const double dmin = F16UpBound(max_off / 63);
        double need[8], max_need = 0;
        for (int j = 0; j < 8; ++j) {
          need[j] = std::max(0.0, (top[j] + off[j] + dmin) / levels);
          max_need = std::max(max_need, need[j]);
        }
        const double d = F16UpBound(max_need / 63);
        for (int j = 0; j < 8; ++j) fill(32 * j, 32, (need[j] + d) / 2 + slack);
        break;
      }
      default:
        fill(0, be, 0.0);
    }
  }
  return bound;
}

}  // namespace sg::quant_test
