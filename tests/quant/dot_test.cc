// dot_f32 (the reference the SIMD kernels are compared to) equals the dot product of the
// dequantized row with x, up to float accumulation error: |dot_f32 - exact| <= (n + 1) u sum|a||x|
// with u = 2^-24 (n sequential float additions of rounded products).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

TEST(QuantDotTest, DotMatchesDequantizedDot) {
  std::vector<DType> types(SupportedWeightTypes().begin(), SupportedWeightTypes().end());
  types.push_back(DType::kQ8_K);
  std::mt19937 rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (DType type : types) {
    const QuantTraits& t = *GetQuantTraits(type);
    // Odd lengths: 1, 3 and 7 blocks (37 and 1001 elements for the float types).
    const std::vector<int64_t> lengths =
        t.block_elems == 1
            ? std::vector<int64_t>{1, 37, 1001}
            : std::vector<int64_t>{t.block_elems, 3 * t.block_elems, 7 * t.block_elems};
    for (int64_t n : lengths) {
      SCOPED_TRACE(std::string(DTypeName(type)) + " n=" + std::to_string(n));
      std::vector<float> w(static_cast<size_t>(n)), x(static_cast<size_t>(n));
      for (auto& v : w) v = normal(rng);
      for (auto& v : x) v = normal(rng);
      std::vector<uint8_t> row(static_cast<size_t>(n / t.block_elems * t.block_bytes));
      t.quantize_row(w.data(), row.data(), n);
      std::vector<float> a(static_cast<size_t>(n));
      t.dequantize_row(row.data(), a.data(), n);
      double exact = 0, abs_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        exact += static_cast<double>(a[i]) * x[i];
        abs_sum += std::fabs(static_cast<double>(a[i]) * x[i]);
      }
      const double got = t.dot_f32(row.data(), x.data(), n);
      const double tol = static_cast<double>(n + 1) * std::ldexp(1.0, -24) * abs_sum;
      EXPECT_LE(std::fabs(got - exact), tol);
    }
  }
}

TEST(QuantDotTest, DotOfSignedPatternIsExact) {
  // Small integers are exact in float: the dot must be exactly the integer sum.
  const QuantTraits& t = *GetQuantTraits(DType::kQ8_0);
  std::vector<float> w(64), x(64);
  for (int i = 0; i < 64; ++i) {
    w[i] = static_cast<float>((i % 9) - 4) * (127.0f / 4.0f);  // amax 127 -> d = 1 exactly
    x[i] = static_cast<float>((i % 5) - 2);
  }
  std::vector<uint8_t> row(2 * t.block_bytes);
  t.quantize_row(w.data(), row.data(), 64);
  std::vector<float> a(64);
  t.dequantize_row(row.data(), a.data(), 64);
  double exact = 0;
  for (int i = 0; i < 64; ++i) exact += static_cast<double>(a[i]) * x[i];
  EXPECT_EQ(t.dot_f32(row.data(), x.data(), 64), static_cast<float>(exact));
}

}  // namespace
}  // namespace sg
