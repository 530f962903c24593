// The KV cache: one pool of fixed-size blocks, allocated once from a token budget, and a move-only
// per-sequence handle (KvAllocation) that holds a list of block ids and returns them on
// destruction (TGI's BlockAllocation), with an optional prefix cache (vLLM's BlockPool).
//
// Prefix cache (when created with prefix_caching): a FULL block of a prompt, once its K/V are
// computed, is published under its chain name (prefix_index.h: the hash of its 16 tokens and of
// everything before them). A new sequence adopts the longest published prefix of its prompt
// instead of recomputing it. Blocks are reference counted: a published block may be shared by
// any number of sequences and is never written again. When its last user releases it, it stays
// published on an LRU list of evictable blocks, counted as free; a block is taken from that list
// (least recently released first, and unpublished) only when the plain free list is empty. Only
// prompt blocks are published, as TGI does (§6.5), so generated text is never reused.
//
// Memory layout (one contiguous byte array, never reallocated), elements of the pool's dtype:
//   storage[block][layer][kv][slot][kv_head][d]
//     block   in [0, num_blocks)     — the unit of allocation
//     layer   in [0, num_layers)
//     kv      0 = K, 1 = V
//     slot    in [0, kKvBlockTokens) — position p of a sequence lives in block blocks[p / 16],
//                                      slot p % 16
//     kv_head in [0, num_kv_heads), d in [0, head_dim)
// So one token's V for one layer is a contiguous Nkv*D row, and one block of one layer is a
// contiguous {16, Nkv, D} tile. EXCEPT K in f32 and f16 pools, stored transposed within the
// block: the K tile is {Nkv, D, 16} (slot fastest), so the 16 scores of a query row against a
// block are one 16-lane vector built by D broadcast FMAs (attention.cc, attend_block_f32). q8_0
// keeps K as {16, Nkv, D} (its 32-element blocks run along d). The tile's size is the same. Element
// types (`--kv-cache-dtype`): f32; f16 (IEEE binary16, half the bytes, rounding error 2^-11
// relative); q8_0 (GGUF Q8_0 blocks of 32 elements along d, so D must be a multiple of 32: one head
// row of one token is D/32 blocks of 34 bytes). Keeping all layers of a block together makes a
// block one range of memory (simple to free, copy or later swap).
//
// Thread rules: the pool and its allocations belong to the engine thread. Compute threads may read
// and write block storage during a step (disjoint slots), never allocate or free.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "engine/core/dtype.h"
#include "engine/core/status.h"
#include "engine/runtime/prefix_index.h"

namespace sg {

inline constexpr int64_t kKvBlockTokens = 16;  // token positions per block

struct KvShape {
  int64_t num_layers = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  DType dtype = DType::kF32;  // kF32, kF16 or kQ8_0
};

// Parses "f32", "f16" or "q8_0" (the --kv-cache-dtype values); InvalidArgument otherwise.
StatusOr<DType> ParseKvCacheDType(std::string_view name);
// The --kv-cache-dtype name of a pool element type ("f32", "f16", "q8_0").
std::string_view KvCacheDTypeName(DType dtype);

// Bytes of one head's head_dim elements of one token in a pool element type, or 0 when the pool
// cannot hold that combination (another type; q8_0 with head_dim not a multiple of 32).
int64_t KvHeadBytes(DType dtype, int64_t head_dim);

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
  // Returns every block to the pool (a shared block only when its last user lets go); the
  // handle stays usable (empty).
  void Release();

  // Prefix cache. Adopts the longest published prefix of `prompt` made of whole blocks, at most
  // max_tokens positions, into this EMPTY allocation: its blocks are shared, length() becomes the
  // number of positions adopted, which is returned (0 when the pool has no prefix cache).
  int64_t AdoptCachedPrefix(std::span<const int32_t> prompt, int64_t max_tokens);
  // Publishes every full block of `prompt` whose positions are computed (< length()) and that is
  // not named yet. A block whose name another block already has stays private. No allocation.
  void PublishPrefix(std::span<const int32_t> prompt);
  // Positions at the start that must never be written again: adopted or published blocks.
  int64_t immutable_tokens() const { return named_blocks_ * kKvBlockTokens; }

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
  int64_t named_blocks_ = 0;  // leading blocks whose chain name is known (adopted or published)
  uint64_t chain_name_ = 0;   // the name of block named_blocks_ - 1 (0 before the first)
};

// What AdoptCachedPrefix would adopt now (KvBlockPool::PeekCachedPrefix).
struct CachedPrefixPeek {
  int64_t blocks = 0;         // blocks of the longest published prefix, as AdoptCachedPrefix counts
  int64_t unused_blocks = 0;  // of those, blocks no sequence uses (counted as free)
};

// Prefix cache counters, since the pool was created.
struct PrefixCacheCounters {
  int64_t queried_tokens = 0;  // prompt positions looked up (AdoptCachedPrefix's max_tokens)
  int64_t hit_tokens = 0;      // positions adopted
  int64_t evictions = 0;       // published blocks taken back for reuse
};

class KvBlockPool {
 public:
  // Allocates ceil(token_budget / 16) blocks once. max_tokens_per_sequence (0 = token_budget)
  // bounds one sequence and sizes each handle's reserved block list. ResourceExhausted if the
  // memory cannot be had; InvalidArgument for non-positive sizes, an element type other than
  // f32/f16/q8_0, or q8_0 with a head_dim that is not a multiple of 32.
  // prefix_caching: keep and reuse published prompt blocks (see the top of this file).
  static StatusOr<std::unique_ptr<KvBlockPool>> Create(const KvShape& shape, int64_t token_budget,
                                                       int64_t max_tokens_per_sequence = 0,
                                                       bool prefix_caching = false);
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  // An empty handle bound to this pool (allocates only its block-id list, once).
  KvAllocation NewAllocation();

  const KvShape& shape() const { return shape_; }
  int64_t num_blocks() const { return num_blocks_; }
  // Free blocks: never used or released unpublished, plus published ones no sequence uses.
  int64_t num_free_blocks() const { return static_cast<int64_t>(free_.size()) + lru_size_; }
  bool prefix_caching() const { return prefix_caching_; }
  // Published blocks, in use or evictable.
  int64_t num_cached_blocks() const { return index_.size(); }
  // The prefix an empty allocation's AdoptCachedPrefix(prompt, max_tokens) would adopt now,
  // without adopting it or counting a query (the scheduler's admission check).
  CachedPrefixPeek PeekCachedPrefix(std::span<const int32_t> prompt, int64_t max_tokens) const;
  const PrefixCacheCounters& prefix_counters() const { return counters_; }
  int64_t max_tokens_per_sequence() const { return max_blocks_per_seq_ * kKvBlockTokens; }
  uint64_t storage_bytes() const { return static_cast<uint64_t>(total_bytes_); }
  DType dtype() const { return shape_.dtype; }
  // Bytes of one head's D elements of one token (f32: 4 D, f16: 2 D, q8_0: 34 D / 32).
  int64_t head_bytes() const { return head_bytes_; }
  // Bytes of one token's K (or V) row for one layer: Nkv * head_bytes.
  int64_t row_bytes() const { return row_bytes_; }

  // Start of the K (or V) tile of `block` for `layer`: {16, Nkv, D}, or {Nkv, D, 16} for K in
  // f32 and f16 pools (see the layout above).
  std::byte* KBlock(int32_t block, int64_t layer) { return Tile(block, layer, 0); }
  std::byte* VBlock(int32_t block, int64_t layer) { return Tile(block, layer, 1); }
  const std::byte* KBlock(int32_t block, int64_t layer) const { return Tile(block, layer, 0); }
  const std::byte* VBlock(int32_t block, int64_t layer) const { return Tile(block, layer, 1); }

 private:
  friend class KvAllocation;
  KvBlockPool() = default;

  std::byte* Tile(int32_t block, int64_t layer, int kv) const {
    return storage_.get() + block * block_bytes_ + (layer * 2 + kv) * tile_bytes_;
  }
  // Takes n blocks into out (plain free ones first, then the least recently released published
  // ones, which are unpublished), or returns false having taken none.
  bool Take(int64_t n, std::vector<int32_t>& out);
  // Drops one reference to each block; a block nobody uses goes to the free list, or to the
  // evictable LRU list if it is published.
  void Give(std::span<const int32_t> blocks);
  // Calls on_block(block) for each block of the longest published prefix of prompt, at most
  // max_tokens positions (whole blocks, at most a sequence's blocks), in order; returns the last
  // block's chain name (0 for none).
  template <typename OnBlock>
  uint64_t WalkCachedPrefix(std::span<const int32_t> prompt, int64_t max_tokens,
                            OnBlock&& on_block) const;
  // The published block named `name` whose parent name and tokens match, or -1.
  int32_t FindPublished(uint64_t name, uint64_t parent, std::span<const int32_t> tokens) const;
  void AddUser(int32_t block);  // a sequence adopts a published block
  void Publish(int32_t block, uint64_t name, uint64_t parent, std::span<const int32_t> tokens);
  void LruUnlink(int32_t block);
  void LruPushBack(int32_t block);

  KvShape shape_;
  int64_t num_blocks_ = 0;
  int64_t max_blocks_per_seq_ = 0;
  int64_t head_bytes_ = 0;   // D elements
  int64_t row_bytes_ = 0;    // Nkv * head_bytes_
  int64_t tile_bytes_ = 0;   // 16 * row_bytes_
  int64_t block_bytes_ = 0;  // num_layers * 2 * tile_bytes_
  int64_t total_bytes_ = 0;
  struct AlignedDelete {  // storage_ comes from the 64-byte aligned operator new[]
    void operator()(std::byte* p) const;
  };
  std::unique_ptr<std::byte[], AlignedDelete> storage_;
  std::vector<int32_t> free_;  // stack of free block ids; capacity num_blocks_, never grows

  // Prefix cache state, per block id (sized num_blocks_ once at Create when enabled).
  struct BlockInfo {
    int32_t users = 0;  // allocations holding the block
    bool published = false;
    uint64_t name = 0;                     // chain name while published
    uint64_t parent = 0;                   // the previous block's name (0 for a first block)
    int32_t lru_prev = -1, lru_next = -1;  // evictable list links (-1: end)
  };
  bool prefix_caching_ = false;
  std::vector<BlockInfo> info_;
  std::vector<int32_t> block_tokens_;  // {num_blocks, 16}: a published block's token ids
  BlockHasher hasher_;
  PrefixIndex index_{0};
  int32_t lru_head_ = -1, lru_tail_ = -1;  // head = least recently released
  int64_t lru_size_ = 0;
  PrefixCacheCounters counters_;
};

}  // namespace sg
