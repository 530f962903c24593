#include "engine/runtime/kv_block_pool.h"

#include <algorithm>
#include <limits>
#include <new>
#include <string>
#include <utility>

namespace sg {

StatusOr<DType> ParseKvCacheDType(std::string_view name) {
  if (name == "f32") return DType::kF32;
  if (name == "f16") return DType::kF16;
  if (name == "q8_0") return DType::kQ8_0;
  return InvalidArgumentError("KV cache dtype must be f32, f16 or q8_0, not '" + std::string(name) +
                              "'");
}

std::string_view KvCacheDTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32:
      return "f32";
    case DType::kF16:
      return "f16";
    case DType::kQ8_0:
      return "q8_0";
    default:
      return "unsupported";
  }
}

int64_t KvHeadBytes(DType dtype, int64_t head_dim) {
  switch (dtype) {
    case DType::kF32:
      return 4 * head_dim;
    case DType::kF16:
      return 2 * head_dim;
    case DType::kQ8_0:
      return head_dim % 32 == 0 ? head_dim / 32 * 34 : 0;
    default:
      return 0;
  }
}

StatusOr<std::unique_ptr<KvBlockPool>> KvBlockPool::Create(const KvShape& shape,
                                                           int64_t token_budget,
                                                           int64_t max_tokens_per_sequence,
                                                           bool prefix_caching) {
  if (shape.num_layers <= 0 || shape.num_kv_heads <= 0 || shape.head_dim <= 0) {
    return InvalidArgumentError("KV cache: layers, kv heads and head_dim must be positive");
  }
  if (token_budget <= 0) return InvalidArgumentError("KV cache: token budget must be positive");
  if (max_tokens_per_sequence < 0) {
    return InvalidArgumentError("KV cache: max tokens per sequence must not be negative");
  }
  const int64_t num_blocks = (token_budget + kKvBlockTokens - 1) / kKvBlockTokens;
  if (num_blocks > std::numeric_limits<int32_t>::max()) {
    return InvalidArgumentError("KV cache: token budget too large");
  }
  if (shape.head_dim > (int64_t{1} << 20) || shape.num_kv_heads > (int64_t{1} << 20) ||
      shape.num_layers > (int64_t{1} << 20)) {
    return InvalidArgumentError("KV cache: size overflows");
  }
  const int64_t head_bytes = KvHeadBytes(shape.dtype, shape.head_dim);
  if (head_bytes == 0 && shape.dtype == DType::kQ8_0) {
    return InvalidArgumentError("KV cache: q8_0 needs a head_dim that is a multiple of 32, not " +
                                std::to_string(shape.head_dim));
  }
  if (head_bytes == 0) {
    return InvalidArgumentError("KV cache: element type must be f32, f16 or q8_0");
  }
  const int64_t row = shape.num_kv_heads * head_bytes;  // < 2^43 by the bounds above
  const int64_t tile = kKvBlockTokens * row;
  // Overflow guard: total bytes must fit comfortably in int64 and size_t.
  if (tile > std::numeric_limits<int64_t>::max() / 2 / shape.num_layers) {
    return InvalidArgumentError("KV cache: size overflows");
  }
  const int64_t block = shape.num_layers * 2 * tile;
  if (num_blocks > std::numeric_limits<int64_t>::max() / 2 / block) {
    return InvalidArgumentError("KV cache: size overflows");
  }
  auto pool = std::unique_ptr<KvBlockPool>(new KvBlockPool());
  pool->shape_ = shape;
  pool->num_blocks_ = num_blocks;
  int64_t max_seq_tokens = max_tokens_per_sequence == 0 ? token_budget : max_tokens_per_sequence;
  pool->max_blocks_per_seq_ =
      std::min(num_blocks, (max_seq_tokens + kKvBlockTokens - 1) / kKvBlockTokens);
  pool->head_bytes_ = head_bytes;
  pool->row_bytes_ = row;
  pool->tile_bytes_ = tile;
  pool->block_bytes_ = block;
  pool->total_bytes_ = num_blocks * block;
  // Uninitialized on purpose: a slot is always written before it is read, and not touching the
  // pages keeps start-up fast for large budgets. 64-byte aligned so tiles start on cache lines.
  pool->storage_.reset(static_cast<std::byte*>(::operator new[](
      static_cast<size_t>(pool->total_bytes_), std::align_val_t{64}, std::nothrow)));
  if (!pool->storage_) {
    return ResourceExhaustedError("KV cache: cannot allocate " +
                                  std::to_string(pool->storage_bytes()) + " bytes");
  }
  pool->free_.reserve(static_cast<size_t>(num_blocks));
  // Highest id at the bottom so that the first allocations get low ids (easier to read in tests).
  for (int64_t b = num_blocks - 1; b >= 0; --b) pool->free_.push_back(static_cast<int32_t>(b));
  pool->prefix_caching_ = prefix_caching;
  if (prefix_caching) {
    pool->info_.resize(static_cast<size_t>(num_blocks));
    pool->block_tokens_.resize(static_cast<size_t>(num_blocks * kKvBlockTokens));
    pool->index_ = PrefixIndex(num_blocks);
  }
  return pool;
}

void KvBlockPool::AlignedDelete::operator()(std::byte* p) const {
  ::operator delete[](p, std::align_val_t{64});
}

KvAllocation KvBlockPool::NewAllocation() { return KvAllocation(this, max_blocks_per_seq_); }

bool KvBlockPool::Take(int64_t n, std::vector<int32_t>& out) {
  if (n > num_free_blocks()) return false;
  for (int64_t i = 0; i < n; ++i) {
    int32_t b;
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    } else {  // evict the least recently released published block
      b = lru_head_;
      LruUnlink(b);
      index_.Erase(info_[b].name);
      info_[b].published = false;
      ++counters_.evictions;
    }
    if (prefix_caching_) info_[b].users = 1;
    out.push_back(b);
  }
  return true;
}

void KvBlockPool::Give(std::span<const int32_t> blocks) {
  // Capacity is num_blocks_, and a block is never free twice, so push_back never reallocates.
  // Last block first: a sequence's later blocks become evictable before its earlier ones, so
  // eviction trims a cached prefix from its end (as TGI's radix trie evicts leaves) instead of
  // taking its first block and leaving the rest unreachable.
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    const int32_t b = *it;
    if (!prefix_caching_) {
      free_.push_back(b);
      continue;
    }
    BlockInfo& info = info_[b];
    if (--info.users > 0) continue;
    if (info.published) {
      LruPushBack(b);
    } else {
      free_.push_back(b);
    }
  }
}

int32_t KvBlockPool::FindPublished(uint64_t name, uint64_t parent,
                                   std::span<const int32_t> tokens) const {
  const int32_t b = index_.Find(name);
  if (b < 0 || info_[b].parent != parent) return -1;
  const int32_t* stored = block_tokens_.data() + b * kKvBlockTokens;
  return std::equal(tokens.begin(), tokens.end(), stored) ? b : -1;
}

void KvBlockPool::AddUser(int32_t block) {
  if (info_[block].users++ == 0) LruUnlink(block);  // it was evictable: no longer
}

void KvBlockPool::Publish(int32_t block, uint64_t name, uint64_t parent,
                          std::span<const int32_t> tokens) {
  BlockInfo& info = info_[block];
  info.published = true;
  info.name = name;
  info.parent = parent;
  std::copy(tokens.begin(), tokens.end(), block_tokens_.begin() + block * kKvBlockTokens);
  index_.Insert(name, block);
}

void KvBlockPool::LruUnlink(int32_t block) {
  BlockInfo& info = info_[block];
  (info.lru_prev >= 0 ? info_[info.lru_prev].lru_next : lru_head_) = info.lru_next;
  (info.lru_next >= 0 ? info_[info.lru_next].lru_prev : lru_tail_) = info.lru_prev;
  info.lru_prev = info.lru_next = -1;
  --lru_size_;
}

void KvBlockPool::LruPushBack(int32_t block) {
  BlockInfo& info = info_[block];
  info.lru_prev = lru_tail_;
  info.lru_next = -1;
  (lru_tail_ >= 0 ? info_[lru_tail_].lru_next : lru_head_) = block;
  lru_tail_ = block;
  ++lru_size_;
}

KvAllocation::KvAllocation(KvBlockPool* pool, int64_t max_blocks) : pool_(pool) {
  blocks_.reserve(static_cast<size_t>(max_blocks));
}

KvAllocation::KvAllocation(KvAllocation&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)),
      blocks_(std::move(other.blocks_)),
      length_(std::exchange(other.length_, 0)),
      named_blocks_(std::exchange(other.named_blocks_, 0)),
      chain_name_(std::exchange(other.chain_name_, 0)) {
  other.blocks_.clear();
}

KvAllocation& KvAllocation::operator=(KvAllocation&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = std::exchange(other.pool_, nullptr);
    blocks_ = std::move(other.blocks_);
    other.blocks_.clear();
    length_ = std::exchange(other.length_, 0);
    named_blocks_ = std::exchange(other.named_blocks_, 0);
    chain_name_ = std::exchange(other.chain_name_, 0);
  }
  return *this;
}

Status KvAllocation::Reserve(int64_t num_tokens) {
  if (pool_ == nullptr) return InvalidArgumentError("KV allocation is not bound to a pool");
  if (num_tokens <= capacity_tokens()) return OkStatus();
  const int64_t want_blocks = (num_tokens + kKvBlockTokens - 1) / kKvBlockTokens;
  if (want_blocks > pool_->max_blocks_per_seq_) {
    return ResourceExhaustedError("KV cache: a sequence of " + std::to_string(num_tokens) +
                                  " tokens exceeds the per-sequence limit of " +
                                  std::to_string(pool_->max_tokens_per_sequence()));
  }
  const int64_t extra = want_blocks - static_cast<int64_t>(blocks_.size());
  if (!pool_->Take(extra, blocks_)) {
    return ResourceExhaustedError("KV cache full: need " + std::to_string(extra) +
                                  " more blocks, " + std::to_string(pool_->num_free_blocks()) +
                                  " free of " + std::to_string(pool_->num_blocks()));
  }
  return OkStatus();
}

void KvAllocation::Release() {
  if (pool_ != nullptr && !blocks_.empty()) {
    pool_->Give(blocks_);
    blocks_.clear();  // keeps capacity
  }
  length_ = 0;
  named_blocks_ = 0;
  chain_name_ = 0;
}

template <typename OnBlock>
uint64_t KvBlockPool::WalkCachedPrefix(std::span<const int32_t> prompt, int64_t max_tokens,
                                       OnBlock&& on_block) const {
  max_tokens = std::clamp<int64_t>(max_tokens, 0, static_cast<int64_t>(prompt.size()));
  const int64_t limit = std::min(max_tokens / kKvBlockTokens, max_blocks_per_seq_);
  uint64_t parent = 0;
  for (int64_t i = 0; i < limit; ++i) {
    const auto tokens = prompt.subspan(static_cast<size_t>(i * kKvBlockTokens), kKvBlockTokens);
    const uint64_t name = hasher_.Chain(parent, tokens);
    const int32_t b = FindPublished(name, parent, tokens);
    if (b < 0) break;
    on_block(b);
    parent = name;
  }
  return parent;
}

CachedPrefixPeek KvBlockPool::PeekCachedPrefix(std::span<const int32_t> prompt,
                                               int64_t max_tokens) const {
  CachedPrefixPeek peek;
  if (!prefix_caching_) return peek;
  WalkCachedPrefix(prompt, max_tokens, [&](int32_t b) {
    ++peek.blocks;
    peek.unused_blocks += info_[b].users == 0 ? 1 : 0;
  });
  return peek;
}

int64_t KvAllocation::AdoptCachedPrefix(std::span<const int32_t> prompt, int64_t max_tokens) {
  if (pool_ == nullptr || !pool_->prefix_caching_ || !blocks_.empty()) return 0;
  pool_->counters_.queried_tokens +=
      std::clamp<int64_t>(max_tokens, 0, static_cast<int64_t>(prompt.size()));
  chain_name_ = pool_->WalkCachedPrefix(prompt, max_tokens, [&](int32_t b) {
    pool_->AddUser(b);
    blocks_.push_back(b);
  });
  named_blocks_ = static_cast<int64_t>(blocks_.size());
  length_ = named_blocks_ * kKvBlockTokens;
  pool_->counters_.hit_tokens += length_;
  return length_;
}

void KvAllocation::PublishPrefix(std::span<const int32_t> prompt) {
  if (pool_ == nullptr || !pool_->prefix_caching_) return;
  const int64_t full =
      std::min({static_cast<int64_t>(prompt.size()), length_, capacity_tokens()}) / kKvBlockTokens;
  for (; named_blocks_ < full; ++named_blocks_) {
    const auto tokens =
        prompt.subspan(static_cast<size_t>(named_blocks_ * kKvBlockTokens), kKvBlockTokens);
    const uint64_t name = pool_->hasher_.Chain(chain_name_, tokens);
    // Another sequence computed the same block first (both prefilled it at once): keep ours
    // private; later blocks still chain on the name, which depends only on the tokens.
    if (pool_->index_.Find(name) < 0) {
      pool_->Publish(blocks_[static_cast<size_t>(named_blocks_)], name, chain_name_, tokens);
    }
    chain_name_ = name;
  }
}

}  // namespace sg
