// MatMul / GetRows / ToFloat for every weight type with quant traits, against a naive loop over
// the format's own dequantize_row (the spec) accumulated in double. Every SIMD target, thread
// counts 1 and 3, one token (decode) and several (prefill).
#include "engine/kernels/matmul.h"

#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/kernels/ops.h"
#include "engine/kernels/quant_dot.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/rows8.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

// A weight tensor owned by the test: bytes plus a view of them.
struct OwnedWeight {
  std::vector<std::byte> bytes;
  TensorView view;
};

// Random rows x cols weights stored as `type` through the format's own quantizer.
OwnedWeight MakeWeight(DType type, int64_t rows, int64_t cols, std::mt19937& rng) {
  const QuantTraits* traits = GetQuantTraits(type);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> f(static_cast<size_t>(rows * cols));
  for (float& v : f) v = dist(rng);
  const uint64_t row_bytes =
      static_cast<uint64_t>(cols / traits->block_elems) * traits->block_bytes;
  OwnedWeight w;
  w.bytes.resize(row_bytes * rows);
  for (int64_t r = 0; r < rows; ++r) {
    traits->quantize_row(f.data() + r * cols, w.bytes.data() + r * row_bytes, cols);
  }
  w.view.type = type;
  w.view.shape = {rows, cols};
  w.view.data = w.bytes.data();
  w.view.nbytes = w.bytes.size();
  return w;
}

std::vector<float> Dequantized(const OwnedWeight& w) {
  const QuantTraits* traits = GetQuantTraits(w.view.type);
  const int64_t rows = w.view.rows(), cols = w.view.cols();
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    traits->dequantize_row(w.view.row(r), out.data() + r * cols, cols);
  }
  return out;
}

std::vector<float> RandomInput(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  return x;
}

// Calls fn(target, threads, pool) for every compiled SIMD target and pools of 1 and 3 threads.
template <typename Fn>
void ForEachTargetAndPool(Fn fn) {
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok());
    for (int threads : {1, 3}) {
      ThreadPool pool(threads);
      fn(target, threads, pool);
    }
  }
}

class MatMulTest : public ::testing::TestWithParam<DType> {
 protected:
  void TearDown() override {
    ASSERT_TRUE(ForceSimdTarget("best").ok());
    SetMatMulKernels(MatMulKernels::kFast);
  }
};

// The reference kernel set: float dot products of dequantized rows.
TEST_P(MatMulTest, ReferenceMatchesNaiveLoopOverDequantizeRow) {
  SetMatMulKernels(MatMulKernels::kReference);
  const DType type = GetParam();
  const QuantTraits* traits = GetQuantTraits(type);
  ASSERT_NE(traits, nullptr);
  std::mt19937 rng(static_cast<uint32_t>(type) + 7);
  std::vector<int64_t> widths = {512, 1024 + 256};  // multiples of every block size (32, 256)
  if (traits->block_elems == 1) widths.insert(widths.end(), {1, 3, 17, 255});
  for (int64_t in : widths) {
    for (int64_t out : {1, 7, 70}) {
      const OwnedWeight w = MakeWeight(type, out, in, rng);
      const std::vector<float> wf = Dequantized(w);
      for (int64_t tokens : {1, 5}) {
        const std::vector<float> x = RandomInput(tokens * in, rng);
        ForEachTargetAndPool([&](const std::string& target, int threads, ThreadPool& pool) {
          std::vector<float> y(static_cast<size_t>(tokens * out), NAN);
          MatMul(w.view, x.data(), tokens, y.data(), pool);
          for (int64_t t = 0; t < tokens; ++t) {
            for (int64_t o = 0; o < out; ++o) {
              double exact = 0.0, abs_sum = 0.0;
              for (int64_t i = 0; i < in; ++i) {
                const double p = static_cast<double>(wf[o * in + i]) * x[t * in + i];
                exact += p;
                abs_sum += std::fabs(p);
              }
              // Float accumulation of `in` products: |error| <= in * eps * sum|w_i x_i|.
              const double bound = static_cast<double>(in) * FLT_EPSILON * abs_sum;
              ASSERT_LE(std::fabs(y[t * out + o] - exact), bound)
                  << DTypeName(type) << " " << target << " threads=" << threads << " in=" << in
                  << " out=" << out << " tokens=" << tokens << " t=" << t << " o=" << o;
            }
          }
        });
      }
    }
  }
}

// The fast set: integer types equal the scalar twin of their integer kernel on the quantized input
// bit for bit (and sit within the activation quantization error of the exact product); float
// types are within the float summation bound. Fused calls equal the single ones bit for bit.
TEST_P(MatMulTest, FastEqualsTwinOnQuantizedInput) {
  const DType type = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(type) + 99);
  const int64_t in = 512 + 256, out = 37;
  const OwnedWeight w = MakeWeight(type, out, in, rng);
  const std::vector<float> wf = Dequantized(w);
  const QuantDotFn twin = QuantDotFor(ScalarQuantDotKernels(), type);
  const DType act = ActivationTypeFor(type);
  const int64_t act_block = act == DType::kQ8_K ? 256 : 32;
  // 7 tokens: F16 on the AMX-BF16 tile path where the CPU has it (amx_half.h, from 5 tokens).
  for (int64_t tokens : {1, 4, 7}) {
    const std::vector<float> x = RandomInput(tokens * in, rng);
    ForEachTargetAndPool([&](const std::string& target, int, ThreadPool& pool) {
      std::vector<float> y(static_cast<size_t>(tokens * out), NAN);
      MatMul(w.view, x.data(), tokens, y.data(), pool);
      for (int64_t t = 0; t < tokens; ++t) {
        const float* xt = x.data() + t * in;
        std::vector<uint8_t> q(static_cast<size_t>(ActivationRowBytes(act, in)));
        QuantizeActivationRow(act, xt, q.data(), in);
        for (int64_t o = 0; o < out; ++o) {
          const float got = y[t * out + o];
          double exact = 0.0, abs_sum = 0.0, act_err = 0.0;
          for (int64_t i = 0; i < in; ++i) {
            exact += static_cast<double>(wf[o * in + i]) * xt[i];
            abs_sum += std::fabs(static_cast<double>(wf[o * in + i]) * xt[i]);
          }
          if (twin != nullptr) {
            ASSERT_EQ(got, twin(w.view.row(o), q.data(), in))
                << DTypeName(type) << " " << target << " t=" << t << " o=" << o;
            // |sum w (x~ - x)| <= sum_blocks (amax_b / 127 / 2) * sum_b |w|, plus float slack.
            for (int64_t b = 0; b < in; b += act_block) {
              double amax = 0, wsum = 0;
              for (int64_t i = b; i < b + act_block; ++i) {
                amax = std::fmax(amax, std::fabs(xt[i]));
                wsum += std::fabs(wf[o * in + i]);
              }
              act_err += amax / 127.0 / 2.0 * wsum;
            }
          }
          const double bound = act_err * 1.001 + static_cast<double>(in) * FLT_EPSILON * abs_sum;
          ASSERT_LE(std::fabs(got - exact), bound)
              << DTypeName(type) << " " << target << " t=" << t << " o=" << o;
        }
      }
      // Fused forms: three outputs over one input; SwiGLU; accumulate.
      std::vector<float> y1(y.size()), y2(y.size()), y3(y.size());
      const MatMulOutput outs[] = {
          {&w.view, y1.data()}, {&w.view, y2.data()}, {&w.view, y3.data()}};
      MatMulMulti(outs, x.data(), tokens, pool);
      EXPECT_EQ(y1, y);
      EXPECT_EQ(y3, y);
      std::vector<float> act_out(y.size()), up(y.size()), want(y.size());
      MatMulSwiGlu(w.view, w.view, x.data(), tokens, act_out.data(), up.data(), pool);
      SiluMul(y.data(), y.data(), want.data(), static_cast<int64_t>(y.size()));
      EXPECT_EQ(act_out, want) << DTypeName(type) << " " << target;
      std::vector<float> acc(y.size(), 1.5f);
      MatMul(w.view, x.data(), tokens, acc.data(), pool, {}, /*accumulate=*/true);
      for (size_t i = 0; i < y.size(); ++i) ASSERT_EQ(acc[i], 1.5f + y[i]);
    });
  }
}

TEST_P(MatMulTest, GetRowsAndToFloatEqualDequantizeRow) {
  const DType type = GetParam();
  std::mt19937 rng(42);
  const int64_t rows = 9, cols = 512;
  const OwnedWeight w = MakeWeight(type, rows, cols, rng);
  const std::vector<float> wf = Dequantized(w);
  const std::vector<int32_t> ids = {8, 0, 3, 3};
  std::vector<float> out(ids.size() * cols);
  GetRows(w.view, ids, out.data());
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int64_t i = 0; i < cols; ++i) {
      // Same conversion (bit-exact f16/bf16 widening or the format's dequantize_row).
      ASSERT_EQ(out[t * cols + i], wf[ids[t] * cols + i]) << DTypeName(type) << " t=" << t;
    }
  }
  std::vector<float> all(rows * cols);
  ToFloat(w.view, all.data());
  EXPECT_EQ(all, wf) << DTypeName(type);
}

std::string TypeName(const ::testing::TestParamInfo<DType>& info) {
  return std::string(DTypeName(info.param));
}

INSTANTIATE_TEST_SUITE_P(AllWeightTypes, MatMulTest,
                         ::testing::ValuesIn(SupportedWeightTypes().begin(),
                                             SupportedWeightTypes().end()),
                         TypeName);

// The same weights in the 8-row interleaved layout (as PackWeights stores them): the fast kernels
// equal the group twin bit for bit (for the K formats also the plain rows' fast kernels, as their
// tiles keep the one-row spec); the reference kernels, GetRows and the fused forms read the same
// values as from the plain rows.
class MatMulRows8Test : public ::testing::TestWithParam<DType> {
 protected:
  void TearDown() override {
    ASSERT_TRUE(ForceSimdTarget("best").ok());
    SetMatMulKernels(MatMulKernels::kFast);
  }
};

OwnedWeight Interleaved(const OwnedWeight& plain) {
  OwnedWeight w = plain;
  w.view.data = w.bytes.data();
  const uint64_t group = kRows8 * plain.view.row_bytes();
  for (uint64_t g = 0; g < plain.bytes.size(); g += group) {
    PackRows8Group(plain.view.type, plain.bytes.data() + g, plain.view.cols(), w.bytes.data() + g);
  }
  w.view.layout = WeightLayout::kRows8;
  return w;
}

TEST_P(MatMulRows8Test, FastEqualsGroupTwinAndReferenceEqualsPlainRows) {
  const DType type = GetParam();
  std::mt19937 rng(static_cast<uint32_t>(type) + 5);
  const int64_t in = 512 + 256, out = 56;  // 7 groups: splits of 16 rows end mid-matrix
  const OwnedWeight plain = MakeWeight(type, out, in, rng);
  ASSERT_TRUE(Rows8Eligible(type, plain.bytes.data(), out, in));
  const OwnedWeight w = Interleaved(plain);
  const QuantDot8Fn twin = QuantDot8For(ScalarQuantDotKernels(), type);
  // 16 tokens: one full AMX token tile, the batched-decode pass that prefetches the next strip
  // while it computes; 17 tokens: two token tiles (where the CPU has AMX), the second of one token.
  for (int64_t tokens : {1, 3, 16, 17}) {
    const std::vector<float> x = RandomInput(tokens * in, rng);
    ForEachTargetAndPool([&](const std::string& target, int threads, ThreadPool& pool) {
      SetMatMulKernels(MatMulKernels::kFast);
      std::vector<float> y(static_cast<size_t>(tokens * out), NAN);
      MatMul(w.view, x.data(), tokens, y.data(), pool);
      for (int64_t t = 0; t < tokens; ++t) {
        const DType act = ActivationTypeFor(type);
        std::vector<uint8_t> q(static_cast<size_t>(ActivationRowBytes(act, in)));
        QuantizeActivationRow(act, x.data() + t * in, q.data(), in);
        for (int64_t g = 0; g < out; g += kRows8) {
          float want[kRows8];
          twin(w.view.data + g * w.view.row_bytes(), q.data(), in, want);
          for (int r = 0; r < kRows8; ++r) {
            ASSERT_EQ(y[t * out + g + r], want[r])
                << DTypeName(type) << " " << target << " threads=" << threads << " t=" << t
                << " row " << g + r;
          }
        }
      }
      if (ActivationTypeFor(type) == DType::kQ8_K) {
        std::vector<float> y_plain(y.size(), NAN);
        MatMul(plain.view, x.data(), tokens, y_plain.data(), pool);
        EXPECT_EQ(y_plain, y) << DTypeName(type) << " " << target << " threads=" << threads;
      }
      std::vector<float> y1(y.size()), y2(y.size());
      const MatMulOutput outs[] = {{&w.view, y1.data()}, {&w.view, y2.data()}};
      MatMulMulti(outs, x.data(), tokens, pool);
      EXPECT_EQ(y1, y);
      EXPECT_EQ(y2, y);
      std::vector<float> act_out(y.size()), up(y.size()), want(y.size());
      MatMulSwiGlu(w.view, w.view, x.data(), tokens, act_out.data(), up.data(), pool);
      SiluMul(y.data(), y.data(), want.data(), static_cast<int64_t>(y.size()));
      EXPECT_EQ(act_out, want);

      SetMatMulKernels(MatMulKernels::kReference);
      std::vector<float> ref_packed(y.size()), ref_plain(y.size());
      MatMul(w.view, x.data(), tokens, ref_packed.data(), pool);
      MatMul(plain.view, x.data(), tokens, ref_plain.data(), pool);
      EXPECT_EQ(ref_packed, ref_plain) << DTypeName(type) << " " << target;
    });
  }
  const std::vector<int32_t> ids = {55, 0, 9, 9};
  std::vector<float> rows_packed(ids.size() * in), rows_plain(ids.size() * in);
  GetRows(w.view, ids, rows_packed.data());
  GetRows(plain.view, ids, rows_plain.data());
  EXPECT_EQ(rows_packed, rows_plain);
}

INSTANTIATE_TEST_SUITE_P(Rows8Types, MatMulRows8Test,
                         ::testing::Values(DType::kQ4_0, DType::kQ5_0, DType::kQ8_0, DType::kQ4_K,
                                           DType::kQ6_K),
                         TypeName);

TEST(MatMulF32Test, SmallKnownProduct) {
  // w = [[1, 2, 3], [4, 5, 6]], two tokens x = [1, 0, -1] and [0.5, 0.5, 0.5].
  const float w[] = {1, 2, 3, 4, 5, 6};
  TensorView view;
  view.type = DType::kF32;
  view.shape = {2, 3};
  view.data = reinterpret_cast<const std::byte*>(w);
  view.nbytes = sizeof(w);
  const float x[] = {1, 0, -1, 0.5f, 0.5f, 0.5f};
  float y[4] = {};
  ThreadPool pool(2);
  MatMul(view, x, 2, y, pool);
  EXPECT_FLOAT_EQ(y[0], -2.0f);
  EXPECT_FLOAT_EQ(y[1], -2.0f);
  EXPECT_FLOAT_EQ(y[2], 3.0f);
  EXPECT_FLOAT_EQ(y[3], 7.5f);
}

}  // namespace
}  // namespace sg
