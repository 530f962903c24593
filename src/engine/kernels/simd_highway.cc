// The Highway kernels, compiled once per target by foreach_target.h (this file re-includes itself
// with HWY_TARGET set to each of HWY_TARGETS). Only code inside HWY_NAMESPACE is per-target; the
// HWY_ONCE part at the bottom is compiled once and collects one SimdKernels table per target.
// The whole project is built for the baseline ISA; AVX2/AVX-512 code here is only reached through
// runtime dispatch, so the binary runs on any x86-64.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "engine/core/half.h"
#include "engine/quant/blocks.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "engine/kernels/simd_highway.cc"
#include "engine/kernels/simd_targets.h"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
#include "hwy/highway.h"

// After highway.h, once per target (its include guard toggles per target like this file's).
#include "hwy/contrib/math/math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace sg {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Four independent accumulators hide the FMA latency (4 cycles, 2 per cycle on current cores).
// Error: each lane sums n/(4*lanes) products, then a tree of 4*lanes partial sums, so the bound
// n * eps * sum|a_i b_i| of the sequential twin holds with room to spare.
float DotF32(const float* a, const float* b, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  auto s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 4 * lanes <= n; i += 4 * lanes) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
    s1 = hn::MulAdd(hn::LoadU(d, a + i + lanes), hn::LoadU(d, b + i + lanes), s1);
    s2 = hn::MulAdd(hn::LoadU(d, a + i + 2 * lanes), hn::LoadU(d, b + i + 2 * lanes), s2);
    s3 = hn::MulAdd(hn::LoadU(d, a + i + 3 * lanes), hn::LoadU(d, b + i + 3 * lanes), s3);
  }
  for (; i + lanes <= n; i += lanes) {
    s0 = hn::MulAdd(hn::LoadU(d, a + i), hn::LoadU(d, b + i), s0);
  }
  const auto s = hn::Add(hn::Add(s0, s1), hn::Add(s2, s3));
  float sum = hn::GetLane(hn::SumOfLanes(d, s));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

// One accumulator per row; x is loaded once per step and used four times. Two steps per
// iteration keep 8 FMAs in flight without spilling (8 accumulators + 2 x + 1 w of 16 registers).
void Dot4F32(const float* w, int64_t w_stride, const float* x, int64_t n, float* out) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const float* w0 = w;
  const float* w1 = w + w_stride;
  const float* w2 = w + 2 * w_stride;
  const float* w3 = w + 3 * w_stride;
  auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  auto b0 = hn::Zero(d), b1 = hn::Zero(d), b2 = hn::Zero(d), b3 = hn::Zero(d);
  int64_t i = 0;
  for (; i + 2 * lanes <= n; i += 2 * lanes) {
    const auto xa = hn::LoadU(d, x + i), xb = hn::LoadU(d, x + i + lanes);
    a0 = hn::MulAdd(hn::LoadU(d, w0 + i), xa, a0);
    a1 = hn::MulAdd(hn::LoadU(d, w1 + i), xa, a1);
    a2 = hn::MulAdd(hn::LoadU(d, w2 + i), xa, a2);
    a3 = hn::MulAdd(hn::LoadU(d, w3 + i), xa, a3);
    b0 = hn::MulAdd(hn::LoadU(d, w0 + i + lanes), xb, b0);
    b1 = hn::MulAdd(hn::LoadU(d, w1 + i + lanes), xb, b1);
    b2 = hn::MulAdd(hn::LoadU(d, w2 + i + lanes), xb, b2);
    b3 = hn::MulAdd(hn::LoadU(d, w3 + i + lanes), xb, b3);
  }
  for (; i + lanes <= n; i += lanes) {
    const auto xa = hn::LoadU(d, x + i);
    a0 = hn::MulAdd(hn::LoadU(d, w0 + i), xa, a0);
    a1 = hn::MulAdd(hn::LoadU(d, w1 + i), xa, a1);
    a2 = hn::MulAdd(hn::LoadU(d, w2 + i), xa, a2);
    a3 = hn::MulAdd(hn::LoadU(d, w3 + i), xa, a3);
  }
  float s0 = hn::GetLane(hn::SumOfLanes(d, hn::Add(a0, b0)));
  float s1 = hn::GetLane(hn::SumOfLanes(d, hn::Add(a1, b1)));
  float s2 = hn::GetLane(hn::SumOfLanes(d, hn::Add(a2, b2)));
  float s3 = hn::GetLane(hn::SumOfLanes(d, hn::Add(a3, b3)));
  for (; i < n; ++i) {
    s0 += w0[i] * x[i];
    s1 += w1[i] * x[i];
    s2 += w2[i] * x[i];
    s3 += w3[i] * x[i];
  }
  out[0] = s0;
  out[1] = s1;
  out[2] = s2;
  out[3] = s3;
}

void AxpyF32(float alpha, const float* x, float* y, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const auto va = hn::Set(d, alpha);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::MulAdd(va, hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, y + i);
  }
  for (; i < n; ++i) y[i] += alpha * x[i];
}

// silu(g) * up with Highway's Exp (1 ulp; valid up to +104, so -g is clamped there: exp(104)
// is already +inf in float, and g / inf = -0 as with std::exp; a NaN g stays NaN). The tail goes
// through the same vector code (padded), so an element's result does not depend on where a
// caller's range starts or ends (the fused SwiGLU matmul calls this per row range).
void SiluMulF32(const float* gate, const float* up, float* out, int64_t n) {
  const hn::ScalableTag<float> d;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const auto one = hn::Set(d, 1.0f), limit = hn::Set(d, 104.0f);
  auto silu_mul = [&](auto g, auto u) {
    return hn::Mul(hn::Div(g, hn::Add(one, hn::Exp(d, hn::Min(hn::Neg(g), limit)))), u);
  };
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(silu_mul(hn::LoadU(d, gate + i), hn::LoadU(d, up + i)), d, out + i);
  }
  if (i < n) {
    HWY_ALIGN float g[hn::MaxLanes(d)] = {}, u[hn::MaxLanes(d)] = {};
    std::copy(gate + i, gate + n, g);
    std::copy(up + i, up + n, u);
    hn::Store(silu_mul(hn::Load(d, g), hn::Load(d, u)), d, g);
    std::copy(g, g + (n - i), out + i);
  }
}

// attend_block_f32 (simd_dispatch.h). The 16 scores of a row are one 16-slot vector (two on
// AVX2): d broadcast-FMAs of q[e] against row e of K^T, in four chains by e mod 4 as the twin's,
// no horizontal sum per score. Two rows share each load of K^T. Lanes are independent, so a row
// computes the same bits whichever row it is paired with.
template <class D, class V = hn::Vec<D>>
HWY_INLINE void AttendScoresPair(D d, const float* qa, const float* qb, const float* kt,
                                 int64_t dim, V& sa, V& sb) {
  constexpr int64_t kS = kAttendBlockSlots;
  V a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
  V b0 = hn::Zero(d), b1 = hn::Zero(d), b2 = hn::Zero(d), b3 = hn::Zero(d);
  int64_t e = 0;
  for (; e + 4 <= dim; e += 4) {
    const V k0 = hn::LoadU(d, kt + e * kS), k1 = hn::LoadU(d, kt + (e + 1) * kS);
    const V k2 = hn::LoadU(d, kt + (e + 2) * kS), k3 = hn::LoadU(d, kt + (e + 3) * kS);
    a0 = hn::MulAdd(hn::Set(d, qa[e]), k0, a0);
    b0 = hn::MulAdd(hn::Set(d, qb[e]), k0, b0);
    a1 = hn::MulAdd(hn::Set(d, qa[e + 1]), k1, a1);
    b1 = hn::MulAdd(hn::Set(d, qb[e + 1]), k1, b1);
    a2 = hn::MulAdd(hn::Set(d, qa[e + 2]), k2, a2);
    b2 = hn::MulAdd(hn::Set(d, qb[e + 2]), k2, b2);
    a3 = hn::MulAdd(hn::Set(d, qa[e + 3]), k3, a3);
    b3 = hn::MulAdd(hn::Set(d, qb[e + 3]), k3, b3);
  }
  if (e < dim) {  // d % 4 trailing elements: chains 0, 1, 2
    const V k0 = hn::LoadU(d, kt + e * kS);
    a0 = hn::MulAdd(hn::Set(d, qa[e]), k0, a0);
    b0 = hn::MulAdd(hn::Set(d, qb[e]), k0, b0);
  }
  if (e + 1 < dim) {
    const V k1 = hn::LoadU(d, kt + (e + 1) * kS);
    a1 = hn::MulAdd(hn::Set(d, qa[e + 1]), k1, a1);
    b1 = hn::MulAdd(hn::Set(d, qb[e + 1]), k1, b1);
  }
  if (e + 2 < dim) {
    const V k2 = hn::LoadU(d, kt + (e + 2) * kS);
    a2 = hn::MulAdd(hn::Set(d, qa[e + 2]), k2, a2);
    b2 = hn::MulAdd(hn::Set(d, qb[e + 2]), k2, b2);
  }
  sa = hn::Add(hn::Add(a0, a1), hn::Add(a2, a3));
  sb = hn::Add(hn::Add(b0, b1), hn::Add(b2, b3));
}

// The online softmax step of one row from its 16 scaled scores s (aligned); writes p[0, 16)
// (0 beyond n) and rescales acc (dim floats) when the max grows.
HWY_INLINE void AttendSoftmaxRow(const float* s, int64_t n, int64_t dim, float* row_max,
                                 float* row_sum, float* acc, float* p) {
  const hn::CappedTag<float, kAttendBlockSlots> d;
  constexpr int64_t kN = static_cast<int64_t>(hn::MaxLanes(d));
  auto vmax = hn::Set(d, -std::numeric_limits<float>::infinity());
  for (int64_t h = 0; h < kAttendBlockSlots; h += kN) {
    const auto mask = hn::FirstN(d, static_cast<size_t>(std::clamp<int64_t>(n - h, 0, kN)));
    vmax = hn::IfThenElse(mask, hn::Max(vmax, hn::Load(d, s + h)), vmax);
  }
  const float block_max = hn::GetLane(hn::MaxOfLanes(d, vmax));
  if (block_max > *row_max) {
    const float correction = std::exp(*row_max - block_max);
    if (*row_sum > 0.0f) {
      const hn::ScalableTag<float> df;
      const int64_t lanes = static_cast<int64_t>(hn::Lanes(df));
      const auto vc = hn::Set(df, correction);
      int64_t e = 0;
      for (; e + lanes <= dim; e += lanes)
        hn::StoreU(hn::Mul(hn::LoadU(df, acc + e), vc), df, acc + e);
      for (; e < dim; ++e) acc[e] *= correction;
    }
    *row_sum *= correction;
    *row_max = block_max;
  }
  const auto shift = hn::Set(d, *row_max);
  auto sum = hn::Zero(d);
  for (int64_t h = 0; h < kAttendBlockSlots; h += kN) {
    const auto mask = hn::FirstN(d, static_cast<size_t>(std::clamp<int64_t>(n - h, 0, kN)));
    const auto e = hn::IfThenElseZero(mask, hn::Exp(d, hn::Sub(hn::Load(d, s + h), shift)));
    hn::Store(e, d, p + h);
    sum = hn::Add(sum, e);
  }
  *row_sum += hn::GetLane(hn::SumOfLanes(d, sum));
}

// y_r[e] = fma(p_r[j], v[j][e], y_r[e]) for j < n in order, for kRows (1 or 2) rows that see the
// same n: the rows share each load of V. Four vectors of each row stay in registers across the
// j loop, then one vector, then a scalar tail; per element the FMAs are the twin's, in its order.
template <int kRows>
HWY_INLINE void AttendPv(const float* const (&p)[kRows], const float* v, int64_t v_stride,
                         int64_t n, int64_t dim, float* const (&y)[kRows]) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  int64_t i = 0;
  for (; i + 4 * lanes <= dim; i += 4 * lanes) {
    V a[kRows][4];
    for (int r = 0; r < kRows; ++r) {
      for (int u = 0; u < 4; ++u) a[r][u] = hn::LoadU(d, y[r] + i + u * lanes);
    }
    for (int64_t j = 0; j < n; ++j) {
      const float* row = v + j * v_stride + i;
      const V v0 = hn::LoadU(d, row), v1 = hn::LoadU(d, row + lanes);
      const V v2 = hn::LoadU(d, row + 2 * lanes), v3 = hn::LoadU(d, row + 3 * lanes);
      for (int r = 0; r < kRows; ++r) {
        const V pj = hn::Set(d, p[r][j]);
        a[r][0] = hn::MulAdd(pj, v0, a[r][0]);
        a[r][1] = hn::MulAdd(pj, v1, a[r][1]);
        a[r][2] = hn::MulAdd(pj, v2, a[r][2]);
        a[r][3] = hn::MulAdd(pj, v3, a[r][3]);
      }
    }
    for (int r = 0; r < kRows; ++r) {
      for (int u = 0; u < 4; ++u) hn::StoreU(a[r][u], d, y[r] + i + u * lanes);
    }
  }
  for (; i + lanes <= dim; i += lanes) {
    V a[kRows];
    for (int r = 0; r < kRows; ++r) a[r] = hn::LoadU(d, y[r] + i);
    for (int64_t j = 0; j < n; ++j) {
      const V vj = hn::LoadU(d, v + j * v_stride + i);
      for (int r = 0; r < kRows; ++r) a[r] = hn::MulAdd(hn::Set(d, p[r][j]), vj, a[r]);
    }
    for (int r = 0; r < kRows; ++r) hn::StoreU(a[r], d, y[r] + i);
  }
  for (; i < dim; ++i) {
    for (int r = 0; r < kRows; ++r) {
      for (int64_t j = 0; j < n; ++j) y[r][i] = std::fma(p[r][j], v[j * v_stride + i], y[r][i]);
    }
  }
}

void AttendBlockF32(const float* q, int64_t rows, const int64_t* counts, const float* kt,
                    const float* v, int64_t v_stride, int64_t dim, float scale, float* row_max,
                    float* row_sum, float* acc) {
  const hn::CappedTag<float, kAttendBlockSlots> d;
  constexpr int64_t kN = static_cast<int64_t>(hn::MaxLanes(d));
  HWY_ALIGN float s[2][kAttendBlockSlots];
  HWY_ALIGN float p[2][kAttendBlockSlots];
  const auto vscale = hn::Set(d, scale);
  for (int64_t r = 0; r < rows; r += 2) {
    const bool pair = r + 1 < rows;
    const float* qa = q + r * dim;
    const float* qb = pair ? qa + dim : qa;
    for (int64_t h = 0; h < kAttendBlockSlots; h += kN) {
      hn::Vec<decltype(d)> sa, sb;
      AttendScoresPair(d, qa, qb, kt + h, dim, sa, sb);
      hn::Store(hn::Mul(sa, vscale), d, s[0] + h);
      hn::Store(hn::Mul(sb, vscale), d, s[1] + h);
    }
    float* acc_a = acc + r * dim;
    AttendSoftmaxRow(s[0], counts[r], dim, row_max + r, row_sum + r, acc_a, p[0]);
    if (!pair) {
      AttendPv<1>({p[0]}, v, v_stride, counts[r], dim, {acc_a});
      continue;
    }
    float* acc_b = acc_a + dim;
    AttendSoftmaxRow(s[1], counts[r + 1], dim, row_max + r + 1, row_sum + r + 1, acc_b, p[1]);
    if (counts[r] == counts[r + 1]) {
      AttendPv<2>({p[0], p[1]}, v, v_stride, counts[r], dim, {acc_a, acc_b});
    } else {
      AttendPv<1>({p[0]}, v, v_stride, counts[r], dim, {acc_a});
      AttendPv<1>({p[1]}, v, v_stride, counts[r + 1], dim, {acc_b});
    }
  }
}

// Widening conversions. On x86, PromoteTo of float16 is the exact F16C instruction from AVX2 up;
// Highway 1.0.3's software path for older targets turns inf/NaN into finite values, so those
// targets (and the portable fallbacks elsewhere) use the exact scalar conversion instead.
// bfloat16 is the top half of a float, so its promotion is a shift on every target.
#if (HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2) || \
    (!HWY_ARCH_X86 && HWY_TARGET != HWY_SCALAR && HWY_TARGET != HWY_EMU128)
#define SG_NATIVE_F16_PROMOTE 1
#else
#define SG_NATIVE_F16_PROMOTE 0
#endif

void F16ToF32(const uint16_t* src, float* dst, int64_t n) {
  int64_t i = 0;
#if SG_NATIVE_F16_PROMOTE
  const hn::ScalableTag<float> d;
  const hn::Rebind<hwy::float16_t, decltype(d)> dh;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const auto* in = reinterpret_cast<const hwy::float16_t*>(src);
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::PromoteTo(d, hn::LoadU(dh, in + i)), d, dst + i);
#endif
  for (; i < n; ++i) dst[i] = sg::F16ToF32(src[i]);
}
#undef SG_NATIVE_F16_PROMOTE

void Bf16ToF32(const uint16_t* src, float* dst, int64_t n) {
  const hn::ScalableTag<float> d;
  const hn::Rebind<hwy::bfloat16_t, decltype(d)> db;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(d));
  const auto* in = reinterpret_cast<const hwy::bfloat16_t*>(src);
  int64_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(hn::PromoteTo(d, hn::LoadU(db, in + i)), d, dst + i);
  for (; i < n; ++i) dst[i] = sg::Bf16ToF32(src[i]);
}

// The q8_0 KV cache (SimdKernels::q8_0_to_f32 and q8_0_to_f32_kt): exact products, so the
// twin's bits. Blocks are BlockQ8_0 (a binary16 scale, then kQK int8 codes); lanes divide kQK.
constexpr int64_t kQ8BlockBytes = static_cast<int64_t>(sizeof(BlockQ8_0));
constexpr int64_t kQ8CodesAt = static_cast<int64_t>(offsetof(BlockQ8_0, qs));

float Q8Scale(const uint8_t* block) {
  uint16_t bits;
  std::memcpy(&bits, block + offsetof(BlockQ8_0, d), sizeof bits);
  return sg::F16ToF32(bits);
}

void Q8_0ToF32(const void* src, float* dst, int64_t n) {
  const hn::ScalableTag<int32_t> di;
  const hn::Rebind<float, decltype(di)> df;
  const hn::Rebind<int8_t, decltype(di)> d8;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(di));
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t b = 0; b < n / kQK; ++b) {
    const uint8_t* block = bytes + b * kQ8BlockBytes;
    const auto scale = hn::Set(df, Q8Scale(block));
    const auto* codes = reinterpret_cast<const int8_t*>(block + kQ8CodesAt);
    for (int64_t k = 0; k < kQK; k += lanes) {
      const auto q = hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d8, codes + k)));
      hn::StoreU(hn::Mul(q, scale), df, dst + b * kQK + k);
    }
  }
}

// Lanes are slots: per 32-element block and group of slots, one 4-byte gather per 4 elements
// (codes e .. e + 3 of every slot), each byte sign-extended in place, so nothing is transposed
// through memory (the scalar transpose of dequantized rows took about 8% of a q8_0-KV prefill).
void Q8_0ToF32Kt(const void* src, int64_t stride, int64_t count, int64_t d, float* kt) {
  constexpr int64_t kSlots = kAttendBlockSlots;
  const hn::ScalableTag<int32_t> di;
  const hn::Rebind<float, decltype(di)> df;
  const int64_t lanes = static_cast<int64_t>(hn::Lanes(di));
  const auto* bytes = static_cast<const uint8_t*>(src);
  // GatherOffset reads 4 bytes at base + a byte offset: base is src rounded down to a 4-byte
  // boundary (a valid int32_t pointer), the rest goes into the offsets.
  const auto addr = reinterpret_cast<uintptr_t>(src);
  const auto* base = reinterpret_cast<const int32_t*>(addr & ~uintptr_t{3});
  const auto skew = static_cast<int32_t>(addr & 3);
  alignas(64) float scales[kSlots];
  alignas(64) int32_t rows[kSlots];
  for (int64_t j = 0; j < kSlots; ++j) rows[j] = static_cast<int32_t>(j * stride) + skew;
  for (int64_t b = 0; b < d / kQK; ++b) {
    for (int64_t j = 0; j < kSlots; ++j) {
      scales[j] = j < count ? Q8Scale(bytes + j * stride + b * kQ8BlockBytes) : 0.0f;
    }
    for (int64_t j0 = 0; j0 < kSlots; j0 += lanes) {
      const auto scale = hn::LoadU(df, scales + j0);
      const auto used = hn::RebindMask(df, hn::Lt(hn::Iota(di, static_cast<int32_t>(j0)),
                                                  hn::Set(di, static_cast<int32_t>(count))));
      const auto first = hn::Add(hn::LoadU(di, rows + j0),
                                 hn::Set(di, static_cast<int32_t>(b * kQ8BlockBytes + kQ8CodesAt)));
      float* out = kt + b * kQK * kSlots + j0;
      for (int64_t k = 0; k < kQK; k += 4) {
        const auto w =
            hn::GatherOffset(di, base, hn::Add(first, hn::Set(di, static_cast<int32_t>(k))));
        const decltype(w) codes[4] = {
            hn::ShiftRight<24>(hn::ShiftLeft<24>(w)), hn::ShiftRight<24>(hn::ShiftLeft<16>(w)),
            hn::ShiftRight<24>(hn::ShiftLeft<8>(w)), hn::ShiftRight<24>(w)};
        for (int t = 0; t < 4; ++t) {
          const auto v = hn::IfThenElseZero(used, hn::Mul(hn::ConvertTo(df, codes[t]), scale));
          hn::StoreU(v, df, out + (k + t) * kSlots);
        }
      }
    }
  }
}

// 8 independent accumulators: enough to cover FMA latency x throughput (4 x 2) on current cores.
double FmaProbe(int64_t iterations, float* sink) {
  const hn::ScalableTag<float> d;
  const auto m = hn::Set(d, 0.999999f), c = hn::Set(d, 1e-7f);
  auto a0 = hn::Set(d, 1.0f), a1 = hn::Set(d, 1.1f), a2 = hn::Set(d, 1.2f), a3 = hn::Set(d, 1.3f);
  auto a4 = hn::Set(d, 1.4f), a5 = hn::Set(d, 1.5f), a6 = hn::Set(d, 1.6f), a7 = hn::Set(d, 1.7f);
  for (int64_t i = 0; i < iterations; ++i) {
    a0 = hn::MulAdd(a0, m, c);
    a1 = hn::MulAdd(a1, m, c);
    a2 = hn::MulAdd(a2, m, c);
    a3 = hn::MulAdd(a3, m, c);
    a4 = hn::MulAdd(a4, m, c);
    a5 = hn::MulAdd(a5, m, c);
    a6 = hn::MulAdd(a6, m, c);
    a7 = hn::MulAdd(a7, m, c);
  }
  const auto sum =
      hn::Add(hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), hn::Add(hn::Add(a4, a5), hn::Add(a6, a7)));
  *sink = hn::GetLane(hn::SumOfLanes(d, sum));
  return static_cast<double>(iterations) * 8.0 * 2.0 * static_cast<double>(hn::Lanes(d));
}

SimdKernels TargetKernels() {
  return SimdKernels{&DotF32, &Dot4F32,    &AxpyF32,        &F16ToF32,  &Bf16ToF32,  &FmaProbe,
                     {},      &SiluMulF32, &AttendBlockF32, &Q8_0ToF32, &Q8_0ToF32Kt};
}

// NOLINTNEXTLINE(google-readability-namespace-comments)
}  // namespace HWY_NAMESPACE
}  // namespace sg
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace sg {

HWY_EXPORT(TargetKernels);

namespace {

// Whether a Highway target compiled here can run on this CPU beyond what Highway checks.
// Highway 1.0.3 compiles AVX3_DL with "avxvnni", so the compilers emit VEX-encoded VNNI
// instructions there (GCC from the VNNI intrinsics, clang also by fusing madd + add into
// vpdpwssd), but it selects AVX3_DL on AVX512-VNNI alone. Ice Lake and Zen 4 have AVX512-VNNI
// without AVX-VNNI (CPUID leaf 7 subleaf 1, EAX bit 4) and would fault; they run AVX3 instead.
bool RunnableHere(int64_t target) {
#if HWY_ARCH_X86
  if (target == HWY_AVX3_DL) {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && ((eax >> 4) & 1) != 0;
  }
#endif
  (void)target;
  return true;
}

}  // namespace

const std::vector<SimdTarget>& HighwaySimdTargets() {
  // Highway's public test hook narrows SupportedTargets() to one target at a time, so the
  // dispatch table yields that target's entry; the mock is removed before returning. This runs
  // once (function-local static), before any kernel can run.
  static const std::vector<SimdTarget> kTargets = [] {
    std::vector<SimdTarget> targets;
    for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
      if (!RunnableHere(target)) continue;
      hwy::SetSupportedTargetsForTest(target);
      hwy::GetChosenTarget().Update(hwy::SupportedTargets());
      // Highway's one-lane fallback is also called "SCALAR"; keep "scalar" for our plain twin.
      const std::string name = target == HWY_SCALAR ? "HWY_SCALAR" : hwy::TargetName(target);
      SimdKernels kernels = HWY_DYNAMIC_DISPATCH(TargetKernels)();
      kernels.quant = QuantDotKernelsForChosenTarget();
      AddActQuantizersForChosenTarget(&kernels.quant);
      targets.push_back({name, kernels});
    }
    hwy::SetSupportedTargetsForTest(0);
    hwy::GetChosenTarget().Update(hwy::SupportedTargets());
    return targets;  // SupportedAndGeneratedTargets lists the best (lowest bit) first
  }();
  return kTargets;
}

}  // namespace sg
#endif  // HWY_ONCE
