#include "engine/runtime/kv_block_pool.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace sg {
namespace {

std::unique_ptr<KvBlockPool> MakePool(int64_t budget, int64_t per_seq = 0) {
  auto pool = KvBlockPool::Create({2, 3, 4}, budget, per_seq);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

TEST(KvBlockPool, CapacityRoundsUpToBlocks) {
  auto pool = MakePool(40);
  EXPECT_EQ(pool->num_blocks(), 3);  // ceil(40 / 16)
  EXPECT_EQ(pool->num_free_blocks(), 3);
  EXPECT_EQ(pool->row_bytes(), 12 * 4);
  // 3 blocks x 2 layers x {K, V} x 16 slots x 3 heads x 4 dims x 4 bytes.
  EXPECT_EQ(pool->storage_bytes(), 3u * 2 * 2 * 16 * 3 * 4 * 4);
}

TEST(KvBlockPool, ElementTypesSizeTheRows) {
  auto f16 = KvBlockPool::Create({2, 3, 64, DType::kF16}, 16);
  ASSERT_TRUE(f16.ok());
  EXPECT_EQ((*f16)->head_bytes(), 128);
  EXPECT_EQ((*f16)->row_bytes(), 3 * 128);
  EXPECT_EQ((*f16)->storage_bytes(), 1u * 2 * 2 * 16 * 3 * 128);
  auto q8 = KvBlockPool::Create({2, 3, 64, DType::kQ8_0}, 16);
  ASSERT_TRUE(q8.ok());
  EXPECT_EQ((*q8)->head_bytes(), 2 * 34);  // two Q8_0 blocks per head row
  EXPECT_EQ((*q8)->row_bytes(), 3 * 2 * 34);
  // q8_0 blocks run along d, so a head row must be whole blocks; other element types are refused.
  EXPECT_EQ(KvBlockPool::Create({1, 1, 48, DType::kQ8_0}, 16).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBlockPool::Create({1, 1, 64, DType::kQ4_0}, 16).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KvBlockPool, ParsesTheCacheDTypeNames) {
  for (const char* name : {"f32", "f16", "q8_0"}) {
    auto d = ParseKvCacheDType(name);
    ASSERT_TRUE(d.ok()) << name;
    EXPECT_EQ(KvCacheDTypeName(*d), name);
  }
  EXPECT_EQ(ParseKvCacheDType("fp16").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseKvCacheDType("").status().code(), StatusCode::kInvalidArgument);
}

TEST(KvBlockPool, RejectsBadSizes) {
  EXPECT_EQ(KvBlockPool::Create({0, 1, 1}, 16).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBlockPool::Create({1, 1, 1}, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBlockPool::Create({1, 1, 1}, -5).status().code(), StatusCode::kInvalidArgument);
}

TEST(KvBlockPool, TilesAreDisjointAndLaidOutAsDocumented) {
  auto pool = MakePool(32);
  // Block b, layer l, K then V: consecutive tiles of 16 * row bytes.
  const int64_t tile = 16 * pool->row_bytes();
  EXPECT_EQ(pool->VBlock(0, 0) - pool->KBlock(0, 0), tile);
  EXPECT_EQ(pool->KBlock(0, 1) - pool->KBlock(0, 0), 2 * tile);
  EXPECT_EQ(pool->KBlock(1, 0) - pool->KBlock(0, 0), 2 * 2 * tile);
}

TEST(KvAllocation, GrowsByBlocksAndFreesOnDestruction) {
  auto pool = MakePool(64);  // 4 blocks
  {
    KvAllocation a = pool->NewAllocation();
    EXPECT_TRUE(a.valid());
    EXPECT_EQ(a.capacity_tokens(), 0);
    ASSERT_TRUE(a.Reserve(1).ok());
    EXPECT_EQ(a.blocks().size(), 1u);
    ASSERT_TRUE(a.Reserve(16).ok());
    EXPECT_EQ(a.blocks().size(), 1u);
    ASSERT_TRUE(a.Reserve(17).ok());
    EXPECT_EQ(a.blocks().size(), 2u);
    ASSERT_TRUE(a.Reserve(5).ok());  // never shrinks
    EXPECT_EQ(a.blocks().size(), 2u);
    EXPECT_EQ(pool->num_free_blocks(), 2);
    std::set<int32_t> ids(a.blocks().begin(), a.blocks().end());
    EXPECT_EQ(ids.size(), 2u);
  }
  EXPECT_EQ(pool->num_free_blocks(), 4);
}

TEST(KvAllocation, ExhaustionLeavesAllocationUnchanged) {
  auto pool = MakePool(48);  // 3 blocks
  KvAllocation a = pool->NewAllocation();
  KvAllocation b = pool->NewAllocation();
  ASSERT_TRUE(a.Reserve(32).ok());
  Status s = b.Reserve(33);  // needs 3 blocks, 1 free
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.blocks().size(), 0u);
  EXPECT_EQ(pool->num_free_blocks(), 1);
  EXPECT_TRUE(b.Reserve(16).ok());
  EXPECT_EQ(pool->num_free_blocks(), 0);
  a.Release();
  EXPECT_EQ(pool->num_free_blocks(), 2);
  EXPECT_TRUE(a.Reserve(32).ok());
}

TEST(KvAllocation, PerSequenceLimit) {
  auto pool = MakePool(128, 20);  // 8 blocks, 2 per sequence
  KvAllocation a = pool->NewAllocation();
  EXPECT_TRUE(a.Reserve(32).ok());
  EXPECT_EQ(a.Reserve(33).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(pool->num_free_blocks(), 6);
}

TEST(KvAllocation, MoveTransfersOwnership) {
  auto pool = MakePool(64);
  KvAllocation a = pool->NewAllocation();
  ASSERT_TRUE(a.Reserve(20).ok());
  a.set_length(20);
  KvAllocation b = std::move(a);
  EXPECT_FALSE(a.valid());
  EXPECT_EQ(a.blocks().size(), 0u);
  EXPECT_EQ(b.blocks().size(), 2u);
  EXPECT_EQ(b.length(), 20);
  EXPECT_EQ(pool->num_free_blocks(), 2);
  KvAllocation c = pool->NewAllocation();
  ASSERT_TRUE(c.Reserve(1).ok());
  c = std::move(b);  // c's old block goes back, b's two move in
  EXPECT_EQ(pool->num_free_blocks(), 2);
  EXPECT_EQ(c.blocks().size(), 2u);
  a.Release();  // moved-from: harmless
  EXPECT_EQ(a.Reserve(1).code(), StatusCode::kInvalidArgument);
}

TEST(KvAllocation, ReserveDoesNotReallocateTheBlockList) {
  auto pool = MakePool(256);
  KvAllocation a = pool->NewAllocation();
  ASSERT_TRUE(a.Reserve(1).ok());
  const int32_t* before = a.blocks().data();
  ASSERT_TRUE(a.Reserve(256).ok());
  EXPECT_EQ(a.blocks().data(), before);
}

}  // namespace
}  // namespace sg
