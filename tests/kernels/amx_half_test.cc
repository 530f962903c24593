// The AMX-BF16 kernel of F16 and BF16 weights (amx_half.h): a (row, token) result does not depend
// on the other tokens of the call, on where the token sits in it, or on which rows are computed
// with it; every result is within the split arithmetic's bound of the exact dot product; accumulate
// adds with one rounding. Skipped where the CPU or the OS does not allow the tile unit.
#include "engine/kernels/amx_half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

#include "engine/core/half.h"
#include "engine/kernels/amx.h"

namespace sg {
namespace {

// 64-byte aligned bytes (the tile loads want aligned rows).
struct AlignedBytes {
  explicit AlignedBytes(int64_t n)
      : p(static_cast<std::byte*>(
            std::aligned_alloc(64, static_cast<size_t>((n + 63) / 64 * 64)))) {}
  ~AlignedBytes() { std::free(p); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  std::byte* p;
};

struct Problem {
  int64_t rows, n;
  bool bf16;                // weights in bfloat16 (else f16)
  std::vector<uint16_t> w;  // rows x n
  std::vector<float> x;     // tokens x n

  float W(int64_t i) const { return bf16 ? Bf16ToF32(w[i]) : F16ToF32(w[i]); }
};

Problem MakeProblem(int64_t rows, int64_t n, int64_t tokens, uint32_t seed, bool bf16) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  Problem p{rows, n, bf16, {}, {}};
  p.w.resize(static_cast<size_t>(rows * n));
  for (uint16_t& v : p.w) v = bf16 ? F32ToBf16(dist(rng)) : F32ToF16(dist(rng));
  p.x.resize(static_cast<size_t>(tokens * n));
  for (float& v : p.x) v = dist(rng);
  return p;
}

// out (tokens x out_stride) for rows [r0, r1) and tokens [t0, t1) of p, through the kernel.
std::vector<float> RunKernel(const Problem& p, int64_t r0, int64_t r1, int64_t t0, int64_t t1,
                             bool accumulate = false, float init = 0.0f) {
  const int64_t tokens = t1 - t0;
  AlignedBytes tiles(HalfTilesBytes(tokens, p.n));
  const float* x = p.x.data() + t0 * p.n;
  PackHalfTiles(x, p.n, tokens, p.n, 0, (tokens + 15) / 16, tiles.p);
  std::vector<float> out(static_cast<size_t>(tokens * p.rows), init);
  HalfGemmAmx(p.w.data() + r0 * p.n, p.n, r1 - r0, tiles.p, tokens, p.n, out.data() + r0, p.rows,
              accumulate, p.bf16);
  return out;
}

// Param: BF16 weights (else F16).
class AmxHalfTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!AmxHalfUsable()) GTEST_SKIP() << "no AMX-BF16 here: " << AmxNote();
  }
};

// Token counts that take each path of the kernel: one token tile (up to four strips at once),
// up to four tiles (chunks converted as they are used) and more (strips converted once per
// super-tile); head sizes with and without a tail chunk; 83 rows leave a partial strip.
TEST_P(AmxHalfTest, ATokensResultDoesNotDependOnTheRestOfTheCall) {
  for (int64_t n : {32, 40, 96, 1000}) {
    const int64_t rows = 83, tokens = 70;
    const Problem p = MakeProblem(rows, n, tokens, static_cast<uint32_t>(n), GetParam());
    const std::vector<float> all = RunKernel(p, 0, rows, 0, tokens);
    for (int64_t t0 : {0, 5, 33, 64}) {
      for (int64_t count : {1, 2, 16, 17, 40}) {
        const int64_t t1 = std::min(tokens, t0 + count);
        if (t1 - t0 < 1) continue;
        const std::vector<float> part = RunKernel(p, 0, rows, t0, t1);
        for (int64_t t = t0; t < t1; ++t) {
          for (int64_t r = 0; r < rows; ++r) {
            ASSERT_EQ(part[(t - t0) * rows + r], all[t * rows + r])
                << "n=" << n << " tokens [" << t0 << ", " << t1 << ") t=" << t << " r=" << r;
          }
        }
      }
    }
    // Row ranges that do not start on a strip boundary.
    for (auto [r0, r1] : {std::pair<int64_t, int64_t>{5, 40}, {16, 83}, {70, 83}, {0, 1}}) {
      const std::vector<float> part = RunKernel(p, r0, r1, 0, tokens);
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = r0; r < r1; ++r) {
          ASSERT_EQ(part[t * rows + r], all[t * rows + r]) << "n=" << n << " rows " << r0;
        }
      }
    }
  }
}

// The bound of amx_half.h (BF16 weights: only the activation's split, 2^-16, two products per
// element). F16: per product, |w x - (wh xh + wh xl + wl xh)| <= 2^-15 |w x| (the
// split of x leaves at most 2^-16 |x|, the dropped wl xl at most 2^-16 |w x|), plus the f32
// additions of three products per element (3n roundings of partial sums <= sum |w x|), plus an
// absolute FLT_MIN per product for the flushed denormals.
TEST_P(AmxHalfTest, ResultsAreWithinTheSplitBound) {
  for (int64_t n : {40, 1000, 4096}) {
    const int64_t rows = 19, tokens = 21;
    Problem p = MakeProblem(rows, n, tokens, 7, GetParam());
    // Extremes: the largest f16 (bf16: 65536), the smallest subnormal f16 (bf16: the smallest
    // normal), zeros; tiny and large activations.
    p.w[0] = p.bf16 ? 0x4780 : 0x7BFF;
    p.w[1] = p.bf16 ? 0x0080 : 0x0001;
    p.w[2] = 0x0000;
    p.w[3] = p.bf16 ? 0xC780 : 0xFBFF;
    p.x[0] = 1e-30f;
    p.x[1] = 3e20f;
    p.x[n + 2] = -1e-39f;  // a denormal
    const std::vector<float> got = RunKernel(p, 0, rows, 0, tokens);
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t r = 0; r < rows; ++r) {
        double exact = 0, abs_sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double prod = static_cast<double>(p.W(r * n + i)) * p.x[t * n + i];
          exact += prod;
          abs_sum += std::fabs(prod);
        }
        const double bound =
            (std::ldexp(1.0, p.bf16 ? -16 : -15) +
             (p.bf16 ? 2.0 : 3.0) * static_cast<double>(n) * std::ldexp(1.0, -24)) *
                abs_sum +
            static_cast<double>(n) * 1.2e-38;
        ASSERT_LE(std::fabs(got[t * rows + r] - exact), bound)
            << "n=" << n << " t=" << t << " r=" << r;
      }
    }
  }
}

TEST_P(AmxHalfTest, AccumulateAddsTheDotProductOnce) {
  const int64_t rows = 35, n = 96, tokens = 18;
  const Problem p = MakeProblem(rows, n, tokens, 3, GetParam());
  const std::vector<float> y = RunKernel(p, 0, rows, 0, tokens);
  const std::vector<float> acc = RunKernel(p, 0, rows, 0, tokens, /*accumulate=*/true, 1.5f);
  for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(acc[i], 1.5f + y[i]) << i;
}

INSTANTIATE_TEST_SUITE_P(F16AndBf16, AmxHalfTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) {
                           return i.param ? "bf16" : "f16";
                         });

}  // namespace
}  // namespace sg
