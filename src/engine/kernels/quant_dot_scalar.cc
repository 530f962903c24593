// The scalar twin of the integer dot kernels: the spec (see quant_dot.h for the arithmetic every
// SIMD kernel reproduces bit for bit), the activation quantizers, and the small lookups.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "engine/core/half.h"
#include "engine/kernels/quant_dot.h"
#include "engine/kernels/quant_dot_spec.h"
#include "engine/quant/blocks.h"
#include "engine/quant/formats.h"
#include "engine/quant/k_scales.h"
#include "engine/quant/quant_common.h"
#include "engine/quant/rows8.h"

namespace sg {
namespace {

using quant_dot_spec::Lanes16;
using quant_dot_spec::Reduce8;

// Weight codes of one 32-element block, in element order, as the spec's w_i.
void CodesQ4_0(const BlockQ4_0& b, int* w) {
  for (int j = 0; j < 16; ++j) {
    w[j] = (b.qs[j] & 0x0f) - 8;
    w[j + 16] = (b.qs[j] >> 4) - 8;
  }
}
void CodesQ4_1(const BlockQ4_1& b, int* w) {
  for (int j = 0; j < 16; ++j) {
    w[j] = b.qs[j] & 0x0f;
    w[j + 16] = b.qs[j] >> 4;
  }
}
uint32_t HighBits(const uint8_t* qh) {
  uint32_t h;
  std::memcpy(&h, qh, 4);
  return h;
}
void CodesQ5_0(const BlockQ5_0& b, int* w) {
  const uint32_t h = HighBits(b.qh);
  for (int j = 0; j < 16; ++j) {
    w[j] = ((b.qs[j] & 0x0f) | static_cast<int>(((h >> j) & 1u) << 4)) - 16;
    w[j + 16] = ((b.qs[j] >> 4) | static_cast<int>(((h >> (j + 16)) & 1u) << 4)) - 16;
  }
}
void CodesQ5_1(const BlockQ5_1& b, int* w) {
  const uint32_t h = HighBits(b.qh);
  for (int j = 0; j < 16; ++j) {
    w[j] = (b.qs[j] & 0x0f) | static_cast<int>(((h >> j) & 1u) << 4);
    w[j + 16] = (b.qs[j] >> 4) | static_cast<int>(((h >> (j + 16)) & 1u) << 4);
  }
}
void CodesQ8_0(const BlockQ8_0& b, int* w) {
  for (int j = 0; j < 32; ++j) w[j] = b.qs[j];
}

// The 32-element spec: lanes of 4 products, 16 accumulators by block parity, plus the minimum
// term of the _1 formats in 8 lanes by block index.
template <typename Block, void (*Codes)(const Block&, int*), bool kHasMin>
float DotLegacy(const void* w_row, const void* act, int64_t n) {
  const Block* wb = static_cast<const Block*>(w_row);
  const ActQ8Block* ab = static_cast<const ActQ8Block*>(act);
  Lanes16 acc{};
  float macc[8] = {};
  for (int64_t b = 0; b < n / kQK; ++b) {
    int w[32];
    Codes(wb[b], w);
    const float s = F16ToF32(wb[b].d) * ab[b].d;
    for (int l = 0; l < 8; ++l) {
      int p = 0;
      for (int i = 4 * l; i < 4 * l + 4; ++i) p += w[i] * ab[b].qs[i];
      float& lane = acc.v[8 * (b & 1) + l];
      lane = std::fmaf(s, static_cast<float>(p), lane);
    }
    if constexpr (kHasMin) {
      float& lane = macc[b & 7];
      lane = std::fmaf(F16ToF32(wb[b].m) * ab[b].d, static_cast<float>(ab[b].sum), lane);
    }
  }
  float r = quant_dot_spec::Reduce16(acc);
  if constexpr (kHasMin) r += Reduce8(macc);
  return r;
}

// Q4_K and Q5_K (the fifth bit of element 32 j + l is bit j of qh[l]): one super-block's two FMAs.
template <bool kFifthBit>
float StepQ45_K(const std::conditional_t<kFifthBit, BlockQ5_K, BlockQ4_K>& w, const BlockQ8_K& a,
                float acc) {
  int32_t isum = 0, msum = 0;
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    quant_internal::GetScaleMinK4(j, w.scales, &sc, &m);
    const uint8_t* q = w.qs + 32 * (j / 2);
    const int shift = 4 * (j & 1);
    int32_t dot = 0;
    for (int l = 0; l < 32; ++l) {
      int code = (q[l] >> shift) & 0x0f;
      if constexpr (kFifthBit) code |= ((w.qh[l] >> j) & 1) << 4;
      dot += code * a.qs[32 * j + l];
    }
    isum += sc * dot;
    msum += m * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
  }
  acc = std::fmaf(F16ToF32(w.d) * a.d, static_cast<float>(isum), acc);
  return std::fmaf(-(F16ToF32(w.dmin) * a.d), static_cast<float>(msum), acc);
}

template <bool kFifthBit>
float DotQ45_K(const void* w_row, const void* act, int64_t n) {
  using Block = std::conditional_t<kFifthBit, BlockQ5_K, BlockQ4_K>;
  const Block* wb = static_cast<const Block*>(w_row);
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) acc = StepQ45_K<kFifthBit>(wb[b], ab[b], acc);
  return acc;
}

// Q6_K: one super-block's FMA.
float StepQ6_K(const BlockQ6_K& w, const BlockQ8_K& a, float acc) {
  int codes[kQKK];
  for (int h = 0; h < 2; ++h) {
    const uint8_t* ql = w.ql + 64 * h;
    const uint8_t* qh = w.qh + 32 * h;
    int* c = codes + 128 * h;
    for (int l = 0; l < 32; ++l) {
      c[l] = ((ql[l] & 0x0f) | ((qh[l] & 3) << 4)) - 32;
      c[l + 32] = ((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
      c[l + 64] = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      c[l + 96] = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
    }
  }
  int32_t isum = 0;
  for (int k = 0; k < 16; ++k) {
    int32_t dot = 0;
    for (int i = 16 * k; i < 16 * k + 16; ++i) dot += codes[i] * a.qs[i];
    isum += w.scales[k] * dot;
  }
  return std::fmaf(F16ToF32(w.d) * a.d, static_cast<float>(isum), acc);
}

float DotQ6_K(const void* w_row, const void* act, int64_t n) {
  const BlockQ6_K* wb = static_cast<const BlockQ6_K*>(w_row);
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  float acc = 0.0f;
  for (int64_t b = 0; b < n / kQKK; ++b) acc = StepQ6_K(wb[b], ab[b], acc);
  return acc;
}

// Half rows: sequential float sums of exactly widened products (the reference the SIMD kernels
// are held to within n * eps * sum |w x|).
float DotF16(const uint16_t* w, const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += F16ToF32(w[i]) * x[i];
  return s;
}
float DotBf16(const uint16_t* w, const float* x, int64_t n) {
  float s = 0.0f;
  for (int64_t i = 0; i < n; ++i) s += Bf16ToF32(w[i]) * x[i];
  return s;
}

// The four-row form of a one-row twin: four calls.
template <QuantDotFn kDot>
void FourRows(const void* w, int64_t row_bytes, const void* act, int64_t n, float* out) {
  for (int k = 0; k < 4; ++k)
    out[k] = kDot(static_cast<const std::byte*>(w) + k * row_bytes, act, n);
}

// The 8-row tile spec (quant_dot.h): each row's plain blocks are read back out of the group.
template <typename Block, void (*Codes)(const Block&, int*), DType kType>
void DotRows8(const void* group, const void* act, int64_t n, float* out) {
  const ActQ8Block* ab = static_cast<const ActQ8Block*>(act);
  for (int r = 0; r < kRows8; ++r) {
    // Blocks of one row, unpacked a bounded slice at a time (no allocation).
    constexpr int64_t kSliceBlocks = 64;
    Block plain[kSliceBlocks];
    float acc[2] = {0.0f, 0.0f};
    for (int64_t b0 = 0; b0 < n / kQK; b0 += kSliceBlocks) {
      const int64_t nb = std::min<int64_t>(kSliceBlocks, n / kQK - b0);
      UnpackRows8Row(
          kType,
          static_cast<const std::byte*>(group) + b0 * kRows8 * static_cast<int64_t>(sizeof(Block)),
          nb * kQK, r, reinterpret_cast<std::byte*>(plain));
      for (int64_t j = 0; j < nb; ++j) {
        const int64_t b = b0 + j;
        int w[32];
        Codes(plain[j], w);
        int32_t isum = 0;
        for (int i = 0; i < 32; ++i) isum += w[i] * ab[b].qs[i];
        const float s = F16ToF32(plain[j].d) * ab[b].d;
        acc[b & 1] = std::fmaf(s, static_cast<float>(isum), acc[b & 1]);
      }
    }
    out[r] = acc[0] + acc[1];
  }
}

// K-format 8-row tiles (Q4_K, Q6_K): the one-row spec's block step on each row read back out of
// the group (integer sums are exact in any order, so the tile kernels equal the one-row twin bit
// for bit).
template <typename Block, DType kType, float (*Step)(const Block&, const BlockQ8_K&, float)>
void DotRows8K(const void* group, const void* act, int64_t n, float* out) {
  const BlockQ8_K* ab = static_cast<const BlockQ8_K*>(act);
  for (int r = 0; r < kRows8; ++r) {
    float acc = 0.0f;
    for (int64_t b = 0; b < n / kQKK; ++b) {
      Block plain;
      UnpackRows8Row(kType, static_cast<const std::byte*>(group) + b * kRows8 * sizeof(Block), kQKK,
                     r, reinterpret_cast<std::byte*>(&plain));
      acc = Step(plain, ab[b], acc);
    }
    out[r] = acc;
  }
}

// QuantizeActQ8 in the table's untyped form.
void QuantizeActQ8Row(const float* x, void* out, int64_t n) {
  QuantizeActQ8(x, static_cast<ActQ8Block*>(out), n);
}

}  // namespace

// The several-token form of a group kernel: the definition, token by token.
template <QuantDot8Fn kDot>
void GemmByToken(const void* group, const void* act, int64_t act_stride, int64_t num_tokens,
                 int64_t n, float* out, int64_t out_stride) {
  const auto* rows = static_cast<const std::byte*>(act);
  for (int64_t t = 0; t < num_tokens; ++t)
    kDot(group, rows + t * act_stride, n, out + t * out_stride);
}

// The several-token form of a half-row kernel: the definition, row by row and token by token.
template <HalfDotFn kDot>
void GemmHalfByToken(const uint16_t* w, int64_t w_stride, int64_t num_rows, const float* x,
                     int64_t x_stride, int64_t num_tokens, int64_t n, float* out,
                     int64_t out_stride, bool accumulate) {
  for (int64_t t = 0; t < num_tokens; ++t) {
    for (int64_t r = 0; r < num_rows; ++r) {
      const float v = kDot(w + r * w_stride, x + t * x_stride, n);
      float& o = out[t * out_stride + r];
      o = accumulate ? o + v : v;
    }
  }
}

const QuantDotKernels& ScalarQuantDotKernels() {
  static const QuantDotKernels kScalar = {
      &DotLegacy<BlockQ4_0, CodesQ4_0, false>,
      &DotLegacy<BlockQ4_1, CodesQ4_1, true>,
      &DotLegacy<BlockQ5_0, CodesQ5_0, false>,
      &DotLegacy<BlockQ5_1, CodesQ5_1, true>,
      &DotLegacy<BlockQ8_0, CodesQ8_0, false>,
      &DotQ45_K<false>,
      &DotQ45_K<true>,
      &DotQ6_K,
      &DotF16,
      &DotBf16,
      &GemmHalfByToken<&DotF16>,
      &GemmHalfByToken<&DotBf16>,
      {&FourRows<&DotLegacy<BlockQ4_0, CodesQ4_0, false>>,
       &FourRows<&DotLegacy<BlockQ4_1, CodesQ4_1, true>>,
       &FourRows<&DotLegacy<BlockQ5_0, CodesQ5_0, false>>,
       &FourRows<&DotLegacy<BlockQ5_1, CodesQ5_1, true>>,
       &FourRows<&DotLegacy<BlockQ8_0, CodesQ8_0, false>>, &FourRows<&DotQ45_K<false>>,
       &FourRows<&DotQ45_K<true>>, &FourRows<&DotQ6_K>},
      {&DotRows8<BlockQ4_0, CodesQ4_0, DType::kQ4_0>, nullptr,
       &DotRows8<BlockQ5_0, CodesQ5_0, DType::kQ5_0>, nullptr,
       &DotRows8<BlockQ8_0, CodesQ8_0, DType::kQ8_0>,
       &DotRows8K<BlockQ4_K, DType::kQ4_K, &StepQ45_K<false>>, nullptr,
       &DotRows8K<BlockQ6_K, DType::kQ6_K, &StepQ6_K>},
      {&GemmByToken<&DotRows8<BlockQ4_0, CodesQ4_0, DType::kQ4_0>>, nullptr,
       &GemmByToken<&DotRows8<BlockQ5_0, CodesQ5_0, DType::kQ5_0>>, nullptr,
       &GemmByToken<&DotRows8<BlockQ8_0, CodesQ8_0, DType::kQ8_0>>,
       &GemmByToken<&DotRows8K<BlockQ4_K, DType::kQ4_K, &StepQ45_K<false>>>, nullptr,
       &GemmByToken<&DotRows8K<BlockQ6_K, DType::kQ6_K, &StepQ6_K>>},
      &QuantizeActQ8Row,
      &QuantizeRowQ8_K,
  };
  return kScalar;
}

namespace {

// Position of a weight type in QuantDotKernels' member order (and rows4), or -1.
int QuantDotIndex(DType weight) {
  constexpr DType kOrder[kNumQuantDotTypes] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0,
                                               DType::kQ5_1, DType::kQ8_0, DType::kQ4_K,
                                               DType::kQ5_K, DType::kQ6_K};
  for (int i = 0; i < kNumQuantDotTypes; ++i) {
    if (kOrder[i] == weight) return i;
  }
  return -1;
}

}  // namespace

QuantDotFn QuantDotFor(const QuantDotKernels& k, DType weight) {
  const QuantDotFn one_row[kNumQuantDotTypes] = {k.q4_0, k.q4_1, k.q5_0, k.q5_1,
                                                 k.q8_0, k.q4_k, k.q5_k, k.q6_k};
  const int i = QuantDotIndex(weight);
  return i < 0 ? nullptr : one_row[i];
}

QuantDot4Fn QuantDot4For(const QuantDotKernels& k, DType weight) {
  const int i = QuantDotIndex(weight);
  return i < 0 ? nullptr : k.rows4[i];
}

QuantDot8Fn QuantDot8For(const QuantDotKernels& k, DType weight) {
  const int i = QuantDotIndex(weight);
  return i < 0 ? nullptr : k.rows8[i];
}

QuantGemm8Fn QuantGemm8For(const QuantDotKernels& k, DType weight) {
  const int i = QuantDotIndex(weight);
  return i < 0 ? nullptr : k.gemm8[i];
}

int64_t Tiles16Bytes(DType act, int64_t num_tokens, int64_t n) {
  const int64_t tiles = (num_tokens + 15) / 16;
  if (act == DType::kQ8_K) return tiles * (n / kQKK) * (8 * 512 + 64 + 8 * 64);
  return tiles * (n / kActBlockElems) * (512 + 64);
}

QuantGemm16Fn QuantGemm16For(const QuantDotKernels& k, DType weight) {
  const int i = QuantDotIndex(weight);
  return i < 0 ? nullptr : k.gemm16[i];
}

DType ActivationTypeFor(DType weight) {
  switch (weight) {
    case DType::kQ4_0:
    case DType::kQ4_1:
    case DType::kQ5_0:
    case DType::kQ5_1:
    case DType::kQ8_0:
      return DType::kQ8_0;
    case DType::kQ4_K:
    case DType::kQ5_K:
    case DType::kQ6_K:
      return DType::kQ8_K;
    default:
      return DType::kF32;
  }
}

int64_t ActivationRowBytes(DType act, int64_t n) {
  switch (act) {
    case DType::kQ8_0:
      return n / kActBlockElems * static_cast<int64_t>(sizeof(ActQ8Block));
    case DType::kQ8_K:
      return n / kQKK * static_cast<int64_t>(sizeof(BlockQ8_K));
    default:
      return n * static_cast<int64_t>(sizeof(float));
  }
}

void QuantizeActQ8(const float* x, ActQ8Block* out, int64_t n) {
  for (int64_t b = 0; b < n / kActBlockElems; ++b) {
    const float* xb = x + b * kActBlockElems;
    ActQ8Block& o = out[b];
    const float amax = quant_internal::AbsMax(xb, kActBlockElems);
    o.d = amax / 127.0f;
    const float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    int32_t sum = 0;
    for (int i = 0; i < kActBlockElems; ++i) {
      const int q = quant_internal::RoundClamp(xb[i] * id, -127, 127);
      o.qs[i] = static_cast<int8_t>(q);
      sum += q;
    }
    o.sum = sum;
  }
}

void QuantizeActivationRow(DType act, const float* x, void* out, int64_t n) {
  switch (act) {
    case DType::kQ8_0:
      QuantizeActQ8(x, static_cast<ActQ8Block*>(out), n);
      return;
    case DType::kQ8_K:
      QuantizeRowQ8_K(x, out, n);
      return;
    default:
      std::memcpy(out, x, static_cast<size_t>(n) * sizeof(float));
      return;
  }
}

}  // namespace sg
