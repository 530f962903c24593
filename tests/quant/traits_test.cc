// The traits table agrees with the dtype table and the block structs.
#include "engine/quant/traits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/quant/blocks.h"

namespace sg {
namespace {

TEST(QuantTraitsTest, BlockSizesMatchDTypeTable) {
  EXPECT_EQ(sizeof(BlockQ4_0), GetDTypeInfo(DType::kQ4_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ4_1), GetDTypeInfo(DType::kQ4_1).block_bytes);
  EXPECT_EQ(sizeof(BlockQ5_0), GetDTypeInfo(DType::kQ5_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ5_1), GetDTypeInfo(DType::kQ5_1).block_bytes);
  EXPECT_EQ(sizeof(BlockQ8_0), GetDTypeInfo(DType::kQ8_0).block_bytes);
  EXPECT_EQ(sizeof(BlockQ4_K), GetDTypeInfo(DType::kQ4_K).block_bytes);
  EXPECT_EQ(sizeof(BlockQ5_K), GetDTypeInfo(DType::kQ5_K).block_bytes);
  EXPECT_EQ(sizeof(BlockQ6_K), GetDTypeInfo(DType::kQ6_K).block_bytes);
  EXPECT_EQ(sizeof(BlockQ8_K), GetDTypeInfo(DType::kQ8_K).block_bytes);
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_0).block_elems, static_cast<uint32_t>(kQK));
  EXPECT_EQ(GetDTypeInfo(DType::kQ4_K).block_elems, static_cast<uint32_t>(kQKK));
}

TEST(QuantTraitsTest, EveryWeightTypeHasConsistentTraits) {
  const auto types = SupportedWeightTypes();
  ASSERT_EQ(types.size(), 11u);
  for (DType type : types) {
    SCOPED_TRACE(DTypeName(type));
    const QuantTraits* t = GetQuantTraits(type);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->type, type);
    EXPECT_EQ(t->block_elems, GetDTypeInfo(type).block_elems);
    EXPECT_EQ(t->block_bytes, GetDTypeInfo(type).block_bytes);
    EXPECT_NE(t->dequantize_row, nullptr);
    EXPECT_NE(t->quantize_row, nullptr);
    EXPECT_NE(t->dot_f32, nullptr);
    // The activation type's block must tile the weight block (kernels quantize x per block).
    const QuantTraits* vt = GetQuantTraits(t->vec_dot_type);
    ASSERT_NE(vt, nullptr);
    EXPECT_TRUE(vt->block_elems % t->block_elems == 0 || t->block_elems % vt->block_elems == 0);
  }
  EXPECT_TRUE(std::find(types.begin(), types.end(), DType::kQ8_K) == types.end());
}

TEST(QuantTraitsTest, VecDotTypes) {
  EXPECT_EQ(GetQuantTraits(DType::kF16)->vec_dot_type, DType::kF32);
  EXPECT_EQ(GetQuantTraits(DType::kBF16)->vec_dot_type, DType::kF32);
  EXPECT_EQ(GetQuantTraits(DType::kQ4_0)->vec_dot_type, DType::kQ8_0);
  EXPECT_EQ(GetQuantTraits(DType::kQ5_1)->vec_dot_type, DType::kQ8_0);
  EXPECT_EQ(GetQuantTraits(DType::kQ4_K)->vec_dot_type, DType::kQ8_K);
  EXPECT_EQ(GetQuantTraits(DType::kQ6_K)->vec_dot_type, DType::kQ8_K);
}

TEST(QuantTraitsTest, ActivationTypeQ8KHasTraitsButIsNoWeightType) {
  const QuantTraits* t = GetQuantTraits(DType::kQ8_K);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->block_bytes, 292u);
  EXPECT_EQ(t->block_elems, 256u);
}

TEST(QuantTraitsTest, TypesWithoutKernelsHaveNoTraits) {
  for (DType type : {DType::kQ2_K, DType::kQ3_K, DType::kQ8_1, DType::kIQ4_NL, DType::kI32,
                     DType::kF64, DType::kTQ1_0}) {
    EXPECT_EQ(GetQuantTraits(type), nullptr) << DTypeName(type);
  }
}

TEST(QuantTraitsTest, Q8KBlockSumsAreSumsOfSixteenCodes) {
  std::vector<float> x(512);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 37) % 101) - 50.0f;
  BlockQ8_K blocks[2];
  GetQuantTraits(DType::kQ8_K)->quantize_row(x.data(), blocks, 512);
  for (const BlockQ8_K& b : blocks) {
    for (int k = 0; k < 16; ++k) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b.qs[16 * k + l];
      EXPECT_EQ(b.bsums[k], sum);
    }
  }
}

}  // namespace
}  // namespace sg
