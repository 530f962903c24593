// Hand-built blocks with values worked out by hand from the ggml format definition
// (ggml-common.h / ggml-quants.c dequantize_row_*), pinning the bit positions that are easy to
// get wrong: nibble order, the Q5 high bits, the K-quant 6-bit scale packing, the Q6_K layout.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "engine/quant/blocks.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

constexpr uint16_t kF16One = 0x3c00;   // 1.0
constexpr uint16_t kF16Half = 0x3800;  // 0.5
constexpr uint16_t kF16Two = 0x4000;   // 2.0

template <typename Block>
std::vector<float> Dequantize(DType type, const Block& block) {
  const QuantTraits& t = *GetQuantTraits(type);
  std::vector<float> y(t.block_elems);
  t.dequantize_row(&block, y.data(), t.block_elems);
  return y;
}

TEST(QuantKnownAnswerTest, Q4_0NibbleOrder) {
  BlockQ4_0 b{};
  b.d = kF16Two;
  std::memset(b.qs, 0x88, sizeof(b.qs));  // code 8 -> 0
  b.qs[0] = 0xf0;                         // element 0: 0 - 8; element 16: 15 - 8
  b.qs[5] = 0x39;                         // element 5: 9 - 8; element 21: 3 - 8
  const auto y = Dequantize(DType::kQ4_0, b);
  EXPECT_EQ(y[0], -16.0f);
  EXPECT_EQ(y[16], 14.0f);
  EXPECT_EQ(y[5], 2.0f);
  EXPECT_EQ(y[21], -10.0f);
  EXPECT_EQ(y[1], 0.0f);
}

TEST(QuantKnownAnswerTest, Q4_1AddsMin) {
  BlockQ4_1 b{};
  b.d = kF16Half;
  b.m = 0xbc00;    // -1.0
  b.qs[2] = 0x4a;  // element 2: 10 * 0.5 - 1; element 18: 4 * 0.5 - 1
  const auto y = Dequantize(DType::kQ4_1, b);
  EXPECT_EQ(y[2], 4.0f);
  EXPECT_EQ(y[18], 1.0f);
  EXPECT_EQ(y[0], -1.0f);
}

TEST(QuantKnownAnswerTest, Q5_0HighBitsFromLittleEndianWord) {
  BlockQ5_0 b{};
  b.d = kF16One;
  // Bits 0 and 16 (byte 2, bit 0) and 31 (byte 3, bit 7) of the u32.
  b.qh[0] = 0x01;
  b.qh[2] = 0x01;
  b.qh[3] = 0x80;
  b.qs[0] = 0x21;   // element 0: 1|16 - 16 = 1; element 16: 2|16 - 16 = 2
  b.qs[15] = 0x7f;  // element 15: 15 - 16 = -1 (no high bit); element 31: 7|16 - 16 = 7
  const auto y = Dequantize(DType::kQ5_0, b);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[16], 2.0f);
  EXPECT_EQ(y[15], -1.0f);
  EXPECT_EQ(y[31], 7.0f);
  EXPECT_EQ(y[1], -16.0f);
}

TEST(QuantKnownAnswerTest, Q5_1) {
  BlockQ5_1 b{};
  b.d = kF16Half;
  b.m = kF16One;
  b.qh[1] = 0x02;  // bit 9: element 9
  b.qs[9] = 0x03;  // element 9: 3|16 = 19 -> 19 * 0.5 + 1
  const auto y = Dequantize(DType::kQ5_1, b);
  EXPECT_EQ(y[9], 10.5f);
  EXPECT_EQ(y[25], 1.0f);
}

TEST(QuantKnownAnswerTest, Q8_0) {
  BlockQ8_0 b{};
  b.d = kF16Half;
  b.qs[0] = -128;
  b.qs[31] = 127;
  const auto y = Dequantize(DType::kQ8_0, b);
  EXPECT_EQ(y[0], -64.0f);
  EXPECT_EQ(y[31], 63.5f);
}

TEST(QuantKnownAnswerTest, Q4_KScalePackingAndLayout) {
  BlockQ4_K b{};
  b.d = kF16One;
  b.dmin = kF16Half;
  // Sub-block 0: sc = scales[0] & 63 = 1, m = scales[4] & 63 = 3.
  // Sub-block 4: sc = (scales[8] & 15) | (scales[0] >> 6) << 4 = 5 | 48 = 53,
  //              m  = (scales[8] >> 4) | (scales[4] >> 6) << 4 = 2 | 32 = 34.
  b.scales[0] = 0xc1;
  b.scales[4] = 0x83;
  b.scales[8] = 0x25;
  b.qs[0] = 0x07;   // element 0 (sub-block 0): 1 * 7 - 0.5 * 3; element 32 (sub-block 1): 0
  b.qs[64] = 0x97;  // element 128 (sub-block 4): 53 * 7 - 17; element 160 (sub-block 5): 9 * 0
  const auto y = Dequantize(DType::kQ4_K, b);
  EXPECT_EQ(y[0], 5.5f);
  EXPECT_EQ(y[1], -1.5f);
  EXPECT_EQ(y[32], 0.0f);
  EXPECT_EQ(y[128], 354.0f);
  EXPECT_EQ(y[129], -17.0f);
  EXPECT_EQ(y[160], 0.0f);
}

TEST(QuantKnownAnswerTest, Q5_KHighBitsPerGroup) {
  BlockQ5_K b{};
  b.d = kF16One;
  b.dmin = kF16One;
  b.scales[3] = 2;  // sub-block 3 (elements 96..127): sc 2, m = scales[7] & 63 = 1
  b.scales[7] = 1;
  b.qh[3] = 0x08;   // bit 3 = sub-block 3 (group 1, high half): element 64 + 32 + 3 = 99
  b.qs[35] = 0x40;  // group 1 byte 3: high nibble 4 -> element 99; low nibble 0 -> element 67
  const auto y = Dequantize(DType::kQ5_K, b);
  EXPECT_EQ(y[99], 2.0f * 20.0f - 1.0f);
  EXPECT_EQ(y[98], -1.0f);
  EXPECT_EQ(y[67], 0.0f);  // sub-block 2: sc 0, m 0
}

TEST(QuantKnownAnswerTest, Q6_KLayout) {
  BlockQ6_K b{};
  b.d = kF16Half;
  b.scales[0] = 2;
  b.scales[2] = -1;
  b.scales[4] = 3;
  b.scales[6] = 4;
  b.scales[8] = 1;
  b.ql[0] = 0x21;
  b.ql[32] = 0x50;
  b.qh[0] = 0xe4;   // 0b11'10'01'00: elements 0, 32, 64, 96 get high bits 0, 1, 2, 3
  b.ql[64] = 0x0f;  // second half, element 128: 15 | (qh[32] & 3) << 4 = 63
  b.qh[32] = 0x03;
  const auto y = Dequantize(DType::kQ6_K, b);
  EXPECT_EQ(y[0], 0.5f * 2 * (1 - 32));
  EXPECT_EQ(y[32], 0.5f * -1 * (16 - 32));
  EXPECT_EQ(y[64], 0.5f * 3 * (34 - 32));
  EXPECT_EQ(y[96], 0.5f * 4 * (53 - 32));
  EXPECT_EQ(y[128], 0.5f * 1 * (63 - 32));
  EXPECT_EQ(y[1], 0.5f * 2 * -32);
}

TEST(QuantKnownAnswerTest, Q8_K) {
  BlockQ8_K b{};
  b.d = 0.25f;
  b.qs[7] = -100;
  const auto y = Dequantize(DType::kQ8_K, b);
  EXPECT_EQ(y[7], -25.0f);
  EXPECT_EQ(y[8], 0.0f);
}

}  // namespace
}  // namespace sg
