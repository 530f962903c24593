// The executor with a prefix cache: a sequence that adopts another's computed prompt blocks and
// prefills only the rest gets the same logits, bit for bit, as one that computes everything, and
// the executor never writes into a shared block.
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "engine/runtime/executor.h"
#include "test_model.h"

namespace sg {
namespace prefix_reuse_test {
namespace {

std::vector<int32_t> RandomIds(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = static_cast<int32_t>(rng() % vocab);
  return ids;
}

class PrefixReuseTest : public ::testing::TestWithParam<DType> {
 protected:
  void SetUp() override {
    testing::TinySpec spec;
    spec.head_dim = 32;  // q8_0 needs a multiple of 32
    spec.heads = 2;
    spec.kv_heads = 1;
    spec.hidden = 64;
    tm_ = testing::MakeTinyModel(spec);
    ExecutorOptions o;
    o.max_batch_tokens = 128;
    o.max_sequences = 4;
    o.kv_token_budget = 1024;
    o.kv_dtype = GetParam();
    o.prefix_caching = true;
    auto e = Executor::Create(tm_->model, pool_, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    exec_ = std::move(e).value();
  }
  int64_t V() const { return tm_->model.config.vocab_size; }

  // Runs tokens[start, end) of `kv` in chunks of `chunk`, every position's logits appended.
  std::vector<float> Run(KvAllocation& kv, const std::vector<int32_t>& tokens, int64_t start,
                         int64_t chunk) {
    return testing::StepAlone(*exec_, kv, tokens, start, chunk);
  }

  ThreadPool pool_{2};
  std::unique_ptr<testing::TestModel> tm_;
  std::unique_ptr<Executor> exec_;
};

TEST_P(PrefixReuseTest, AdoptedPrefixGivesTheSameLogitsBitForBit) {
  const std::vector<int32_t> system = RandomIds(48, V(), 1);
  std::vector<int32_t> a = system, b = system;
  const std::vector<int32_t> tail_a = RandomIds(9, V(), 2), tail_b = RandomIds(21, V(), 3);
  a.insert(a.end(), tail_a.begin(), tail_a.end());
  b.insert(b.end(), tail_b.begin(), tail_b.end());

  // b computed from scratch, before anything is published (another allocation, same pool).
  KvAllocation b_alone = exec_->NewSequence();
  const std::vector<float> want = Run(b_alone, b, 0, 128);
  b_alone.Release();
  ASSERT_EQ(exec_->kv_pool().num_cached_blocks(), 0);  // nothing published by Run itself

  // a computes and publishes its prompt (in chunks of 20: blocks fill across steps).
  KvAllocation kv_a = exec_->NewSequence();
  Run(kv_a, a, 0, 20);
  kv_a.PublishPrefix(a);
  EXPECT_EQ(exec_->kv_pool().num_cached_blocks(), 3);  // 57 positions: 3 full blocks

  KvAllocation kv_b = exec_->NewSequence();
  const int64_t cached = kv_b.AdoptCachedPrefix(b, static_cast<int64_t>(b.size()) - 1);
  ASSERT_EQ(cached, 48);
  const std::vector<float> got = Run(kv_b, b, cached, 7);
  ASSERT_EQ(got.size(), want.size() - static_cast<size_t>(cached * V()));
  EXPECT_EQ(0, std::memcmp(got.data(), want.data() + cached * V(), got.size() * sizeof(float)))
      << "logits after an adopted prefix differ from a full prefill";
}

TEST_P(PrefixReuseTest, NeverWritesIntoASharedBlock) {
  const std::vector<int32_t> p = RandomIds(40, V(), 4);
  KvAllocation a = exec_->NewSequence();
  Run(a, p, 0, 64);
  a.PublishPrefix(p);
  KvAllocation b = exec_->NewSequence();
  ASSERT_EQ(b.AdoptCachedPrefix(p, 39), 32);
  std::vector<float> logits(static_cast<size_t>(V()));
  StepSequence rewrite{std::span(p).subspan(20, 1), 20, &b, false};
  EXPECT_EQ(exec_->Step({&rewrite, 1}, logits).code(), StatusCode::kInvalidArgument);
  // The owner cannot rewind into what it published either.
  StepSequence rewind{std::span(p).subspan(10, 1), 10, &a, false};
  EXPECT_EQ(exec_->Step({&rewind, 1}, logits).code(), StatusCode::kInvalidArgument);
  StepSequence ok{std::span(p).subspan(32, 8), 32, &b, false};
  EXPECT_TRUE(exec_->Step({&ok, 1}, logits).ok());
}

INSTANTIATE_TEST_SUITE_P(KvDTypes, PrefixReuseTest,
                         ::testing::Values(DType::kF32, DType::kF16, DType::kQ8_0),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(KvCacheDTypeName(info.param));
                         });

}  // namespace
}  // namespace prefix_reuse_test
}  // namespace sg
