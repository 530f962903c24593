// quantize_row -> dequantize_row stays within the format's derived per-element bound
// (quant_test_util.h) on several distributions, and the relative RMS error is what the bit width
// implies (a sanity check that the scale choice is not needlessly coarse).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/quant/traits.h"
#include "quant_test_util.h"

namespace sg {
namespace {

using quant_test::Distributions;
using quant_test::LossyTypes;
using quant_test::RoundTripBounds;

constexpr int64_t kN = 256 * 48;

std::vector<float> RoundTrip(const QuantTraits& t, const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> q(static_cast<size_t>(n / t.block_elems * t.block_bytes));
  std::vector<float> y(x.size());
  t.quantize_row(x.data(), q.data(), n);
  t.dequantize_row(q.data(), y.data(), n);
  return y;
}

TEST(QuantRoundTripTest, ErrorWithinFormatBound) {
  for (DType type : LossyTypes()) {
    const QuantTraits& t = *GetQuantTraits(type);
    for (const auto& dist : Distributions(kN, 7)) {
      SCOPED_TRACE(std::string(DTypeName(type)) + " " + dist.name);
      const std::vector<float> y = RoundTrip(t, dist.values);
      const std::vector<double> bound = RoundTripBounds(type, dist.values.data(), kN);
      int bad = 0;
      for (int64_t i = 0; i < kN && bad < 5; ++i) {
        const double err = std::fabs(static_cast<double>(y[i]) - dist.values[i]);
        if (!(err <= bound[i])) {
          ++bad;
          ADD_FAILURE() << "element " << i << ": x=" << dist.values[i] << " y=" << y[i]
                        << " err=" << err << " bound=" << bound[i];
        }
      }
    }
  }
}

TEST(QuantRoundTripTest, RelativeRmsErrorOnGaussianData) {
  // Upper limits ~1.5x what a uniform quantizer of that many levels gives on N(0,1) blocks.
  const struct {
    DType type;
    double max_rel_rms;
  } kCases[] = {{DType::kQ4_0, 0.13}, {DType::kQ4_1, 0.12},  {DType::kQ5_0, 0.065},
                {DType::kQ5_1, 0.06}, {DType::kQ8_0, 0.009}, {DType::kQ4_K, 0.12},
                {DType::kQ5_K, 0.06}, {DType::kQ6_K, 0.03},  {DType::kQ8_K, 0.011}};
  const std::vector<float> x = Distributions(kN, 11)[0].values;
  for (const auto& c : kCases) {
    const std::vector<float> y = RoundTrip(*GetQuantTraits(c.type), x);
    double se = 0, sx = 0;
    for (int64_t i = 0; i < kN; ++i) {
      se += (static_cast<double>(y[i]) - x[i]) * (static_cast<double>(y[i]) - x[i]);
      sx += static_cast<double>(x[i]) * x[i];
    }
    const double rel = std::sqrt(se / sx);
    EXPECT_LT(rel, c.max_rel_rms) << DTypeName(c.type);
    EXPECT_GT(rel, 0.0) << DTypeName(c.type);
  }
}

TEST(QuantRoundTripTest, ZerosStayExactlyZero) {
  const std::vector<float> x(512, 0.0f);
  for (DType type : LossyTypes()) {
    const std::vector<float> y = RoundTrip(*GetQuantTraits(type), x);
    for (float v : y) ASSERT_EQ(v, 0.0f) << DTypeName(type);
  }
}

TEST(QuantRoundTripTest, NonFiniteInputDoesNotCrash) {
  // Garbage in, garbage out, but no UB (float -> int conversion of NaN/inf is guarded).
  std::vector<float> x(512, 1.0f);
  x[3] = std::nanf("");
  x[40] = INFINITY;
  x[300] = -INFINITY;
  for (DType type : LossyTypes()) {
    const std::vector<float> y = RoundTrip(*GetQuantTraits(type), x);
    EXPECT_EQ(y.size(), x.size());
  }
}

TEST(QuantRoundTripTest, QuantizeIsDeterministic) {
  const std::vector<float> x = Distributions(1024, 3)[2].values;
  for (DType type : LossyTypes()) {
    const QuantTraits& t = *GetQuantTraits(type);
    std::vector<uint8_t> a(1024 / t.block_elems * t.block_bytes), b(a.size(), 0xAB);
    t.quantize_row(x.data(), a.data(), 1024);
    t.quantize_row(x.data(), b.data(), 1024);
    EXPECT_EQ(a, b) << DTypeName(type);  // also: every output byte is written
  }
}

}  // namespace
}  // namespace sg
