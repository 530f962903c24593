#include "engine/runtime/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace sg {
namespace {

// Fills positions [0, n) of a sequence with random K/V and checks AttendHead against the
// double-precision reference for every kv head, across block boundaries.
void CheckAgainstReference(int64_t heads, int64_t dim, int64_t n, float magnitude) {
  auto pool_or = KvBlockPool::Create({2, heads, dim}, 256);
  ASSERT_TRUE(pool_or.ok());
  KvBlockPool& pool = **pool_or;
  KvAllocation seq = pool.NewAllocation();
  // Another sequence takes a block first so the sequence's blocks are not 0, 1, 2...
  KvAllocation other = pool.NewAllocation();
  ASSERT_TRUE(other.Reserve(1).ok());
  ASSERT_TRUE(seq.Reserve(n).ok());
  std::mt19937 rng(static_cast<uint32_t>(n * 31 + dim));
  std::normal_distribution<float> dist(0.0f, magnitude);
  std::vector<float> k(heads * dim), v(heads * dim), q(dim), out(dim), ref(dim);
  for (int64_t p = 0; p < n; ++p) {
    for (float& x : k) x = dist(rng);
    for (float& x : v) x = dist(rng);
    StoreKv(pool, seq.blocks(), 1, p, k.data(), v.data());
  }
  for (float& x : q) x = dist(rng);
  for (int64_t kvh = 0; kvh < heads; ++kvh) {
    for (int64_t upto : {int64_t{1}, n / 2 + 1, n}) {
      AttentionArgs args;
      args.pool = &pool;
      args.blocks = seq.blocks();
      args.layer = 1;
      args.kv_head = kvh;
      args.num_positions = upto;
      args.scale = 1.0f / std::sqrt(static_cast<float>(dim));
      AttendHeadReference(args, q.data(), ref.data());
      AttendHead(args, q.data(), out.data());
      for (int64_t i = 0; i < dim; ++i) {
        // Outputs are convex combinations of V (|v| ~ magnitude); f32 error grows with n and dim.
        EXPECT_NEAR(out[i], ref[i], 1e-5 * magnitude * (1 + std::sqrt(double(upto * dim))))
            << "kv_head " << kvh << " positions " << upto << " i " << i;
      }
    }
  }
}

TEST(Attention, MatchesReferenceSmall) { CheckAgainstReference(2, 8, 5, 1.0f); }
TEST(Attention, MatchesReferenceAcrossBlocks) { CheckAgainstReference(3, 16, 50, 1.0f); }
TEST(Attention, MatchesReferenceOddDim) { CheckAgainstReference(1, 7, 33, 1.0f); }
// Large scores: the online softmax must rescale without overflow when the max grows late.
TEST(Attention, MatchesReferenceLargeScores) { CheckAgainstReference(2, 32, 70, 6.0f); }

TEST(Attention, SinglePositionReturnsItsValue) {
  auto pool_or = KvBlockPool::Create({1, 1, 4}, 16);
  ASSERT_TRUE(pool_or.ok());
  KvBlockPool& pool = **pool_or;
  KvAllocation seq = pool.NewAllocation();
  ASSERT_TRUE(seq.Reserve(1).ok());
  const float k[4] = {1, 2, 3, 4}, v[4] = {5, -6, 7, 8}, q[4] = {100, -100, 50, 3};
  StoreKv(pool, seq.blocks(), 0, 0, k, v);
  float out[4];
  AttentionArgs args{&pool, seq.blocks(), 0, 0, 1, 0.5f};
  AttendHead(args, q, out);
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(out[i], v[i]);
}

}  // namespace
}  // namespace sg
