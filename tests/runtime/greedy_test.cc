#include "engine/runtime/greedy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace sg {
namespace {

TEST(Greedy, ArgmaxPicksLargestLowestIdOnTies) {
  std::vector<float> x = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(Argmax(x), 1);
  EXPECT_EQ(Argmax(std::vector<float>{}), -1);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(Argmax(std::vector<float>{nan, 1.0f, nan, 2.0f}), 3);
}

TEST(Greedy, LogSoftmaxNormalizesAndIsStable) {
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f};
  std::vector<float> out(3);
  LogSoftmax(x, out);
  double total = 0;
  for (float v : out) {
    EXPECT_TRUE(std::isfinite(v));
    total += std::exp(static_cast<double>(v));
  }
  EXPECT_NEAR(total, 1.0, 1e-6);
  // log(e^1 / (e^1 + e^0 + e^-1))
  EXPECT_NEAR(out[1], 1.0 - std::log(std::exp(1.0) + 1.0 + std::exp(-1.0)), 1e-5);
}

TEST(Greedy, TopKOrderAndLogprobs) {
  std::vector<float> x = {0.0f, 2.0f, 1.0f, 2.0f, -3.0f};
  auto top = TopK(x, 3);
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].id, 1);
  EXPECT_EQ(top[1].id, 3);
  EXPECT_EQ(top[2].id, 2);
  const double lse = LogSumExp(x);
  EXPECT_NEAR(top[0].logprob, 2.0 - lse, 1e-6);
  EXPECT_NEAR(top[2].logprob, 1.0 - lse, 1e-6);
  EXPECT_EQ(TopK(x, 10).size(), 5u);
  EXPECT_EQ(TopK(x, 0).size(), 0u);
  EXPECT_EQ(TopK(x, -1).size(), 0u);
}

}  // namespace
}  // namespace sg
