// MatMul for every weight type with quant traits, in two kernel sets (matmul.h).
//
// Fast: the input rows are quantized once per call into the layout of the weight type
// (quant_dot.h), on the pool when there are several; then every output row is split over the
// pool and each weight row is dotted with every token's input while it is hot in L1.
// Reference: rows are converted a block of rows at a time into per-thread float scratch
// (f16/bf16 with the SIMD widening kernels, quantized types with their dequantize_row) and dotted
// in f32 with every token — the path the PyTorch comparisons are written against.
#include "engine/kernels/matmul.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "engine/kernels/amx_half.h"
#include "engine/kernels/ops.h"
#include "engine/kernels/quant_dot.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/rows8.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

// ---- kernel-set switch ----------------------------------------------------------------------

std::atomic<int> g_kernels{-1};  // -1: not read from the environment yet

MatMulKernels KernelsFromEnv() {
  const char* env = std::getenv("STREAMGEN_MATMUL");
  return env != nullptr && std::string_view(env) == "reference" ? MatMulKernels::kReference
                                                                : MatMulKernels::kFast;
}

// ---- timing (benchmarks) ---

std::atomic<bool> g_timing{false};
std::atomic<uint64_t> g_matmul_ns{0};
thread_local int t_matmul_depth = 0;

// Adds the wall time of the outermost MatMul* call to g_matmul_ns while timing is on.
class MatMulTimer {
 public:
  MatMulTimer() : outermost_(t_matmul_depth++ == 0 && g_timing.load(std::memory_order_relaxed)) {
    if (outermost_) start_ = std::chrono::steady_clock::now();
  }
  ~MatMulTimer() {
    --t_matmul_depth;
    if (!outermost_) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start_)
                        .count();
    g_matmul_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  }
  MatMulTimer(const MatMulTimer&) = delete;
  MatMulTimer& operator=(const MatMulTimer&) = delete;

 private:
  bool outermost_;
  std::chrono::steady_clock::time_point start_;
};

// ---- reference path -------------------------------------------------------------------------

// How a stored row becomes floats; resolved once per call.
struct RowConverter {
  const QuantTraits* traits = nullptr;
  const SimdKernels* simd = nullptr;
  uint64_t row_bytes = 0;  // bytes of one stored row of `cols` elements

  // dst: n floats from n stored elements at src (n a multiple of the block size).
  void Convert(const std::byte* src, float* dst, int64_t n) const {
    switch (traits->type) {
      case DType::kF32:
        std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
        return;
      case DType::kF16:
        simd->f16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n);
        return;
      case DType::kBF16:
        simd->bf16_to_f32(reinterpret_cast<const uint16_t*>(src), dst, n);
        return;
      default:
        traits->dequantize_row(src, dst, n);
        return;
    }
  }
};

// Null traits when the type has no kernels or cols is not a whole number of blocks; both are
// rejected by the model loader, so here they only guard against a programmer error.
RowConverter MakeConverter(DType type, int64_t cols) {
  RowConverter c;
  const QuantTraits* traits = GetQuantTraits(type);
  if (traits == nullptr || cols < 0 || cols % traits->block_elems != 0) return c;
  c.traits = traits;
  c.simd = &GetSimdKernels();
  c.row_bytes = static_cast<uint64_t>(cols / traits->block_elems) * traits->block_bytes;
  return c;
}

// The bytes of row r in the plain layout: the row itself, or (kRows8) the row unpacked from its
// group into `tmp` (row_bytes bytes).
const std::byte* PlainRow(const TensorView& w, int64_t r, uint64_t row_bytes, std::byte* tmp) {
  if (w.layout != WeightLayout::kRows8) return w.data + static_cast<uint64_t>(r) * row_bytes;
  const int64_t group = r / kRows8 * kRows8;
  UnpackRows8Row(w.type, w.data + static_cast<uint64_t>(group) * row_bytes, w.cols(),
                 static_cast<int>(r - group), tmp);
  return tmp;
}

// Per-thread scratch for one unpacked kRows8 row (grows to the largest row, then reused).
std::byte* RowBytesScratch(uint64_t bytes) {
  thread_local std::vector<std::byte> scratch;
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch.data();
}

// Per-thread scratch for converted rows: grows to the largest request and is then reused, so a
// steady-state decode step allocates nothing.
float* FloatScratch(size_t floats) {
  thread_local std::vector<float> scratch;
  if (scratch.size() < floats) scratch.resize(floats);
  return scratch.data();
}

// Rows converted per block: about 64 KiB of floats, so the block stays in L2 while every token
// is dotted against it (each token's 4*in bytes stay in L1 across the block's rows).
int64_t RowsPerBlock(int64_t cols) {
  constexpr int64_t kBlockFloats = 16 * 1024;
  return std::clamp<int64_t>(kBlockFloats / std::max<int64_t>(cols, 1), 1, 64);
}

void Store(float* y, float v, bool accumulate) { *y = accumulate ? *y + v : v; }

// y[t * y_stride + r] (+)= w[r - r0] . x[t] for r in [r0, r1) and every token: f32 rows (w: the
// rows from r0 on, `in` floats each) in tiles of four that share each load of x.
void DotF32Rows(const SimdKernels& simd, const float* w, int64_t in, int64_t r0, int64_t r1,
                int64_t num_tokens, const float* x, float* y, int64_t y_stride, bool accumulate) {
  for (int64_t t = 0; t < num_tokens; ++t) {
    const float* xt = x + t * in;
    float* yt = y + t * y_stride;
    int64_t r = r0;
    for (; r + 4 <= r1; r += 4) {
      float four[4];
      simd.dot4_f32(w + (r - r0) * in, in, xt, in, four);
      for (int i = 0; i < 4; ++i) Store(yt + r + i, four[i], accumulate);
    }
    // The last rows through the same four-row kernel (the row four times, stride 0): a row's
    // rounding then does not depend on where the pool's split put the range boundaries.
    for (; r < r1; ++r) {
      float four[4];
      simd.dot4_f32(w + (r - r0) * in, 0, xt, in, four);
      Store(yt + r, four[0], accumulate);
    }
  }
}

void MatMulReference(const TensorView& w, const float* x, int64_t num_tokens, float* y,
                     ThreadPool& pool, bool accumulate) {
  const int64_t out = w.rows(), in = w.cols();
  const RowConverter conv = MakeConverter(w.type, in);
  assert(conv.traits != nullptr && "MatMul on a weight type without kernels");
  if (conv.traits == nullptr) {
    if (!accumulate) std::fill(y, y + num_tokens * out, 0.0f);
    return;
  }
  const bool in_place = w.type == DType::kF32;
  const int64_t block = RowsPerBlock(in);

  pool.ParallelFor(
      out,
      [&](int64_t begin, int64_t end) {
        float* scratch = in_place ? nullptr : FloatScratch(static_cast<size_t>(block * in));
        for (int64_t r0 = begin; r0 < end; r0 += block) {
          const int64_t rows = std::min(block, end - r0);
          const float* wrows;  // rows x in floats
          if (in_place) {
            wrows =
                reinterpret_cast<const float*>(w.data + static_cast<uint64_t>(r0) * conv.row_bytes);
          } else {
            std::byte* tmp =
                w.layout == WeightLayout::kRows8 ? RowBytesScratch(conv.row_bytes) : nullptr;
            for (int64_t r = 0; r < rows; ++r) {
              conv.Convert(PlainRow(w, r0 + r, conv.row_bytes, tmp), scratch + r * in, in);
            }
            wrows = scratch;
          }
          DotF32Rows(*conv.simd, wrows, in, r0, r0 + rows, num_tokens, x, y, out, accumulate);
        }
      },
      block);
}

// ---- fast path ------------------------------------------------------------------------------

// Tokens from which F16 matmuls take the AMX-BF16 tile path (where it exists): its per-call
// conversion of the weights into bfloat16 tiles is paid once for all tokens, so it wins from 5 on.
// kernel_bench f16 2048 x 2048, 2 threads, AMX Xeon, GFLOP/s tile vs FMA: 1 token 22 vs 29 GB/s
// (decode reads DRAM faster without the conversion), 2: 56 vs 87, 4: 103 vs 163, 5: 132 vs 112,
// 8: 212 vs 169, 16: 345 vs 182, 512: 650 vs 185.
constexpr int64_t kHalfAmxMinTokens = 5;
// BF16 weights need no conversion (a copy into the tile buffer), so every call takes the tile
// path, and one arithmetic for every step size keeps batching from changing a BF16 sequence's
// logits. kernel_bench bf16 2048 x 2048, 2 threads, tile vs FMA: one token 35.4 vs 28.3 GB/s,
// 4 tokens 153 vs 179 GFLOP/s, 16: 541 vs 216, 512: 786 vs 221.
constexpr int64_t kBf16AmxMinTokens = 1;

// One weight's kernel, resolved once per call.
struct RowKernel {
  const TensorView* w = nullptr;
  DType act = DType::kF32;         // input layout the kernel reads
  QuantDotFn qdot = nullptr;       // integer kernel (quantized weights)
  QuantDot4Fn qdot4 = nullptr;     // its four-row form
  QuantDot8Fn qdot8 = nullptr;     // kRows8 weights: the group kernel (then qdot, qdot4 are null)
  QuantGemm8Fn gemm8 = nullptr;    // its several-token form
  QuantGemm16Fn gemm16 = nullptr;  // AMX 16-row strips against several tokens (amx.h)
  HalfDotFn hdot = nullptr;        // f16/bf16 widening kernel
  HalfGemmFn hgemm = nullptr;      // its several-token form
  // F16 / BF16 through HalfGemmAmx (amx_half.h) when a call has kHalfAmxMinTokens /
  // kBf16AmxMinTokens tokens or more; fewer keep hdot / hgemm.
  bool half_amx = false;
  bool UsesHalfAmx(int64_t num_tokens) const {
    return half_amx &&
           num_tokens >= (w->type == DType::kBF16 ? kBf16AmxMinTokens : kHalfAmxMinTokens);
  }
  const SimdKernels* simd = nullptr;
  uint64_t row_bytes = 0;
  int64_t in = 0;

  // kRows8 weights, several tokens: the groups of [r0, r1) by blocks of tokens through gemm8.
  void GroupsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const std::byte* qx,
                      int64_t qx_stride, float* y, int64_t y_stride, bool accumulate) const;

  // kRows8 weights, several tokens, AMX: 16-row strips of [r0, r1) against every token through
  // gemm16 (each strip's codes rearranged once for all of them); a last group of 8 via gemm8.
  void StripsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const std::byte* qx,
                      int64_t qx_stride, const std::byte* tiles16, float* y, int64_t y_stride,
                      bool accumulate) const;

  // F16/BF16 weights, several tokens: [r0, r1) against blocks of tokens through hgemm.
  void HalfRowsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const float* x, float* y,
                        int64_t y_stride, bool accumulate) const;

  // y[t * y_stride + r] (+)= row r . input t, for r in [r0, r1) and every token.
  // tiles16: the input packed for gemm16 or, for half_amx, HalfGemmAmx (null: not packed, e.g.
  // one token).
  void Rows(int64_t r0, int64_t r1, int64_t num_tokens, const float* x, const std::byte* qx,
            int64_t qx_stride, const std::byte* tiles16, float* y, int64_t y_stride,
            bool accumulate) const {
    if (w->type == DType::kF32) {
      DotF32Rows(*simd, reinterpret_cast<const float*>(w->data) + r0 * in, in, r0, r1, num_tokens,
                 x, y, y_stride, accumulate);
      return;
    }
    if (qdot8 != nullptr) {  // r0 and r1 are multiples of 8: the split grain and the layout's rows
      if (tiles16 != nullptr && gemm16 != nullptr) {
        StripsByTokens(r0, r1, num_tokens, qx, qx_stride, tiles16, y, y_stride, accumulate);
        return;
      }
      if (num_tokens > 1 && gemm8 != nullptr) {
        GroupsByTokens(r0, r1, num_tokens, qx, qx_stride, y, y_stride, accumulate);
        return;
      }
      for (int64_t g = r0; g < r1; g += kRows8) {
        const std::byte* group = w->data + static_cast<uint64_t>(g) * row_bytes;
        for (int64_t t = 0; t < num_tokens; ++t) {
          float eight[kRows8];
          qdot8(group, qx + t * qx_stride, in, eight);
          float* yt = y + t * y_stride + g;
          for (int i = 0; i < kRows8; ++i) Store(yt + i, eight[i], accumulate);
        }
      }
      return;
    }
    if (UsesHalfAmx(num_tokens)) {
      HalfGemmAmx(
          reinterpret_cast<const uint16_t*>(w->data + static_cast<uint64_t>(r0) * row_bytes),
          static_cast<int64_t>(row_bytes / 2), r1 - r0, tiles16, num_tokens, in, y + r0, y_stride,
          accumulate, w->type == DType::kBF16);
      return;
    }
    if (hgemm != nullptr && num_tokens > 1) {
      HalfRowsByTokens(r0, r1, num_tokens, x, y, y_stride, accumulate);
      return;
    }
    int64_t r = r0;
    // Four rows at once only for several tokens (prefill: each activation block serves four rows;
    // measured 39 -> 67 GFLOP/s for Q4_K at 64 tokens). For one token the interleaved streams read
    // slower than one row at a time (Q4_K decode 16.9 -> 11.9 GB/s on the AMD EPYC dev VM).
    if (qdot4 != nullptr && num_tokens > 1) {
      for (; r + 4 <= r1; r += 4) {
        const std::byte* rows = w->data + static_cast<uint64_t>(r) * row_bytes;
        for (int64_t t = 0; t < num_tokens; ++t) {
          float four[4];
          qdot4(rows, static_cast<int64_t>(row_bytes), qx + t * qx_stride, in, four);
          float* yt = y + t * y_stride + r;
          for (int i = 0; i < 4; ++i) Store(yt + i, four[i], accumulate);
        }
      }
    }
    for (; r < r1; ++r) {
      const std::byte* row = w->data + static_cast<uint64_t>(r) * row_bytes;
      if (qdot != nullptr) {
        for (int64_t t = 0; t < num_tokens; ++t) {
          Store(y + t * y_stride + r, qdot(row, qx + t * qx_stride, in), accumulate);
        }
      } else {
        const auto* half = reinterpret_cast<const uint16_t*>(row);
        for (int64_t t = 0; t < num_tokens; ++t) {
          Store(y + t * y_stride + r, hdot(half, x + t * in, in), accumulate);
        }
      }
    }
  }
};

// Tokens per gemm8 call: the call's outputs go through a stack tile (kRows8 x this many floats)
// before Store, and a token block's activation rows (2.2 KiB per 2048 inputs) stay in L2 while
// the groups of the range pass over them.
constexpr int64_t kGemmTokenBlock = 64;

void RowKernel::GroupsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const std::byte* qx,
                               int64_t qx_stride, float* y, int64_t y_stride,
                               bool accumulate) const {
  float tile[kGemmTokenBlock * kRows8];
  for (int64_t t0 = 0; t0 < num_tokens; t0 += kGemmTokenBlock) {
    const int64_t count = std::min(kGemmTokenBlock, num_tokens - t0);
    for (int64_t g = r0; g < r1; g += kRows8) {
      gemm8(w->data + static_cast<uint64_t>(g) * row_bytes, qx + t0 * qx_stride, qx_stride, count,
            in, tile, kRows8);
      for (int64_t t = 0; t < count; ++t) {
        float* yt = y + (t0 + t) * y_stride + g;
        for (int i = 0; i < kRows8; ++i) Store(yt + i, tile[t * kRows8 + i], accumulate);
      }
    }
  }
}

void RowKernel::StripsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const std::byte* qx,
                               int64_t qx_stride, const std::byte* tiles16, float* y,
                               int64_t y_stride, bool accumulate) const {
  const uint64_t group_bytes = kRows8 * row_bytes;
  const int64_t strips = (r1 - r0) / (2 * kRows8);
  if (strips > 0) {
    gemm16(w->data + static_cast<uint64_t>(r0) * row_bytes, static_cast<int64_t>(group_bytes),
           strips, tiles16, num_tokens, in, y + r0, y_stride, accumulate);
  }
  const int64_t g = r0 + strips * 2 * kRows8;
  if (g < r1) GroupsByTokens(g, r1, num_tokens, qx, qx_stride, y, y_stride, accumulate);
}

// Tokens per hgemm call: a block's f32 activation rows (4 * in bytes each) stay in L2 (256 KiB)
// while the range's rows pass over them, 4 at a time; between 8 and 64 tokens.
int64_t HalfTokenBlock(int64_t in) {
  return std::clamp<int64_t>((256 << 10) / (4 * std::max<int64_t>(in, 1)), 8, 64);
}

void RowKernel::HalfRowsByTokens(int64_t r0, int64_t r1, int64_t num_tokens, const float* x,
                                 float* y, int64_t y_stride, bool accumulate) const {
  const auto* rows =
      reinterpret_cast<const uint16_t*>(w->data + static_cast<uint64_t>(r0) * row_bytes);
  const int64_t block = HalfTokenBlock(in);
  for (int64_t t0 = 0; t0 < num_tokens; t0 += block) {
    hgemm(rows, static_cast<int64_t>(row_bytes / 2), r1 - r0, x + t0 * in, in,
          std::min(block, num_tokens - t0), in, y + t0 * y_stride + r0, y_stride, accumulate);
  }
}

RowKernel MakeRowKernel(const TensorView& w) {
  RowKernel k;
  k.w = &w;
  k.simd = &GetSimdKernels();
  k.in = w.cols();
  k.row_bytes = w.row_bytes();
  k.act = ActivationTypeFor(w.type);
  if (w.layout == WeightLayout::kRows8) {
    k.qdot8 = QuantDot8For(k.simd->quant, w.type);
    k.gemm8 = QuantGemm8For(k.simd->quant, w.type);
    k.gemm16 = QuantGemm16For(k.simd->quant, w.type);
    return k;
  }
  k.qdot = QuantDotFor(k.simd->quant, w.type);
  k.qdot4 = QuantDot4For(k.simd->quant, w.type);
  if (w.type == DType::kF16) {
    k.hdot = k.simd->quant.f16;
    k.hgemm = k.simd->quant.f16_gemm;
    k.half_amx = k.simd->quant.half_amx;
  }
  if (w.type == DType::kBF16) {
    k.hdot = k.simd->quant.bf16;
    k.hgemm = k.simd->quant.bf16_gemm;
    k.half_amx = k.simd->quant.half_amx;
  }
  return k;
}

bool Supported(const RowKernel& k) {
  if (k.w->layout == WeightLayout::kRows8) return k.qdot8 != nullptr && k.w->rows() % kRows8 == 0;
  return k.w->type == DType::kF32 || k.qdot != nullptr || k.hdot != nullptr;
}

std::span<std::byte> FallbackScratch(int64_t bytes) {
  thread_local std::vector<std::byte> scratch;
  if (static_cast<int64_t>(scratch.size()) < bytes) scratch.resize(static_cast<size_t>(bytes));
  return {scratch.data(), scratch.size()};
}

// The quantized inputs of one call: at most one buffer per layout (Q8 blocks and Q8_K).
struct QuantizedInput {
  std::byte* q8 = nullptr;
  std::byte* q8k = nullptr;
  int64_t q8_stride = 0, q8k_stride = 0;  // bytes per token row
  std::byte* tiles16 = nullptr;           // the Q8 rows packed for the AMX kernels (several tokens)
  std::byte* tiles16k = nullptr;          // the Q8_K rows packed for them
  std::byte* half_tiles = nullptr;        // the f32 rows packed for HalfGemmAmx

  const std::byte* TilesFor(const RowKernel& k) const {
    if (half_tiles != nullptr && k.half_amx) return half_tiles;
    return k.act == DType::kQ8_K ? tiles16k : tiles16;
  }

  const std::byte* For(DType act) const { return act == DType::kQ8_K ? q8k : q8; }
  int64_t StrideFor(DType act) const { return act == DType::kQ8_K ? q8k_stride : q8_stride; }
};

// Quantizes x (num_tokens x in) into every layout the kernels need; the token rows are split
// over the pool when there are several.
QuantizedInput QuantizeInput(std::span<const RowKernel> kernels, const float* x, int64_t num_tokens,
                             int64_t in, std::span<std::byte> scratch, ThreadPool& pool) {
  bool need_q8 = false, need_q8k = false;
  bool tiles = false, tiles_k = false;  // an AMX kernel reads that layout packed into tiles
  bool half = false;                    // a HalfGemmAmx kernel reads x packed
  for (const RowKernel& k : kernels) {
    half |= k.UsesHalfAmx(num_tokens);
    need_q8 |= k.act == DType::kQ8_0;
    need_q8k |= k.act == DType::kQ8_K;
    const bool amx = num_tokens > 1 && k.gemm16 != nullptr;
    tiles |= amx && k.act == DType::kQ8_0;
    tiles_k |= amx && k.act == DType::kQ8_K;
  }
  QuantizedInput q;
  if (!need_q8 && !need_q8k && !half) return q;
  if (scratch.empty()) scratch = FallbackScratch(MatMulScratchBytes(num_tokens, in));
  assert(static_cast<int64_t>(scratch.size()) >= MatMulScratchBytes(num_tokens, in));
  std::byte* p = scratch.data();
  if (need_q8) {
    q.q8 = p;
    q.q8_stride = ActivationRowBytes(DType::kQ8_0, in);
    p += num_tokens * q.q8_stride;
  }
  if (need_q8k) {
    q.q8k = p;
    q.q8k_stride = ActivationRowBytes(DType::kQ8_K, in);
    p += num_tokens * q.q8k_stride;
  }
  auto align64 = [](std::byte* at) {  // the tile loads want 64-byte rows
    return at + (64 - reinterpret_cast<uintptr_t>(at) % 64) % 64;
  };
  if (tiles) {
    q.tiles16 = align64(p);
    p = q.tiles16 + Tiles16Bytes(DType::kQ8_0, num_tokens, in);
  }
  if (tiles_k) {
    q.tiles16k = align64(p);
    p = q.tiles16k + Tiles16Bytes(DType::kQ8_K, num_tokens, in);
  }
  if (half) {
    q.half_tiles = align64(p);
    pool.ParallelFor((num_tokens + 15) / 16, [&](int64_t b, int64_t e) {
      PackHalfTiles(x, in, num_tokens, in, b, e, q.half_tiles);
    });
  }
  if (!need_q8 && !need_q8k) return q;
  const QuantDotKernels& kq = kernels[0].simd->quant;
  auto quantize = [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      if (need_q8) kq.quantize_q8(x + t * in, q.q8 + t * q.q8_stride, in);
      if (need_q8k) kq.quantize_q8_k(x + t * in, q.q8k + t * q.q8k_stride, in);
    }
  };
  if (num_tokens == 1) {
    quantize(0, 1);
  } else if (tiles || tiles_k) {
    // By tiles of 16 tokens: each tile's rows are packed while they are in cache.
    pool.ParallelFor((num_tokens + 15) / 16, [&](int64_t b, int64_t e) {
      quantize(16 * b, std::min(num_tokens, 16 * e));
      if (tiles) kq.pack_tiles16(q.q8, q.q8_stride, num_tokens, in, b, e, q.tiles16);
      if (tiles_k) kq.pack_tiles16_k(q.q8k, q.q8k_stride, num_tokens, in, b, e, q.tiles16k);
    });
  } else {
    pool.ParallelFor(num_tokens, quantize);
  }
  return q;
}

// Output rows per split unit: keeps each thread's range a whole number of cache lines of y and
// the per-range overhead small.
constexpr int64_t kRowGrain = 16;
static_assert(kRowGrain % kRows8 == 0, "a split must not cut a kRows8 group");

// Chunks per thread of ParallelRows: enough that a thread slowed for part of an op (an interrupt,
// the other hyperthread, its rows not in cache) costs a fraction of a chunk at the end, few enough
// that each chunk streams tens of KiB of contiguous weights.
constexpr int64_t kChunksPerThread = 4;

// fn(begin, end) over [0, n) in chunks of whole kRowGrains that the pool's threads claim in order
// from a shared counter, so a thread that finishes its rows early takes more instead of waiting
// for the slower one (a static half each left the faster core idle at the end of every op).
// Thread rules: called by the pool's owner; fn runs on every pool thread, on disjoint ranges.
void ParallelRows(ThreadPool& pool, int64_t n, FunctionRef<void(int64_t, int64_t)> fn) {
  const int64_t threads = pool.num_threads();
  const int64_t units = (n + kRowGrain - 1) / kRowGrain;
  if (threads <= 1 || units <= 1) {
    if (n > 0) fn(0, n);
    return;
  }
  const int64_t chunk = std::max<int64_t>(1, units / (threads * kChunksPerThread));
  // Relaxed: the counter only hands out disjoint ranges; Run's completion orders the results.
  std::atomic<int64_t> next{0};
  pool.Run([&](int) {
    for (int64_t u; (u = next.fetch_add(chunk, std::memory_order_relaxed)) < units;) {
      fn(u * kRowGrain, std::min(n, (u + chunk) * kRowGrain));
    }
  });
}

}  // namespace

void SetMatMulTiming(bool on) { g_timing.store(on); }

uint64_t MatMulNanos() { return g_matmul_ns.load(std::memory_order_relaxed); }

void SetMatMulKernels(MatMulKernels k) { g_kernels.store(static_cast<int>(k)); }

MatMulKernels GetMatMulKernels() {
  int k = g_kernels.load(std::memory_order_relaxed);
  if (k < 0) {
    k = static_cast<int>(KernelsFromEnv());
    g_kernels.store(k, std::memory_order_relaxed);
  }
  return static_cast<MatMulKernels>(k);
}

int64_t MatMulScratchBytes(int64_t num_tokens, int64_t max_cols) {
  const int64_t cols = (max_cols + 255) / 256 * 256;  // whole blocks of either layout
  return num_tokens *
             (ActivationRowBytes(DType::kQ8_0, cols) + ActivationRowBytes(DType::kQ8_K, cols)) +
         (num_tokens > 1 ? Tiles16Bytes(DType::kQ8_0, num_tokens, cols) +
                               Tiles16Bytes(DType::kQ8_K, num_tokens, cols) + 128
                         : 0) +
         (num_tokens >= std::min(kHalfAmxMinTokens, kBf16AmxMinTokens) && AmxHalfUsable()
              ? HalfTilesBytes(num_tokens, cols) + 64
              : 0);
}

void MatMul(const TensorView& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool,
            std::span<std::byte> scratch, bool accumulate) {
  const MatMulTimer timer;
  const int64_t out = w.rows(), in = w.cols();
  if (num_tokens <= 0 || out <= 0) return;
  if (GetMatMulKernels() == MatMulKernels::kReference) {
    MatMulReference(w, x, num_tokens, y, pool, accumulate);
    return;
  }
  const RowKernel k = MakeRowKernel(w);
  if (!Supported(k)) {  // rejected by the loader; a programmer error here
    MatMulReference(w, x, num_tokens, y, pool, accumulate);
    return;
  }
  const QuantizedInput q = QuantizeInput({&k, 1}, x, num_tokens, in, scratch, pool);
  const std::byte* qx = q.For(k.act);
  const int64_t qs = q.StrideFor(k.act);
  ParallelRows(pool, out, [&](int64_t b, int64_t e) {
    k.Rows(b, e, num_tokens, x, qx, qs, q.TilesFor(k), y, out, accumulate);
  });
}

void MatMulMulti(std::span<const MatMulOutput> outs, const float* x, int64_t num_tokens,
                 ThreadPool& pool, std::span<std::byte> scratch) {
  const MatMulTimer timer;
  if (num_tokens <= 0 || outs.empty()) return;
  constexpr size_t kMaxOutputs = 4;
  bool fast = GetMatMulKernels() == MatMulKernels::kFast && outs.size() <= kMaxOutputs;
  RowKernel kernels[kMaxOutputs];
  int64_t first_row[kMaxOutputs + 1] = {0};
  for (size_t j = 0; fast && j < outs.size(); ++j) {
    kernels[j] = MakeRowKernel(*outs[j].w);
    fast = Supported(kernels[j]) && outs[j].w->cols() == outs[0].w->cols();
    // A kRows8 output must start on a multiple of 8 of the joint row range, where splits fall.
    fast = fast && (outs[j].w->layout != WeightLayout::kRows8 || first_row[j] % kRows8 == 0);
    first_row[j + 1] = first_row[j] + outs[j].w->rows();
  }
  if (!fast) {
    for (const MatMulOutput& o : outs) MatMul(*o.w, x, num_tokens, o.y, pool, scratch);
    return;
  }
  const size_t n = outs.size();
  const int64_t in = outs[0].w->cols();
  const QuantizedInput q = QuantizeInput({kernels, n}, x, num_tokens, in, scratch, pool);
  // One split over the rows of all outputs, in order; each range is cut at output boundaries.
  ParallelRows(pool, first_row[n], [&](int64_t b, int64_t e) {
    for (size_t j = 0; j < n; ++j) {
      const int64_t lo = std::max(b, first_row[j]), hi = std::min(e, first_row[j + 1]);
      if (lo >= hi) continue;
      const RowKernel& k = kernels[j];
      k.Rows(lo - first_row[j], hi - first_row[j], num_tokens, x, q.For(k.act), q.StrideFor(k.act),
             q.TilesFor(k), outs[j].y, outs[j].w->rows(), false);
    }
  });
}

void MatMulSwiGlu(const TensorView& gate, const TensorView& up, const float* x, int64_t num_tokens,
                  float* out, float* up_scratch, ThreadPool& pool, std::span<std::byte> scratch) {
  const MatMulTimer timer;
  const int64_t inter = gate.rows(), in = gate.cols();
  if (num_tokens <= 0 || inter <= 0) return;
  RowKernel kernels[2] = {MakeRowKernel(gate), MakeRowKernel(up)};
  if (GetMatMulKernels() == MatMulKernels::kReference || !Supported(kernels[0]) ||
      !Supported(kernels[1]) || up.rows() != inter || up.cols() != in) {
    MatMul(gate, x, num_tokens, out, pool, scratch);
    MatMul(up, x, num_tokens, up_scratch, pool, scratch);
    pool.ParallelFor(num_tokens, [&](int64_t b, int64_t e) {
      SiluMul(out + b * inter, up_scratch + b * inter, out + b * inter, (e - b) * inter);
    });
    return;
  }
  const QuantizedInput q = QuantizeInput(kernels, x, num_tokens, in, scratch, pool);
  ParallelRows(pool, inter, [&](int64_t b, int64_t e) {
    kernels[0].Rows(b, e, num_tokens, x, q.For(kernels[0].act), q.StrideFor(kernels[0].act),
                    q.TilesFor(kernels[0]), out, inter, false);
    kernels[1].Rows(b, e, num_tokens, x, q.For(kernels[1].act), q.StrideFor(kernels[1].act),
                    q.TilesFor(kernels[1]), up_scratch, inter, false);
    for (int64_t t = 0; t < num_tokens; ++t) {
      SiluMul(out + t * inter + b, up_scratch + t * inter + b, out + t * inter + b, e - b);
    }
  });
}

void GetRows(const TensorView& w, std::span<const int32_t> ids, float* out) {
  const int64_t rows = w.rows(), cols = w.cols();
  const RowConverter conv = MakeConverter(w.type, cols);
  assert(conv.traits != nullptr && "GetRows on a weight type without kernels");
  for (size_t t = 0; t < ids.size(); ++t) {
    float* dst = out + static_cast<int64_t>(t) * cols;
    const int64_t id = ids[t];
    assert(id >= 0 && id < rows);
    if (conv.traits == nullptr || id < 0 || id >= rows) {  // validated upstream; never read OOB
      std::fill(dst, dst + cols, 0.0f);
      continue;
    }
    std::byte* tmp = w.layout == WeightLayout::kRows8 ? RowBytesScratch(conv.row_bytes) : nullptr;
    conv.Convert(PlainRow(w, id, conv.row_bytes, tmp), dst, cols);
  }
}

void ToFloat(const TensorView& t, float* out) {
  const int64_t n = t.numel();
  const RowConverter conv = MakeConverter(t.type, n);
  assert(conv.traits != nullptr && "ToFloat on a type without kernels");
  if (conv.traits == nullptr) {
    std::fill(out, out + n, 0.0f);
    return;
  }
  conv.Convert(t.data, out, n);
}

}  // namespace sg
