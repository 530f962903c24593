// Each logit processor against hand-computed results on small vocabularies, including the edge
// semantics of transformers' warpers: ties at the k-th value, top-p's `<=` removal and its
// always-kept token, typical-p keeping ties and dropping the argmax, penalty signs.
#include "engine/sampling/logits_processors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace sg {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Which ids are still finite (not filtered).
std::vector<int32_t> Kept(const std::vector<float>& scores) {
  std::vector<int32_t> ids;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] != -kInf) ids.push_back(static_cast<int32_t>(i));
  }
  return ids;
}

TEST(RepetitionPenaltyTest, DividesPositiveMultipliesNegative) {
  std::vector<float> s = {2.0f, -2.0f, 0.0f, 1.0f, -1.0f, -kInf};
  const std::vector<int32_t> seen = {0, 1, 2, 5};
  ApplyRepetitionPenalty(s, seen, 2.0f);
  EXPECT_EQ(s, (std::vector<float>{1.0f, -4.0f, 0.0f, 1.0f, -1.0f, -kInf}));
}

TEST(RepetitionPenaltyTest, PenaltyBelowOneFavoursSeenIds) {
  std::vector<float> s = {2.0f, -2.0f, 3.0f};
  const std::vector<int32_t> seen = {0, 1};
  ApplyRepetitionPenalty(s, seen, 0.5f);
  EXPECT_EQ(s, (std::vector<float>{4.0f, -1.0f, 3.0f}));
}

TEST(RepetitionPenaltyTest, IgnoresIdsOutsideTheRow) {
  std::vector<float> s = {2.0f, 4.0f};
  const std::vector<int32_t> seen = {-1, 7, 1};
  ApplyRepetitionPenalty(s, seen, 2.0f);
  EXPECT_EQ(s, (std::vector<float>{2.0f, 2.0f}));
}

TEST(FrequencyPenaltyTest, SubtractsCountTimesPenalty) {
  std::vector<float> s = {1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<int32_t> counts = {0, 3, 1, 0};
  const std::vector<int32_t> seen = {1, 2};
  ApplyFrequencyPenalty(s, seen, counts, 0.5f);
  EXPECT_EQ(s, (std::vector<float>{1.0f, -0.5f, 0.5f, 1.0f}));
  ApplyFrequencyPenalty(s, seen, counts, -1.0f);  // a negative penalty rewards repeats
  EXPECT_EQ(s, (std::vector<float>{1.0f, 2.5f, 1.5f, 1.0f}));
}

TEST(TemperatureTest, Divides) {
  std::vector<float> s = {1.0f, -2.0f, 3.0f, -kInf};
  ApplyTemperature(s, 0.5f);
  EXPECT_EQ(s, (std::vector<float>{2.0f, -4.0f, 6.0f, -kInf}));
}

TEST(SanitizeScoresTest, NanBecomesMinusInfinity) {
  std::vector<float> s = {kNaN, 1.0f, -kInf, 2.0f};
  EXPECT_EQ(SanitizeScores(s), 2);
  EXPECT_EQ(s, (std::vector<float>{-kInf, 1.0f, -kInf, 2.0f}));
}

TEST(SanitizeScoresTest, PlusInfinityIsAPointMass) {
  std::vector<float> s = {1.0f, kInf, kNaN, kInf, -kInf};
  EXPECT_EQ(SanitizeScores(s), 2);
  EXPECT_EQ(s, (std::vector<float>{-kInf, 0.0f, -kInf, 0.0f, -kInf}));
}

TEST(SanitizeScoresTest, NothingFinite) {
  std::vector<float> s = {kNaN, -kInf, kNaN};
  EXPECT_EQ(SanitizeScores(s), 0);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{}));
}

TEST(TopKTest, KeepsTheKLargest) {
  std::vector<float> s = {1.0f, 5.0f, 3.0f, 2.0f, 0.0f};
  std::vector<int32_t> order(s.size());
  ApplyTopK(s, 2, order);
  EXPECT_EQ(s, (std::vector<float>{-kInf, 5.0f, 3.0f, -kInf, -kInf}));
}

TEST(TopKTest, TiesAtTheKthValueAreAllKept) {
  // Sorted: 5, 4, 4, 4, 1. The 2nd largest is 4, and transformers removes only scores < 4.
  std::vector<float> s = {4.0f, 1.0f, 4.0f, 5.0f, 4.0f};
  std::vector<int32_t> order(s.size());
  ApplyTopK(s, 2, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 2, 3, 4}));
}

TEST(TopKTest, KAtOrAboveTheVocabularyIsANoOp) {
  const std::vector<float> original = {1.0f, 2.0f, 3.0f};
  std::vector<int32_t> order(original.size());
  for (int32_t k : {0, 3, 4, 1000}) {
    std::vector<float> s = original;
    ApplyTopK(s, k, order);
    EXPECT_EQ(s, original) << "k=" << k;
  }
}

TEST(TopKTest, CountsOnlyFiniteScores) {
  // Two finite scores and k = 2: nothing more to remove (k-th largest finite is 1).
  std::vector<float> s = {-kInf, 1.0f, -kInf, 2.0f};
  std::vector<int32_t> order(s.size());
  ApplyTopK(s, 2, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{1, 3}));
  ApplyTopK(s, 1, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{3}));
}

// Probabilities 0.1, 0.2, 0.3, 0.4 in a shuffled id order; ascending cumulative sums are
// 0.1, 0.3, 0.6, 1.0.
std::vector<float> TenTwentyThirtyForty() {
  return {std::log(0.3f), std::log(0.1f), std::log(0.4f), std::log(0.2f)};
}

TEST(TopPTest, RemovesTheLowCumulativeTail) {
  std::vector<int32_t> order(4);
  std::vector<float> s = TenTwentyThirtyForty();
  ApplyTopP(s, 0.75f, order);  // remove cumulative <= 0.25: only p = 0.1
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 2, 3}));
  s = TenTwentyThirtyForty();
  ApplyTopP(s, 0.5f, order);  // remove cumulative <= 0.5: 0.1 and 0.2
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 2}));
  s = TenTwentyThirtyForty();
  ApplyTopP(s, 0.35f, order);  // remove cumulative <= 0.65: all but 0.4
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{2}));
}

TEST(TopPTest, AlwaysKeepsTheMostLikelyToken) {
  std::vector<int32_t> order(4);
  std::vector<float> s = TenTwentyThirtyForty();
  ApplyTopP(s, 1e-6f, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{2}));
  s = {0.0f, 0.0f, 0.0f, 0.0f};
  ApplyTopP(s, 1e-6f, order);  // all tied: the lowest id is the one kept
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0}));
}

TEST(TopPTest, BoundaryIsInclusiveAndTiesPreferLowIds) {
  // Uniform over 4: cumulative sums are exactly 0.25, 0.5, 0.75, 1. With top_p = 0.75 the first
  // sorted token has cumulative 0.25 <= 1 - 0.75 and is removed; among equal scores the highest
  // id sorts first.
  std::vector<int32_t> order(4);
  std::vector<float> s = {0.0f, 0.0f, 0.0f, 0.0f};
  ApplyTopP(s, 0.75f, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 1, 2}));
  s = {0.0f, 0.0f, 0.0f, 0.0f};
  ApplyTopP(s, 0.5f, order);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 1}));
}

TEST(TopPTest, OneOrNaNIsANoOp) {
  std::vector<int32_t> order(4);
  const std::vector<float> original = TenTwentyThirtyForty();
  for (float p : {1.0f, 2.0f, kNaN}) {
    std::vector<float> s = original;
    ApplyTopP(s, p, order);
    EXPECT_EQ(s, original);
  }
}

// p = 0.5, 0.25, 0.125, 0.125: entropy H = 1.75 ln 2, -log p = 1, 2, 3, 3 (x ln 2), so the shifts
// |(-log p) - H| are 0.75, 0.25, 1.25, 1.25 (x ln 2). Sorted by shift: id 1 (p .25), id 0 (p .5),
// ids 2 and 3 (p .125 each); cumulative .25, .75, .875, 1.
std::vector<float> Typical() {
  const float ln2 = std::log(2.0f);
  return {3 * ln2, 2 * ln2, ln2, ln2};
}

TEST(TypicalPTest, KeepsTheMostTypicalTokens) {
  std::vector<int32_t> order(4);
  std::vector<float> shift(4);
  std::vector<float> s = Typical();
  ApplyTypicalP(s, 0.5f, order, shift);  // first cumulative >= .5 is id 0's .75
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(s[0], Typical()[0]);  // kept scores are unchanged
}

TEST(TypicalPTest, CanRemoveTheArgmax) {
  std::vector<int32_t> order(4);
  std::vector<float> shift(4);
  std::vector<float> s = Typical();
  ApplyTypicalP(s, 0.2f, order, shift);  // id 1 alone reaches .2; id 0 (the argmax) goes
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{1}));
}

TEST(TypicalPTest, TiesInShiftAreKept) {
  std::vector<int32_t> order(4);
  std::vector<float> shift(4);
  std::vector<float> s = Typical();
  ApplyTypicalP(s, 0.8f, order, shift);  // reached at id 2 (.875); id 3 has the same shift
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 1, 2, 3}));
}

TEST(TypicalPTest, IgnoresFilteredTokens) {
  const float ln2 = std::log(2.0f);
  std::vector<float> s = {3 * ln2, -kInf, 2 * ln2, ln2, -kInf, ln2};
  std::vector<int32_t> order(s.size());
  std::vector<float> shift(s.size());
  ApplyTypicalP(s, 0.5f, order, shift);
  EXPECT_EQ(Kept(s), (std::vector<int32_t>{0, 2}));
}

}  // namespace
}  // namespace sg
