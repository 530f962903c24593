// The sampler with a grammar (SamplingParams::grammar) on hand-made vocabularies: the mask sits
// after the penalties and before the warpers, logprobs are those of the constrained distribution,
// EOS comes only once the text is complete, the budget keeps the text completable within
// max_new_tokens, prompt ids never move the grammar, and a row with nothing finite still yields an
// allowed token.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/grammar.h"
#include "engine/constrain/regex_parser.h"
#include "engine/constrain/token_index.h"
#include "engine/sampling/sampler.h"

namespace sg {
// A named namespace: the unity build puts several test files in one translation unit.
namespace sampler_grammar_test {
namespace {

constexpr float kInfinity = std::numeric_limits<float>::infinity();

// Vocabulary: 0 "<eos>" (EOS, no bytes), 1 "x", 2 "y", 3 "xy", 4 "z", 5 "<special>" (no bytes).
constexpr int32_t kEos = 0;
constexpr int32_t kX = 1;
constexpr int32_t kY = 2;
constexpr int32_t kXY = 3;
constexpr int32_t kZ = 4;
constexpr int32_t kVocab = 6;

std::shared_ptr<const Grammar> MakeGrammar(const std::string& pattern) {
  auto index = std::make_shared<const TokenIndex>(
      std::vector<std::string>{"", "x", "y", "xy", "z", ""}, std::vector<int32_t>{kEos});
  StatusOr<Rx> rx = ParseRegex(pattern);
  EXPECT_TRUE(rx.ok()) << rx.status().message();
  StatusOr<ByteDfa> dfa = ByteDfa::Compile(*rx);
  EXPECT_TRUE(dfa.ok()) << dfa.status().message();
  return std::make_shared<const Grammar>(std::move(*dfa), index);
}

SamplingParams WithGrammar(const std::string& pattern) {
  SamplingParams p;
  p.grammar = MakeGrammar(pattern);
  return p;
}

// Runs greedy steps on fixed logits until EOS or the budget; returns the ids.
std::vector<int32_t> RunGreedy(Sampler& sampler, const std::vector<float>& logits,
                               int32_t max_new_tokens) {
  std::vector<int32_t> out;
  for (int32_t i = 0; i < max_new_tokens; ++i) {
    std::vector<float> row = logits;
    const SampledToken t = sampler.Sample(row, 0, nullptr);
    out.push_back(t.id);
    sampler.Accept(t.id);
    if (t.id == kEos) break;
  }
  return out;
}

TEST(SamplerGrammarTest, GreedyFollowsTheGrammarAndEndsWithEos) {
  // "z" is the model's favourite but the language is x*y.
  Sampler sampler(WithGrammar("x*y"), kVocab, {}, 16);
  const std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, 9.0f, 8.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 16), (std::vector<int32_t>{kY, kEos}));
  EXPECT_TRUE(sampler.grammar()->MustEnd());
}

TEST(SamplerGrammarTest, EosIsRefusedUntilTheTextIsComplete) {
  Sampler sampler(WithGrammar("xy"), kVocab, {}, 16);
  // EOS is the favourite; x then y (or xy) must come first.
  const std::vector<float> logits = {9.0f, 2.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 16), (std::vector<int32_t>{kX, kY, kEos}));
}

TEST(SamplerGrammarTest, LogprobsAreThoseOfTheConstrainedDistribution) {
  Sampler sampler(WithGrammar("x*y"), kVocab, {}, 16);
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, 9.0f, 8.0f};
  std::vector<SampledToken> top;
  const SampledToken t = sampler.Sample(logits, kVocab, &top);
  // Allowed now: x, y, xy (EOS is not: the empty text is not in x*y).
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.5));
  EXPECT_EQ(t.id, kY);
  EXPECT_NEAR(t.logprob, 2.0 - lse, 1e-6);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, kY);
  EXPECT_EQ(top[1].id, kX);
  EXPECT_EQ(top[2].id, kXY);
  EXPECT_NEAR(top[2].logprob, 0.5 - lse, 1e-6);
}

TEST(SamplerGrammarTest, TheBudgetKeepsTheTextCompletableWithRoomForEos) {
  // The model always wants another "x"; with 5 tokens the text must still end in "y", and EOS
  // must come before the last token (an EOS in last place would report `length`).
  Sampler sampler(WithGrammar("x+y"), kVocab, {}, 5);
  const std::vector<float> logits = {0.0f, 9.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 5), (std::vector<int32_t>{kX, kX, kY, kEos}));
  EXPECT_TRUE(sampler.grammar()->CanEnd());
}

TEST(SamplerGrammarTest, ACompleteTextThatCouldGoOnGetsEosBeforeTheLastToken) {
  // [xy]+ accepts after every token; the model prefers more text, but EOS comes in time.
  Sampler sampler(WithGrammar("[xy]+"), kVocab, {}, 4);
  const std::vector<float> logits = {0.0f, 9.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 4), (std::vector<int32_t>{kX, kX, kEos}));
}

TEST(SamplerGrammarTest, ABudgetTooSmallForTheGrammarEndsByLength) {
  // "xyxy" needs at least 2 tokens and EOS a third; with 2 the text may be complete but EOS does
  // not fit, and the sampler never picks a forbidden token on the way.
  Sampler sampler(WithGrammar("xyxy"), kVocab, {}, 2);
  const std::vector<float> logits = {9.0f, 1.0f, 1.0f, 2.0f, 5.0f, 0.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 2), (std::vector<int32_t>{kXY, kXY}));
  EXPECT_TRUE(sampler.grammar()->MustEnd());
}

TEST(SamplerGrammarTest, SampledRunsAlwaysFinishWithinTheBudget) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    SamplingParams params = WithGrammar("(x|y|z){2,}");
    params.do_sample = true;
    params.seed = seed;
    Sampler sampler(params, kVocab, {}, 5);
    const std::vector<float> logits = {3.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f};
    std::vector<int32_t> ids = RunGreedy(sampler, logits, 5);
    EXPECT_TRUE(sampler.grammar()->CanEnd()) << "seed " << seed;
    // Ends with EOS before the last allowed token (eos_token, never length).
    ASSERT_FALSE(ids.empty());
    EXPECT_LT(ids.size(), 5u) << "seed " << seed;
    EXPECT_EQ(ids.back(), kEos) << "seed " << seed;
    for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_NE(ids[i], kEos) << "seed " << seed;
  }
}

TEST(SamplerGrammarTest, PromptIdsDoNotMoveTheGrammar) {
  SamplingParams params = WithGrammar("xy");
  params.repetition_penalty = 1.3f;  // the prompt is counted for the penalty
  Sampler sampler(params, kVocab, std::vector<int32_t>{kX, kX, kZ}, 16);
  EXPECT_EQ(sampler.grammar()->state(), sampler.grammar()->grammar().dfa().start());
  const std::vector<float> logits = {0.0f, 2.0f, 1.0f, 0.0f, 0.0f, 0.0f};
  EXPECT_EQ(RunGreedy(sampler, logits, 16), (std::vector<int32_t>{kX, kY, kEos}));
}

TEST(SamplerGrammarTest, ARowWithNothingFiniteStillYieldsAnAllowedToken) {
  Sampler sampler(WithGrammar("xy"), kVocab, {}, 16);
  std::vector<float> row(kVocab, std::numeric_limits<float>::quiet_NaN());
  const SampledToken t = sampler.Sample(row, 0, nullptr);
  EXPECT_TRUE(t.id == kX || t.id == kXY) << t.id;
  EXPECT_EQ(t.logprob, -kInfinity);
  sampler.Accept(t.id);
  EXPECT_NE(sampler.grammar()->state(), ByteDfa::kDead);
}

TEST(SamplerGrammarTest, WithoutAGrammarNothingChanges) {
  Sampler sampler(SamplingParams{}, kVocab, {}, 16);
  EXPECT_EQ(sampler.grammar(), nullptr);
  std::vector<float> logits = {0.0f, 1.0f, 2.0f, 0.5f, 9.0f, 8.0f};
  EXPECT_EQ(sampler.Sample(logits, 0, nullptr).id, kZ);
}

}  // namespace
}  // namespace sampler_grammar_test
}  // namespace sg
