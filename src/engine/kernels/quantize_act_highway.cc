// The activation quantizers per SIMD target (foreach_target.h): a matmul's input row into the
// layout of its weight type, once per call (quant_dot.h). The scalar spec is QuantizeActQ8 and
// QuantizeRowQ8_K; these equal it bit for bit:
//   amax  = max |x_i| over the block, NaN ignored (fmax's rule; vmaxps returns its second operand
//           when the first is NaN, and the running max is the second operand);
//   Q8_0  : d = amax / 127, id = 127 / amax (0 when amax is 0), q = x * id;
//   Q8_K  : d = amax / 127, q = x / d (all 0 when d is 0);
//   q     = -127 unless q > -127 (NaN included), 127 unless q < 127, else round-half-even (the
//           default rounding of nearbyint and of vroundps with _MM_FROUND_TO_NEAREST_INT);
//   sums  : exact integer sums of the codes (per block; per 16 for Q8_K's bsums).
// On x86 from AVX2 up they use AVX2 intrinsics (as quant_dot_highway.cc does); below that, and on
// other architectures, the twin.
#include <cstdint>
#include <cstring>

#include "engine/kernels/quant_dot.h"
#include "engine/kernels/simd_targets.h"
#include "engine/quant/blocks.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/kernels/quantize_act_highway.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace sg {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)

// max |x_i| over 8k floats (k >= 1), NaN lanes ignored.
inline float AbsMax(const float* x, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 m = _mm256_setzero_ps();
  for (int64_t i = 0; i < n; i += 8)
    m = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), m);
  __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  h = _mm_max_ps(h, _mm_movehl_ps(h, h));
  h = _mm_max_ss(h, _mm_movehdup_ps(h));
  return _mm_cvtss_f32(h);
}

// The codes of 8 scaled values v as int32 lanes: the spec's RoundClamp(v, -127, 127).
inline __m256i Codes(__m256 v) {
  const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
  const __m256 r =
      _mm256_min_ps(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC), hi);
  // Ordered compare: false for NaN, which the spec maps to -127 as it does v <= -127.
  return _mm256_cvtps_epi32(_mm256_blendv_ps(lo, r, _mm256_cmp_ps(v, lo, _CMP_GT_OQ)));
}

// 32 int32 codes (4 vectors, in element order) as 32 int8 in element order. packs works within
// 128-bit halves, which interleaves the four vectors' 4-lane halves; the permute undoes it.
inline __m256i PackCodes(__m256i c0, __m256i c1, __m256i c2, __m256i c3) {
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(c0, c1), _mm256_packs_epi32(c2, c3));
  return _mm256_permutevar8x32_epi32(bytes, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

inline int32_t SumLanes(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

void QuantizeQ8(const float* x, void* out, int64_t n) {
  ActQ8Block* blocks = static_cast<ActQ8Block*>(out);
  for (int64_t b = 0; b < n / kActBlockElems; ++b) {
    const float* xb = x + b * kActBlockElems;
    ActQ8Block& o = blocks[b];
    const float amax = AbsMax(xb, kActBlockElems);
    o.d = amax / 127.0f;
    const __m256 id = _mm256_set1_ps(amax > 0.0f ? 127.0f / amax : 0.0f);
    __m256i c[4];
    for (int k = 0; k < 4; ++k) c[k] = Codes(_mm256_mul_ps(_mm256_loadu_ps(xb + 8 * k), id));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.qs), PackCodes(c[0], c[1], c[2], c[3]));
    o.sum = SumLanes(_mm256_add_epi32(_mm256_add_epi32(c[0], c[1]), _mm256_add_epi32(c[2], c[3])));
  }
}

void QuantizeQ8_K(const float* x, void* out, int64_t n) {
  BlockQ8_K* blocks = static_cast<BlockQ8_K*>(out);
  for (int64_t b = 0; b < n / kQKK; ++b) {
    const float* xb = x + b * kQKK;
    BlockQ8_K& o = blocks[b];
    o.d = AbsMax(xb, kQKK) / 127.0f;
    if (!(o.d > 0.0f)) {
      std::memset(o.qs, 0, sizeof(o.qs));
      std::memset(o.bsums, 0, sizeof(o.bsums));
      continue;
    }
    const __m256 d = _mm256_set1_ps(o.d);
    for (int g = 0; g < kQKK / 32; ++g) {
      __m256i c[4];
      for (int k = 0; k < 4; ++k) {
        c[k] = Codes(_mm256_div_ps(_mm256_loadu_ps(xb + 32 * g + 8 * k), d));
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o.qs + 32 * g),
                          PackCodes(c[0], c[1], c[2], c[3]));
      o.bsums[2 * g] = static_cast<int16_t>(SumLanes(_mm256_add_epi32(c[0], c[1])));
      o.bsums[2 * g + 1] = static_cast<int16_t>(SumLanes(_mm256_add_epi32(c[2], c[3])));
    }
  }
}

void AddActQuantizers(QuantDotKernels* k) {
  k->quantize_q8 = &QuantizeQ8;
  k->quantize_q8_k = &QuantizeQ8_K;
}

#else  // no kernels of our own below AVX2: the twin's (already in the table)

void AddActQuantizers(QuantDotKernels*) {}

#endif

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sg
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sg {

HWY_EXPORT(AddActQuantizers);

void AddActQuantizersForChosenTarget(QuantDotKernels* k) {
  HWY_DYNAMIC_DISPATCH(AddActQuantizers)(k);
}

}  // namespace sg
#endif  // HWY_ONCE
