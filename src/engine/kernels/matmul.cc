// MatMul for every weight type with quant traits: f32 rows are used in place; every other type is
// converted a block of rows at a time into per-thread scratch (f16/bf16 with the SIMD widening
// kernels, quantized types with their dequantize_row), and each converted row is dotted with every
// token while it is hot in cache. Output rows are split over the pool.
#include "engine/kernels/matmul.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <vector>

#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

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

// Per-thread scratch for converted rows: grows to the largest request and is then reused, so a
// steady-state decode step allocates nothing.
float* Scratch(size_t floats) {
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

}  // namespace

void MatMul(const TensorView& w, const float* x, int64_t num_tokens, float* y, ThreadPool& pool) {
  const int64_t out = w.rows(), in = w.cols();
  if (num_tokens <= 0 || out <= 0) return;
  const RowConverter conv = MakeConverter(w.type, in);
  assert(conv.traits != nullptr && "MatMul on a weight type without kernels");
  if (conv.traits == nullptr) {
    std::fill(y, y + num_tokens * out, 0.0f);
    return;
  }
  const auto dot_f32 = conv.simd->dot_f32;
  const auto dot4_f32 = conv.simd->dot4_f32;
  const bool in_place = w.type == DType::kF32;
  const int64_t block = RowsPerBlock(in);

  pool.ParallelFor(
      out,
      [&](int64_t begin, int64_t end) {
        float* scratch = in_place ? nullptr : Scratch(static_cast<size_t>(block * in));
        for (int64_t r0 = begin; r0 < end; r0 += block) {
          const int64_t rows = std::min(block, end - r0);
          const float* wrows;  // rows x in floats
          if (in_place) {
            wrows =
                reinterpret_cast<const float*>(w.data + static_cast<uint64_t>(r0) * conv.row_bytes);
          } else {
            for (int64_t r = 0; r < rows; ++r) {
              conv.Convert(w.data + static_cast<uint64_t>(r0 + r) * conv.row_bytes,
                           scratch + r * in, in);
            }
            wrows = scratch;
          }
          for (int64_t t = 0; t < num_tokens; ++t) {
            const float* xt = x + t * in;
            float* yt = y + t * out + r0;
            int64_t r = 0;
            for (; r + 4 <= rows; r += 4) dot4_f32(wrows + r * in, in, xt, in, yt + r);
            for (; r < rows; ++r) yt[r] = dot_f32(wrows + r * in, xt, in);
          }
        }
      },
      block);
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
    conv.Convert(w.data + static_cast<uint64_t>(id) * conv.row_bytes, dst, cols);
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
