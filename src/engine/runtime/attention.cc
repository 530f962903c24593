#include "engine/runtime/attention.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/core/half.h"
#include "engine/core/prefetch.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/quant/traits.h"

namespace sg {
namespace {

// `count` consecutive slots of one head in a K or V tile, as f32 rows `stride` floats apart.
struct HeadRows {
  const float* data;
  int64_t stride;
};

// f32 pools are read in place; f16 and q8_0 rows are widened into buf (count x D floats).
HeadRows LoadHead(const KvBlockPool& pool, const std::byte* tile, int64_t kv_head, int64_t count,
                  float* buf, const SimdKernels& simd) {
  const int64_t d = pool.shape().head_dim;
  const int64_t row = pool.row_bytes();
  const std::byte* first = tile + kv_head * pool.head_bytes();
  switch (pool.dtype()) {
    case DType::kF32:
      return {reinterpret_cast<const float*>(first), row / static_cast<int64_t>(sizeof(float))};
    case DType::kF16:
      for (int64_t j = 0; j < count; ++j) {
        simd.f16_to_f32(reinterpret_cast<const uint16_t*>(first + j * row), buf + j * d, d);
      }
      return {buf, d};
    default:  // kQ8_0 (the pool accepts nothing else)
      for (int64_t j = 0; j < count; ++j) simd.q8_0_to_f32(first + j * row, buf + j * d, d);
      return {buf, d};
  }
}

// Whether the pool stores K transposed ({kv_head, d, slot} per block; kv_block_pool.h).
bool KTransposed(const KvBlockPool& pool) { return pool.dtype() != DType::kQ8_0; }

// The head's K of one block as f32 K^T: d rows of 16 slots (slot fastest). f32 pools are read in
// place, f16 ones widened in one call; q8_0 rows (along d) are dequantized and transposed in one
// call (q8_0_to_f32_kt), the slots past `count` set to 0.
const float* LoadKTransposed(const KvBlockPool& pool, const std::byte* tile, int64_t kv_head,
                             int64_t count, float* buf, const SimdKernels& simd) {
  const int64_t d = pool.shape().head_dim;
  const std::byte* head_t = tile + kv_head * kKvBlockTokens * pool.head_bytes();  // f32, f16
  switch (pool.dtype()) {
    case DType::kF32:
      return reinterpret_cast<const float*>(head_t);
    case DType::kF16:
      simd.f16_to_f32(reinterpret_cast<const uint16_t*>(head_t), buf, kKvBlockTokens * d);
      return buf;
    default:  // q8_0: {16, Nkv, D}, the 16 slots of the head row_bytes apart
      simd.q8_0_to_f32_kt(tile + kv_head * pool.head_bytes(), pool.row_bytes(), count, d, buf);
      return buf;
  }
}

// One token's K row of one head (d floats) from slot `slot` of a K tile, in either layout.
void LoadKSlot(const KvBlockPool& pool, const std::byte* tile, int64_t kv_head, int64_t slot,
               float* out, const SimdKernels& simd) {
  const int64_t d = pool.shape().head_dim;
  if (!KTransposed(pool)) {
    const HeadRows r = LoadHead(pool, tile + slot * pool.row_bytes(), kv_head, 1, out, simd);
    if (r.data != out) std::copy(r.data, r.data + d, out);
    return;
  }
  const int64_t base = kv_head * d * kKvBlockTokens + slot;
  for (int64_t e = 0; e < d; ++e) {
    const int64_t i = base + e * kKvBlockTokens;
    out[e] = pool.dtype() == DType::kF32 ? reinterpret_cast<const float*>(tile)[i]
                                         : F16ToF32(reinterpret_cast<const uint16_t*>(tile)[i]);
  }
}

// Prefetches the head's K and V of one block (the next one a pass reads) into L1, so the memory
// latency of each block overlaps the previous block's widening and attention; without it decoding
// many sequences waits on every first touch of a block (F16ToF32 held about 30% of the samples of
// smollm Q8_0 x16). Measured, streamgen bench --parallel 16 -p 128 -n 128, 2 threads (Intel Xeon):
// smollm Q8_0 x16 1075 / 1049 t/s against 940 / 935 without; two blocks ahead 994 / 1013, four
// 964 / 978; into L2 instead of L1 the same within noise.
void PrefetchHead(const KvBlockPool& pool, int32_t block, int64_t layer, int64_t kv_head) {
  const int64_t head = pool.head_bytes();
  const std::byte* k = pool.KBlock(block, layer);
  if (KTransposed(pool)) {
    PrefetchRange<PrefetchTo::kL1>(k + kv_head * kKvBlockTokens * head, kKvBlockTokens * head);
  } else {
    for (int64_t j = 0; j < kKvBlockTokens; ++j)
      PrefetchRange<PrefetchTo::kL1>(k + j * pool.row_bytes() + kv_head * head, head);
  }
  const std::byte* v = pool.VBlock(block, layer);
  for (int64_t j = 0; j < kKvBlockTokens; ++j)
    PrefetchRange<PrefetchTo::kL1>(v + j * pool.row_bytes() + kv_head * head, head);
}

// One pass over the blocks for rows (token t0 + i, head h0 + hh), i < nt, hh < nh,
// nt * nh <= kMaxAttentionRows. Per block, K^T and V are widened once, then one fused kernel
// call (attend_block_f32) runs every row that sees the block: scores, online softmax, P.V.
void AttendRows(const AttentionGroup& g, int64_t t0, int64_t nt, int64_t h0, int64_t nh) {
  const SimdKernels& simd = GetSimdKernels();
  const KvBlockPool& pool = *g.pool;
  const int64_t d = pool.shape().head_dim;
  assert(nt * nh <= kMaxAttentionRows && d <= kMaxAttentionHeadDim);
  alignas(64) float acc[kMaxAttentionRows * kMaxAttentionHeadDim];
  alignas(64) float qs[kMaxAttentionRows * kMaxAttentionHeadDim];
  alignas(64) float k_buf[kKvBlockTokens * kMaxAttentionHeadDim];
  alignas(64) float v_buf[kKvBlockTokens * kMaxAttentionHeadDim];
  float row_max[kMaxAttentionRows], row_sum[kMaxAttentionRows];
  int64_t counts[kMaxAttentionRows];
  const int64_t rows = nt * nh;
  std::fill(acc, acc + rows * d, 0.0f);
  std::fill(row_max, row_max + rows, -std::numeric_limits<float>::infinity());
  std::fill(row_sum, row_sum + rows, 0.0f);
  for (int64_t i = 0; i < nt; ++i) {
    for (int64_t hh = 0; hh < nh; ++hh) {
      const float* q = g.q + (t0 + i) * g.token_stride + (h0 + hh) * d;
      std::copy(q, q + d, qs + (i * nh + hh) * d);
    }
  }
  // Row i (token t0 + i) attends [0, first_pos + t0 + i + 1); the last token reaches `end`.
  const int64_t first_len = g.first_pos + t0 + 1;
  const int64_t end = first_len + nt - 1;
  for (int64_t start = 0; start < end; start += kKvBlockTokens) {
    const int64_t count = std::min<int64_t>(kKvBlockTokens, end - start);
    const int32_t block = g.blocks[static_cast<size_t>(start / kKvBlockTokens)];
    if (start + kKvBlockTokens < end) {
      PrefetchHead(pool, g.blocks[static_cast<size_t>(start / kKvBlockTokens + 1)], g.layer,
                   g.kv_head);
    }
    const float* kt =
        LoadKTransposed(pool, pool.KBlock(block, g.layer), g.kv_head, count, k_buf, simd);
    const HeadRows v = LoadHead(pool, pool.VBlock(block, g.layer), g.kv_head, count, v_buf, simd);
    // Tokens whose causal window ends before this block skip it (only near the diagonal).
    const int64_t i0 = std::max<int64_t>(0, start - first_len + 1);
    for (int64_t i = i0; i < nt; ++i) {
      const int64_t n = std::min(count, first_len + i - start);  // positions of the block it sees
      for (int64_t hh = 0; hh < nh; ++hh) counts[i * nh + hh] = n;
    }
    const int64_t r0 = i0 * nh;
    if (r0 >= rows) continue;
    simd.attend_block_f32(qs + r0 * d, rows - r0, counts + r0, kt, v.data, v.stride, d, g.scale,
                          row_max + r0, row_sum + r0, acc + r0 * d);
  }
  for (int64_t i = 0; i < nt; ++i) {
    for (int64_t hh = 0; hh < nh; ++hh) {
      const int64_t r = i * nh + hh;
      float* out = g.out + (t0 + i) * g.token_stride + (h0 + hh) * d;
      const float inv = row_sum[r] > 0.0f ? 1.0f / row_sum[r] : 0.0f;
      for (int64_t e = 0; e < d; ++e) out[e] = acc[r * d + e] * inv;
    }
  }
}

}  // namespace

void AttendHeadReference(const AttentionArgs& a, const float* q, float* out) {
  const SimdKernels& simd = ScalarSimdKernels();
  const int64_t d = a.pool->shape().head_dim;
  const int64_t n = a.num_positions;
  // Every K and V row of the head widened to f32, then the math in double.
  std::vector<float> k(static_cast<size_t>(n * d)), v(static_cast<size_t>(n * d));
  std::vector<float> buf(static_cast<size_t>(d));
  for (int64_t p = 0; p < n; ++p) {
    const int32_t block = a.blocks[static_cast<size_t>(p / kKvBlockTokens)];
    const int64_t slot = p % kKvBlockTokens;
    const int64_t offset = slot * a.pool->row_bytes();
    LoadKSlot(*a.pool, a.pool->KBlock(block, a.layer), a.kv_head, slot, k.data() + p * d, simd);
    const HeadRows vr =
        LoadHead(*a.pool, a.pool->VBlock(block, a.layer) + offset, a.kv_head, 1, buf.data(), simd);
    std::copy(vr.data, vr.data + d, v.begin() + p * d);
  }
  std::vector<double> scores(static_cast<size_t>(n));
  double max_score = -std::numeric_limits<double>::infinity();
  for (int64_t p = 0; p < n; ++p) {
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += static_cast<double>(q[i]) * k[p * d + i];
    scores[p] = s * a.scale;
    max_score = std::max(max_score, scores[p]);
  }
  double sum = 0;
  for (int64_t p = 0; p < n; ++p) {
    scores[p] = std::exp(scores[p] - max_score);
    sum += scores[p];
  }
  std::vector<double> acc(static_cast<size_t>(d), 0.0);
  for (int64_t p = 0; p < n; ++p) {
    for (int64_t i = 0; i < d; ++i) acc[i] += scores[p] / sum * v[p * d + i];
  }
  for (int64_t i = 0; i < d; ++i) out[i] = static_cast<float>(acc[i]);
}

void AttendGroup(const AttentionGroup& g) {
  if (g.heads >= kMaxAttentionRows) {
    for (int64_t t = 0; t < g.num_tokens; ++t) {
      for (int64_t h = 0; h < g.heads; h += kMaxAttentionRows) {
        AttendRows(g, t, 1, h, std::min(kMaxAttentionRows, g.heads - h));
      }
    }
    return;
  }
  const int64_t tile = AttentionTileTokens(g.heads);
  for (int64_t t = 0; t < g.num_tokens; t += tile) {
    AttendRows(g, t, std::min(tile, g.num_tokens - t), 0, g.heads);
  }
}

void AttendHead(const AttentionArgs& args, const float* q, float* out) {
  AttentionGroup g;
  g.pool = args.pool;
  g.blocks = args.blocks;
  g.layer = args.layer;
  g.kv_head = args.kv_head;
  g.scale = args.scale;
  g.q = q;
  g.out = out;
  g.first_pos = args.num_positions - 1;
  AttendGroup(g);
}

void StoreKv(KvBlockPool& pool, std::span<const int32_t> blocks, int64_t layer, int64_t pos,
             const float* k_row, const float* v_row) {
  const int32_t block = blocks[static_cast<size_t>(pos / kKvBlockTokens)];
  const int64_t offset = (pos % kKvBlockTokens) * pool.row_bytes();
  const int64_t n = pool.shape().num_kv_heads * pool.shape().head_dim;
  if (KTransposed(pool)) {
    // K transposed: element i = (kv_head, e) of this token goes to column `slot` of row i of the
    // block's K^T tile (f32 or f16; the element type is chosen once, not per element).
    const int64_t slot = pos % kKvBlockTokens;
    std::byte* tile = pool.KBlock(block, layer);
    if (pool.dtype() == DType::kF32) {
      float* kt = reinterpret_cast<float*>(tile) + slot;
      for (int64_t i = 0; i < n; ++i) kt[i * kKvBlockTokens] = k_row[i];
    } else {
      uint16_t* kt = reinterpret_cast<uint16_t*>(tile) + slot;
      for (int64_t i = 0; i < n; ++i) kt[i * kKvBlockTokens] = F32ToF16(k_row[i]);
    }
  }
  for (int kv = KTransposed(pool) ? 1 : 0; kv < 2; ++kv) {
    std::byte* dst = (kv == 0 ? pool.KBlock(block, layer) : pool.VBlock(block, layer)) + offset;
    const float* src = kv == 0 ? k_row : v_row;
    switch (pool.dtype()) {
      case DType::kF32:
        std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
        break;
      case DType::kF16: {
        auto* h = reinterpret_cast<uint16_t*>(dst);
        for (int64_t i = 0; i < n; ++i) h[i] = F32ToF16(src[i]);
        break;
      }
      default:  // kQ8_0: 32-element blocks along d; D is a multiple of 32, so heads never share one
        GetQuantTraits(DType::kQ8_0)->quantize_row(src, dst, n);
        break;
    }
  }
}

}  // namespace sg
