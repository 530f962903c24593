// Causal self-attention of one query head over a sequence's cached K/V in the block pool.
// Shapes: q and out are one head, D = head_dim floats. The sequence's K/V rows for positions
// [0, num_positions) live in pool blocks `blocks[p / 16]`, slot p % 16 (see kv_block_pool.h).
// GQA: query head h reads kv head h / (num_heads / num_kv_heads); the caller picks kv_head.
//   out = sum_p softmax_p(q . K[p] * scale) * V[p],   scale = 1 / sqrt(head_dim)
// Thread rules: pure functions of their arguments; callers run many heads in parallel (each call
// writes only its own `out`).
#pragma once

#include <cstdint>
#include <span>

#include "engine/runtime/kv_block_pool.h"

namespace sg {

struct AttentionArgs {
  const KvBlockPool* pool = nullptr;
  std::span<const int32_t> blocks;  // the sequence's blocks, position order
  int64_t layer = 0;
  int64_t kv_head = 0;
  int64_t num_positions = 0;  // attend over [0, num_positions): causal = query position + 1
  float scale = 1.0f;         // 1 / sqrt(head_dim)
};

// The specification: two passes (scores, then softmax and weighted sum), accumulated in double.
void AttendHeadReference(const AttentionArgs& args, const float* q, float* out);

// The version the engine runs: one pass over blocks of 16 positions with an online softmax
// (running max and sum, rescaling the accumulator when the max grows); per block one SIMD call
// each for the scores (four K rows per call), the exponentials and the weighted sum of V rows.
// Needs no scratch beyond 2 x 16 floats on the stack; writes out (D floats).
void AttendHead(const AttentionArgs& args, const float* q, float* out);

// Copies one token's K and V rows (Nkv*D floats each) into slot `pos` of the sequence's blocks.
// The caller has reserved blocks covering pos.
void StoreKv(KvBlockPool& pool, std::span<const int32_t> blocks, int64_t layer, int64_t pos,
             const float* k_row, const float* v_row);

}  // namespace sg
