// The integer dot kernels of every compiled SIMD target against the scalar twin, bit for bit, on
// random blocks (any code bytes, including Q8_0's -128) and odd block counts; the twin itself
// against a double-precision dot of the dequantized weights and activations; the widened half
// dots within the bound of float summation.
#include "engine/kernels/quant_dot.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/core/half.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/blocks.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

constexpr DType kIntegerTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1,
                                   DType::kQ8_0, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K};

// Random blocks: every byte random, then the scale fields set to finite fp16 values (a random
// scale byte pair can be inf/NaN, which would make bit comparison meaningless).
std::vector<uint8_t> RandomRow(DType type, int64_t n, std::mt19937& rng) {
  const QuantTraits* t = GetQuantTraits(type);
  const int64_t blocks = n / t->block_elems;
  std::vector<uint8_t> row(static_cast<size_t>(blocks * t->block_bytes));
  std::uniform_int_distribution<int> byte(0, 255);
  for (uint8_t& b : row) b = static_cast<uint8_t>(byte(rng));
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  auto put = [&](uint8_t* at, float v) {
    const uint16_t h = F32ToF16(v);
    std::memcpy(at, &h, 2);
  };
  for (int64_t b = 0; b < blocks; ++b) {
    uint8_t* blk = row.data() + b * t->block_bytes;
    switch (type) {
      case DType::kQ4_1:
      case DType::kQ5_1:
      case DType::kQ4_K:
      case DType::kQ5_K:
        put(blk, scale(rng));
        put(blk + 2, scale(rng));
        break;
      case DType::kQ6_K:
        put(blk + offsetof(BlockQ6_K, d), scale(rng));
        break;
      default:
        put(blk, scale(rng));
        break;
    }
  }
  return row;
}

std::vector<float> RandomFloats(int64_t n, std::mt19937& rng, float sigma = 1.0f) {
  std::normal_distribution<float> dist(0.0f, sigma);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = dist(rng);
  return v;
}

std::vector<uint8_t> Quantized(DType weight, const std::vector<float>& x) {
  const DType act = ActivationTypeFor(weight);
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> out(static_cast<size_t>(ActivationRowBytes(act, n)));
  QuantizeActivationRow(act, x.data(), out.data(), n);
  return out;
}

// Dequantized activation values, as the integer kernels see them.
std::vector<float> ActivationValues(DType weight, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  if (ActivationTypeFor(weight) == DType::kQ8_K) {
    GetQuantTraits(DType::kQ8_K)->dequantize_row(q.data(), v.data(), n);
    return v;
  }
  const auto* blocks = reinterpret_cast<const ActQ8Block*>(q.data());
  for (int64_t i = 0; i < n; ++i)
    v[i] = blocks[i / 32].d * static_cast<float>(blocks[i / 32].qs[i % 32]);
  return v;
}

std::vector<int64_t> Sizes(DType type) {
  const int64_t b = GetQuantTraits(type)->block_elems;
  return {b, 2 * b, 3 * b, 7 * b, 18 * b, 33 * b};
}

class QuantDotTest : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ForceSimdTarget("best").ok()); }
};

// fn(target, kernels, type, n) for every compiled target, integer type and test size.
template <typename Fn>
void ForEachTargetTypeAndSize(Fn fn) {
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    for (DType type : kIntegerTypes) {
      for (int64_t n : Sizes(type)) fn(target, GetSimdKernels().quant, type, n);
    }
  }
}

TEST_F(QuantDotTest, EveryTargetEqualsTheScalarTwinBitForBit) {
  std::mt19937 rng(7);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  ForEachTargetTypeAndSize(
      [&](const std::string& target, const QuantDotKernels& k, DType type, int64_t n) {
        for (int rep = 0; rep < 4; ++rep) {
          const std::vector<uint8_t> w = RandomRow(type, n, rng);
          const std::vector<uint8_t> a = Quantized(type, RandomFloats(n, rng));
          const float want = QuantDotFor(twin, type)(w.data(), a.data(), n);
          const float got = QuantDotFor(k, type)(w.data(), a.data(), n);
          ASSERT_EQ(std::memcmp(&want, &got, 4), 0)
              << target << " " << DTypeName(type) << " n=" << n << " rep=" << rep << ": " << got
              << " vs twin " << want;
        }
      });
}

TEST_F(QuantDotTest, FourRowKernelsEqualTheOneRowTwinBitForBit) {
  std::mt19937 rng(9);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  ForEachTargetTypeAndSize(
      [&](const std::string& target, const QuantDotKernels& k, DType type, int64_t n) {
        std::vector<uint8_t> rows;
        for (int r = 0; r < 4; ++r) {
          const std::vector<uint8_t> row = RandomRow(type, n, rng);
          rows.insert(rows.end(), row.begin(), row.end());
        }
        const int64_t row_bytes = static_cast<int64_t>(rows.size() / 4);
        const std::vector<uint8_t> a = Quantized(type, RandomFloats(n, rng));
        float got[4];
        QuantDot4For(k, type)(rows.data(), row_bytes, a.data(), n, got);
        for (int r = 0; r < 4; ++r) {
          const float want = QuantDotFor(twin, type)(rows.data() + r * row_bytes, a.data(), n);
          ASSERT_EQ(std::memcmp(&want, &got[r], 4), 0)
              << target << " " << DTypeName(type) << " n=" << n << " row " << r << ": " << got[r]
              << " vs twin " << want;
        }
      });
}

TEST_F(QuantDotTest, TwinMatchesDequantizedDoubleDot) {
  std::mt19937 rng(11);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  for (DType type : kIntegerTypes) {
    const QuantTraits* t = GetQuantTraits(type);
    for (int64_t n : Sizes(type)) {
      const std::vector<uint8_t> w = RandomRow(type, n, rng);
      const std::vector<float> x = RandomFloats(n, rng);
      const std::vector<uint8_t> a = Quantized(type, x);
      std::vector<float> wf(static_cast<size_t>(n));
      t->dequantize_row(w.data(), wf.data(), n);
      const std::vector<float> af = ActivationValues(type, a, n);
      double ref = 0, mag = 0;
      for (int64_t i = 0; i < n; ++i) {
        ref += static_cast<double>(wf[i]) * af[i];
        mag += std::fabs(static_cast<double>(wf[i]) * af[i]);
      }
      const float got = QuantDotFor(twin, type)(w.data(), a.data(), n);
      // Float combination of exact integer sums: a few roundings per block, relative to sum |w a|.
      EXPECT_NEAR(got, ref, 1e-5 * mag + 1e-30) << DTypeName(type) << " n=" << n;
    }
  }
}

TEST_F(QuantDotTest, ActivationQuantizationIsWithinHalfAStep) {
  std::mt19937 rng(3);
  const std::vector<float> x = RandomFloats(256 * 3, rng, 3.0f);
  for (DType weight : {DType::kQ4_0, DType::kQ4_K}) {
    const std::vector<uint8_t> q = Quantized(weight, x);
    const std::vector<float> v = ActivationValues(weight, q, static_cast<int64_t>(x.size()));
    const int block = ActivationTypeFor(weight) == DType::kQ8_K ? 256 : 32;
    for (size_t i = 0; i < x.size(); i += block) {
      float amax = 0;
      for (int j = 0; j < block; ++j) amax = std::fmax(amax, std::fabs(x[i + j]));
      for (int j = 0; j < block; ++j) {
        ASSERT_LE(std::fabs(v[i + j] - x[i + j]), amax / 127.0f * 0.5f * 1.0001f) << i + j;
      }
    }
  }
  // All-zero blocks quantize to zeros with d = 0 (no division by zero).
  std::vector<float> zeros(64, 0.0f);
  std::vector<ActQ8Block> blocks(2);
  QuantizeActQ8(zeros.data(), blocks.data(), 64);
  EXPECT_EQ(blocks[0].d, 0.0f);
  EXPECT_EQ(blocks[1].sum, 0);
}

// Inputs that reach every branch of the quantizers' spec: ordinary values, exact ties after
// scaling (x * 127 / amax = k + 0.5), all zeros, NaN and infinities among finite values, and
// blocks whose largest value is tiny (subnormal scale).
std::vector<float> QuantizerInputs(int64_t blocks_of_256, std::mt19937& rng) {
  std::vector<float> x = RandomFloats(256 * blocks_of_256, rng, 2.0f);
  for (int64_t i = 0; i < 32; ++i) x[i] = (static_cast<float>(i) - 15.5f) / 127.0f;  // ties
  x[31] = 1.0f;  // amax of the first 32: x * 127 / amax is k + 0.5 for the others
  for (int64_t i = 256; i < 288 && i < static_cast<int64_t>(x.size()); ++i) x[i] = 0.0f;
  if (x.size() >= 512) {
    x[300] = std::nanf("");
    x[333] = INFINITY;
    x[400] = -INFINITY;
    x[450] = std::nanf("");
    for (int64_t i = 480; i < 512; ++i) x[i] = 1e-40f * static_cast<float>(i - 495);
  }
  return x;
}

TEST_F(QuantDotTest, ActivationQuantizersEqualTheTwinBitForBit) {
  std::mt19937 rng(11);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    for (int64_t blocks : {1, 2, 3}) {
      const std::vector<float> x = QuantizerInputs(blocks, rng);
      const int64_t n = static_cast<int64_t>(x.size());
      for (DType act : {DType::kQ8_0, DType::kQ8_K}) {
        const ActQuantizeFn want_fn = act == DType::kQ8_0 ? twin.quantize_q8 : twin.quantize_q8_k;
        const ActQuantizeFn got_fn = act == DType::kQ8_0 ? k.quantize_q8 : k.quantize_q8_k;
        std::vector<uint8_t> want(static_cast<size_t>(ActivationRowBytes(act, n)), 0xAA);
        std::vector<uint8_t> got(want.size(), 0x55);
        want_fn(x.data(), want.data(), n);
        got_fn(x.data(), got.data(), n);
        ASSERT_EQ(want, got) << target << " " << DTypeName(act) << " n=" << n;
        // The table's twin is QuantizeActivationRow itself.
        std::vector<uint8_t> spec(want.size(), 0);
        QuantizeActivationRow(act, x.data(), spec.data(), n);
        ASSERT_EQ(want, spec) << DTypeName(act);
      }
    }
  }
}

TEST_F(QuantDotTest, HalfDotsWithinFloatSummationBound) {
  std::mt19937 rng(5);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    for (int64_t n : {1, 7, 8, 31, 32, 33, 100, 576, 2048}) {
      const std::vector<float> wf = RandomFloats(n, rng), x = RandomFloats(n, rng);
      std::vector<uint16_t> h(static_cast<size_t>(n)), b(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) {
        h[i] = F32ToF16(wf[i]);
        b[i] = F32ToBf16(wf[i]);
      }
      for (bool bf16 : {false, true}) {
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double wv = bf16 ? Bf16ToF32(b[i]) : F16ToF32(h[i]);
          ref += wv * x[i];
          mag += std::fabs(wv * x[i]);
        }
        const float got = bf16 ? k.bf16(b.data(), x.data(), n) : k.f16(h.data(), x.data(), n);
        EXPECT_NEAR(got, ref, static_cast<double>(n) * 6e-8 * mag + 1e-30)
            << target << (bf16 ? " bf16" : " f16") << " n=" << n;
      }
    }
  }
}

// The several-token half kernels: every output equals the same target's one-row kernel bit for
// bit (so batching sequences never changes a sequence's logits), for row and token counts that
// fill the SIMD tiles and leave each remainder, at row, token and output strides wider than a
// row, storing and accumulating.
TEST_F(QuantDotTest, HalfGemmEqualsTheOneRowKernelBitForBit) {
  std::mt19937 rng(6);
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    for (bool bf16 : {false, true}) {
      const HalfDotFn dot = bf16 ? k.bf16 : k.f16;
      const HalfGemmFn gemm = bf16 ? k.bf16_gemm : k.f16_gemm;
      ASSERT_NE(gemm, nullptr) << target;
      for (int64_t n : {8, 13, 32, 40, 576, 2056}) {
        const int64_t w_stride = n + 5, x_stride = n + 3;
        for (int64_t rows : {1, 3, 4, 9}) {
          for (int64_t tokens : {1, 2, 3, 5}) {
            std::vector<uint16_t> w(static_cast<size_t>(rows * w_stride));
            for (uint16_t& v : w) {
              const float f = RandomFloats(1, rng)[0];
              v = bf16 ? F32ToBf16(f) : F32ToF16(f);
            }
            const std::vector<float> x = RandomFloats(tokens * x_stride, rng);
            const int64_t out_stride = rows + 2;
            for (bool accumulate : {false, true}) {
              std::vector<float> got(static_cast<size_t>(tokens * out_stride), 0.5f);
              gemm(w.data(), w_stride, rows, x.data(), x_stride, tokens, n, got.data(), out_stride,
                   accumulate);
              for (int64_t t = 0; t < tokens; ++t) {
                for (int64_t r = 0; r < rows; ++r) {
                  const float one = dot(w.data() + r * w_stride, x.data() + t * x_stride, n);
                  const float want = accumulate ? 0.5f + one : one;
                  ASSERT_EQ(std::memcmp(&want, &got[t * out_stride + r], 4), 0)
                      << target << (bf16 ? " bf16" : " f16") << " n=" << n << " rows " << rows
                      << " tokens " << tokens << " token " << t << " row " << r;
                }
                EXPECT_EQ(got[t * out_stride + rows], 0.5f);  // past the rows: untouched
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sg
