// Causal self-attention over a sequence's cached K/V in the block pool (any pool element type:
// f32, f16, q8_0; kv_block_pool.h).
//
// The unit of work is a GROUP: one sequence, one KV head, and the query rows that read that head:
// the G = num_heads / num_kv_heads query heads of the head's group for each of the sequence's
// tokens in the step (a prefill chunk or one decode token). The engine runs one AttendGroup per
// (sequence, KV head, tile of tokens), so every K/V block is read (and widened to f32) once for
// all of the tile's query rows instead of once per query head and token.
//   out[t, h] = sum_p softmax_p(q[t, h] . K[p] * scale) * V[p],  p in [0, first_pos + t]
// The sequence's position p lives in pool block blocks[p / 16], slot p % 16.
// Thread rules: pure functions of their arguments (StoreKv writes only the slots it is given);
// callers run many groups in parallel on disjoint outputs.
#pragma once

#include <cstdint>
#include <span>

#include "engine/runtime/kv_block_pool.h"

namespace sg {

// One query row against one KV head: the reference's arguments.
struct AttentionArgs {
  const KvBlockPool* pool = nullptr;
  std::span<const int32_t> blocks;  // the sequence's blocks, position order
  int64_t layer = 0;
  int64_t kv_head = 0;
  int64_t num_positions = 0;  // attend over [0, num_positions): causal = query position + 1
  float scale = 1.0f;         // 1 / sqrt(head_dim)
};

// The specification: two passes (scores, then softmax and weighted sum) in double over the stored
// K/V values (widened from the pool's element type exactly as the engine widens them).
void AttendHeadReference(const AttentionArgs& args, const float* q, float* out);

// A group: rows q[t * token_stride + h * D] for tokens t in [0, num_tokens) and heads h in
// [0, heads); the same layout for out. Token t sits at position first_pos + t.
struct AttentionGroup {
  const KvBlockPool* pool = nullptr;
  std::span<const int32_t> blocks;
  int64_t layer = 0;
  int64_t kv_head = 0;
  float scale = 1.0f;
  const float* q = nullptr;  // the first row: token 0, the group's first query head
  float* out = nullptr;      // same layout as q
  int64_t token_stride = 0;  // floats from one token's rows to the next (Nh * D in a step)
  int64_t heads = 1;         // G query heads, D floats apart
  int64_t num_tokens = 1;
  int64_t first_pos = 0;
};

// Query rows that share one pass over the K/V blocks (the stack tiles are sized for this many,
// with D up to kMaxAttentionHeadDim). A caller that splits a long chunk over threads cuts it into
// tiles of AttentionTileTokens(heads) tokens, so that no pass is wasted on a partial tile.
// 32 rows: each block's K/V widening serves twice the rows of 16. Measured (Intel Xeon, 2 threads,
// streamgen bench, alternating builds): qwen-shape Q4_K_M pp4096 311/318 -> 333/328 t/s, smollm
// Q4_K_M pp2048 776/771 -> 851/852; 64 rows read 344/344 and 868/904 there but cost qwen Q8_0
// pp512 about 5% (fewer, longer items for two threads), so 32.
inline constexpr int64_t kMaxAttentionRows = 32;
inline constexpr int64_t kMaxAttentionHeadDim = 256;

// Tokens per pass for a group of `heads` query heads (at least 1).
inline int64_t AttentionTileTokens(int64_t heads) {
  return heads >= kMaxAttentionRows ? 1 : kMaxAttentionRows / heads;
}

// Flash-attention style: one pass over the sequence's blocks of 16 positions with an online
// softmax per row (running max and sum, the accumulator rescaled when the max grows). Per block,
// K^T (the pool's transposed K tile; q8_0 rows are transposed here) and V are widened to f32 once
// (f32 pools are read in place), then one fused SIMD call (attend_block_f32) gives every row its
// 16 scores as one vector, the softmax step and the weighted sum of V rows. Causality is a per-row
// count of positions, so only the block on the diagonal is cut. A group of more than
// kMaxAttentionRows rows runs as several passes. Needs D <= kMaxAttentionHeadDim (the executor
// refuses larger heads); all scratch is on the stack.
void AttendGroup(const AttentionGroup& group);

// One query row (a group of one head and one token).
void AttendHead(const AttentionArgs& args, const float* q, float* out);

// Copies one token's K and V rows (Nkv*D floats each) into slot `pos` of the sequence's blocks,
// converted to the pool's element type (K into column pos % 16 of the transposed f32/f16 tile). The
// caller has reserved blocks covering pos.
void StoreKv(KvBlockPool& pool, std::span<const int32_t> blocks, int64_t layer, int64_t pos,
             const float* k_row, const float* v_row);

}  // namespace sg
