// The 8-row interleaved layout (engine/quant/rows8.h) and its group kernels: packing is a pure
// rearrangement (every plain row comes back unchanged), the eligibility rules, every compiled
// SIMD target's group kernel against the scalar twin bit for bit on random blocks and odd block
// counts, and the twin against a double-precision dot of the dequantized rows.
#include "engine/quant/rows8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/core/half.h"
#include "engine/kernels/amx.h"
#include "engine/kernels/quant_dot.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/blocks.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

constexpr DType kRows8Types[] = {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0};  // 32-element tiles
constexpr DType kRows8KTypes[] = {DType::kQ4_K, DType::kQ6_K};               // 256-element tiles

// 8 plain rows of n elements: random code bytes (Q8_0 codes in [-127, 127], as Rows8Eligible
// requires) and finite random fp16 scales.
std::vector<std::byte> RandomRows(DType type, int64_t n, std::mt19937& rng) {
  const QuantTraits* t = GetQuantTraits(type);
  const int64_t blocks = kRows8 * n / t->block_elems;
  std::vector<std::byte> rows(static_cast<size_t>(blocks * t->block_bytes));
  std::uniform_int_distribution<int> byte(0, 255), code(-127, 127);
  std::uniform_real_distribution<float> scale(-0.05f, 0.05f);
  // Q6_K keeps its d last; the other formats start with d (and Q4_K's dmin).
  const int64_t d_at = type == DType::kQ6_K ? offsetof(BlockQ6_K, d) : 0;
  for (int64_t b = 0; b < blocks; ++b) {
    std::byte* blk = rows.data() + b * t->block_bytes;
    const uint16_t d = F32ToF16(scale(rng)), dmin = F32ToF16(scale(rng));
    for (int64_t i = 0; i < t->block_bytes; ++i) {
      blk[i] = static_cast<std::byte>(type == DType::kQ8_0 ? code(rng) : byte(rng));
    }
    std::memcpy(blk + d_at, &d, 2);
    if (type == DType::kQ4_K) std::memcpy(blk + 2, &dmin, 2);
  }
  return rows;
}

std::vector<uint8_t> QuantizedActivation(int64_t n, std::mt19937& rng) {
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = dist(rng);
  std::vector<uint8_t> a(static_cast<size_t>(ActivationRowBytes(DType::kQ8_0, n)));
  QuantizeActQ8(x.data(), reinterpret_cast<ActQ8Block*>(a.data()), n);
  return a;
}

std::vector<std::byte> Packed(DType type, const std::vector<std::byte>& plain, int64_t n) {
  std::vector<std::byte> packed(plain.size());
  PackRows8Group(type, plain.data(), n, packed.data());
  return packed;
}

const int64_t kRowSizes[] = {32, 64, 96, 224, 576, 2048, 2080};

class Rows8Test : public ::testing::Test {
 protected:
  void TearDown() override { ASSERT_TRUE(ForceSimdTarget("best").ok()); }
};

// Packing changes the bytes, and unpacking gives every plain row back exactly.
void ExpectPackingRoundTrips(DType type, int64_t n, std::mt19937& rng) {
  const std::vector<std::byte> plain = RandomRows(type, n, rng);
  const std::vector<std::byte> packed = Packed(type, plain, n);
  const size_t row_bytes = plain.size() / kRows8;
  ASSERT_NE(std::memcmp(plain.data(), packed.data(), plain.size()), 0);
  std::vector<std::byte> row(row_bytes);
  for (int r = 0; r < kRows8; ++r) {
    UnpackRows8Row(type, packed.data(), n, r, row.data());
    ASSERT_EQ(std::memcmp(row.data(), plain.data() + r * row_bytes, row_bytes), 0)
        << DTypeName(type) << " n=" << n << " row " << r;
  }
}

TEST_F(Rows8Test, PackingIsARearrangementOfThePlainRows) {
  std::mt19937 rng(1);
  for (DType type : kRows8Types) {
    for (int64_t n : kRowSizes) ExpectPackingRoundTrips(type, n, rng);
  }
}

TEST_F(Rows8Test, TileHoldsTheScalesThenTheCodeVectorsOfTheDocumentedRows) {
  // Row r's scale is at bytes [2r, 2r+2) of each tile; code byte 8c + i of row
  // Rows8RowOfQuarter(h, k) is at 16 + 32 (h C + c) + 8 k + i.
  std::mt19937 rng(2);
  for (DType type : {DType::kQ4_0, DType::kQ8_0}) {
    const int64_t n = 64, block = GetQuantTraits(type)->block_bytes, chunks = (block - 2) / 8;
    const std::vector<std::byte> plain = RandomRows(type, n, rng);
    const std::vector<std::byte> packed = Packed(type, plain, n);
    const int64_t row_bytes = 2 * block;
    for (int64_t b = 0; b < 2; ++b) {
      const std::byte* tile = packed.data() + b * kRows8 * block;
      for (int r = 0; r < kRows8; ++r) {
        const std::byte* src = plain.data() + r * row_bytes + b * block;
        EXPECT_EQ(std::memcmp(tile + 2 * r, src, 2), 0);
      }
      for (int h = 0; h < 2; ++h) {
        for (int64_t c = 0; c < chunks; ++c) {
          for (int k = 0; k < 4; ++k) {
            const int r = Rows8RowOfQuarter(h, k);
            for (int i = 0; i < 8; ++i) {
              EXPECT_EQ(tile[16 + 32 * (h * chunks + c) + 8 * k + i],
                        plain[r * row_bytes + b * block + 2 + 8 * c + i]);
            }
          }
        }
      }
    }
  }
}

TEST_F(Rows8Test, Eligibility) {
  std::mt19937 rng(3);
  std::vector<std::byte> q8 = RandomRows(DType::kQ8_0, 64, rng);
  EXPECT_TRUE(Rows8Eligible(DType::kQ8_0, q8.data(), 8, 64));
  EXPECT_FALSE(Rows8Eligible(DType::kQ8_0, q8.data(), 4, 128));  // rows not a multiple of 8
  q8[2 + 5] = static_cast<std::byte>(0x80);                      // one code of -128
  EXPECT_FALSE(Rows8Eligible(DType::kQ8_0, q8.data(), 8, 64));
  const std::vector<std::byte> q4 = RandomRows(DType::kQ4_0, 64, rng);
  EXPECT_TRUE(Rows8Eligible(DType::kQ4_0, q4.data(), 8, 64));
  EXPECT_FALSE(Rows8Eligible(DType::kQ4_K, q4.data(), 8, 64));   // not whole super-blocks
  EXPECT_FALSE(Rows8Eligible(DType::kQ6_K, q4.data(), 8, 64));   // not whole super-blocks
  EXPECT_TRUE(Rows8Eligible(DType::kQ6_K, q4.data(), 8, 256));   // any Q6_K codes qualify
  EXPECT_FALSE(Rows8Eligible(DType::kQ5_K, q4.data(), 8, 256));  // no tile layout
  EXPECT_FALSE(Rows8Format(DType::kF16));
}

TEST_F(Rows8Test, EveryTargetEqualsTheScalarTwinBitForBit) {
  std::mt19937 rng(4);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    for (DType type : kRows8Types) {
      ASSERT_NE(QuantDot8For(k, type), nullptr) << target << " " << DTypeName(type);
      for (int64_t n : kRowSizes) {
        for (int rep = 0; rep < 3; ++rep) {
          const std::vector<std::byte> packed = Packed(type, RandomRows(type, n, rng), n);
          const std::vector<uint8_t> a = QuantizedActivation(n, rng);
          float want[kRows8], got[kRows8];
          QuantDot8For(twin, type)(packed.data(), a.data(), n, want);
          QuantDot8For(k, type)(packed.data(), a.data(), n, got);
          for (int r = 0; r < kRows8; ++r) {
            ASSERT_EQ(std::memcmp(&want[r], &got[r], 4), 0)
                << target << " " << DTypeName(type) << " n=" << n << " row " << r << ": " << got[r]
                << " vs twin " << want[r];
          }
        }
      }
    }
  }
}

TEST_F(Rows8Test, KPackingIsARearrangementOfThePlainRows) {
  std::mt19937 rng(6);
  for (DType type : kRows8KTypes) {
    for (int64_t n : {256, 512, 2048, 2304}) ExpectPackingRoundTrips(type, n, rng);
  }
}

TEST_F(Rows8Test, Q6KTileHoldsTheDocumentedBytes) {
  // rows8.h: d of row r at [2r, 2r + 2), scale k of row r at 16 + 16 (k / 2) + 2r + k % 2; code
  // byte 8m + i (ql then qh) of row Rows8RowOfQuarter(h, q) at 144 + 32 (8 (m / 4) + 4h + m % 4)
  // + 8q + i.
  std::mt19937 rng(8);
  const int64_t n = 512, block = sizeof(BlockQ6_K), row_bytes = 2 * block;
  const std::vector<std::byte> plain = RandomRows(DType::kQ6_K, n, rng);
  const std::vector<std::byte> packed = Packed(DType::kQ6_K, plain, n);
  for (int64_t b = 0; b < 2; ++b) {
    const std::byte* tile = packed.data() + b * kRows8 * block;
    for (int r = 0; r < kRows8; ++r) {
      const std::byte* src = plain.data() + r * row_bytes + b * block;
      EXPECT_EQ(std::memcmp(tile + 2 * r, src + offsetof(BlockQ6_K, d), 2), 0);
      for (int k = 0; k < 16; ++k) {
        EXPECT_EQ(tile[16 + 16 * (k / 2) + 2 * r + k % 2], src[offsetof(BlockQ6_K, scales) + k]);
      }
    }
    for (int h = 0; h < 2; ++h) {
      for (int m = 0; m < 24; ++m) {
        for (int q = 0; q < 4; ++q) {
          const std::byte* src = plain.data() + Rows8RowOfQuarter(h, q) * row_bytes + b * block;
          for (int i = 0; i < 8; ++i) {
            EXPECT_EQ(tile[144 + 32 * (8 * (m / 4) + 4 * h + m % 4) + 8 * q + i], src[8 * m + i]);
          }
        }
      }
    }
  }
}

// A BlockQ8_K activation row from x (n a multiple of 256).
std::vector<uint8_t> QuantizedKActivation(const std::vector<float>& x) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<uint8_t> a(static_cast<size_t>(ActivationRowBytes(DType::kQ8_K, n)));
  QuantizeActivationRow(DType::kQ8_K, x.data(), a.data(), n);
  return a;
}

// Every target's group kernel (and the group twin) against the one-row twin on the plain rows.
void ExpectKGroupEqualsOneRowTwin(DType type, const std::vector<std::byte>& plain,
                                  const std::vector<uint8_t>& a, int64_t n) {
  const QuantDotFn one_row = QuantDotFor(ScalarQuantDotKernels(), type);
  const std::vector<std::byte> packed = Packed(type, plain, n);
  const size_t row_bytes = plain.size() / kRows8;
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDot8Fn group = QuantDot8For(GetSimdKernels().quant, type);
    ASSERT_NE(group, nullptr) << target << " " << DTypeName(type);
    float got[kRows8];
    group(packed.data(), a.data(), n, got);
    for (int r = 0; r < kRows8; ++r) {
      const float want = one_row(plain.data() + r * row_bytes, a.data(), n);
      ASSERT_EQ(std::memcmp(&want, &got[r], 4), 0)
          << target << " " << DTypeName(type) << " n=" << n << " row " << r << ": " << got[r]
          << " vs twin " << want;
    }
  }
}

// K tiles keep the one-row K spec row by row: every target's group kernel equals the one-row
// scalar twin on the plain rows bit for bit (odd block counts included).
TEST_F(Rows8Test, KGroupKernelsEqualTheOneRowTwinBitForBit) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (DType type : kRows8KTypes) {
    for (int64_t n : {256, 768, 2048, 2304}) {
      for (int rep = 0; rep < 3; ++rep) {
        std::vector<float> x(static_cast<size_t>(n));
        for (float& v : x) v = dist(rng);
        ASSERT_NO_FATAL_FAILURE(ExpectKGroupEqualsOneRowTwin(type, RandomRows(type, n, rng),
                                                             QuantizedKActivation(x), n));
      }
    }
  }
}

// A BlockQ8_K row whose codes are all -128 or 127 (more than the quantizer, which stays in
// [-127, 127], ever writes), with bsums to match.
std::vector<uint8_t> ExtremeKActivation(int64_t n, std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 1);
  std::vector<uint8_t> a(static_cast<size_t>(ActivationRowBytes(DType::kQ8_K, n)));
  auto* blocks = reinterpret_cast<BlockQ8_K*>(a.data());
  for (int64_t b = 0; b < n / 256; ++b) {
    blocks[b].d = 0.01f;
    for (int k = 0; k < 16; ++k) {
      int sum = 0;
      for (int i = 16 * k; i < 16 * k + 16; ++i) {
        blocks[b].qs[i] = static_cast<int8_t>(coin(rng) != 0 ? -128 : 127);
        sum += blocks[b].qs[i];
      }
      blocks[b].bsums[k] = static_cast<int16_t>(sum);
    }
  }
  return a;
}

// The largest magnitudes the formats allow: Q6_K codes all 63 (or all 0: q - 32 = -32) with
// scales -128 and 127 against activation codes -128 and 127, so the SIMD kernels' int16 pair sums
// (up to 2 * 2 * 63 * 128) reach their bound.
TEST_F(Rows8Test, Q6KGroupKernelsAreExactAtTheExtremes) {
  std::mt19937 rng(9);
  const int64_t n = 768;
  std::uniform_int_distribution<int> coin(0, 1);
  for (int rep = 0; rep < 4; ++rep) {
    std::vector<std::byte> plain = RandomRows(DType::kQ6_K, n, rng);
    for (size_t b = 0; b < plain.size(); b += sizeof(BlockQ6_K)) {
      std::memset(plain.data() + b, rep % 2 == 0 ? 0xff : 0x00, offsetof(BlockQ6_K, scales));
      for (int k = 0; k < 16; ++k) {
        plain[b + offsetof(BlockQ6_K, scales) + k] =
            static_cast<std::byte>(coin(rng) != 0 ? 0x80 : 0x7f);
      }
    }
    ASSERT_NO_FATAL_FAILURE(
        ExpectKGroupEqualsOneRowTwin(DType::kQ6_K, plain, ExtremeKActivation(n, rng), n));
  }
}

TEST_F(Rows8Test, TwinMatchesDequantizedDoubleDot) {
  std::mt19937 rng(5);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  for (DType type : kRows8Types) {
    const QuantTraits* t = GetQuantTraits(type);
    for (int64_t n : kRowSizes) {
      const std::vector<std::byte> plain = RandomRows(type, n, rng);
      const std::vector<std::byte> packed = Packed(type, plain, n);
      const std::vector<uint8_t> a = QuantizedActivation(n, rng);
      const auto* ab = reinterpret_cast<const ActQ8Block*>(a.data());
      float got[kRows8];
      QuantDot8For(twin, type)(packed.data(), a.data(), n, got);
      const size_t row_bytes = plain.size() / kRows8;
      std::vector<float> wf(static_cast<size_t>(n));
      for (int r = 0; r < kRows8; ++r) {
        t->dequantize_row(plain.data() + r * row_bytes, wf.data(), n);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
          const double p = static_cast<double>(wf[i]) * ab[i / 32].d * ab[i / 32].qs[i % 32];
          ref += p;
          mag += std::fabs(p);
        }
        EXPECT_NEAR(got[r], ref, 1e-5 * mag + 1e-30) << DTypeName(type) << " n=" << n;
      }
    }
  }
}

// `tokens` random activation rows of n elements at `stride` bytes apart, quantized into the Q8_K
// layout (k_format) or the Q8_0 blocks.
std::vector<uint8_t> ActivationRows(bool k_format, int64_t n, int64_t tokens, int64_t stride,
                                    std::mt19937& rng) {
  const int64_t row = ActivationRowBytes(k_format ? DType::kQ8_K : DType::kQ8_0, n);
  std::vector<uint8_t> acts(static_cast<size_t>(tokens * stride));
  for (int64_t t = 0; t < tokens; ++t) {
    std::vector<float> x(static_cast<size_t>(n));
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float& v : x) v = dist(rng);
    const std::vector<uint8_t> a = k_format ? QuantizedKActivation(x) : QuantizedActivation(n, rng);
    std::memcpy(acts.data() + t * stride, a.data(), static_cast<size_t>(row));
  }
  return acts;
}

// The several-token group kernels: every token's outputs equal the twin's one-token group kernel
// bit for bit, for token counts that fill the SIMD kernels' blocks of 4 and leave each remainder,
// with activation rows and outputs at strides wider than a row (as the matmul passes them).
TEST_F(Rows8Test, SeveralTokensEqualTheOneTokenTwinBitForBit) {
  std::mt19937 rng(8);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  for (const std::string& target : CompiledSimdTargets()) {
    ASSERT_TRUE(ForceSimdTarget(target).ok()) << target;
    const QuantDotKernels& k = GetSimdKernels().quant;
    for (DType type : {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
      const QuantGemm8Fn gemm = QuantGemm8For(k, type);
      ASSERT_NE(gemm, nullptr) << target << " " << DTypeName(type);
      const bool k_format = type == DType::kQ4_K || type == DType::kQ6_K;
      for (int64_t n :
           k_format ? std::vector<int64_t>{256, 768} : std::vector<int64_t>{32, 96, 2080}) {
        const std::vector<std::byte> packed = Packed(type, RandomRows(type, n, rng), n);
        const DType act_type = k_format ? DType::kQ8_K : DType::kQ8_0;
        const int64_t row = ActivationRowBytes(act_type, n), stride = row + 40;
        for (int64_t tokens : {1, 2, 3, 4, 5, 7, 9}) {
          const std::vector<uint8_t> acts = ActivationRows(k_format, n, tokens, stride, rng);
          const int64_t out_stride = kRows8 + 3;
          std::vector<float> got(static_cast<size_t>(tokens * out_stride), -1.0f);
          gemm(packed.data(), acts.data(), stride, tokens, n, got.data(), out_stride);
          for (int64_t t = 0; t < tokens; ++t) {
            float want[kRows8];
            QuantDot8For(twin, type)(packed.data(), acts.data() + t * stride, n, want);
            for (int r = 0; r < kRows8; ++r) {
              ASSERT_EQ(std::memcmp(&want[r], &got[t * out_stride + r], 4), 0)
                  << target << " " << DTypeName(type) << " n=" << n << " tokens " << tokens
                  << " token " << t << " row " << r;
            }
          }
        }
      }
    }
  }
}

// The AMX strip kernels (two groups, 16 rows): every token's outputs equal the twin's one-token
// group kernel of its group bit for bit, for token counts that fill the 4-, 8- and 16-token tiles
// and leave each remainder, odd block counts (one parity pass empty or shorter), strides wider
// than a row, and `accumulate` (added to what out held). Skipped where the CPU or OS has no AMX.
TEST_F(Rows8Test, AmxStripsEqualTheOneTokenTwinBitForBit) {
  if (!AmxUsable()) GTEST_SKIP() << "no AMX: " << AmxNote();
  std::mt19937 rng(16);
  const QuantDotKernels& twin = ScalarQuantDotKernels();
  ASSERT_TRUE(ForceSimdTarget("best").ok());
  const QuantDotKernels& k = GetSimdKernels().quant;
  for (DType type : {DType::kQ4_0, DType::kQ5_0, DType::kQ8_0, DType::kQ4_K, DType::kQ6_K}) {
    const QuantGemm16Fn gemm = QuantGemm16For(k, type);
    ASSERT_NE(gemm, nullptr) << DTypeName(type);
    const bool k_format = type == DType::kQ4_K || type == DType::kQ6_K;
    const DType act_type = k_format ? DType::kQ8_K : DType::kQ8_0;
    const PackTiles16Fn pack = k_format ? k.pack_tiles16_k : k.pack_tiles16;
    for (int64_t n : k_format ? std::vector<int64_t>{256, 768, 2048}
                              : std::vector<int64_t>{32, 64, 96, 576, 2080}) {
      std::vector<std::byte> strip = Packed(type, RandomRows(type, n, rng), n);
      const std::vector<std::byte> second = Packed(type, RandomRows(type, n, rng), n);
      const int64_t group_bytes = static_cast<int64_t>(strip.size()) + 64;  // a gap between them
      strip.resize(static_cast<size_t>(group_bytes), std::byte{0x5a});
      strip.insert(strip.end(), second.begin(), second.end());
      const int64_t row = ActivationRowBytes(act_type, n), stride = row + 40;
      for (int64_t tokens : {1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 33}) {
        const std::vector<uint8_t> acts = ActivationRows(k_format, n, tokens, stride, rng);
        // The packed tiles, 64-byte aligned as the matmul's scratch gives them.
        std::vector<std::byte> packed(static_cast<size_t>(Tiles16Bytes(act_type, tokens, n) + 64));
        void* tiles = packed.data() + (64 - reinterpret_cast<uintptr_t>(packed.data()) % 64) % 64;
        const int64_t num_tiles = (tokens + 15) / 16;
        pack(acts.data(), stride, tokens, n, 0, num_tiles / 2, tiles);  // in two parts
        pack(acts.data(), stride, tokens, n, num_tiles / 2, num_tiles, tiles);
        const int64_t out_stride = 2 * kRows8 + 5;
        for (bool accumulate : {false, true}) {
          std::vector<float> got(static_cast<size_t>(tokens * out_stride), 0.25f);
          gemm(strip.data(), group_bytes, 1, tiles, tokens, n, got.data(), out_stride, accumulate);
          for (int64_t t = 0; t < tokens; ++t) {
            for (int g = 0; g < 2; ++g) {
              float want[kRows8];
              QuantDot8For(twin, type)(strip.data() + g * group_bytes, acts.data() + t * stride, n,
                                       want);
              for (int r = 0; r < kRows8; ++r) {
                const float expect = accumulate ? 0.25f + want[r] : want[r];
                ASSERT_EQ(std::memcmp(&expect, &got[t * out_stride + kRows8 * g + r], 4), 0)
                    << DTypeName(type) << " n=" << n << " tokens " << tokens << " token " << t
                    << " row " << kRows8 * g + r << " accumulate " << accumulate << ": " << expect
                    << " vs " << got[t * out_stride + kRows8 * g + r];
              }
            }
          }
          for (int64_t t = 0; t < tokens; ++t) {  // the columns past the strip are untouched
            for (int64_t c = 2 * kRows8; c < out_stride; ++c) {
              ASSERT_EQ(got[t * out_stride + c], 0.25f);
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace sg
