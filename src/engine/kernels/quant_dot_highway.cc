// The integer dot kernels per SIMD target, compiled once per Highway target (foreach_target.h).
// On x86 from AVX2 up they are written with the x86 intrinsics Highway 1.0.3 has no portable op
// for (maddubs: u8 x i8 pairs to i16; vpdpbusd: u8 x i8 quads to i32 on AVX3_DL, which has
// AVX512-VNNI); Highway still compiles each target with its own flags and picks the table at run
// time. Targets below AVX2 (and other architectures) use the scalar twin.
//
// Exactness (quant_dot.h): integer parts are exact in every path (no maddubs pair can saturate:
// |w| <= 128 unsigned against |a| <= 127 gives at most 2 * 128 * 127 = 32512); the float parts
// are the twin's operations in the twin's order (one FMA per lane per block, the same reduction).
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "engine/core/half.h"
#include "engine/core/prefetch.h"
#include "engine/kernels/amx.h"
#include "engine/kernels/amx_half.h"
#include "engine/kernels/amx_tile.h"
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

// The end of DotHalf, shared by its several-token forms: the four chains reduced in its order
// (chains 0 + 1 and 2 + 3, then together, then Reduce8) and the scalar tail [from, n).
template <bool kBf16>
inline float HalfDotEnd(__m256 c01, __m256 c23, const uint16_t* w, const float* x, int64_t from,
                        int64_t n) {
  float s = ReduceVec(_mm256_add_ps(c01, c23));
  for (int64_t i = from; i < n; ++i) s += (kBf16 ? Bf16ToF32(w[i]) : F16ToF32(w[i])) * x[i];
  return s;
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
  return HalfDotEnd<kBf16>(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3), w, x, i, n);
}

// Several half rows against several tokens, each output bit for bit DotHalf: the same four FMA
// chains per output (chain k takes the 8 lanes at 32j + 8k, chain 0 also the 8-lane tail), reduced
// the same way. One chain of a 4-row x 2-token tile is in registers at a time (8 accumulators, 4
// widened weight vectors): each widened weight vector serves 2 tokens and each token vector 4
// rows, where DotHalf widens and loads one weight and one token vector per FMA. The 4 rows (8 KiB
// of halves at n = 1024) stay in L1 while the tokens stream past them. A partial tile repeats
// its last row or token (computed, not stored), so the body keeps its fixed shape.
template <bool kBf16>
void GemmHalf(const uint16_t* w, int64_t w_stride, int64_t num_rows, const float* x,
              int64_t x_stride, int64_t num_tokens, int64_t n, float* out, int64_t out_stride,
              bool accumulate) {
  constexpr int kR = 4, kT = 2;
  const int64_t n32 = n / 32 * 32, n8 = n / 8 * 8;
  for (int64_t r0 = 0; r0 < num_rows; r0 += kR) {
    const int64_t rows = std::min<int64_t>(kR, num_rows - r0);
    const uint16_t* wr[kR];
    for (int r = 0; r < kR; ++r) wr[r] = w + (r0 + std::min<int64_t>(r, rows - 1)) * w_stride;
    for (int64_t t0 = 0; t0 < num_tokens; t0 += kT) {
      const int64_t tokens = std::min<int64_t>(kT, num_tokens - t0);
      const float* xt[kT];
      for (int t = 0; t < kT; ++t) xt[t] = x + (t0 + std::min<int64_t>(t, tokens - 1)) * x_stride;
      __m256 chains[4][kR][kT];
      for (int k = 0; k < 4; ++k) {
        __m256 acc[kR][kT];
        for (int r = 0; r < kR; ++r) {
          for (int t = 0; t < kT; ++t) acc[r][t] = _mm256_setzero_ps();
        }
        auto body = [&](int64_t i) {
          __m256 wv[kR];
          for (int r = 0; r < kR; ++r) wv[r] = Widen<kBf16>(wr[r] + i);
          for (int t = 0; t < kT; ++t) {
            const __m256 xv = _mm256_loadu_ps(xt[t] + i);
            for (int r = 0; r < kR; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
          }
        };
        for (int64_t i = 8 * k; i < n32; i += 32) body(i);
        if (k == 0) {
          for (int64_t i = n32; i < n8; i += 8) body(i);
        }
        for (int r = 0; r < kR; ++r) {
          for (int t = 0; t < kT; ++t) chains[k][r][t] = acc[r][t];
        }
      }
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          const float s = HalfDotEnd<kBf16>(_mm256_add_ps(chains[0][r][t], chains[1][r][t]),
                                            _mm256_add_ps(chains[2][r][t], chains[3][r][t]), wr[r],
                                            xt[t], n8, n);
          float& o = out[(t0 + t) * out_stride + r0 + r];
          o = accumulate ? o + s : s;
        }
      }
    }
  }
}

#if (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL) && !defined(__clang__)
// GCC 12 warns that the undefined pass-through operand of its own AVX-512 intrinsics
// (_mm512_cvtepi32_ps, _mm512_cvtph_ps, _mm512_cvtepu16_epi32, _mm512_inserti64x4, ...) "may be
// used uninitialized"; it is the intrinsic's own placeholder, for this and the AMX code below.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
// GemmHalf with 512-bit vectors, each output still DotHalf's bit for bit: DotHalf's chains 0 and 1
// (elements 32j + 0..7 and 32j + 8..15) are the two halves of one 16-lane accumulator, chains 2
// and 3 of another, so every lane runs the same FMAs in the same order; the 8-lane tail groups
// (chain 0) are a masked FMA on the low half, and the halves are added in DotHalf's reduction
// order. Register tile: 4 rows x 4 tokens, one accumulator pair (chains 0-1, then chains 2-3)
// at a time: 16 accumulators, each widened weight vector serves 4 tokens and each token vector
// 4 rows.
template <bool kBf16>
inline __m512 Widen16(const uint16_t* p) {
  const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  if constexpr (kBf16) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    return _mm512_cvtph_ps(h);
  }
}

template <bool kBf16>
void GemmHalf512(const uint16_t* w, int64_t w_stride, int64_t num_rows, const float* x,
                 int64_t x_stride, int64_t num_tokens, int64_t n, float* out, int64_t out_stride,
                 bool accumulate) {
  constexpr int kR = 4, kT = 4;
  const int64_t n32 = n / 32 * 32, n8 = n / 8 * 8;
  for (int64_t r0 = 0; r0 < num_rows; r0 += kR) {
    const int64_t rows = std::min<int64_t>(kR, num_rows - r0);
    const uint16_t* wr[kR];
    for (int r = 0; r < kR; ++r) wr[r] = w + (r0 + std::min<int64_t>(r, rows - 1)) * w_stride;
    for (int64_t t0 = 0; t0 < num_tokens; t0 += kT) {
      const int64_t tokens = std::min<int64_t>(kT, num_tokens - t0);
      const float* xt[kT];
      for (int t = 0; t < kT; ++t) xt[t] = x + (t0 + std::min<int64_t>(t, tokens - 1)) * x_stride;
      __m512 pair[2][kR][kT];  // [chains 0-1 | chains 2-3]
      for (int p = 0; p < 2; ++p) {
        __m512 acc[kR][kT];
        for (int r = 0; r < kR; ++r) {
          for (int t = 0; t < kT; ++t) acc[r][t] = _mm512_setzero_ps();
        }
        for (int64_t i = 16 * p; i < n32; i += 32) {
          __m512 wv[kR];
          for (int r = 0; r < kR; ++r) wv[r] = Widen16<kBf16>(wr[r] + i);
          for (int t = 0; t < kT; ++t) {
            const __m512 xv = _mm512_loadu_ps(xt[t] + i);
            for (int r = 0; r < kR; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xv, acc[r][t]);
          }
        }
        if (p == 0) {
          for (int64_t i = n32; i < n8; i += 8) {  // chain 0's tail: the low 8 lanes
            for (int r = 0; r < kR; ++r) {
              const __m512 wv = _mm512_castps256_ps512(Widen<kBf16>(wr[r] + i));
              for (int t = 0; t < kT; ++t) {
                const __m512 xv = _mm512_castps256_ps512(_mm256_loadu_ps(xt[t] + i));
                acc[r][t] = _mm512_mask3_fmadd_ps(wv, xv, acc[r][t], 0x00ff);
              }
            }
          }
        }
        for (int r = 0; r < kR; ++r) {
          for (int t = 0; t < kT; ++t) pair[p][r][t] = acc[r][t];
        }
      }
      for (int64_t t = 0; t < tokens; ++t) {
        for (int64_t r = 0; r < rows; ++r) {
          const __m512 a = pair[0][r][t], b = pair[1][r][t];
          const __m256 c01 = _mm256_add_ps(_mm512_castps512_ps256(a), _mm512_extractf32x8_ps(a, 1));
          const __m256 c23 = _mm256_add_ps(_mm512_castps512_ps256(b), _mm512_extractf32x8_ps(b, 1));
          const float s = HalfDotEnd<kBf16>(c01, c23, wr[r], xt[t], n8, n);
          float& o = out[(t0 + t) * out_stride + r0 + r];
          o = accumulate ? o + s : s;
        }
      }
    }
  }
}
#endif

#include "engine/kernels/rows8_kernels-inl.h"  // NOLINT(build/include): per target, in this namespace
#if HWY_TARGET == HWY_AVX3_DL
#include "engine/kernels/amx_gemm-inl.h"  // NOLINT(build/include): AVX3_DL only, in this namespace
#include "engine/kernels/amx_gemm_k-inl.h"  // NOLINT(build/include): the same
#endif

// The integer peak probe of this target (QuantDotKernels::int8_probe): 8 independent chains.
double Int8Probe(int64_t iterations) {
#if HWY_TARGET == HWY_AVX3_DL
  __m512i acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = _mm512_set1_epi32(k);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (int64_t i = 0; i < iterations; ++i) {
    // 512-bit VPDPBUSD (AVX512-VNNI) as assembly: Highway 1.0.3's AVX3_DL target string enables
    // only avxvnni, under which the 512-bit intrinsic is not available.
    for (int k = 0; k < 8; ++k) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc[k]) : "v"(a), "v"(b));
    __asm__ volatile(""
                     : "+v"(acc[0]), "+v"(acc[1]), "+v"(acc[2]), "+v"(acc[3]), "+v"(acc[4]),
                       "+v"(acc[5]), "+v"(acc[6]), "+v"(acc[7]));
  }
  constexpr double kOpsPerRound = 8.0 * 64 * 2;  // 8 instructions x 64 products x 2
#else
  __m256i acc[8];
  for (int k = 0; k < 8; ++k) acc[k] = _mm256_set1_epi32(k);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2), ones = _mm256_set1_epi16(1);
  for (int64_t i = 0; i < iterations; ++i) {
    for (int k = 0; k < 8; ++k) {
      acc[k] = _mm256_add_epi32(acc[k], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
    }
    __asm__ volatile(""
                     : "+x"(acc[0]), "+x"(acc[1]), "+x"(acc[2]), "+x"(acc[3]), "+x"(acc[4]),
                       "+x"(acc[5]), "+x"(acc[6]), "+x"(acc[7]));
  }
  constexpr double kOpsPerRound = 8.0 * 32 * 2;  // 8 groups x 32 products x 2
#endif
  return static_cast<double>(iterations) * kOpsPerRound;
}

// The AMX strip kernels where this target has them and the process may use the tile unit.
void AddAmxKernels(QuantDotKernels* k) {
#if HWY_TARGET == HWY_AVX3_DL
  k->int8_probe = &Int8Probe;
  k->int8_probe_name = "AVX-512 VNNI (vpdpbusd)";
  if (!AmxUsable()) return;
  k->int8_probe = &AmxInt8Probe;
  k->int8_probe_name = "AMX (tdpbssd)";
  k->gemm16[0] = &GemmRows16Amx<AmxLegacy<Rows8Q4_0>>;
  k->gemm16[2] = &GemmRows16Amx<AmxLegacy<Rows8Q5_0>>;
  k->gemm16[4] = &GemmRows16Amx<AmxLegacy<Rows8Q8_0>>;
  k->gemm16[5] = &GemmRows16Amx<AmxQ4K>;
  k->gemm16[7] = &GemmRows16Amx<AmxQ6K>;
  k->pack_tiles16 = &PackTiles16;
  k->pack_tiles16_k = &PackTiles16K;
  k->half_amx = AmxHalfUsable();
#else
  k->int8_probe = &Int8Probe;
  k->int8_probe_name =
      HWY_TARGET == HWY_AVX3 ? "AVX-512 (vpmaddubsw, 256-bit kernels)" : "AVX2 (vpmaddubsw)";
#endif
}

QuantDotKernels TargetQuantDot() {
  QuantDotKernels k {
    &DotLegacy<Q4_0Op>, &DotLegacy<Q4_1Op>, &DotLegacy<Q5_0Op>, &DotLegacy<Q5_1Op>,
        &DotLegacy<Q8_0Op>, &DotK<Q45KOp<false>>, &DotK<Q45KOp<true>>, &DotK<Q6KOp>,
        &DotHalf<false>, &DotHalf<true>,
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
        &GemmHalf512<false>, &GemmHalf512<true>,
#else
        &GemmHalf<false>, &GemmHalf<true>,
#endif
        {&DotLegacy4<Q4_0Op>, &DotLegacy4<Q4_1Op>,   &DotLegacy4<Q5_0Op>,  &DotLegacy4<Q5_1Op>,
         &DotLegacy4<Q8_0Op>, &DotK4<Q45KOp<false>>, &DotK4<Q45KOp<true>>, &DotK4<Q6KOp>},
        {&DotRows8<Rows8Q4_0>,
         nullptr,
         &DotRows8<Rows8Q5_0>,
         nullptr,
         &DotRows8<Rows8Q8_0>,
         &DotRows8K<Rows8Q4K::kTileBytes, &StepRows8Q4_K>,
         nullptr,
         &DotRows8K<Rows8Q6K::kTileBytes, &StepRows8Q6_K>},
    {
      &GemmRows8<Rows8Q4_0>, nullptr, &GemmRows8<Rows8Q5_0>, nullptr, &GemmRows8<Rows8Q8_0>,
          &GemmRows8KTiles<Rows8Q4KTile, Rows8Q4K::kTileBytes>, nullptr,
          &GemmRows8KTiles<Rows8Q6KTile, Rows8Q6K::kTileBytes>
    }
  };
  AddAmxKernels(&k);
  return k;
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
