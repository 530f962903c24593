#include "engine/runtime/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/kernels/simd_dispatch.h"

namespace sg {
namespace {

// K (kv = 0) or V (kv = 1) row of position p for the args' kv head: D floats.
const float* HeadRow(const AttentionArgs& a, int kv, int64_t p) {
  const int32_t block = a.blocks[static_cast<size_t>(p / kKvBlockTokens)];
  const float* tile = kv == 0 ? a.pool->KBlock(block, a.layer) : a.pool->VBlock(block, a.layer);
  const int64_t d = a.pool->shape().head_dim;
  return tile + (p % kKvBlockTokens) * a.pool->row_floats() + a.kv_head * d;
}

}  // namespace

void AttendHeadReference(const AttentionArgs& a, const float* q, float* out) {
  const int64_t d = a.pool->shape().head_dim;
  const int64_t n = a.num_positions;
  std::vector<double> scores(static_cast<size_t>(n));
  double max_score = -std::numeric_limits<double>::infinity();
  for (int64_t p = 0; p < n; ++p) {
    const float* k = HeadRow(a, 0, p);
    double s = 0;
    for (int64_t i = 0; i < d; ++i) s += static_cast<double>(q[i]) * k[i];
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
    const float* v = HeadRow(a, 1, p);
    for (int64_t i = 0; i < d; ++i) acc[i] += scores[p] / sum * v[i];
  }
  for (int64_t i = 0; i < d; ++i) out[i] = static_cast<float>(acc[i]);
}

void AttendHead(const AttentionArgs& a, const float* q, float* out) {
  const SimdKernels& simd = GetSimdKernels();
  const int64_t d = a.pool->shape().head_dim;
  const int64_t row = a.pool->row_floats();
  std::fill(out, out + d, 0.0f);
  float running_max = -std::numeric_limits<float>::infinity();
  float running_sum = 0.0f;  // sum of exp(score - running_max) so far
  float scores[kKvBlockTokens], probs[kKvBlockTokens];
  for (int64_t start = 0; start < a.num_positions; start += kKvBlockTokens) {
    const int64_t count = std::min<int64_t>(kKvBlockTokens, a.num_positions - start);
    const int32_t block = a.blocks[static_cast<size_t>(start / kKvBlockTokens)];
    const float* k_tile = a.pool->KBlock(block, a.layer) + a.kv_head * d;
    const float* v_tile = a.pool->VBlock(block, a.layer) + a.kv_head * d;
    // Four K rows per kernel call share each load of q (the rows are `row` floats apart).
    int64_t j = 0;
    for (; j + 4 <= count; j += 4) simd.dot4_f32(k_tile + j * row, row, q, d, scores + j);
    for (; j < count; ++j) scores[j] = simd.dot_f32(q, k_tile + j * row, d);
    float block_max = -std::numeric_limits<float>::infinity();
    for (j = 0; j < count; ++j) {
      scores[j] *= a.scale;
      block_max = std::max(block_max, scores[j]);
    }
    if (block_max > running_max) {
      // Rescale what was accumulated under the old max (exp(-inf) = 0 on the first block).
      const float correction = std::exp(running_max - block_max);
      if (running_sum > 0.0f) {
        for (int64_t i = 0; i < d; ++i) out[i] *= correction;
      }
      running_sum *= correction;
      running_max = block_max;
    }
    running_sum += simd.exp_shift_f32(scores, count, running_max, probs);
    simd.weighted_rows_f32(probs, v_tile, row, count, d, out);
  }
  if (running_sum > 0.0f) {
    const float inv = 1.0f / running_sum;
    for (int64_t i = 0; i < d; ++i) out[i] *= inv;
  }
}

void StoreKv(KvBlockPool& pool, std::span<const int32_t> blocks, int64_t layer, int64_t pos,
             const float* k_row, const float* v_row) {
  const int32_t block = blocks[static_cast<size_t>(pos / kKvBlockTokens)];
  const int64_t row = pool.row_floats();
  const int64_t offset = (pos % kKvBlockTokens) * row;
  std::memcpy(pool.KBlock(block, layer) + offset, k_row, static_cast<size_t>(row) * sizeof(float));
  std::memcpy(pool.VBlock(block, layer) + offset, v_row, static_cast<size_t>(row) * sizeof(float));
}

}  // namespace sg
