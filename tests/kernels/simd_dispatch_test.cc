// Every SIMD target Highway compiled in (and this CPU runs) against the scalar twin and a double
// reference, on sizes that exercise the vector body, the 4x-unrolled body and the scalar tail.
#include "engine/kernels/simd_dispatch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/core/half.h"
#include "engine/kernels/simd_targets.h"

namespace sg {
namespace {

constexpr int64_t kSizes[] = {0, 1, 3, 7, 8, 16, 17, 31, 33, 64, 255, 1000, 4097};

std::vector<float> RandomVector(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

// Restores the default choice after each test so test order does not matter.
class SimdTargetsTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ForceSimdTarget("best").ok()); }
};

TEST_F(SimdTargetsTest, ListsScalarLastAndBestFirst) {
  const std::vector<std::string> targets = CompiledSimdTargets();
  ASSERT_GE(targets.size(), 1u);
  EXPECT_EQ(targets.back(), "scalar");
  ASSERT_TRUE(ForceSimdTarget("best").ok());
  EXPECT_EQ(SimdTargetName(), targets.front());
}

TEST_F(SimdTargetsTest, ForceIsCaseInsensitiveAndRejectsUnknownNames) {
  ASSERT_TRUE(ForceSimdTarget("SCALAR").ok());
  EXPECT_EQ(SimdTargetName(), "scalar");
  EXPECT_EQ(GetSimdKernels().dot_f32, ScalarSimdKernels().dot_f32);
  EXPECT_NE(SimdSelectionNote().find("scalar"), std::string::npos);
  const std::string before = SimdTargetName();
  EXPECT_FALSE(ForceSimdTarget("avx9000").ok());
  EXPECT_FALSE(ForceSimdTarget("").ok());
  EXPECT_EQ(SimdTargetName(), before);  // a failed force changes nothing
}

TEST_F(SimdTargetsTest, DotMatchesScalarTwinAndDoubleReference) {
  std::mt19937 rng(1234);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    for (int64_t n : kSizes) {
      const std::vector<float> a = RandomVector(n, rng), b = RandomVector(n, rng);
      double exact = 0.0, abs_sum = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        exact += static_cast<double>(a[i]) * b[i];
        abs_sum += std::fabs(static_cast<double>(a[i]) * b[i]);
      }
      // Worst-case float summation error of n products: n * eps * sum|a_i b_i|.
      const double bound = static_cast<double>(n) * FLT_EPSILON * abs_sum;
      const float got = k.dot_f32(a.data(), b.data(), n);
      const float spec = ScalarSimdKernels().dot_f32(a.data(), b.data(), n);
      EXPECT_LE(std::fabs(got - exact), bound) << target << " n=" << n;
      EXPECT_LE(std::fabs(static_cast<double>(got) - spec), 2 * bound) << target << " n=" << n;
    }
  }
}

TEST_F(SimdTargetsTest, Dot4MatchesScalarTwinRowByRow) {
  std::mt19937 rng(77);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    for (int64_t n : kSizes) {
      const int64_t stride = n + 3;  // rows need not be adjacent
      const std::vector<float> w = RandomVector(4 * stride, rng), x = RandomVector(n, rng);
      float got[4] = {NAN, NAN, NAN, NAN}, spec[4];
      k.dot4_f32(w.data(), stride, x.data(), n, got);
      ScalarSimdKernels().dot4_f32(w.data(), stride, x.data(), n, spec);
      for (int r = 0; r < 4; ++r) {
        double exact = 0.0, abs_sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
          exact += static_cast<double>(w[r * stride + i]) * x[i];
          abs_sum += std::fabs(static_cast<double>(w[r * stride + i]) * x[i]);
        }
        const double bound = static_cast<double>(n) * FLT_EPSILON * abs_sum;
        EXPECT_LE(std::fabs(got[r] - exact), bound) << target << " n=" << n << " r=" << r;
        EXPECT_LE(std::fabs(static_cast<double>(got[r]) - spec[r]), 2 * bound) << target;
      }
    }
  }
}

TEST_F(SimdTargetsTest, AxpyMatchesScalarTwin) {
  std::mt19937 rng(99);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    for (int64_t n : kSizes) {
      const std::vector<float> x = RandomVector(n, rng), y0 = RandomVector(n, rng);
      const float alpha = 0.37f;
      std::vector<float> got = y0, spec = y0;
      k.axpy_f32(alpha, x.data(), got.data(), n);
      ScalarSimdKernels().axpy_f32(alpha, x.data(), spec.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        // One product and one add (FMA rounds once, the twin twice): within 2 ulps of the terms.
        const double exact = static_cast<double>(y0[i]) + static_cast<double>(alpha) * x[i];
        const double scale = std::fabs(y0[i]) + std::fabs(alpha * x[i]);
        EXPECT_LE(std::fabs(got[i] - exact), FLT_EPSILON * scale) << target << " i=" << i;
        EXPECT_LE(std::fabs(got[i] - spec[i]), 2 * FLT_EPSILON * scale) << target << " i=" << i;
      }
    }
  }
}

// The fused attention block step: every target against the twin, on head sizes with a d % 4 tail
// and a tail past the vector width, rows seeing 1..16 slots (pairs with equal and unequal
// counts), NaN in the slots no row sees, and a second block whose max grows (the rescale).
// The scores and max are the twin's bit for bit where MulAdd fuses; p uses a 2-ulp exp and the
// sum a tree, so the state and acc are checked against the twin within a bound from the math:
// acc = sum_j p_j v_j with each p_j within (2 + 2) ulps after the rescale.
TEST_F(SimdTargetsTest, AttendBlockMatchesScalarTwin) {
  std::mt19937 rng(9);
  constexpr int64_t kS = kAttendBlockSlots;
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    for (int64_t dim : {1, 3, 7, 16, 32, 64, 67, 128}) {
      for (int64_t rows : {1, 2, 3, 5, 16}) {
        const std::vector<float> q = RandomVector(rows * dim, rng);
        std::vector<int64_t> counts(static_cast<size_t>(rows));
        for (int64_t r = 0; r < rows; ++r) counts[r] = r % 3 == 2 ? 1 + (r * 7) % kS : kS - r % 2;
        const int64_t v_stride = dim + 5;
        std::vector<float> got_acc(static_cast<size_t>(rows * dim)), spec_acc;
        std::vector<float> got_max(rows, -INFINITY), got_sum(rows, 0.0f), spec_max, spec_sum;
        spec_acc = got_acc;
        spec_max = got_max;
        spec_sum = got_sum;
        std::vector<double> scale_acc(static_cast<size_t>(rows * dim), 0.0);
        for (int block = 0; block < 2; ++block) {
          std::vector<float> kt = RandomVector(dim * kS, rng), v = RandomVector(kS * v_stride, rng);
          for (float& x : kt) x *= block == 0 ? 1.0f : 3.0f;  // the second block raises the max
          int64_t max_count = 0;
          for (int64_t c : counts) max_count = std::max(max_count, c);
          for (int64_t j = max_count; j < kS; ++j) {
            for (int64_t e = 0; e < dim; ++e) kt[e * kS + j] = NAN;
            for (int64_t e = 0; e < dim; ++e) v[j * v_stride + e] = NAN;
          }
          const float scale = 1.0f / std::sqrt(static_cast<float>(dim));
          k.attend_block_f32(q.data(), rows, counts.data(), kt.data(), v.data(), v_stride, dim,
                             scale, got_max.data(), got_sum.data(), got_acc.data());
          ScalarSimdKernels().attend_block_f32(q.data(), rows, counts.data(), kt.data(), v.data(),
                                               v_stride, dim, scale, spec_max.data(),
                                               spec_sum.data(), spec_acc.data());
          for (int64_t r = 0; r < rows; ++r) {
            for (int64_t e = 0; e < dim; ++e) {
              double m = 0;
              for (int64_t j = 0; j < counts[r]; ++j) m += std::fabs(v[j * v_stride + e]);
              scale_acc[r * dim + e] = std::max(scale_acc[r * dim + e], m);
            }
          }
        }
        for (int64_t r = 0; r < rows; ++r) {
          const std::string where = target + " dim=" + std::to_string(dim) +
                                    " rows=" + std::to_string(rows) + " r=" + std::to_string(r);
          // Scores within the reordering-free FMA chain: exact on fused targets; others round
          // each product once more (dim eps relative to sum |q k|, a loose bound here).
          EXPECT_NEAR(got_max[r], spec_max[r], 4 * dim * FLT_EPSILON * (1 + std::fabs(spec_max[r])))
              << where;
          EXPECT_NEAR(got_sum[r], spec_sum[r], (2 * kS + 8) * FLT_EPSILON * spec_sum[r]) << where;
          for (int64_t e = 0; e < dim; ++e) {
            const double bound = (2 * kS + 8) * FLT_EPSILON * 2 * scale_acc[r * dim + e] *
                                     std::max(1.0f, spec_sum[r]) +
                                 1e-30;
            ASSERT_NEAR(got_acc[r * dim + e], spec_acc[r * dim + e], bound) << where << " e=" << e;
            ASSERT_FALSE(std::isnan(got_acc[r * dim + e])) << where;
          }
        }
      }
    }
  }
}

// A row's bits do not depend on the rows batched with it (tiles and chunks vary; prefix reuse
// needs equal bits): each row alone equals the same row inside a call of many rows.
TEST_F(SimdTargetsTest, AttendBlockRowIsIndependentOfItsNeighbours) {
  std::mt19937 rng(10);
  constexpr int64_t kS = kAttendBlockSlots;
  const int64_t dim = 64, rows = 7;
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    const std::vector<float> q = RandomVector(rows * dim, rng), kt = RandomVector(dim * kS, rng);
    const std::vector<float> v = RandomVector(kS * dim, rng);
    const int64_t counts[rows] = {16, 16, 5, 16, 9, 9, 3};
    std::vector<float> acc(rows * dim, 0.0f), mx(rows, -INFINITY), sum(rows, 0.0f);
    k.attend_block_f32(q.data(), rows, counts, kt.data(), v.data(), dim, dim, 0.125f, mx.data(),
                       sum.data(), acc.data());
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<float> a(dim, 0.0f);
      float m = -INFINITY, s = 0.0f;
      k.attend_block_f32(q.data() + r * dim, 1, counts + r, kt.data(), v.data(), dim, dim, 0.125f,
                         &m, &s, a.data());
      EXPECT_EQ(std::memcmp(&m, &mx[r], sizeof(float)), 0) << target << " r=" << r;
      EXPECT_EQ(std::memcmp(&s, &sum[r], sizeof(float)), 0) << target << " r=" << r;
      EXPECT_EQ(std::memcmp(a.data(), acc.data() + r * dim, dim * sizeof(float)), 0)
          << target << " r=" << r;
    }
  }
}

// silu(g) * up: every target within a few ulps of the twin (std::exp), the extremes included:
// exp(-g) overflowing (g < -88.7, and below the vector exp's range at -104) gives -0 * up, a
// large g gives g * up, NaN stays NaN; out may alias gate.
TEST_F(SimdTargetsTest, SiluMulMatchesScalarTwin) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> dist(-20.0f, 20.0f);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    for (int64_t n : kSizes) {
      std::vector<float> gate(static_cast<size_t>(n)), up(static_cast<size_t>(n));
      for (float& x : gate) x = dist(rng);
      for (float& x : up) x = dist(rng);
      const float extremes[] = {-200.0f, -104.5f, -100.0f, -88.0f, 0.0f, 88.0f, 100.0f, 1e30f};
      for (int64_t i = 0; i < n && i < 8; ++i) gate[static_cast<size_t>(i)] = extremes[i];
      if (n > 8) gate[8] = NAN;
      std::vector<float> got(gate.size()), spec(gate.size());
      k.silu_mul_f32(gate.data(), up.data(), got.data(), n);
      ScalarSimdKernels().silu_mul_f32(gate.data(), up.data(), spec.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        if (std::isnan(spec[i])) {
          EXPECT_TRUE(std::isnan(got[i])) << target << " gate=" << gate[i];
          continue;
        }
        EXPECT_LE(std::fabs(got[i] - spec[i]), 8 * FLT_EPSILON * std::fabs(spec[i]) + FLT_MIN)
            << target << " gate=" << gate[i] << " up=" << up[i];
      }
      std::vector<float> alias = gate;
      k.silu_mul_f32(alias.data(), up.data(), alias.data(), n);
      if (n > 0) {  // memcmp of an empty vector's null data() is undefined
        EXPECT_EQ(std::memcmp(alias.data(), got.data(), alias.size() * sizeof(float)), 0) << target;
      }
    }
  }
}

// The integer probe behind the benchmarks' int8 roof: where a target has one it names its
// instruction and counts whole rounds of work (AMX: 4 tile products of 32768 operations; VNNI:
// 8 x 128; maddubs: 8 x 64), so the count is a positive multiple of the smallest round.
TEST_F(SimdTargetsTest, Int8ProbeCountsItsWorkWhereATargetHasOne) {
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    if (k.int8_probe == nullptr) {
      EXPECT_STREQ(k.int8_probe_name, "") << target;
      continue;
    }
    EXPECT_STRNE(k.int8_probe_name, "") << target;
    const double ops = k.int8_probe(100);
    EXPECT_GE(ops, 100.0 * 8 * 64) << target;
    EXPECT_EQ(std::fmod(ops, 100.0 * 8 * 64), 0.0) << target;
  }
}

// The probe behind the benchmarks' compute roof: counts 2 operations per FMA lane and computes
// the same chains on every target (x <- x * 0.999999 + 1e-7 converges, so the sink stays finite).
TEST_F(SimdTargetsTest, FmaProbeCountsItsWorkOnEveryTarget) {
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    float sink = 0.0f;
    const double flops = GetSimdKernels().fma_probe(1000, &sink);
    EXPECT_GE(flops, 1000.0 * 16.0) << target;  // at least one lane
    EXPECT_EQ(std::fmod(flops, 1000.0 * 16.0), 0.0) << target;
    EXPECT_TRUE(std::isfinite(sink)) << target;
    EXPECT_GT(sink, 8.0f) << target;
  }
}

TEST(ChooseSimdTargetTest, ParsesTheEnvironmentValue) {
  const std::string best = CompiledSimdTargets().front();
  std::string note;
  EXPECT_EQ(ChooseSimdTarget(nullptr, &note)->name, best);
  EXPECT_EQ(note, "");
  EXPECT_EQ(ChooseSimdTarget("", &note)->name, best);
  EXPECT_EQ(ChooseSimdTarget("Scalar", &note)->name, "scalar");
  EXPECT_NE(note.find("forces scalar"), std::string::npos) << note;
  // Unknown: falls back to the best and says why.
  EXPECT_EQ(ChooseSimdTarget("avx9000", &note)->name, best);
  EXPECT_NE(note.find("not a known target"), std::string::npos) << note;
  // Every runnable target can be forced by its lower-case name.
  for (const std::string& t : CompiledSimdTargets()) {
    std::string lower = t;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_EQ(ChooseSimdTarget(lower.c_str(), &note)->name, t);
  }
  // A real target this CPU lacks (or that was not compiled): falls back with a reason.
  const std::vector<std::string> runnable = CompiledSimdTargets();
  for (const std::string name : {"AVX3", "AVX3_DL", "NEON"}) {
    if (std::find(runnable.begin(), runnable.end(), name) != runnable.end()) continue;
    EXPECT_EQ(ChooseSimdTarget(name.c_str(), &note)->name, best) << name;
    EXPECT_NE(note.find("not supported by this CPU"), std::string::npos) << note;
  }
}

// Highway 1.0.3 builds AVX3_DL with AVX-VNNI (VEX) instructions, so that target may be offered
// only where CPUID has AVX-VNNI (leaf 7 subleaf 1, EAX bit 4), not merely AVX512-VNNI: on Ice Lake
// and Zen 4 it must be absent (they run AVX3).
TEST(SimdDispatchTest, Avx3DlOnlyWhereTheCpuHasAvxVnni) {
#if defined(__x86_64__) || defined(__i386__)
  const std::vector<std::string> targets = CompiledSimdTargets();
  if (std::find(targets.begin(), targets.end(), "AVX3_DL") == targets.end()) {
    GTEST_SKIP() << "AVX3_DL not offered here";
  }
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  ASSERT_NE(__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx), 0);
  EXPECT_EQ((eax >> 4) & 1, 1u) << "AVX3_DL offered on a CPU without AVX-VNNI";
#else
  GTEST_SKIP() << "x86 only";
#endif
}

bool SameFloat(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  uint32_t ua, ub;
  std::memcpy(&ua, &a, 4);
  std::memcpy(&ub, &b, 4);
  return ua == ub;  // also tells +0 from -0
}

TEST_F(SimdTargetsTest, HalfConversionsAreExactForEveryBitPattern) {
  std::vector<uint16_t> all(65536 + 5);  // +5: a tail shorter than a vector
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<uint16_t>(i * 0x9e37u + (i >> 16));
  for (size_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<float> got(all.size());
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const SimdKernels& k = GetSimdKernels();
    k.f16_to_f32(all.data(), got.data(), static_cast<int64_t>(all.size()));
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_TRUE(SameFloat(got[i], F16ToF32(all[i]))) << target << " f16 bits=" << all[i];
    }
    k.bf16_to_f32(all.data(), got.data(), static_cast<int64_t>(all.size()));
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_TRUE(SameFloat(got[i], Bf16ToF32(all[i]))) << target << " bf16 bits=" << all[i];
    }
  }
}

// The q8_0 KV widening, every target against the twin bit for bit (+0 and -0 told apart) and
// against float(code) * float(scale) from the block bytes: head sizes 32..128, each slot count
// 1..16, rows `stride` bytes apart (other heads between them; odd), random codes including -128 and
// 127, scales of every magnitude including -0, subnormals and the largest half. The slots past
// the count hold inf / NaN scales: they must come out +0.
TEST_F(SimdTargetsTest, Q8_0KvWideningMatchesTwinBitForBit) {
  std::mt19937 rng(21);
  std::uniform_int_distribution<int> byte(0, 255);
  const uint16_t special[] = {0x8000, 0x0001, 0x03ff, 0x7bff, 0xfbff, 0x3c00, 0x0400};
  for (int64_t d : {32, 64, 128}) {
    // Odd offsets and strides: the rows need not be 4-byte aligned.
    const int64_t head_bytes = d / 32 * 34, stride = 3 * head_bytes + 5;
    std::vector<uint8_t> tile(static_cast<size_t>(16 * stride));
    for (uint8_t& b : tile) b = static_cast<uint8_t>(byte(rng));
    const int64_t at = head_bytes + 1;  // the head's row within each slot's row
    for (int64_t j = 0; j < 16; ++j) {
      for (int64_t b = 0; b < d / 32; ++b) {
        uint8_t* block = tile.data() + j * stride + at + b * 34;
        uint16_t scale = F32ToF16(std::ldexp(static_cast<float>(byte(rng) - 128) / 128.0f,
                                             static_cast<int>(byte(rng) % 40) - 24));
        if ((j + b) % 5 == 0) scale = special[(j + b) % 7];
        std::memcpy(block, &scale, 2);
        block[2] = 0x80;  // -128
        block[3] = 0x7f;
      }
    }
    const uint8_t* head = tile.data() + at;
    auto value = [&](int64_t j, int64_t e) {
      const uint8_t* block = head + j * stride + e / 32 * 34;
      uint16_t scale;
      std::memcpy(&scale, block, 2);
      return static_cast<float>(static_cast<int8_t>(block[2 + e % 32])) * F16ToF32(scale);
    };
    for (int64_t count = 1; count <= 16; ++count) {
      // Slots past the count: scales that would poison a product (inf, NaN).
      std::vector<uint8_t> poisoned = tile;
      for (int64_t j = count; j < 16; ++j) {
        for (int64_t b = 0; b < d / 32; ++b) {
          const uint16_t bad = j % 2 ? 0x7c00 : 0x7e00;
          std::memcpy(poisoned.data() + j * stride + at + b * 34, &bad, 2);
        }
      }
      std::vector<float> want(static_cast<size_t>(16 * d)), row(static_cast<size_t>(d));
      ScalarSimdKernels().q8_0_to_f32_kt(poisoned.data() + at, stride, count, d, want.data());
      for (int64_t e = 0; e < d; ++e) {
        for (int64_t j = 0; j < 16; ++j) {
          ASSERT_TRUE(SameFloat(want[e * 16 + j], j < count ? value(j, e) : 0.0f))
              << "twin d=" << d << " count=" << count << " e=" << e << " j=" << j;
        }
      }
      for (const std::string& target : CompiledSimdTargets()) {
        ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
        const SimdKernels& k = GetSimdKernels();
        std::vector<float> got(static_cast<size_t>(16 * d), -1.0f);
        k.q8_0_to_f32_kt(poisoned.data() + at, stride, count, d, got.data());
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_TRUE(SameFloat(got[i], want[i]))
              << target << " d=" << d << " count=" << count << " e=" << i / 16 << " j=" << i % 16;
        }
        for (int64_t j = 0; j < count; ++j) {
          k.q8_0_to_f32(head + j * stride, row.data(), d);
          for (int64_t e = 0; e < d; ++e) {
            ASSERT_TRUE(SameFloat(row[e], value(j, e))) << target << " d=" << d << " e=" << e;
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sg
