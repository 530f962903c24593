// The prefix cache's parts: SipHash-2-4 against the published test vectors, the fixed-capacity
// index against std::unordered_map, and the pool's sharing, reference counting, LRU eviction and
// counters.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <unordered_map>
#include <vector>

#include "engine/runtime/kv_block_pool.h"
#include "engine/runtime/prefix_index.h"

namespace sg {
namespace prefix_cache_test {
namespace {

// Key 00 01 .. 0f and the message 00 01 .. (n-1): the vectors of the SipHash paper's appendix
// (n = 0 and n = 15, the worked example).
TEST(SipHash24, MatchesThePublishedVectors) {
  const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
  std::vector<uint8_t> msg(15);
  std::iota(msg.begin(), msg.end(), uint8_t{0});
  EXPECT_EQ(SipHash24(k0, k1, {}), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(k0, k1, msg), 0xa129ca6149be45e5ULL);
}

TEST(BlockHasher, NameDependsOnTheParentTheTokensAndTheKey) {
  const BlockHasher h(1, 2);
  std::vector<int32_t> a(16, 7), b = a;
  b[15] = 8;
  EXPECT_EQ(h.Chain(0, a), h.Chain(0, a));
  EXPECT_NE(h.Chain(0, a), h.Chain(0, b));
  EXPECT_NE(h.Chain(0, a), h.Chain(1, a));
  EXPECT_NE(h.Chain(0, a), BlockHasher(1, 3).Chain(0, a));
  EXPECT_NE(BlockHasher().Chain(0, a), BlockHasher().Chain(0, a));  // random keys
}

// Random inserts and erases, with names crowded into a few home slots so that probe runs wrap
// around the table and backward-shift deletion has work to do.
TEST(PrefixIndex, AgreesWithAnUnorderedMap) {
  constexpr int64_t kMax = 50;  // 128 slots
  PrefixIndex index(kMax);
  std::unordered_map<uint64_t, int32_t> oracle;
  std::mt19937_64 rng(5);
  for (int step = 0; step < 20000; ++step) {
    // Names with low bits in {124..127, 0..3}: runs cross the end of the table.
    const uint64_t name = (rng() << 7) | ((124 + rng() % 8) & 127);
    const bool present = oracle.count(name) > 0;
    if (present && rng() % 2) {
      index.Erase(name);
      oracle.erase(name);
    } else if (!present && static_cast<int64_t>(oracle.size()) < kMax) {
      const int32_t block = static_cast<int32_t>(rng() % 1000);
      index.Insert(name, block);
      oracle[name] = block;
    }
    ASSERT_EQ(index.size(), static_cast<int64_t>(oracle.size()));
    if (step % 97 == 0) {
      for (const auto& [n, b] : oracle) ASSERT_EQ(index.Find(n), b) << "step " << step;
      ASSERT_EQ(index.Find(name ^ 1), oracle.count(name ^ 1) ? oracle[name ^ 1] : -1);
    }
  }
}

std::unique_ptr<KvBlockPool> CachingPool(int64_t blocks, bool caching = true) {
  auto pool = KvBlockPool::Create({2, 3, 4}, blocks * kKvBlockTokens, 0, caching);
  EXPECT_TRUE(pool.ok()) << pool.status().ToString();
  return std::move(pool).value();
}

std::vector<int32_t> Tokens(int64_t n, int32_t first) {
  std::vector<int32_t> t(static_cast<size_t>(n));
  std::iota(t.begin(), t.end(), first);
  return t;
}

// A sequence that computed `prompt` (its K/V written) and published its full blocks.
KvAllocation Computed(KvBlockPool& pool, const std::vector<int32_t>& prompt) {
  KvAllocation a = pool.NewAllocation();
  EXPECT_TRUE(a.Reserve(static_cast<int64_t>(prompt.size())).ok());
  a.set_length(static_cast<int64_t>(prompt.size()));
  a.PublishPrefix(prompt);
  return a;
}

TEST(PrefixCache, AdoptsTheLongestPublishedPrefixOfWholeBlocks) {
  auto pool = CachingPool(16);
  const std::vector<int32_t> prompt = Tokens(40, 100);  // 2 full blocks + 8
  KvAllocation first = Computed(*pool, prompt);
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  EXPECT_EQ(first.immutable_tokens(), 32);

  std::vector<int32_t> other = Tokens(50, 100);  // same first 40 tokens, then more
  KvAllocation second = pool->NewAllocation();
  EXPECT_EQ(second.AdoptCachedPrefix(other, 49), 32);
  EXPECT_EQ(second.length(), 32);
  EXPECT_EQ(second.immutable_tokens(), 32);
  ASSERT_EQ(second.blocks().size(), 2u);
  EXPECT_EQ(second.blocks()[0], first.blocks()[0]);
  EXPECT_EQ(second.blocks()[1], first.blocks()[1]);
  EXPECT_EQ(pool->num_free_blocks(), 13);  // 3 held by first, 2 of them shared

  // A prompt that differs in its second block shares only the first.
  other[20] = 7;
  KvAllocation third = pool->NewAllocation();
  EXPECT_EQ(third.AdoptCachedPrefix(other, 49), 16);
  // The limit: at most max_tokens positions, in whole blocks.
  KvAllocation fourth = pool->NewAllocation();
  EXPECT_EQ(fourth.AdoptCachedPrefix(prompt, 31), 16);
  // The same tokens at another position (a different parent) do not match.
  std::vector<int32_t> shifted = Tokens(16, 116);  // the tokens of the first's block 1
  KvAllocation fifth = pool->NewAllocation();
  EXPECT_EQ(fifth.AdoptCachedPrefix(shifted, 16), 0);

  const PrefixCacheCounters& c = pool->prefix_counters();
  EXPECT_EQ(c.queried_tokens, 49 + 49 + 31 + 16);
  EXPECT_EQ(c.hit_tokens, 32 + 16 + 16);
}

// PeekCachedPrefix (the scheduler's admission check) sees what AdoptCachedPrefix then adopts,
// and which of those blocks nobody uses (they count as free), without adopting or counting.
TEST(PrefixCache, PeekSeesWhatAdoptionTakesAndWhatIsUnused) {
  auto pool = CachingPool(8);
  const std::vector<int32_t> prompt = Tokens(40, 100);  // 2 full blocks + 8
  EXPECT_EQ(pool->PeekCachedPrefix(prompt, 39).blocks, 0);
  {
    KvAllocation first = Computed(*pool, prompt);
    CachedPrefixPeek peek = pool->PeekCachedPrefix(prompt, 39);
    EXPECT_EQ(peek.blocks, 2);
    EXPECT_EQ(peek.unused_blocks, 0);                         // first holds them
    EXPECT_EQ(pool->PeekCachedPrefix(prompt, 31).blocks, 1);  // whole blocks within max_tokens
  }
  const CachedPrefixPeek peek = pool->PeekCachedPrefix(prompt, 39);
  EXPECT_EQ(peek.blocks, 2);
  EXPECT_EQ(peek.unused_blocks, 2);  // cached, used by nobody
  EXPECT_EQ(pool->prefix_counters().queried_tokens, 0);
  EXPECT_EQ(pool->num_free_blocks(), 8);
  KvAllocation again = pool->NewAllocation();
  EXPECT_EQ(again.AdoptCachedPrefix(prompt, 39), peek.blocks * kKvBlockTokens);
  EXPECT_EQ(pool->num_free_blocks(), 8 - peek.unused_blocks);
  EXPECT_EQ(CachingPool(8, /*caching=*/false)->PeekCachedPrefix(prompt, 39).blocks, 0);
}

TEST(PrefixCache, SharedBlocksReturnWhenTheLastUserLetsGoAndStayCached) {
  auto pool = CachingPool(8);
  const std::vector<int32_t> prompt = Tokens(33, 1);
  {
    KvAllocation a = Computed(*pool, prompt);  // 3 blocks, 2 published
    KvAllocation b = pool->NewAllocation();
    EXPECT_EQ(b.AdoptCachedPrefix(prompt, 32), 32);
    a.Release();
    EXPECT_EQ(pool->num_free_blocks(), 6);  // a's private third block; the shared two held by b
  }
  EXPECT_EQ(pool->num_free_blocks(), 8);  // all free: nothing leaks
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  KvAllocation c = pool->NewAllocation();
  EXPECT_EQ(c.AdoptCachedPrefix(prompt, 32), 32);  // still cached after every user left
  EXPECT_EQ(pool->num_free_blocks(), 6);
}

TEST(PrefixCache, EvictsLeastRecentlyReleasedOnlyWhenPlainBlocksRunOut) {
  auto pool = CachingPool(4);
  const std::vector<int32_t> p1 = Tokens(16, 1000), p2 = Tokens(16, 2000);
  { KvAllocation a = Computed(*pool, p1); }  // released first: least recent
  { KvAllocation b = Computed(*pool, p2); }
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  EXPECT_EQ(pool->num_free_blocks(), 4);

  KvAllocation x = pool->NewAllocation();
  ASSERT_TRUE(x.Reserve(32).ok());  // the 2 plain free blocks: nothing evicted
  EXPECT_EQ(pool->prefix_counters().evictions, 0);
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  ASSERT_TRUE(x.Reserve(48).ok());  // evicts p1's block
  EXPECT_EQ(pool->prefix_counters().evictions, 1);
  EXPECT_EQ(pool->num_cached_blocks(), 1);
  KvAllocation y = pool->NewAllocation();
  EXPECT_EQ(y.AdoptCachedPrefix(p1, 16), 0);  // evicted
  KvAllocation z = pool->NewAllocation();
  EXPECT_EQ(z.AdoptCachedPrefix(p2, 16), 16);  // p2 survived
  // A block in use cannot be evicted: the pool is now exhausted.
  EXPECT_EQ(pool->num_free_blocks(), 0);
  EXPECT_EQ(x.Reserve(64).code(), StatusCode::kResourceExhausted);
}

// A released prefix is evicted from its end: its first blocks stay reachable.
TEST(PrefixCache, EvictionTrimsAPrefixFromItsEnd) {
  auto pool = CachingPool(4);
  const std::vector<int32_t> p = Tokens(48, 7);
  { KvAllocation a = Computed(*pool, p); }  // 3 published blocks, all evictable
  KvAllocation x = pool->NewAllocation();
  ASSERT_TRUE(x.Reserve(32).ok());  // the plain block, then one eviction
  EXPECT_EQ(pool->prefix_counters().evictions, 1);
  KvAllocation y = pool->NewAllocation();
  EXPECT_EQ(y.AdoptCachedPrefix(p, 47), 32);  // blocks 0 and 1 survived; block 2 went
}

TEST(PrefixCache, AdoptingAnEvictableBlockTakesItOffTheLruList) {
  auto pool = CachingPool(2);
  const std::vector<int32_t> p = Tokens(16, 5);
  { KvAllocation a = Computed(*pool, p); }
  KvAllocation b = pool->NewAllocation();
  EXPECT_EQ(b.AdoptCachedPrefix(p, 16), 16);
  KvAllocation c = pool->NewAllocation();
  ASSERT_TRUE(c.Reserve(16).ok());                                  // the one plain block
  EXPECT_EQ(c.Reserve(32).code(), StatusCode::kResourceExhausted);  // b's block is not evictable
  EXPECT_EQ(pool->prefix_counters().evictions, 0);
}

TEST(PrefixCache, DuplicateBlocksComputedAtOnceStayPrivate) {
  auto pool = CachingPool(8);
  const std::vector<int32_t> p = Tokens(32, 9);
  KvAllocation a = Computed(*pool, p);
  KvAllocation b = Computed(*pool, p);  // prefilled beside a, not adopted
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  EXPECT_EQ(b.immutable_tokens(), 32);
  a.Release();
  b.Release();
  EXPECT_EQ(pool->num_free_blocks(), 8);
  KvAllocation c = pool->NewAllocation();
  EXPECT_EQ(c.AdoptCachedPrefix(p, 32), 32);
}

TEST(PrefixCache, PublishesOnlyComputedFullPromptBlocks) {
  auto pool = CachingPool(8);
  const std::vector<int32_t> p = Tokens(40, 3);
  KvAllocation a = pool->NewAllocation();
  ASSERT_TRUE(a.Reserve(40).ok());
  a.set_length(20);  // a chunk computed 20 positions so far
  a.PublishPrefix(p);
  EXPECT_EQ(pool->num_cached_blocks(), 1);
  a.set_length(40);
  a.PublishPrefix(std::span(p).first(36));  // the prompt ends at 36: block 2 holds generated
  EXPECT_EQ(pool->num_cached_blocks(), 2);
  a.PublishPrefix(p);
  EXPECT_EQ(pool->num_cached_blocks(), 2);  // 40 positions: 2 full blocks
}

TEST(PrefixCache, DisabledPoolNeitherPublishesNorAdopts) {
  auto pool = CachingPool(4, /*caching=*/false);
  const std::vector<int32_t> p = Tokens(32, 1);
  { KvAllocation a = Computed(*pool, p); }
  KvAllocation b = pool->NewAllocation();
  EXPECT_EQ(b.AdoptCachedPrefix(p, 32), 0);
  EXPECT_EQ(pool->num_cached_blocks(), 0);
  EXPECT_EQ(b.immutable_tokens(), 0);
  EXPECT_EQ(pool->prefix_counters().queried_tokens, 0);
}

// Many sequences adopting, extending and releasing at random never lose or double-count a block.
TEST(PrefixCache, RandomChurnConservesBlocks) {
  auto pool = CachingPool(24);
  std::mt19937 rng(3);
  std::vector<KvAllocation> live;
  const std::vector<int32_t> base = Tokens(64, 0);
  for (int step = 0; step < 3000; ++step) {
    if (!live.empty() && rng() % 3 == 0) {
      live.erase(live.begin() + rng() % live.size());
    } else {
      std::vector<int32_t> prompt(base.begin(), base.begin() + 16 + rng() % 48);
      if (rng() % 2) prompt[rng() % prompt.size()] = 1000 + static_cast<int32_t>(rng() % 4);
      KvAllocation a = pool->NewAllocation();
      const int64_t n = static_cast<int64_t>(prompt.size());
      const int64_t cached = a.AdoptCachedPrefix(prompt, n - 1);
      ASSERT_EQ(cached % kKvBlockTokens, 0);
      if (!a.Reserve(n).ok()) continue;  // full: a is dropped, releasing what it adopted
      a.set_length(n);
      a.PublishPrefix(prompt);
      live.push_back(std::move(a));
    }
    // Blocks held: each distinct block once. Free + distinct held == total.
    std::vector<int32_t> held;
    for (const KvAllocation& a : live)
      held.insert(held.end(), a.blocks().begin(), a.blocks().end());
    std::sort(held.begin(), held.end());
    held.erase(std::unique(held.begin(), held.end()), held.end());
    ASSERT_EQ(pool->num_free_blocks() + static_cast<int64_t>(held.size()), pool->num_blocks());
  }
  live.clear();
  EXPECT_EQ(pool->num_free_blocks(), pool->num_blocks());
}

}  // namespace
}  // namespace prefix_cache_test
}  // namespace sg
