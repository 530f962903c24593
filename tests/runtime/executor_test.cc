#include "engine/runtime/executor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "test_model.h"

namespace sg {
namespace {

using testing::MakeTinyModel;
using testing::ReferenceLogits;
using testing::TinySpec;

std::vector<int32_t> RandomTokens(int64_t n, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, static_cast<int32_t>(vocab - 1));
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int32_t& id : ids) id = dist(rng);
  return ids;
}

TinySpec SpecFor(Arch arch) {
  TinySpec s;
  s.arch = arch;
  if (arch == Arch::kQwen3) s.head_dim = 12;  // Nh * D = 48 != hidden 32, as qwen3 allows
  return s;
}

class ExecutorTest : public ::testing::TestWithParam<Arch> {
 protected:
  void SetUp() override {
    tm_ = MakeTinyModel(SpecFor(GetParam()));
    ExecutorOptions o;
    o.max_batch_tokens = 64;
    o.max_sequences = 4;
    o.kv_token_budget = 512;
    o.kv_dtype = DType::kF32;  // the exactness tests below; f16 / q8_0 have their own bounds
    auto e = Executor::Create(tm_->model, pool_, o);
    ASSERT_TRUE(e.ok()) << e.status().ToString();
    exec_ = std::move(e).value();
  }
  int64_t V() const { return tm_->model.config.vocab_size; }

  // Every position's logits of `tokens` run alone, in chunks of `chunk` tokens.
  std::vector<float> RunAlone(const std::vector<int32_t>& tokens, int64_t chunk) {
    KvAllocation kv = exec_->NewSequence();
    std::vector<float> all = testing::StepAlone(*exec_, kv, tokens, 0, chunk);
    EXPECT_EQ(kv.length(), static_cast<int64_t>(tokens.size()));
    return all;
  }

  ThreadPool pool_{2};
  std::unique_ptr<testing::TestModel> tm_;
  std::unique_ptr<Executor> exec_;
};

// f32 engine vs double reference on a tiny model: errors are a few ulps of values of order 1
// accumulated over ~5 matmuls of width <= 48 per layer; 2e-4 is generous yet catches any real bug.
TEST_P(ExecutorTest, MatchesNaiveReference) {
  const std::vector<int32_t> tokens = RandomTokens(37, V(), 7);
  const std::vector<float> got = RunAlone(tokens, 64);
  const std::vector<double> want = ReferenceLogits(tm_->model, tokens);
  ASSERT_EQ(got.size(), want.size());
  double max_err = 0;
  for (size_t i = 0; i < got.size(); ++i) max_err = std::max(max_err, std::abs(got[i] - want[i]));
  EXPECT_LT(max_err, 2e-4);
}

TEST_P(ExecutorTest, ChunkedPrefillEqualsOneChunk) {
  const std::vector<int32_t> tokens = RandomTokens(30, V(), 11);
  const std::vector<float> whole = RunAlone(tokens, 64);
  for (int64_t chunk : {1, 3, 7}) {
    const std::vector<float> chunked = RunAlone(tokens, chunk);
    ASSERT_EQ(chunked.size(), whole.size());
    for (size_t i = 0; i < whole.size(); ++i) {
      ASSERT_NEAR(chunked[i], whole[i], 1e-5) << "chunk " << chunk << " index " << i;
    }
  }
}

// The batching invariant: sequences stepped together (prefill chunks of different sizes beside
// decode tokens, different start positions) give the same logits as each run alone.
TEST_P(ExecutorTest, MixedBatchEqualsEachSequenceAlone) {
  struct Seq {
    std::vector<int32_t> tokens;  // prompt followed by "decoded" tokens (fixed ids)
    int64_t prompt;
    int64_t chunk;
    bool all_logits;
    std::vector<float> alone;
    KvAllocation kv;
    int64_t done = 0;
  };
  std::vector<Seq> seqs(4);
  const int64_t prompts[] = {23, 5, 40, 1}, totals[] = {27, 14, 43, 9}, chunks[] = {9, 5, 16, 1};
  for (int i = 0; i < 4; ++i) {
    seqs[i].tokens = RandomTokens(totals[i], V(), 100 + i);
    seqs[i].prompt = prompts[i];
    seqs[i].chunk = chunks[i];
    seqs[i].all_logits = i % 2 == 0;
    seqs[i].alone = RunAlone(seqs[i].tokens, 64);
    seqs[i].kv = exec_->NewSequence();
  }
  int steps = 0;
  for (;; ++steps) {
    std::vector<StepSequence> batch;
    std::vector<Seq*> members;
    for (Seq& s : seqs) {
      const int64_t total = static_cast<int64_t>(s.tokens.size());
      if (s.done == total) continue;
      // Prompt: next chunk; after the prompt: one decode token per step.
      const int64_t n = s.done < s.prompt ? std::min(s.chunk, s.prompt - s.done) : 1;
      batch.push_back({std::span(s.tokens).subspan(s.done, n), s.done, &s.kv, s.all_logits});
      members.push_back(&s);
    }
    if (batch.empty()) break;
    std::vector<float> logits(Executor::CountLogitRows(batch) * V());
    ASSERT_TRUE(exec_->Step(batch, logits).ok());
    int64_t row = 0;
    for (size_t b = 0; b < batch.size(); ++b) {
      Seq& s = *members[b];
      const int64_t n = static_cast<int64_t>(batch[b].tokens.size());
      const int64_t first = s.all_logits ? s.done : s.done + n - 1;
      for (int64_t p = first; p < s.done + n; ++p, ++row) {
        for (int64_t v = 0; v < V(); ++v) {
          ASSERT_NEAR(logits[row * V() + v], s.alone[p * V() + v], 1e-5)
              << "step " << steps << " seq " << (&s - seqs.data()) << " pos " << p;
        }
      }
      s.done += n;
    }
    EXPECT_EQ(row * V(), static_cast<int64_t>(logits.size()));
  }
  EXPECT_GT(steps, 5);
}

TEST_P(ExecutorTest, RewindRecomputesFromAnEarlierPosition) {
  const std::vector<int32_t> tokens = RandomTokens(20, V(), 5);
  const std::vector<float> alone = RunAlone(tokens, 64);
  KvAllocation kv = exec_->NewSequence();
  std::vector<int32_t> junk = RandomTokens(20, V(), 99);
  StepSequence s{tokens, 0, &kv, false};
  std::vector<float> logits(V());
  ASSERT_TRUE(exec_->Step({&s, 1}, logits).ok());
  // Overwrite positions 10.. with other tokens, then restore them: logits must follow.
  s = {std::span(junk).subspan(10, 10), 10, &kv, false};
  ASSERT_TRUE(exec_->Step({&s, 1}, logits).ok());
  s = {std::span(tokens).subspan(10, 10), 10, &kv, false};
  ASSERT_TRUE(exec_->Step({&s, 1}, logits).ok());
  for (int64_t v = 0; v < V(); ++v) EXPECT_NEAR(logits[v], alone[19 * V() + v], 1e-5);
}

TEST_P(ExecutorTest, RefusesBadInputWithoutCrashing) {
  KvAllocation kv = exec_->NewSequence();
  std::vector<float> logits(64 * V());
  std::vector<int32_t> bad = {1, 2, static_cast<int32_t>(V())};
  StepSequence s{bad, 0, &kv, false};
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kInvalidArgument);
  bad[2] = -1;
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(kv.length(), 0);

  std::vector<int32_t> ok = {1, 2, 3};
  s = {ok, 1, &kv, false};  // start past the cached length (0)
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kInvalidArgument);
  s = {std::span<const int32_t>(), 0, &kv, false};
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kInvalidArgument);
  s = {ok, 0, nullptr, false};
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kInvalidArgument);
  s = {ok, 0, &kv, true};
  EXPECT_EQ(exec_->Step({&s, 1}, std::span(logits).first(2 * V())).code(),
            StatusCode::kInvalidArgument);
  StepSequence twice[2] = {{ok, 0, &kv, false}, {ok, 0, &kv, false}};
  EXPECT_EQ(exec_->Step(twice, logits).code(), StatusCode::kInvalidArgument);

  std::vector<int32_t> too_many(65, 1);
  s = {too_many, 0, &kv, false};
  EXPECT_EQ(exec_->Step({&s, 1}, logits).code(), StatusCode::kOutOfRange);
  std::vector<KvAllocation> kvs;
  std::vector<StepSequence> five;
  for (int i = 0; i < 5; ++i) kvs.push_back(exec_->NewSequence());
  for (int i = 0; i < 5; ++i) five.push_back({ok, 0, &kvs[i], false});
  EXPECT_EQ(exec_->Step(five, logits).code(), StatusCode::kOutOfRange);

  // After all that, a valid step works.
  s = {ok, 0, &kv, false};
  EXPECT_TRUE(exec_->Step({&s, 1}, logits).ok());
  EXPECT_EQ(kv.length(), 3);
}

TEST_P(ExecutorTest, KvFullIsResourceExhausted) {
  ExecutorOptions o;
  o.max_batch_tokens = 32;
  o.max_sequences = 2;
  o.kv_token_budget = 48;  // 3 blocks
  auto small = Executor::Create(tm_->model, pool_, o);
  ASSERT_TRUE(small.ok());
  Executor& e = **small;
  KvAllocation a = e.NewSequence(), b = e.NewSequence();
  const std::vector<int32_t> tokens = RandomTokens(32, V(), 3);
  std::vector<float> logits(V());
  StepSequence s{tokens, 0, &a, false};
  ASSERT_TRUE(e.Step({&s, 1}, logits).ok());        // 2 blocks
  s = {std::span(tokens).first(17), 0, &b, false};  // needs 2, 1 left
  EXPECT_EQ(e.Step({&s, 1}, logits).code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(b.length(), 0);
  a.Release();  // a finished: its blocks return
  EXPECT_TRUE(e.Step({&s, 1}, logits).ok());
}

TEST_P(ExecutorTest, WorkspaceIsSizedOnce) {
  const Activations before = exec_->activations();
  const uint64_t bytes = exec_->workspace_bytes();
  RunAlone(RandomTokens(64, V(), 1), 64);
  RunAlone(RandomTokens(10, V(), 2), 1);
  const Activations& after = exec_->activations();
  EXPECT_EQ(before.x, after.x);
  EXPECT_EQ(before.gate, after.gate);
  EXPECT_EQ(before.head_in, after.head_in);
  EXPECT_EQ(bytes, exec_->workspace_bytes());
}

INSTANTIATE_TEST_SUITE_P(AllArchs, ExecutorTest,
                         ::testing::Values(Arch::kLlama, Arch::kQwen2, Arch::kQwen3),
                         [](const auto& info) { return std::string(ArchName(info.param)); });

TEST(ExecutorCreate, RejectsInconsistentModels) {
  ThreadPool pool(1);
  auto tm = MakeTinyModel(SpecFor(Arch::kQwen3));
  tm->model.weights.layers[1].q_norm = TensorView();
  EXPECT_EQ(Executor::Create(tm->model, pool, {}).status().code(), StatusCode::kInvalidArgument);
  tm = MakeTinyModel(SpecFor(Arch::kLlama));
  tm->model.config.num_kv_heads = 3;
  EXPECT_EQ(Executor::Create(tm->model, pool, {}).status().code(), StatusCode::kInvalidArgument);
  tm = MakeTinyModel(SpecFor(Arch::kLlama));
  ExecutorOptions o;
  o.max_batch_tokens = 0;
  EXPECT_EQ(Executor::Create(tm->model, pool, o).status().code(), StatusCode::kInvalidArgument);
}

// The KV cache element types against the float64 reference at the context lengths: a
// sequence prefilled in chunks of 512 while a second sequence decodes beside it (mixed steps),
// then the logits of its last 4 positions. One layer, 2 query heads on 1 KV head, D = 32 (q8_0
// needs whole 32-element blocks), so the reference's O(n^2) attention stays a few seconds at
// 8 192 positions.
// Bounds: f32 is the engine's own rounding (as MatchesNaiveReference, 2e-4, with sqrt(n / 512)
// growth for the attention sums past 512 positions). f16 stores K and V with a relative error of
// at most 2^-11, which moves each score by <= 2^-11 |q| |k| and each output by <= 2^-11 |v|:
// on this model's logits (|logit| ~ 1) that is ~1e-3, bound 4e-3. q8_0 rounds each value by up to
// amax / 254 of its 32-element block (~1% of |v|): bound 4e-2. The measured errors are printed.
TEST(ExecutorKvDType, LongContextsMatchTheReference) {
  TinySpec spec;
  spec.layers = 1;
  spec.heads = 2;
  spec.kv_heads = 1;
  spec.head_dim = 32;
  auto tm = MakeTinyModel(spec);
  const int64_t vocab = tm->model.config.vocab_size;
  ThreadPool pool(2);
  std::vector<int64_t> lengths = {1, 17, 512};
#ifndef STREAMGEN_SANITIZED_BUILD
  lengths.insert(lengths.end(), {4096, 8192});
#endif
  for (int64_t n : lengths) {
    const std::vector<int32_t> tokens = RandomTokens(n, vocab, static_cast<uint32_t>(n));
    const std::vector<int32_t> other = RandomTokens(n / 512 + 2, vocab, 5);
    const std::vector<double> want = ReferenceLogits(tm->model, tokens);
    for (DType dtype : {DType::kF32, DType::kF16, DType::kQ8_0}) {
      ExecutorOptions o;
      o.max_batch_tokens = 513;
      o.max_sequences = 2;
      o.kv_token_budget = n + 512;
      o.kv_dtype = dtype;
      auto e = Executor::Create(tm->model, pool, o);
      ASSERT_TRUE(e.ok()) << e.status().ToString();
      KvAllocation kv = (*e)->NewSequence(), kv2 = (*e)->NewSequence();
      std::vector<float> logits(static_cast<size_t>(513 * vocab));
      double max_err = 0;
      int64_t step = 0;
      for (int64_t start = 0; start < n; start += 512, ++step) {
        const int64_t len = std::min<int64_t>(512, n - start);
        StepSequence s[2] = {{std::span(tokens).subspan(start, len), start, &kv, true},
                             {std::span(other).subspan(step, 1), step, &kv2, false}};
        ASSERT_TRUE((*e)->Step(s, logits).ok());
        if (start + len != n) continue;  // the final chunk's last rows are compared
        for (int64_t r = std::max<int64_t>(0, len - 4); r < len; ++r) {
          for (int64_t i = 0; i < vocab; ++i) {
            max_err =
                std::max(max_err, std::abs(logits[r * vocab + i] - want[(start + r) * vocab + i]));
          }
        }
      }
      const double bound = dtype == DType::kF32   ? 2e-4 * std::max(1.0, std::sqrt(n / 512.0))
                           : dtype == DType::kF16 ? 4e-3
                                                  : 4e-2;
      EXPECT_LT(max_err, bound) << KvCacheDTypeName(dtype) << " at " << n << " positions";
      std::printf("kv %s, %lld positions: max |logit - reference| = %.2e (bound %.1e)\n",
                  std::string(KvCacheDTypeName(dtype)).c_str(), static_cast<long long>(n), max_err,
                  bound);
    }
  }
}

}  // namespace
}  // namespace sg
