// The KV cache: one pool of fixed-size blocks, allocated once from a token budget, and a move-only
// per-sequence handle (KvAllocation) that holds a list of block ids and returns them on
// destruction (TGI's BlockAllocation; vLLM's BlockPool without prefix reuse yet).
//
// Memory layout (one contiguous f32 array, never reallocated):
//   storage[block][layer][kv][slot][kv_head][d]
//     block   in [0, num_blocks)     — the unit of allocation
//     layer   in [0, num_layers)
//     kv      0 = K, 1 = V
//     slot    in [0, kKvBlockTokens) — position p of a sequence lives in block blocks[p / 16],
//                                      slot p % 16
//     kv_head in [0, num_kv_heads), d in [0, head_dim)
// So one token's K (or V) for one layer is a contiguous Nkv*D row, and one block of one layer is a
// contiguous {16, Nkv, D} tile. Keeping all layers of a block together makes a block one range of
// memory (simple to free, copy or later swap).
//
// Thread rules: the pool and its allocations belong to the engine thread. Compute threads may read
// and write block storage during a step (disjoint slots), never allocate or free.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/core/status.h"

namespace sg {

inline constexpr int64_t kKvBlockTokens = 16;  // token positions per block

struct KvShape {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
};

class KvBlockPool;

// The blocks of one sequence, in position order. Move-only; frees its blocks on destruction.
// `length` is the number of positions whose K/V have been written (maintained by the executor).
// An allocation must not outlive its pool.
class KvAllocation {
 public:
  KvAllocation() = default;
  ~KvAllocation() { Release(); }
  KvAllocation(KvAllocation&& other) noexcept;
  KvAllocation& operator=(KvAllocation&& other) noexcept;
  KvAllocation(const KvAllocation&) = delete;
  KvAllocation& operator=(const KvAllocation&) = delete;

  // Grows the block list so that positions [0, num_tokens) have slots. Never shrinks.
  // ResourceExhausted (allocation unchanged) if the pool has too few free blocks or the sequence
  // would exceed the pool's per-sequence limit. Does not allocate heap memory (capacity reserved
  // when the handle was made).
  Status Reserve(int64_t num_tokens);
  // Returns every block to the pool; the handle stays usable (empty).
  void Release();

  std::span<const int32_t> blocks() const { return blocks_; }
  int64_t capacity_tokens() const { return static_cast<int64_t>(blocks_.size()) * kKvBlockTokens; }
  int64_t length() const { return length_; }
  void set_length(int64_t n) { length_ = n; }
  bool valid() const { return pool_ != nullptr; }
  const KvBlockPool* pool() const { return pool_; }

 private:
  friend class KvBlockPool;
  KvAllocation(KvBlockPool* pool, int64_t max_blocks);

  KvBlockPool* pool_ = nullptr;
  std::vector<int32_t> blocks_;  // capacity reserved at creation: max blocks per sequence
  int64_t length_ = 0;
};

class KvBlockPool {
 public:
  // Allocates ceil(token_budget / 16) blocks once. max_tokens_per_sequence (0 = token_budget)
  // bounds one sequence and sizes each handle's reserved block list. ResourceExhausted if the
  // memory cannot be had; InvalidArgument for non-positive sizes.
  static StatusOr<std::unique_ptr<KvBlockPool>> Create(const KvShape& shape, int64_t token_budget,
                                                       int64_t max_tokens_per_sequence = 0);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  // An empty handle bound to this pool (allocates only its block-id list, once).
  KvAllocation NewAllocation();

  const KvShape& shape() const { return shape_; }
  int64_t num_blocks() const { return num_blocks_; }
  int64_t num_free_blocks() const { return static_cast<int64_t>(free_.size()); }
  int64_t max_tokens_per_sequence() const { return max_blocks_per_seq_ * kKvBlockTokens; }
  uint64_t storage_bytes() const { return static_cast<uint64_t>(total_floats_) * sizeof(float); }
  // Floats in one token's K (or V) row for one layer: Nkv * D.
  int64_t row_floats() const { return row_floats_; }

  // Start of the {16, Nkv, D} K (or V) tile of `block` for `layer`.
  float* KBlock(int32_t block, int64_t layer) { return Tile(block, layer, 0); }
  float* VBlock(int32_t block, int64_t layer) { return Tile(block, layer, 1); }
  const float* KBlock(int32_t block, int64_t layer) const { return Tile(block, layer, 0); }
  const float* VBlock(int32_t block, int64_t layer) const { return Tile(block, layer, 1); }

 private:
  friend class KvAllocation;
  KvBlockPool() = default;

  float* Tile(int32_t block, int64_t layer, int kv) const {
    return storage_.get() + block * block_floats_ + layer * 2 * tile_floats_ + kv * tile_floats_;
  }
  // Takes n blocks from the free list into out, or returns false having taken none.
  bool Take(int64_t n, std::vector<int32_t>& out);
  void Give(std::span<const int32_t> blocks);

  KvShape shape_;
  int64_t num_blocks_ = 0;
  int64_t max_blocks_per_seq_ = 0;
  int64_t row_floats_ = 0;    // Nkv * D
  int64_t tile_floats_ = 0;   // 16 * Nkv * D
  int64_t block_floats_ = 0;  // num_layers * 2 * tile_floats_
  int64_t total_floats_ = 0;
  std::unique_ptr<float[]> storage_;
  std::vector<int32_t> free_;  // stack of free block ids; capacity num_blocks_, never grows
};

}  // namespace sg
