// The integer dot kernels per SIMD target, compiled once per Highway target (foreach_target.h).
// On x86 from AVX2 up they are written with the x86 intrinsics Highway 1.0.3 has no portable op
// for (maddubs: u8 x i8 pairs to i16; vpdpbusd: u8 x i8 quads to i32 on AVX3_DL, which has
// AVX512-VNNI); Highway still compiles each target with its own flags and picks the table at run
// time. Targets below AVX2 (and other architectures) use the scalar twin.
//
// Exactness (quant_dot.h): integer parts are exact in every path (no maddubs pair can saturate:
// |w| <= 128 unsigned against |a| <= 127 gives at most 2 * 128 * 127 = 32512); the float parts
// are the twin's operations in the twin's order (one FMA per lane per block, the same reduction).
#include <cstdint>
#include <cstring>

#include "engine/core/half.h"
#include "engine/kernels/quant_dot.h"
#include "engine/kernels/quant_dot_spec.h"
#include "engine/quant/blocks.h"
#include "engine/quant/rows8.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/kernels/quant_dot_highway.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sg {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)

// u8 x i8 products summed in fours into 8 int32 lanes: lane l = elements 4l .. 4l+3 (in both
// 128-bit halves the element order is kept, so lane l covers elements 4l..4l+3 of the 32).
inline __m256i SumQuads(__m256i w_unsigned, __m256i a_signed) {
#if HWY_TARGET == HWY_AVX3_DL
  return _mm256_dpbusd_epi32(_mm256_setzero_si256(), w_unsigned, a_signed);
#else
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w_unsigned, a_signed), _mm256_set1_epi16(1));
#endif
}

// Signed x signed through the unsigned form: |w| * (a with w's sign).
inline __m256i SumQuadsSigned(__m256i w, __m256i a) {
  return SumQuads(_mm256_abs_epi8(w), _mm256_sign_epi8(a, w));
}

inline float HalfToFloat(uint16_t h) { return _cvtsh_ss(h); }

// Software prefetch kPrefetchBytes ahead of a weight stream: the hardware prefetcher alone left
// the decode kernels waiting on their weight loads (perf: the loads were the hot spot). Rows are
// contiguous, so the address ahead is the same or the next row; past the end a prefetch is a
// no-op, never a fault.
constexpr int64_t kPrefetchBytes = 1024;
inline void Prefetch(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
}

// Reduce8 of quant_dot_spec.h on a vector.
inline float ReduceVec(__m256 v) {
  const __m128 w = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 u = _mm_add_ps(w, _mm_movehl_ps(w, w));
  return _mm_cvtss_f32(_mm_add_ss(u, _mm_movehdup_ps(u)));
}

inline int32_t ReduceInt(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_unpackhi_epi64(s, s));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 1));
  return _mm_cvtsi128_si32(s);
}

// 32 nibbles of a legacy block: low nibbles are elements 0..15, high nibbles 16..31.
inline __m256i Nibbles(const uint8_t* qs) {
  const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0f));
}

// 0xFF in byte j where bit j of the 32-bit mask is set, else 0.
inline __m256i BitsToBytes(const uint8_t* qh) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  const __m256i spread =
      _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(h)),
                          _mm256_setr_epi64x(0x0000000000000000, 0x0101010101010101,
                                             0x0202020202020202, 0x0303030303030303));
  const __m256i others = _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe);  // every bit but bit (j % 8)
  return _mm256_cmpeq_epi8(_mm256_or_si256(spread, others), _mm256_set1_epi64x(-1));
}

// Per-format: the 8 lane sums of one block with its activation block.
struct Q4_0Op {
  using Block = BlockQ4_0;
  static constexpr bool kHasMin = false;
  static __m256i Lanes(const Block& b, __m256i a) {
    return SumQuadsSigned(_mm256_sub_epi8(Nibbles(b.qs), _mm256_set1_epi8(8)), a);
  }
};
struct Q4_1Op {
  using Block = BlockQ4_1;
  static constexpr bool kHasMin = true;
  static __m256i Lanes(const Block& b, __m256i a) { return SumQuads(Nibbles(b.qs), a); }
};
struct Q5_0Op {
  using Block = BlockQ5_0;
  static constexpr bool kHasMin = false;
  static __m256i Lanes(const Block& b, __m256i a) {
    // q - 16 = nibble when bit 4 is set, nibble - 16 (0xF0 | nibble as int8) when it is not.
    const __m256i high = _mm256_andnot_si256(BitsToBytes(b.qh), _mm256_set1_epi8(-16));
    return SumQuadsSigned(_mm256_or_si256(Nibbles(b.qs), high), a);
  }
};
struct Q5_1Op {
  using Block = BlockQ5_1;
  static constexpr bool kHasMin = true;
  static __m256i Lanes(const Block& b, __m256i a) {
    const __m256i high = _mm256_and_si256(BitsToBytes(b.qh), _mm256_set1_epi8(0x10));
    return SumQuads(_mm256_or_si256(Nibbles(b.qs), high), a);
  }
};
struct Q8_0Op {
  using Block = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static __m256i Lanes(const Block& b, __m256i a) {
    return SumQuadsSigned(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b.qs)), a);
  }
};

// R rows at once (rows w + k * row_bytes): each row's arithmetic is exactly the one-row
// kernel's, interleaved block by block so R weight streams are in flight (a single stream per core
// does not reach DRAM's bandwidth) and each activation block is loaded once for all R rows.
template <class Op, int R>
void DotLegacyRows(const std::byte* w, int64_t row_bytes, const void* act, int64_t n, float* out) {
  using Block = typename Op::Block;
  const Block* wb[R];
  for (int k = 0; k < R; ++k) wb[k] = reinterpret_cast<const Block*>(w + k * row_bytes);
  const ActQ8Block* ab = static_cast<const ActQ8Block*>(act);
  const int64_t nb = n / kQK;
  // Two accumulator sets by block parity, as named registers: indexing them with (b & 1) made
  // the compiler keep them on the stack, a store-to-load chain of ~9 cycles per block.
  __m256 acc0[R], acc1[R];
  float macc[R][8] = {};
  for (int k = 0; k < R; ++k) acc0[k] = acc1[k] = _mm256_setzero_ps();
  auto block = [&](int64_t b, __m256* acc) {
    const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ab[b].qs));
    for (int k = 0; k < R; ++k) {
      const Block& blk = wb[k][b];
      const __m256 p = _mm256_cvtepi32_ps(Op::Lanes(blk, a));
      const __m256 s = _mm256_set1_ps(HalfToFloat(blk.d) * ab[b].d);
      if constexpr (Op::kHasMin) {
        float& lane = macc[k][b & 7];
        lane = __builtin_fmaf(HalfToFloat(blk.m) * ab[b].d, static_cast<float>(ab[b].sum), lane);
      }
      acc[k] = _mm256_fmadd_ps(s, p, acc[k]);
    }
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    for (int k = 0; k < R; ++k) Prefetch(&wb[k][b]);
    block(b, acc0);
    block(b + 1, acc1);
  }
  if (b < nb) block(b, acc0);
  for (int k = 0; k < R; ++k) {
    out[k] = ReduceVec(_mm256_add_ps(acc0[k], acc1[k]));
    if constexpr (Op::kHasMin) out[k] += quant_dot_spec::Reduce8(macc[k]);
  }
}

template <class Op>
float DotLegacy(const void* w_row, const void* act, int64_t n) {
  float out;
  DotLegacyRows<Op, 1>(static_cast<const std::byte*>(w_row), 0, act, n, &out);
  return out;
}

template <class Op>
void DotLegacy4(const void* w, int64_t row_bytes, const void* act, int64_t n, float* out) {
  DotLegacyRows<Op, 4>(static_cast<const std::byte*>(w), row_bytes, act, n, out);
}

// The 8 six-bit scales (bytes 0..7) and 8 six-bit mins (bytes 8..15) of a K super-block, unpacked
// from its 12 bytes (k_scales.h) with word operations.
inline __m128i UnpackScalesMins(const uint8_t* packed) {
  uint32_t u[4];
  std::memcpy(u, packed, 12);
  constexpr uint32_t kLow6 = 0x3f3f3f3f, kLow4 = 0x0f0f0f0f, kLow2 = 0x03030303;
  const uint32_t mins_high = ((u[2] >> 4) & kLow4) | (((u[1] >> 6) & kLow2) << 4);
  const uint32_t mins_low = u[1] & kLow6;
  const uint32_t scales_high = (u[2] & kLow4) | (((u[0] >> 6) & kLow2) << 4);
  const uint32_t scales_low = u[0] & kLow6;
  return _mm_setr_epi32(static_cast<int32_t>(scales_low), static_cast<int32_t>(scales_high),
                        static_cast<int32_t>(mins_low), static_cast<int32_t>(mins_high));
}

// Byte-shuffle masks over a 128-bit vector of 8 int16 duplicated into both halves:
//  broadcast[j]: int16 lane j into all 16 lanes;
//  pair[j]:      lane j into the 8 lanes of the low half, lane j + 1 into those of the high half.
// Tables (one load each), not _mm256_setr_epi8 of a loop variable, which compiles to dozens of
// byte inserts when the loop is not unrolled.
struct ShuffleMasks {
  alignas(32) int8_t broadcast[8][32];
  alignas(32) int8_t pair[7][32];
};

constexpr ShuffleMasks MakeShuffleMasks() {
  ShuffleMasks m{};
  for (int j = 0; j < 8; ++j) {
    for (int i = 0; i < 32; i += 2) {
      m.broadcast[j][i] = static_cast<int8_t>(2 * j);
      m.broadcast[j][i + 1] = static_cast<int8_t>(2 * j + 1);
      if (j < 7) {
        const int lane = i < 16 ? j : j + 1;
        m.pair[j][i] = static_cast<int8_t>(2 * lane);
        m.pair[j][i + 1] = static_cast<int8_t>(2 * lane + 1);
      }
    }
  }
  return m;
}

inline constexpr ShuffleMasks kShuffleMasks = MakeShuffleMasks();

inline __m256i BroadcastLaneMask(int j) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(kShuffleMasks.broadcast[j]));
}

inline __m256i PairLaneMask(int j) {
  return _mm256_load_si256(reinterpret_cast<const __m256i*>(kShuffleMasks.pair[j]));
}

// Horizontal sums of two int32 vectors: {sum(a), sum(b)} (exact).
inline void ReduceIntPair(__m256i a, __m256i b, int32_t* sa, int32_t* sb) {
  const __m256i h = _mm256_hadd_epi32(a, b);  // a01 a23 b01 b23 | a45 a67 b45 b67
  const __m128i q = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
  const __m128i r = _mm_hadd_epi32(q, q);  // a b a b
  *sa = _mm_cvtsi128_si32(r);
  *sb = _mm_extract_epi32(r, 1);
}

// One Q4_K/Q5_K super-block's contribution: acc with the spec's two FMAs applied.
template <bool kFifthBit>
struct Q45KOp {
  using Block = std::conditional_t<kFifthBit, BlockQ5_K, BlockQ4_K>;
  static float Apply(const Block& w, const BlockQ8_K& a, float acc) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), one = _mm256_set1_epi8(1);
    const __m128i sm = UnpackScalesMins(w.scales);
    const __m256i scales16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));
    // m_j paired with bsums 2j and 2j+1: m0 m0 m1 m1 ... m7 m7 as int16.
    const __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));
    const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums));
    const __m256i minv = _mm256_madd_epi16(mins16, bsums);
    __m256i qh = _mm256_setzero_si256();
    if constexpr (kFifthBit) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qh));
    __m256i sumi = _mm256_setzero_si256();
    for (int g = 0; g < 4; ++g) {
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qs + 32 * g));
      __m256i lo = _mm256_and_si256(q, low4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low4);
      if constexpr (kFifthBit) {
        const __m128i s0 = _mm_cvtsi32_si128(2 * g), s1 = _mm_cvtsi32_si128(2 * g + 1);
        lo = _mm256_or_si256(lo,
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, s0), one), 4));
        hi = _mm256_or_si256(hi,
                             _mm256_slli_epi16(_mm256_and_si256(_mm256_srl_epi16(qh, s1), one), 4));
      }
      const __m256i a0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + 64 * g));
      const __m256i a1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + 64 * g + 32));
      const __m256i sc0 = _mm256_shuffle_epi8(scales16, BroadcastLaneMask(2 * g));
      const __m256i sc1 = _mm256_shuffle_epi8(scales16, BroadcastLaneMask(2 * g + 1));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(lo, a0), sc0));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(hi, a1), sc1));
    }
    int32_t isum, msum;
    ReduceIntPair(sumi, minv, &isum, &msum);
    acc = __builtin_fmaf(HalfToFloat(w.d) * a.d, static_cast<float>(isum), acc);
    acc = __builtin_fmaf(-(HalfToFloat(w.dmin) * a.d), static_cast<float>(msum), acc);
    return acc;
  }
};

// R rows of a K format at once (see DotLegacyRows), super-block by super-block.
template <class Op, int R>
void DotKRows(const std::byte* w, int64_t row_bytes, const void* act, int64_t n, float* out) {
  using Block = typename Op::Block;
  const Block* wb[R];
  for (int k = 0; k < R; ++k) wb[k] = reinterpret_cast<const Block*>(w + k * row_bytes);
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  float acc[R] = {};
  for (int64_t b = 0; b < n / kQKK; ++b) {
    for (int k = 0; k < R; ++k) {
      for (uint64_t at = 0; at < sizeof(Block); at += 64) {
        Prefetch(reinterpret_cast<const std::byte*>(&wb[k][b]) + at);
      }
      acc[k] = Op::Apply(wb[k][b], ab[b], acc[k]);
    }
  }
  for (int k = 0; k < R; ++k) out[k] = acc[k];
}

template <class Op>
float DotK(const void* w_row, const void* act, int64_t n) {
  float out;
  DotKRows<Op, 1>(static_cast<const std::byte*>(w_row), 0, act, n, &out);
  return out;
}

template <class Op>
void DotK4(const void* w, int64_t row_bytes, const void* act, int64_t n, float* out) {
  DotKRows<Op, 4>(static_cast<const std::byte*>(w), row_bytes, act, n, out);
}

// Q6_K: codes q in [0, 63] against a, scaled per 16-element sub-block; the -32 offset is taken
// out exactly afterwards as 32 * sum_k sc_k * bsum_k.
struct Q6KOp {
  using Block = BlockQ6_K;
  static float Apply(const BlockQ6_K& w, const BlockQ8_K& a, float acc) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(3);
    const __m128i sc8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.scales));
    const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);  // 16 scales as int16
    const __m256i offset =
        _mm256_madd_epi16(sc16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.bsums)));
    __m256i sumi = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i half_scales = _mm256_broadcastsi128_si256(
          h == 0 ? _mm256_castsi256_si128(sc16) : _mm256_extracti128_si256(sc16, 1));
      const __m256i ql0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h));
      const __m256i ql1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.ql + 64 * h + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.qh + 32 * h));
      const __m256i codes[4] = {
          _mm256_or_si256(_mm256_and_si256(ql0, low4),
                          _mm256_slli_epi16(_mm256_and_si256(qh, low2), 4)),
          _mm256_or_si256(_mm256_and_si256(ql1, low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 4), low2), 4)),
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 6), low2), 4)),
      };
      for (int j = 0; j < 4; ++j) {
        // Sub-blocks 8h + 2j (low 128 bits) and 8h + 2j + 1 (high 128 bits).
        const __m256i av =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.qs + 128 * h + 32 * j));
        const __m256i scales = _mm256_shuffle_epi8(half_scales, PairLaneMask(2 * j));
        sumi =
            _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(codes[j], av), scales));
      }
    }
    const int32_t isum = ReduceInt(_mm256_sub_epi32(sumi, _mm256_slli_epi32(offset, 5)));
    return __builtin_fmaf(HalfToFloat(w.d) * a.d, static_cast<float>(isum), acc);
  }
};

// Half rows widened in registers: 4 independent FMA chains of 8 lanes.
template <bool kBf16>
inline __m256 Widen(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if constexpr (kBf16) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
  } else {
    return _mm256_cvtph_ps(h);
  }
}

template <bool kBf16>
float DotHalf(const uint16_t* w, const float* x, int64_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(),
         s3 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(Widen<kBf16>(w + i), _mm256_loadu_ps(x + i), s0);
    s1 = _mm256_fmadd_ps(Widen<kBf16>(w + i + 8), _mm256_loadu_ps(x + i + 8), s1);
    s2 = _mm256_fmadd_ps(Widen<kBf16>(w + i + 16), _mm256_loadu_ps(x + i + 16), s2);
    s3 = _mm256_fmadd_ps(Widen<kBf16>(w + i + 24), _mm256_loadu_ps(x + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(Widen<kBf16>(w + i), _mm256_loadu_ps(x + i), s0);
  float s = ReduceVec(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) s += (kBf16 ? Bf16ToF32(w[i]) : F16ToF32(w[i])) * x[i];
  return s;
}

// ---- 8-row tiles (rows8.h): the integer sums come out one row per lane ----------------------

// The activation block's 8-byte chunk j broadcast to the four quarters of a vector.
inline __m256i ActChunk(const ActQ8Block& a, int j) {
  int64_t v;
  std::memcpy(&v, a.qs + 8 * j, 8);
  return _mm256_set1_epi64x(v);
}

// acc + the quad sums of u8 x i8 (exact int32; no int16 step on VNNI).
inline __m256i AddQuads(__m256i acc, __m256i w_unsigned, __m256i a_signed) {
#if HWY_TARGET == HWY_AVX3_DL
  return _mm256_dpbusd_epi32(acc, w_unsigned, a_signed);
#else
  return _mm256_add_epi32(acc, SumQuads(w_unsigned, a_signed));
#endif
}

struct Rows8Q4_0 {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ4_0));
  // Lane r: sum_i (q_i - 8) a_i of row r, as sum q_i a_i - 8 * sum a_i.
  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i chunk[4] = {ActChunk(a, 0), ActChunk(a, 1), ActChunk(a, 2), ActChunk(a, 3)};
    __m256i half[2];
    for (int h = 0; h < 2; ++h) {
      const __m256i v0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16 + 64 * h));
      const __m256i v1 =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16 + 64 * h + 32));
      const __m256i lo0 = _mm256_and_si256(v0, low4);
      const __m256i hi0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), low4);
      const __m256i lo1 = _mm256_and_si256(v1, low4);
      const __m256i hi1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), low4);
#if HWY_TARGET == HWY_AVX3_DL
      __m256i sum = _mm256_dpbusd_epi32(_mm256_setzero_si256(), lo0, chunk[0]);
      sum = _mm256_dpbusd_epi32(sum, hi0, chunk[2]);
      sum = _mm256_dpbusd_epi32(sum, lo1, chunk[1]);
      half[h] = _mm256_dpbusd_epi32(sum, hi1, chunk[3]);
#else
      // Four pair sums of at most 2 * 15 * 127 each stay inside int16 (4 * 3810 < 32768).
      const __m256i pairs = _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(lo0, chunk[0]),
                                                              _mm256_maddubs_epi16(hi0, chunk[2])),
                                             _mm256_add_epi16(_mm256_maddubs_epi16(lo1, chunk[1]),
                                                              _mm256_maddubs_epi16(hi1, chunk[3])));
      half[h] = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
#endif
    }
    return _mm256_sub_epi32(_mm256_hadd_epi32(half[0], half[1]), _mm256_set1_epi32(8 * a.sum));
  }
};

// In-lane byte shuffles that put byte cb of the fifth bits of the rows of quad h into every byte
// of their quarters (spread[h][cb]), and the bit each byte then tests (bit: 1 << (i % 8)).
struct Q5SpreadMasks {
  alignas(32) int8_t spread[2][4][32];
  alignas(32) uint8_t bit[32];
};

constexpr Q5SpreadMasks MakeQ5SpreadMasks() {
  Q5SpreadMasks m{};
  for (int h = 0; h < 2; ++h) {
    for (int cb = 0; cb < 4; ++cb) {
      for (int i = 0; i < 32; ++i) {
        m.spread[h][cb][i] = static_cast<int8_t>(4 * cb + 2 * h + ((i % 16) >= 8 ? 1 : 0));
      }
    }
  }
  for (int i = 0; i < 32; ++i) m.bit[i] = static_cast<uint8_t>(1u << (i % 8));
  return m;
}

inline constexpr Q5SpreadMasks kQ5SpreadMasks = MakeQ5SpreadMasks();

// Q5_0: the Q4_0 tile plus fifth bits (rows8.h). Codes are taken unsigned, q = nibble | bit << 4
// in [0, 31], and the offset comes out as 16 * sum a.
struct Rows8Q5_0 {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ5_0));

  // 0x10 in the bytes whose fifth bit is set, for quad h and qh byte cb.
  static __m256i FifthBits(__m256i qh, int h, int cb) {
    const __m256i spread = _mm256_shuffle_epi8(
        qh, _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ5SpreadMasks.spread[h][cb])));
    const __m256i bit = _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ5SpreadMasks.bit));
    return _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit),
                            _mm256_set1_epi8(0x10));
  }

  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    const __m256i chunk[4] = {ActChunk(a, 0), ActChunk(a, 1), ActChunk(a, 2), ActChunk(a, 3)};
    const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16));
    const std::byte* codes = tile + kRows8Q5_0HeaderBytes;
    __m256i half[2];
    for (int h = 0; h < 2; ++h) {
      __m256i q[4];  // element chunks 0..3 of the quad's rows, unsigned 5-bit codes
      for (int c = 0; c < 2; ++c) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 64 * h + 32 * c));
        q[c] = _mm256_or_si256(_mm256_and_si256(v, low4), FifthBits(qh, h, c));
        q[c + 2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(v, 4), low4),
                                   FifthBits(qh, h, c + 2));
      }
#if HWY_TARGET == HWY_AVX3_DL
      __m256i sum = _mm256_setzero_si256();
      for (int j = 0; j < 4; ++j) sum = _mm256_dpbusd_epi32(sum, q[j], chunk[j]);
      half[h] = sum;
#else
      // Four pair sums of at most 2 * 31 * 127 each stay inside int16 (4 * 7874 < 32768).
      const __m256i pairs =
          _mm256_add_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(q[0], chunk[0]),
                                            _mm256_maddubs_epi16(q[2], chunk[2])),
                           _mm256_add_epi16(_mm256_maddubs_epi16(q[1], chunk[1]),
                                            _mm256_maddubs_epi16(q[3], chunk[3])));
      half[h] = _mm256_madd_epi16(pairs, _mm256_set1_epi16(1));
#endif
    }
    return _mm256_sub_epi32(_mm256_hadd_epi32(half[0], half[1]), _mm256_set1_epi32(16 * a.sum));
  }
};

struct Rows8Q8_0 {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ8_0));
  // Lane r: sum_i w_i a_i of row r, as |a_i| * (w_i with a_i's sign); no code is -128
  // (Rows8Eligible), so the sign flip is exact.
  static __m256i Sums(const std::byte* tile, const ActQ8Block& a) {
    __m256i chunk[4], magnitude[4];
    for (int j = 0; j < 4; ++j) {
      chunk[j] = ActChunk(a, j);
      magnitude[j] = _mm256_abs_epi8(chunk[j]);
    }
    __m256i half[2];
    for (int h = 0; h < 2; ++h) {
      __m256i sum = _mm256_setzero_si256();
      for (int c = 0; c < 4; ++c) {
        const __m256i w =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 16 + 128 * h + 32 * c));
        sum = AddQuads(sum, magnitude[c], _mm256_sign_epi8(w, chunk[c]));
      }
      half[h] = sum;
    }
    return _mm256_hadd_epi32(half[0], half[1]);
  }
};

// Q4_K tiles (rows8.h): per sub-block j, the 8 rows' code sums land one row per lane (as Q4_0's)
// and are multiplied by the rows' 6-bit scales in int32; the mins meet the activation's
// sub-block sums the same way. The float steps are the one-row K spec's, lane by lane.
struct Rows8Q4K {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ4_K));

  // The tile's scales and mins as bytes [8j + r] (sub-block j, row r).
  static void UnpackScales(const std::byte* tile, uint8_t* sc, uint8_t* m) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), low2 = _mm256_set1_epi8(3);
    const __m256i high = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 96));
    for (int half = 0; half < 2; ++half) {  // sub-blocks 0-3, then 4-7
      const __m256i low =
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(tile + 32 + 32 * half));
      const __m256i h = _mm256_and_si256(half == 0 ? high : _mm256_srli_epi16(high, 4), low4);
      const __m256i s = _mm256_or_si256(_mm256_and_si256(low, low4),
                                        _mm256_slli_epi16(_mm256_and_si256(h, low2), 4));
      const __m256i n =
          _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low, 4), low4),
                          _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), low2), 4));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + 32 * half), s);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(m + 32 * half), n);
    }
  }

  // Sum over one sub-block pair (64 elements, run g of code vectors) for the 8 rows: lane r =
  // sum q a of row r's low-nibble sub-block (first) and high-nibble one (second).
  static void PairSums(const std::byte* codes, const int8_t* a, __m256i* lo_sums,
                       __m256i* hi_sums) {
    const __m256i low4 = _mm256_set1_epi8(0x0f);
    __m256i lo[2], hi[2];
    for (int h = 0; h < 2; ++h) {
      __m256i sl = _mm256_setzero_si256(), sh = _mm256_setzero_si256();  // int16 pairs on AVX2
      for (int c = 0; c < 4; ++c) {
        const __m256i v =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(codes + 32 * (4 * h + c)));
        int64_t al, ah;
        std::memcpy(&al, a + 8 * c, 8);
        std::memcpy(&ah, a + 32 + 8 * c, 8);
        const __m256i ql = _mm256_and_si256(v, low4);
        const __m256i qh = _mm256_and_si256(_mm256_srli_epi16(v, 4), low4);
#if HWY_TARGET == HWY_AVX3_DL
        sl = _mm256_dpbusd_epi32(sl, ql, _mm256_set1_epi64x(al));
        sh = _mm256_dpbusd_epi32(sh, qh, _mm256_set1_epi64x(ah));
#else
        // Four pair sums of at most 2 * 15 * 127 each stay inside int16.
        sl = _mm256_add_epi16(sl, _mm256_maddubs_epi16(ql, _mm256_set1_epi64x(al)));
        sh = _mm256_add_epi16(sh, _mm256_maddubs_epi16(qh, _mm256_set1_epi64x(ah)));
#endif
      }
#if HWY_TARGET == HWY_AVX3_DL
      lo[h] = sl;
      hi[h] = sh;
#else
      lo[h] = _mm256_madd_epi16(sl, _mm256_set1_epi16(1));
      hi[h] = _mm256_madd_epi16(sh, _mm256_set1_epi16(1));
#endif
    }
    *lo_sums = _mm256_hadd_epi32(lo[0], lo[1]);
    *hi_sums = _mm256_hadd_epi32(hi[0], hi[1]);
  }

  static __m256i Widen8(const uint8_t* p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
  }
};

// One Q4_K tile (one block column of the 8 rows) into the 8 rows' accumulators.
__m256 StepRows8Q4_K(const std::byte* tile, const BlockQ8_K& a, __m256 acc) {
  alignas(32) uint8_t sc[64], m[64];
  Rows8Q4K::UnpackScales(tile, sc, m);
  __m256i isum = _mm256_setzero_si256(), msum = _mm256_setzero_si256();
  for (int g = 0; g < 4; ++g) {
    __m256i lo, hi;
    Rows8Q4K::PairSums(tile + kRows8Q4KHeaderBytes + 256 * g, a.qs + 64 * g, &lo, &hi);
    isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(lo, Rows8Q4K::Widen8(sc + 8 * (2 * g))));
    isum = _mm256_add_epi32(isum, _mm256_mullo_epi32(hi, Rows8Q4K::Widen8(sc + 8 * (2 * g + 1))));
  }
  for (int j = 0; j < 8; ++j) {
    const __m256i bsum = _mm256_set1_epi32(a.bsums[2 * j] + a.bsums[2 * j + 1]);
    msum = _mm256_add_epi32(msum, _mm256_mullo_epi32(Rows8Q4K::Widen8(m + 8 * j), bsum));
  }
  const __m256 da = _mm256_set1_ps(a.d);
  const __m256 d =
      _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile))), da);
  const __m256 dmin = _mm256_mul_ps(
      _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 16))), da);
  acc = _mm256_fmadd_ps(d, _mm256_cvtepi32_ps(isum), acc);
  return _mm256_fmadd_ps(_mm256_xor_ps(dmin, _mm256_set1_ps(-0.0f)), _mm256_cvtepi32_ps(msum), acc);
}

// In-lane byte shuffles of a tile's sign-extended scale pairs (rows8.h: int32 lane r of pair p
// holds row r's int16 scales of sub-blocks 2p, 2p + 1) that give, for the rows of quad h and
// sub-block 2p + e, row RowOfQuarter(h, q)'s scale in the 4 int16 of quarter q.
struct Q6ScaleMasks {
  alignas(32) int8_t spread[2][2][32];
};

constexpr Q6ScaleMasks MakeQ6ScaleMasks() {
  Q6ScaleMasks m{};
  for (int h = 0; h < 2; ++h) {
    for (int e = 0; e < 2; ++e) {
      for (int i = 0; i < 32; ++i) {
        // Byte i of a 128-bit lane is in quarter j = (i % 16) / 8 of it: row 2h + j of the lane's
        // four, whose scale is int16 2 (2h + j) + e there.
        const int j = (i % 16) / 8;
        m.spread[h][e][i] = static_cast<int8_t>(2 * (2 * (2 * h + j) + e) + i % 2);
      }
    }
  }
  return m;
}

inline constexpr Q6ScaleMasks kQ6ScaleMasks = MakeQ6ScaleMasks();

// Q6_K tiles (rows8.h): codes q in [0, 63] (unsigned) against the activation, pair sums scaled
// per row and sub-block in int16 x int16 -> int32 (madd), so no per-sub-block horizontal add; the
// -32 offset comes out as 32 * sum_k sc_k * bsum_k. Same integer sums as the one-row spec.
struct Rows8Q6K {
  static constexpr int64_t kTileBytes = kRows8 * static_cast<int64_t>(sizeof(BlockQ6_K));

  static __m256i Load(const std::byte* p) {
    return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  }

  // The quad h's codes of elements 128n + 32t + 8c + i (i < 8), t = 0..3, as unsigned bytes.
  static void Codes(const std::byte* codes, int n, int h, int c, __m256i* q) {
    const __m256i low4 = _mm256_set1_epi8(0x0f), bits45 = _mm256_set1_epi8(0x30);
    const int64_t at = 32 * (4 * h + c);  // vector of the quad and chunk inside a run of 8
    const __m256i ql0 = Load(codes + 256 * (2 * n) + at);
    const __m256i ql1 = Load(codes + 256 * (2 * n + 1) + at);
    const __m256i qh = Load(codes + 256 * (4 + n) + at);
    // 16-bit shifts: the masks keep only bits that stayed inside their byte.
    q[0] = _mm256_or_si256(_mm256_and_si256(ql0, low4),
                           _mm256_and_si256(_mm256_slli_epi16(qh, 4), bits45));
    q[1] = _mm256_or_si256(_mm256_and_si256(ql1, low4),
                           _mm256_and_si256(_mm256_slli_epi16(qh, 2), bits45));
    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), low4),
                           _mm256_and_si256(qh, bits45));
    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), low4),
                           _mm256_and_si256(_mm256_srli_epi16(qh, 2), bits45));
  }

  // Quad h's share of half n: int32 lanes 2q, 2q + 1 sum sc * q * a of row RowOfQuarter(h, q).
  // scales[t] = the sign-extended pair 4n + t (sub-blocks 8n + 2t + e, e = 0, 1).
  static __m256i QuadHalf(const std::byte* codes, const int8_t* a, int n, int h,
                          const __m256i* scales) {
    __m256i sum = _mm256_setzero_si256();
    for (int e = 0; e < 2; ++e) {  // sub-blocks 8n + 2t + e: chunks c = 2e, 2e + 1
      __m256i q0[4], q1[4];
      Codes(codes, n, h, 2 * e, q0);
      Codes(codes, n, h, 2 * e + 1, q1);
      const __m256i mask =
          _mm256_load_si256(reinterpret_cast<const __m256i*>(kQ6ScaleMasks.spread[h][e]));
      for (int t = 0; t < 4; ++t) {
        const int8_t* at = a + 128 * n + 32 * t + 16 * e;
        int64_t a0, a1;
        std::memcpy(&a0, at, 8);
        std::memcpy(&a1, at + 8, 8);
        // Two pair sums of at most 2 * 63 * 128 each stay inside int16 (32256 < 32768).
        const __m256i pairs = _mm256_add_epi16(_mm256_maddubs_epi16(q0[t], _mm256_set1_epi64x(a0)),
                                               _mm256_maddubs_epi16(q1[t], _mm256_set1_epi64x(a1)));
        sum = _mm256_add_epi32(sum, _mm256_madd_epi16(pairs, _mm256_shuffle_epi8(scales[t], mask)));
      }
    }
    return sum;
  }

  // Lane r: row r's isum of the one-row spec, sum_k sc_k * sum_{i in k} (q_i - 32) a_i.
  static __m256i Sums(const std::byte* tile, const BlockQ8_K& a) {
    const std::byte* codes = tile + kRows8Q6KHeaderBytes;
    __m256i quad[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
    __m256i offset = _mm256_setzero_si256();  // lane r: sum_k sc_k * bsum_k of row r
    for (int n = 0; n < 2; ++n) {
      __m256i scales[4];
      for (int t = 0; t < 4; ++t) {
        const int p = 4 * n + t;
        scales[t] = _mm256_cvtepi8_epi16(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(tile + 2 * kRows8 + 16 * p)));
        int32_t bsums;  // bsum 2p in the low int16, 2p + 1 in the high one
        std::memcpy(&bsums, a.bsums + 2 * p, 4);
        offset = _mm256_add_epi32(offset, _mm256_madd_epi16(scales[t], _mm256_set1_epi32(bsums)));
      }
      for (int h = 0; h < 2; ++h) {
        quad[h] = _mm256_add_epi32(quad[h], QuadHalf(codes, a.qs, n, h, scales));
      }
    }
    return _mm256_sub_epi32(_mm256_hadd_epi32(quad[0], quad[1]), _mm256_slli_epi32(offset, 5));
  }
};

// One Q6_K tile into the 8 rows' accumulators.
__m256 StepRows8Q6_K(const std::byte* tile, const BlockQ8_K& a, __m256 acc) {
  const __m256 isum = _mm256_cvtepi32_ps(Rows8Q6K::Sums(tile, a));
  const __m256 d =
      _mm256_mul_ps(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile))),
                    _mm256_set1_ps(a.d));
  return _mm256_fmadd_ps(d, isum, acc);
}

// K-format 8-row groups: the next tile prefetched whole, one Step per block column, in order.
template <int64_t kTileBytes, __m256 (*Step)(const std::byte*, const BlockQ8_K&, __m256)>
void DotRows8K(const void* group, const void* act, int64_t n, float* out) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const std::byte* tile = tiles + b * kTileBytes;
    for (int64_t at = 0; at < kTileBytes; at += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(tile) + kTileBytes + at, _MM_HINT_T0);
    }
    acc = Step(tile, ab[b], acc);
  }
  _mm256_storeu_ps(out, acc);
}

// How far ahead of the tile being read the 8-row kernels prefetch (bytes).
constexpr int64_t kRows8PrefetchBytes = 1024;

template <class Op>
void DotRows8(const void* group, const void* act, int64_t n, float* out) {
  const std::byte* tiles = static_cast<const std::byte*>(group);
  const ActQ8Block* ab = static_cast<const ActQ8Block*>(act);
  const int64_t nb = n / kQK;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  auto step = [&](int64_t b, __m256& acc) {
    const std::byte* tile = tiles + b * Op::kTileBytes;
    const __m256 sums = _mm256_cvtepi32_ps(Op::Sums(tile, ab[b]));
    const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(tile)));
    acc = _mm256_fmadd_ps(_mm256_mul_ps(d, _mm256_set1_ps(ab[b].d)), sums, acc);
  };
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const char* ahead =
        reinterpret_cast<const char*>(tiles + b * Op::kTileBytes) + kRows8PrefetchBytes;
    for (int64_t at = 0; at < 2 * Op::kTileBytes; at += 64) _mm_prefetch(ahead + at, _MM_HINT_T0);
    step(b, acc0);
    step(b + 1, acc1);
  }
  if (b < nb) step(b, acc0);
  _mm256_storeu_ps(out, _mm256_add_ps(acc0, acc1));
}

QuantDotKernels TargetQuantDot() {
  return QuantDotKernels{
      &DotLegacy<Q4_0Op>,
      &DotLegacy<Q4_1Op>,
      &DotLegacy<Q5_0Op>,
      &DotLegacy<Q5_1Op>,
      &DotLegacy<Q8_0Op>,
      &DotK<Q45KOp<false>>,
      &DotK<Q45KOp<true>>,
      &DotK<Q6KOp>,
      &DotHalf<false>,
      &DotHalf<true>,
      {&DotLegacy4<Q4_0Op>, &DotLegacy4<Q4_1Op>, &DotLegacy4<Q5_0Op>, &DotLegacy4<Q5_1Op>,
       &DotLegacy4<Q8_0Op>, &DotK4<Q45KOp<false>>, &DotK4<Q45KOp<true>>, &DotK4<Q6KOp>},
      {&DotRows8<Rows8Q4_0>, nullptr, &DotRows8<Rows8Q5_0>, nullptr, &DotRows8<Rows8Q8_0>,
       &DotRows8K<Rows8Q4K::kTileBytes, &StepRows8Q4_K>, nullptr,
       &DotRows8K<Rows8Q6K::kTileBytes, &StepRows8Q6_K>}};
}

#else  // no kernels of our own below AVX2: the twin

QuantDotKernels TargetQuantDot() { return ScalarQuantDotKernels(); }

#endif

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sg
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sg {

HWY_EXPORT(TargetQuantDot);

// Called while simd_highway.cc narrows Highway's chosen target to one target at a time.
QuantDotKernels QuantDotKernelsForChosenTarget() { return HWY_DYNAMIC_DISPATCH(TargetQuantDot)(); }

}  // namespace sg
#endif  // HWY_ONCE
