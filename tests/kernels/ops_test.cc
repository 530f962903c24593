// The transformer's per-row ops against straightforward double-precision references.
#include "engine/kernels/ops.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace sg {
namespace {

std::vector<float> Random(int64_t n, std::mt19937& rng, float stddev = 1.0f) {
  std::normal_distribution<float> dist(0.0f, stddev);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// A handful of float roundings per output: relative error of a few eps.
constexpr double kRel = 8 * FLT_EPSILON;

TEST(RmsNormTest, MatchesDoubleReferenceAndMayAlias) {
  std::mt19937 rng(1);
  for (int64_t dim : {1, 3, 17, 4096}) {
    const int64_t rows = 3;
    const std::vector<float> x = Random(rows * dim, rng, 3.0f), w = Random(dim, rng);
    const float eps = 1e-5f;
    std::vector<float> out(x.size());
    RmsNorm(x.data(), w.data(), rows, dim, eps, out.data());
    std::vector<float> in_place = x;
    RmsNorm(in_place.data(), w.data(), rows, dim, eps, in_place.data());
    for (int64_t r = 0; r < rows; ++r) {
      double ms = 0.0;
      for (int64_t i = 0; i < dim; ++i) ms += static_cast<double>(x[r * dim + i]) * x[r * dim + i];
      const double inv = 1.0 / std::sqrt(ms / dim + eps);
      for (int64_t i = 0; i < dim; ++i) {
        const double want = x[r * dim + i] * inv * w[i];
        ASSERT_NEAR(out[r * dim + i], want, kRel * std::fabs(want) + 1e-30) << dim;
        ASSERT_EQ(in_place[r * dim + i], out[r * dim + i]);
      }
    }
  }
}

std::vector<float> InvFreq(int64_t head_dim, double theta) {
  std::vector<float> f(static_cast<size_t>(head_dim / 2));
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    f[i] = static_cast<float>(1.0 / std::pow(theta, 2.0 * i / head_dim));
  }
  return f;
}

// RoPE on one token's heads at `pos`, as the forward pass applies it (table, then rotation).
void Rope(float* x, int64_t heads, int64_t head_dim, int64_t pos, const float* inv_freq,
          RopeStyle style) {
  std::vector<float> cs(static_cast<size_t>(head_dim));
  RopeCosSin(head_dim, pos, inv_freq, cs.data());
  ApplyRopeCosSin(x, heads, head_dim, cs.data(), style);
}

TEST(RopeTest, HalvesMatchesRotateHalfReference) {
  std::mt19937 rng(2);
  const int64_t heads = 3, hd = 64, half = hd / 2;
  const std::vector<float> inv = InvFreq(hd, 10000.0);
  for (int64_t pos : {1, 7, 1000, 100000}) {
    const std::vector<float> x0 = Random(heads * hd, rng);
    std::vector<float> x = x0;
    Rope(x.data(), heads, hd, pos, inv.data(), RopeStyle::kHalves);
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < hd; ++i) {
        // HF: q * cos + rotate_half(q) * sin, rotate_half(q) = cat(-q[half:], q[:half]).
        const int64_t j = i % half;
        const double angle = static_cast<double>(static_cast<float>(pos) * inv[j]);
        const double rot = i < half ? -x0[h * hd + i + half] : x0[h * hd + i - half];
        const double want = x0[h * hd + i] * std::cos(angle) + rot * std::sin(angle);
        const double scale = std::fabs(x0[h * hd + i]) + std::fabs(rot);
        ASSERT_NEAR(x[h * hd + i], want, kRel * scale) << "pos=" << pos << " i=" << i;
      }
    }
  }
}

TEST(RopeTest, InterleavedMatchesComplexRotationReference) {
  std::mt19937 rng(3);
  const int64_t heads = 2, hd = 16;
  const std::vector<float> inv = InvFreq(hd, 500000.0);
  const int64_t pos = 12345;
  const std::vector<float> x0 = Random(heads * hd, rng);
  std::vector<float> x = x0;
  Rope(x.data(), heads, hd, pos, inv.data(), RopeStyle::kInterleaved);
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t i = 0; i < hd / 2; ++i) {
      const double angle = static_cast<double>(static_cast<float>(pos) * inv[i]);
      const double a = x0[h * hd + 2 * i], b = x0[h * hd + 2 * i + 1];
      const double scale = std::fabs(a) + std::fabs(b);
      EXPECT_NEAR(x[h * hd + 2 * i], a * std::cos(angle) - b * std::sin(angle), kRel * scale);
      EXPECT_NEAR(x[h * hd + 2 * i + 1], b * std::cos(angle) + a * std::sin(angle), kRel * scale);
    }
  }
}

TEST(RopeTest, PositionZeroIsIdentity) {
  std::mt19937 rng(4);
  const std::vector<float> inv = InvFreq(128, 10000.0);
  for (RopeStyle style : {RopeStyle::kHalves, RopeStyle::kInterleaved}) {
    const std::vector<float> x0 = Random(4 * 128, rng);
    std::vector<float> x = x0;
    Rope(x.data(), 4, 128, 0, inv.data(), style);
    EXPECT_EQ(x, x0);
  }
}

// GGUF converters permute q/k rows so that interleaved pairs (2i, 2i+1) hold what HF's halves
// layout keeps at (i, i + d/2). Rotating either layout and mapping back must agree exactly.
TEST(RopeTest, HalvesAndInterleavedAreRelatedByTheQkPermutation) {
  std::mt19937 rng(5);
  const int64_t heads = 4, hd = 32, half = hd / 2;
  const std::vector<float> inv = InvFreq(hd, 10000.0);
  std::vector<float> halves = Random(heads * hd, rng), inter(halves.size());
  auto permute = [&](const std::vector<float>& src, std::vector<float>& dst) {
    for (int64_t h = 0; h < heads; ++h) {
      for (int64_t i = 0; i < half; ++i) {
        dst[h * hd + 2 * i] = src[h * hd + i];
        dst[h * hd + 2 * i + 1] = src[h * hd + i + half];
      }
    }
  };
  permute(halves, inter);
  Rope(halves.data(), heads, hd, 321, inv.data(), RopeStyle::kHalves);
  Rope(inter.data(), heads, hd, 321, inv.data(), RopeStyle::kInterleaved);
  std::vector<float> mapped(halves.size());
  permute(halves, mapped);
  EXPECT_EQ(mapped, inter);
}

TEST(SoftmaxTest, MatchesDoubleReferenceAndIsStable) {
  std::mt19937 rng(6);
  for (int64_t n : {1, 2, 17, 1000}) {
    std::vector<float> x = Random(n, rng, 10.0f);
    x[0] += 1000.0f;  // would overflow a naive exp
    const std::vector<float> x0 = x;
    Softmax(x.data(), n);
    double max = -INFINITY, sum = 0.0;
    for (float v : x0) max = std::max<double>(max, v);
    for (float v : x0) sum += std::exp(v - max);
    double total = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double want = std::exp(x0[i] - max) / sum;
      ASSERT_NEAR(x[i], want, kRel * want + 1e-37) << n;
      total += x[i];
    }
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
}

TEST(SoftmaxTest, MaskedEntriesGetZeroAndAllMaskedGivesZeros) {
  const float inf = std::numeric_limits<float>::infinity();
  std::vector<float> x = {0.0f, -inf, 0.0f};
  Softmax(x.data(), 3);
  EXPECT_FLOAT_EQ(x[0], 0.5f);
  EXPECT_EQ(x[1], 0.0f);
  EXPECT_FLOAT_EQ(x[2], 0.5f);
  std::vector<float> masked = {-inf, -inf};
  Softmax(masked.data(), 2);
  EXPECT_EQ(masked, (std::vector<float>{0.0f, 0.0f}));
}

TEST(SiluMulTest, MatchesDoubleReferenceAndMayAliasGate) {
  std::mt19937 rng(7);
  std::vector<float> gate = Random(1001, rng, 4.0f), up = Random(1001, rng);
  gate[0] = -100.0f;  // exp(100) overflows float: must give -0 * up, not NaN
  gate[1] = 100.0f;
  std::vector<float> out(gate.size());
  SiluMul(gate.data(), up.data(), out.data(), 1001);
  for (size_t i = 0; i < gate.size(); ++i) {
    const double g = gate[i];
    const double want = g / (1.0 + std::exp(-g)) * up[i];
    ASSERT_NEAR(out[i], want, kRel * std::fabs(want) + 1e-30) << i;
  }
  std::vector<float> alias = gate;
  SiluMul(alias.data(), up.data(), alias.data(), 1001);
  EXPECT_EQ(alias, out);
}

TEST(AddInPlaceTest, AddsElementwise) {
  std::vector<float> y = {1, 2, 3}, x = {0.5f, -2, 10};
  AddInPlace(y.data(), x.data(), 3);
  EXPECT_EQ(y, (std::vector<float>{1.5f, 0, 13}));
}

}  // namespace
}  // namespace sg
