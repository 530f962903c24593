// Sampler end to end on small vocabularies: greedy choice, the processors' order and history
// (prompt + accepted ids), logprobs as log-softmax of the processed scores, the top-n list, and
// degenerate rows (NaN, +-inf, a vocabulary of one, top_k beyond the vocabulary).
#include "engine/sampling/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sg {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();
constexpr float kNotANumber = std::numeric_limits<float>::quiet_NaN();

// Reference log-softmax in double of the scores we expect after processing.
std::vector<double> RefLogSoftmax(const std::vector<double>& x) {
  double m = -INFINITY;
  for (double v : x) m = std::max(m, v);
  double sum = 0;
  for (double v : x) sum += std::exp(v - m);
  std::vector<double> out;
  for (double v : x) out.push_back(v - m - std::log(sum));
  return out;
}

// Samples once with top_n = vocabulary size and returns the reported logprob of every finite id
// (-inf for ids missing from the list).
std::vector<float> AllLogprobs(Sampler& sampler, std::vector<float> logits) {
  std::vector<SampledToken> top;
  sampler.Sample(logits, static_cast<int>(logits.size()), &top);
  std::vector<float> out(logits.size(), -kInfinity);
  for (const SampledToken& t : top) out[t.id] = t.logprob;
  return out;
}

void ExpectLogprobs(const std::vector<float>& got, const std::vector<double>& processed) {
  const std::vector<double> want = RefLogSoftmax(processed);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i])) {
      EXPECT_EQ(got[i], -kInfinity) << "id " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-6) << "id " << i;
    }
  }
}

TEST(SamplerTest, GreedyIsArgmaxWithLowestIdOnTies) {
  Sampler sampler(SamplingParams{}, 4, {});
  std::vector<float> logits = {1.0f, 3.0f, 3.0f, 2.0f};
  const SampledToken t = sampler.Sample(logits, 0, nullptr);
  EXPECT_EQ(t.id, 1);
  EXPECT_NEAR(t.logprob, RefLogSoftmax({1, 3, 3, 2})[1], 1e-6);
}

TEST(SamplerTest, GreedyIgnoresTheSeed) {
  SamplingParams a, b;
  a.seed = 1;
  b.seed = 2;
  Sampler sa(a, 3, {}), sb(b, 3, {});
  for (int i = 0; i < 20; ++i) {
    std::vector<float> la = {0.1f * i, 1.0f, 0.5f}, lb = la;
    EXPECT_EQ(sa.Sample(la, 0, nullptr).id, sb.Sample(lb, 0, nullptr).id);
  }
}

TEST(SamplerTest, RepetitionPenaltyCountsEachIdOnce) {
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  const std::vector<int32_t> prompt = {0, 0, 0, 1};
  Sampler sampler(p, 4, prompt);
  // id 0: 2 / 2 = 1 (not 2 / 8); id 1: -2 * 2 = -4.
  ExpectLogprobs(AllLogprobs(sampler, {2.0f, -2.0f, 0.5f, 3.0f}), {1, -4, 0.5, 3});
}

TEST(SamplerTest, FrequencyPenaltyCountsPromptAndAcceptedIds) {
  SamplingParams p;
  p.frequency_penalty = 0.5f;
  const std::vector<int32_t> prompt = {1, 1, 2};
  Sampler sampler(p, 4, prompt);
  ExpectLogprobs(AllLogprobs(sampler, {0, 0, 0, 0}), {0, -1.0, -0.5, 0});
  // Sample() alone records nothing; Accept() does.
  ExpectLogprobs(AllLogprobs(sampler, {0, 0, 0, 0}), {0, -1.0, -0.5, 0});
  sampler.Accept(1);
  sampler.Accept(3);
  ExpectLogprobs(AllLogprobs(sampler, {0, 0, 0, 0}), {0, -1.5, -0.5, -0.5});
}

TEST(SamplerTest, ProcessorsRunInTgiOrder) {
  // repetition -> frequency -> temperature. id 0: 2 / 2 = 1, - 2 * 0.5 = 0, / 2 = 0.
  // id 1: -2 * 2 = -4, - 0.5 = -4.5, / 2 = -2.25. id 2: 0. id 3: 1 / 2 = 0.5.
  SamplingParams p;
  p.do_sample = true;
  p.repetition_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.temperature = 2.0f;
  const std::vector<int32_t> prompt = {0, 0, 1};
  Sampler sampler(p, 4, prompt);
  ExpectLogprobs(AllLogprobs(sampler, {2.0f, -2.0f, 0.0f, 1.0f}), {0, -2.25, 0, 0.5});
}

TEST(SamplerTest, LogprobsOfFilteredTokensAreMinusInfinity) {
  SamplingParams p;
  p.do_sample = true;
  p.top_k = 2;
  p.seed = 7;
  Sampler sampler(p, 5, {});
  for (int i = 0; i < 50; ++i) {
    std::vector<float> logits = {0.0f, 2.0f, 1.0f, 3.0f, -1.0f};
    std::vector<SampledToken> top;
    const SampledToken t = sampler.Sample(logits, 5, &top);
    // Only ids 3 and 1 survive; the list holds only finite entries (as TGI drops -inf ones).
    ASSERT_EQ(top.size(), 2u);
    EXPECT_EQ(top[0].id, 3);
    EXPECT_EQ(top[1].id, 1);
    const std::vector<double> want = RefLogSoftmax({3.0, 2.0});
    EXPECT_NEAR(top[0].logprob, want[0], 1e-6);
    EXPECT_NEAR(top[1].logprob, want[1], 1e-6);
    ASSERT_TRUE(t.id == 3 || t.id == 1) << t.id;
    EXPECT_EQ(t.logprob, t.id == 3 ? top[0].logprob : top[1].logprob);
  }
}

TEST(SamplerTest, TopNIsSortedAndKeepsTiesAtTheNth) {
  Sampler sampler(SamplingParams{}, 5, {});
  const std::vector<float> logits = {1.0f, 2.0f, 2.0f, 0.0f, 2.0f};
  auto ids = [&](int n) {
    std::vector<float> l = logits;
    std::vector<SampledToken> top = {{9, 9.0f}};  // stale content is cleared
    sampler.Sample(l, n, &top);
    std::vector<int32_t> out;
    for (size_t i = 0; i < top.size(); ++i) {
      out.push_back(top[i].id);
      if (i > 0) {
        EXPECT_LE(top[i].logprob, top[i - 1].logprob);
      }
    }
    return out;
  };
  EXPECT_EQ(ids(1), (std::vector<int32_t>{1, 2, 4}));
  EXPECT_EQ(ids(2), (std::vector<int32_t>{1, 2, 4}));
  EXPECT_EQ(ids(3), (std::vector<int32_t>{1, 2, 4}));
  EXPECT_EQ(ids(4), (std::vector<int32_t>{1, 2, 4, 0}));
  EXPECT_EQ(ids(10), (std::vector<int32_t>{1, 2, 4, 0, 3}));
  EXPECT_EQ(ids(0), (std::vector<int32_t>{}));
}

TEST(SamplerTest, TypicalPCanMakeGreedyPickANonArgmax) {
  // See TypicalPTest.CanRemoveTheArgmax: only id 1 survives typical_p = 0.2.
  SamplingParams p;
  p.typical_p = 0.2f;
  Sampler sampler(p, 4, {});
  const float ln2 = std::log(2.0f);
  std::vector<float> logits = {3 * ln2, 2 * ln2, ln2, ln2};
  const SampledToken t = sampler.Sample(logits, 0, nullptr);
  EXPECT_EQ(t.id, 1);
  EXPECT_EQ(t.logprob, 0.0f);
}

TEST(SamplerTest, NanLogitsAreNeverChosen) {
  SamplingParams greedy, sampled;
  sampled.do_sample = true;
  sampled.seed = 3;
  Sampler g(greedy, 3, {}), s(sampled, 3, {});
  std::vector<float> logits = {kNotANumber, -5.0f, kNotANumber};
  EXPECT_EQ(g.Sample(logits, 0, nullptr).id, 1);
  for (int i = 0; i < 100; ++i) {
    logits = {kNotANumber, -5.0f, kNotANumber};
    std::vector<SampledToken> top;
    const SampledToken t = s.Sample(logits, 3, &top);
    EXPECT_EQ(t.id, 1);
    EXPECT_EQ(t.logprob, 0.0f);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].id, 1);
  }
}

TEST(SamplerTest, AllNanGivesIdZeroWithMinusInfinityAndKeepsTheDrawCount) {
  SamplingParams p;
  p.do_sample = true;
  p.seed = 11;
  Sampler a(p, 4, {}), b(p, 4, {});
  std::vector<float> bad = {kNotANumber, kNotANumber, -kInfinity, kNotANumber};
  std::vector<SampledToken> top;
  const SampledToken t = a.Sample(bad, 4, &top);
  EXPECT_EQ(t.id, 0);
  EXPECT_EQ(t.logprob, -kInfinity);
  EXPECT_TRUE(top.empty());
  // `a` consumed one draw on the bad row, `b` one on a good row: their next draws agree.
  std::vector<float> good = {0.0f, 0.0f, 0.0f, 0.0f};
  b.Sample(good, 0, nullptr);
  for (int i = 0; i < 20; ++i) {
    std::vector<float> la = good, lb = good;
    EXPECT_EQ(a.Sample(la, 0, nullptr).id, b.Sample(lb, 0, nullptr).id);
  }
}

TEST(SamplerTest, PlusInfinityIsAPointMass) {
  SamplingParams sampled;
  sampled.do_sample = true;
  Sampler g(SamplingParams{}, 4, {}), s(sampled, 4, {});
  std::vector<float> logits = {1.0f, kInfinity, 2.0f, kInfinity};
  const SampledToken t = g.Sample(logits, 0, nullptr);
  EXPECT_EQ(t.id, 1);
  EXPECT_NEAR(t.logprob, -std::log(2.0), 1e-6);
  int seen[4] = {};
  for (int i = 0; i < 200; ++i) {
    logits = {1.0f, kInfinity, 2.0f, kInfinity};
    ++seen[s.Sample(logits, 0, nullptr).id];
  }
  EXPECT_EQ(seen[0] + seen[2], 0);
  EXPECT_GT(seen[1], 0);
  EXPECT_GT(seen[3], 0);
}

TEST(SamplerTest, TemperatureOverflowBecomesAPointMass) {
  SamplingParams p;
  p.do_sample = true;
  p.temperature = 0.01f;
  Sampler sampler(p, 3, {});
  std::vector<float> logits = {1.0f, 3e38f, 2.0f};
  const SampledToken t = sampler.Sample(logits, 0, nullptr);
  EXPECT_EQ(t.id, 1);
  EXPECT_EQ(t.logprob, 0.0f);
}

TEST(SamplerTest, VocabularyOfOne) {
  SamplingParams p;
  p.do_sample = true;
  p.top_k = 5;
  p.top_p = 0.5f;
  p.typical_p = 0.5f;
  p.repetition_penalty = 1.5f;
  const std::vector<int32_t> prompt = {0};
  Sampler sampler(p, 1, prompt);
  std::vector<float> logits = {-3.0f};
  std::vector<SampledToken> top;
  const SampledToken t = sampler.Sample(logits, 5, &top);
  EXPECT_EQ(t.id, 0);
  EXPECT_EQ(t.logprob, 0.0f);
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].id, 0);
}

TEST(SamplerTest, TopKBeyondTheVocabularyKeepsEverything) {
  SamplingParams p;
  p.do_sample = true;
  p.top_k = 1000;
  Sampler sampler(p, 3, {});
  ExpectLogprobs(AllLogprobs(sampler, {0.0f, 1.0f, 2.0f}), {0, 1, 2});
}

TEST(SamplerTest, OutOfDomainParametersAreNeutral) {
  SamplingParams p;
  p.temperature = 0.0f;
  p.repetition_penalty = -1.0f;
  p.frequency_penalty = kNotANumber;
  p.top_k = -4;
  p.top_p = kNotANumber;
  p.typical_p = kNotANumber;
  const std::vector<int32_t> prompt = {0, -5, 99};  // out-of-range ids are ignored
  Sampler sampler(p, 3, prompt);
  ExpectLogprobs(AllLogprobs(sampler, {0.0f, 1.0f, 2.0f}), {0, 1, 2});
  sampler.Accept(-1);
  sampler.Accept(3);
}

TEST(SamplerTest, LogitsBeyondTheVocabularyAreIgnored) {
  Sampler sampler(SamplingParams{}, 2, {});
  std::vector<float> logits = {0.0f, 1.0f, 50.0f};
  const SampledToken t = sampler.Sample(logits, 0, nullptr);
  EXPECT_EQ(t.id, 1);
}

// Rows that exercise the argmax-only path's shortcut: ties, NaN, -inf, +inf (several), values
// that overflow under a small temperature, all-NaN.
std::vector<std::vector<float>> ArgmaxRows() {
  std::vector<std::vector<float>> rows = {
      {1.0f, 3.0f, 3.0f, 2.0f, 0.5f, -1.0f},
      {kNotANumber, -5.0f, kNotANumber, -6.0f, -5.0f, kNotANumber},
      {1.0f, kInfinity, 2.0f, kInfinity, kNotANumber, -kInfinity},
      {-kInfinity, -kInfinity, kNotANumber, -kInfinity, 0.0f, -kInfinity},
      {kNotANumber, kNotANumber, -kInfinity, kNotANumber, kNotANumber, kNotANumber},
      {2e38f, 3e38f, 2.5e38f, -3e38f, 1.0f, 0.0f},
      {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
  };
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (int r = 0; r < 50; ++r) {
    std::vector<float> row(6);
    for (float& v : row) v = std::round(normal(rng));  // rounding makes ties common
    rows.push_back(row);
  }
  return rows;
}

// Greedy without logprob and without top-n takes the argmax-only path: no softmax normalizer,
// logprob NaN, and the same id as the full path for every processor setting a greedy request can
// carry (penalties; temperature and filters too, which the server pairs with sampling but the
// sampler accepts).
TEST(SamplerTest, GreedyWithoutLogprobIsArgmaxOnlyAndPicksTheSameId) {
  std::vector<SamplingParams> settings(6);
  settings[1].repetition_penalty = 1.3f;
  settings[2].frequency_penalty = 0.7f;
  settings[3].temperature = 0.01f;  // 2e38 / 0.01 overflows: +inf ties decide
  settings[4].typical_p = 0.2f;     // may remove the argmax (see the test above)
  settings[5].top_k = 2;
  settings[5].top_p = 0.5f;
  const std::vector<int32_t> prompt = {1, 1, 4};
  for (size_t k = 0; k < settings.size(); ++k) {
    Sampler full(settings[k], 6, prompt), fast(settings[k], 6, prompt);
    int64_t calls = 0, empty_rows = 0;
    for (const std::vector<float>& row : ArgmaxRows()) {
      std::vector<float> a = row, b = row;
      const SampledToken want = full.Sample(a, 0, nullptr, /*with_logprob=*/true);
      const SampledToken got = fast.Sample(b, 0, nullptr, /*with_logprob=*/false);
      EXPECT_EQ(got.id, want.id) << "setting " << k << " call " << calls;
      if (want.logprob == -kInfinity) {  // nothing finite: id 0 with -inf either way
        EXPECT_EQ(got.logprob, -kInfinity);
        ++empty_rows;
      } else {
        EXPECT_TRUE(std::isnan(got.logprob)) << "setting " << k << " call " << calls;
      }
      full.Accept(want.id);
      fast.Accept(got.id);
      ++calls;
    }
    EXPECT_EQ(fast.normalized_rows(), 0) << "setting " << k;
    EXPECT_EQ(full.normalized_rows(), calls - empty_rows) << "setting " << k;
  }
}

// Anything that shows a probability keeps the full path: a logprob, a top-n list, a draw.
TEST(SamplerTest, LogprobTopNOrSamplingNormalizeTheRow) {
  std::vector<float> logits = {1.0f, 3.0f, 2.0f};
  std::vector<SampledToken> top;
  Sampler greedy(SamplingParams{}, 3, {});
  std::vector<float> l = logits;
  EXPECT_EQ(greedy.Sample(l, 0, nullptr).id, 1);  // with_logprob defaults to true
  EXPECT_EQ(greedy.normalized_rows(), 1);
  l = logits;
  const SampledToken t = greedy.Sample(l, 2, &top, /*with_logprob=*/false);
  EXPECT_EQ(greedy.normalized_rows(), 2);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_EQ(t.logprob, top[0].logprob);
  l = logits;
  greedy.Sample(l, 2, nullptr, /*with_logprob=*/false);  // no list to fill: argmax only
  EXPECT_EQ(greedy.normalized_rows(), 2);
  SamplingParams p;
  p.do_sample = true;
  Sampler sampled(p, 3, {});
  l = logits;
  sampled.Sample(l, 0, nullptr, /*with_logprob=*/false);
  EXPECT_EQ(sampled.normalized_rows(), 1);
}

TEST(LogSoftmaxAtTest, EqualsTheRowBitForBit) {
  std::vector<std::vector<float>> rows = ArgmaxRows();
  rows.push_back({0.5f, -1.0f, 2.0f, -kInfinity, 1e-3f, 17.25f});
  for (const std::vector<float>& row : rows) {
    std::vector<float> out(row.size());
    LogSoftmaxRow(row, out);
    for (size_t i = 0; i < row.size(); ++i) {
      const float at = LogSoftmaxAt(row, i);
      EXPECT_TRUE(at == out[i] || (std::isnan(at) && std::isnan(out[i]))) << i;
      EXPECT_FALSE(std::isnan(at));
    }
  }
}

TEST(LogSoftmaxRowTest, MatchesReference) {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, -kInfinity};
  std::vector<float> out(4);
  LogSoftmaxRow(logits, out);
  const std::vector<double> want = RefLogSoftmax({0.5, -1.0, 2.0, -INFINITY});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(out[i], want[i], 1e-6);
  EXPECT_EQ(out[3], -kInfinity);
}

TEST(LogSoftmaxRowTest, DegenerateRows) {
  std::vector<float> out(3);
  LogSoftmaxRow(std::vector<float>{kNotANumber, 1.0f, 1.0f}, out);
  EXPECT_EQ(out[0], -kInfinity);
  EXPECT_NEAR(out[1], -std::log(2.0), 1e-6);
  LogSoftmaxRow(std::vector<float>{kNotANumber, kNotANumber, -kInfinity}, out);
  EXPECT_EQ(out, (std::vector<float>{-kInfinity, -kInfinity, -kInfinity}));
  LogSoftmaxRow(std::vector<float>{kInfinity, 1.0f, kNotANumber}, out);
  EXPECT_EQ(out, (std::vector<float>{0.0f, -kInfinity, -kInfinity}));
}

}  // namespace
}  // namespace sg
