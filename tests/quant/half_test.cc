// F16 and BF16 conversions at their edges: subnormals, overflow, inf, NaN, ties to even; and the
// F16/BF16/F32 traits rows, which must apply exactly these conversions.
#include "engine/core/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/quant/traits.h"

namespace sg {
namespace {

float Bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

TEST(QuantHalfTest, F16ToF32Edges) {
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));            // smallest subnormal
  EXPECT_EQ(F16ToF32(0x03ff), 1023.0f * std::ldexp(1.0f, -24));  // largest subnormal
  EXPECT_EQ(F16ToF32(0x0400), std::ldexp(1.0f, -14));            // smallest normal
  EXPECT_EQ(F16ToF32(0x3c00), 1.0f);
  EXPECT_EQ(F16ToF32(0xc000), -2.0f);
  EXPECT_EQ(F16ToF32(0x7bff), 65504.0f);
  EXPECT_EQ(F16ToF32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(F16ToF32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(F16ToF32(0x7e00)));
  EXPECT_TRUE(std::isnan(F16ToF32(0xfc01)));
  EXPECT_TRUE(std::signbit(F16ToF32(0x8000)));
  EXPECT_EQ(F16ToF32(0x8000), 0.0f);
}

TEST(QuantHalfTest, F32ToF16RoundsToNearestEven) {
  EXPECT_EQ(F32ToF16(1.0f), 0x3c00);
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> even (down)
  EXPECT_EQ(F32ToF16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> even (up)
  EXPECT_EQ(F32ToF16(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)), 0x3c01);
  EXPECT_EQ(F32ToF16(65504.0f), 0x7bff);
  EXPECT_EQ(F32ToF16(65519.0f), 0x7bff);  // below the midpoint to 65536
  EXPECT_EQ(F32ToF16(65520.0f), 0x7c00);  // the midpoint rounds to even = overflow to inf
  EXPECT_EQ(F32ToF16(-1e9f), 0xfc00);
  EXPECT_EQ(F32ToF16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
}

TEST(QuantHalfTest, F32ToF16Subnormals) {
  const float tiny = std::ldexp(1.0f, -24);  // fp16 subnormal step
  EXPECT_EQ(F32ToF16(tiny), 0x0001);
  EXPECT_EQ(F32ToF16(tiny / 2), 0x0000);            // tie -> even 0
  EXPECT_EQ(F32ToF16(tiny / 2 * 1.0001f), 0x0001);  // just above the tie
  EXPECT_EQ(F32ToF16(3 * tiny / 2), 0x0002);        // tie -> even 2
  EXPECT_EQ(F32ToF16(5 * tiny / 2), 0x0002);        // tie -> even 2
  EXPECT_EQ(F32ToF16(1023.5f * tiny), 0x0400);      // carries into the exponent
  EXPECT_EQ(F32ToF16(-3 * tiny), 0x8003);
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -30)), 0x0000);  // underflow to zero
  EXPECT_EQ(F32ToF16(Bits(0x00000001)), 0x0000);       // f32 subnormal
}

TEST(QuantHalfTest, F16RoundTripsEveryPattern) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    const uint16_t back = F32ToF16(f);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(F16ToF32(back))) << h;
    } else {
      EXPECT_EQ(back, h) << h;
    }
  }
}

TEST(QuantHalfTest, Bf16Edges) {
  EXPECT_EQ(F32ToBf16(1.0f), 0x3f80);
  EXPECT_EQ(F32ToBf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);        // tie -> even (down)
  EXPECT_EQ(F32ToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);    // tie -> even (up)
  EXPECT_EQ(F32ToBf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds past max: inf
  EXPECT_EQ(F32ToBf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(F32ToBf16(Bits(0x00010000)), 0x0001);  // f32 subnormals survive
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(Bits(0x7f800001)))));  // NaN that truncates to inf
  EXPECT_EQ(Bf16ToF32(0x4049), Bits(0x40490000));
  EXPECT_TRUE(std::signbit(Bf16ToF32(F32ToBf16(-0.0f))));
}

TEST(QuantHalfTest, FloatTraitsRowsApplyTheConversions) {
  const std::vector<float> x = {
      0.0f,     -0.0f, 1.0f,  1.0f + std::ldexp(1.0f, -11), 65520.0f, std::ldexp(1.0f, -25),
      -3.5e-6f, 1e30f, -2.75f};
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint16_t> h(x.size());
  std::vector<float> y(x.size());
  GetQuantTraits(DType::kF16)->quantize_row(x.data(), h.data(), n);
  GetQuantTraits(DType::kF16)->dequantize_row(h.data(), y.data(), n);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(h[i], F32ToF16(x[i])) << i;
    EXPECT_EQ(y[i], F16ToF32(h[i])) << i;
  }
  GetQuantTraits(DType::kBF16)->quantize_row(x.data(), h.data(), n);
  GetQuantTraits(DType::kBF16)->dequantize_row(h.data(), y.data(), n);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(h[i], F32ToBf16(x[i])) << i;
    EXPECT_EQ(y[i], Bf16ToF32(h[i])) << i;
  }
  std::vector<float> raw(x.size());
  GetQuantTraits(DType::kF32)->quantize_row(x.data(), raw.data(), n);
  GetQuantTraits(DType::kF32)->dequantize_row(raw.data(), y.data(), n);
  EXPECT_EQ(std::memcmp(y.data(), x.data(), x.size() * 4), 0);
}

}  // namespace
}  // namespace sg
