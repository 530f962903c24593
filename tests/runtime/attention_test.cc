#include "engine/runtime/attention.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/core/half.h"

namespace sg {
namespace {

// A pool of one element type holding `n` random positions of a sequence in layer 1, whose blocks
// are not 0, 1, 2... (another sequence takes a block first).
struct Filled {
  std::unique_ptr<KvBlockPool> pool;
  KvAllocation seq;
};

Filled Fill(DType dtype, int64_t kv_heads, int64_t dim, int64_t n, float magnitude, uint32_t seed) {
  Filled f;
  auto pool_or = KvBlockPool::Create({2, kv_heads, dim, dtype}, n + 16);
  EXPECT_TRUE(pool_or.ok()) << pool_or.status().ToString();
  f.pool = std::move(pool_or).value();
  KvAllocation other = f.pool->NewAllocation();
  EXPECT_TRUE(other.Reserve(1).ok());
  f.seq = f.pool->NewAllocation();
  EXPECT_TRUE(f.seq.Reserve(n).ok());
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, magnitude);
  std::vector<float> k(kv_heads * dim), v(kv_heads * dim);
  for (int64_t p = 0; p < n; ++p) {
    for (float& x : k) x = dist(rng);
    for (float& x : v) x = dist(rng);
    StoreKv(*f.pool, f.seq.blocks(), 1, p, k.data(), v.data());
  }
  return f;
}

// Runs AttendGroup for `tokens` tokens at positions [n - tokens, n) with `heads` query heads per
// KV head, and checks every row against the double-precision reference over the same stored
// values. Outputs are convex combinations of V rows (|v| ~ magnitude); the f32 error of the
// online softmax grows with the number of positions and D.
void CheckGroup(DType dtype, int64_t kv_heads, int64_t heads, int64_t dim, int64_t n,
                int64_t tokens, float magnitude) {
  Filled f = Fill(dtype, kv_heads, dim, n, magnitude, static_cast<uint32_t>(n * 31 + dim));
  const int64_t num_heads = kv_heads * heads;
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, magnitude);
  std::vector<float> q(tokens * num_heads * dim), out(q.size(), -1.0f), ref(dim);
  for (float& x : q) x = dist(rng);
  for (int64_t kvh = 0; kvh < kv_heads; ++kvh) {
    AttentionGroup g;
    g.pool = f.pool.get();
    g.blocks = f.seq.blocks();
    g.layer = 1;
    g.kv_head = kvh;
    g.scale = 1.0f / std::sqrt(static_cast<float>(dim));
    g.q = q.data() + kvh * heads * dim;
    g.out = out.data() + kvh * heads * dim;
    g.token_stride = num_heads * dim;
    g.heads = heads;
    g.num_tokens = tokens;
    g.first_pos = n - tokens;
    AttendGroup(g);
  }
  for (int64_t t = 0; t < tokens; ++t) {
    for (int64_t h = 0; h < num_heads; ++h) {
      AttentionArgs args{
          f.pool.get(), f.seq.blocks(),     1,
          h / heads,    n - tokens + t + 1, 1.0f / std::sqrt(static_cast<float>(dim))};
      const float* row = out.data() + (t * num_heads + h) * dim;
      AttendHeadReference(args, q.data() + (t * num_heads + h) * dim, ref.data());
      const double tol = 1e-5 * magnitude * (1 + std::sqrt(double(args.num_positions * dim)));
      for (int64_t i = 0; i < dim; ++i) {
        ASSERT_NEAR(row[i], ref[i], tol) << KvCacheDTypeName(dtype) << " token " << t << " head "
                                         << h << " positions " << args.num_positions << " i " << i;
      }
    }
  }
}

class AttentionTest : public ::testing::TestWithParam<DType> {};

TEST_P(AttentionTest, OneRow) { CheckGroup(GetParam(), 2, 1, 32, 5, 1, 1.0f); }
TEST_P(AttentionTest, DecodeGroupAcrossBlocks) { CheckGroup(GetParam(), 3, 3, 64, 50, 1, 1.0f); }
TEST_P(AttentionTest, PrefillChunkCutsTheDiagonal) {
  // 37 tokens after 20 cached positions: tiles of 5 tokens (16 / 3 heads) straddle block edges.
  CheckGroup(GetParam(), 2, 3, 32, 57, 37, 1.0f);
}
TEST_P(AttentionTest, WholePrefillFromPositionZero) {
  CheckGroup(GetParam(), 1, 4, 64, 33, 33, 1.0f);
}
TEST_P(AttentionTest, GroupWiderThanATile) { CheckGroup(GetParam(), 1, 20, 32, 19, 3, 1.0f); }
// Large scores: the online softmax must rescale without overflow when the max grows late.
TEST_P(AttentionTest, LargeScores) { CheckGroup(GetParam(), 2, 2, 32, 70, 9, 6.0f); }
// The context lengths of the issue: one decode row and a short chunk at the end of each.
TEST_P(AttentionTest, ContextLengths) {
  for (int64_t n : {1, 17, 512, 4096, 8192}) {
    CheckGroup(GetParam(), 2, 3, 64, n, std::min<int64_t>(n, 7), 1.0f);
    if (HasFatalFailure()) return;
  }
}

INSTANTIATE_TEST_SUITE_P(KvDTypes, AttentionTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kQ8_0),
                         [](const auto& info) {
                           return std::string(KvCacheDTypeName(info.param));
                         });

TEST(Attention, OddHeadDimInF32AndF16) {
  CheckGroup(DType::kF32, 1, 2, 7, 33, 4, 1.0f);
  CheckGroup(DType::kF16, 1, 2, 7, 33, 4, 1.0f);
}

// The stored values of each element type stay within its rounding of the f32 input:
// f16 within 2^-11 relative, q8_0 within half a step of its block scale amax / 127.
TEST(Attention, StoredValuesWithinTheElementTypeBound) {
  for (DType dtype : {DType::kF16, DType::kQ8_0}) {
    Filled f = Fill(dtype, 1, 32, 1, 1.0f, 3);
    Filled exact = Fill(DType::kF32, 1, 32, 1, 1.0f, 3);
    // Attending to a single position returns that position's V row, widened.
    std::vector<float> q(32, 0.0f), got(32), want(32);
    AttentionArgs a{f.pool.get(), f.seq.blocks(), 1, 0, 1, 1.0f};
    AttentionArgs b{exact.pool.get(), exact.seq.blocks(), 1, 0, 1, 1.0f};
    AttendHead(a, q.data(), got.data());
    AttendHead(b, q.data(), want.data());
    float amax = 0;
    for (float x : want) amax = std::max(amax, std::abs(x));
    for (int i = 0; i < 32; ++i) {
      const double bound = dtype == DType::kF16 ? std::abs(want[i]) * std::ldexp(1.0, -11)
                                                : amax / 127.0 / 2 * 1.0001;
      EXPECT_LE(std::abs(got[i] - want[i]), bound) << KvCacheDTypeName(dtype) << " " << i;
    }
  }
}

// f32 and f16 pools keep K transposed within a block ({Nkv, D, 16}, slot fastest; V stays
// {16, Nkv, D}): the layout attend_block_f32 reads.
TEST(Attention, StoreKvWritesKTransposedForF32AndF16) {
  for (DType dtype : {DType::kF32, DType::kF16}) {
    auto pool_or = KvBlockPool::Create({1, 2, 3, dtype}, 32);
    ASSERT_TRUE(pool_or.ok());
    KvBlockPool& pool = **pool_or;
    KvAllocation seq = pool.NewAllocation();
    ASSERT_TRUE(seq.Reserve(20).ok());
    for (int64_t p = 0; p < 20; ++p) {
      float k[6], v[6];
      for (int i = 0; i < 6; ++i) {
        k[i] = static_cast<float>(p * 8 + i);
        v[i] = -k[i];
      }
      StoreKv(pool, seq.blocks(), 0, p, k, v);
    }
    const int64_t p = 17, slot = p % 16;
    const std::byte* kt = pool.KBlock(seq.blocks()[1], 0);
    const std::byte* vt = pool.VBlock(seq.blocks()[1], 0);
    for (int64_t i = 0; i < 6; ++i) {  // i = kv_head * 3 + e
      const float want = static_cast<float>(p * 8 + i);
      const int64_t at_k = i * 16 + slot, at_v = slot * 6 + i;
      if (dtype == DType::kF32) {
        EXPECT_EQ(reinterpret_cast<const float*>(kt)[at_k], want);
        EXPECT_EQ(reinterpret_cast<const float*>(vt)[at_v], -want);
      } else {
        EXPECT_EQ(F16ToF32(reinterpret_cast<const uint16_t*>(kt)[at_k]), want);
        EXPECT_EQ(F16ToF32(reinterpret_cast<const uint16_t*>(vt)[at_v]), -want);
      }
    }
  }
}

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
