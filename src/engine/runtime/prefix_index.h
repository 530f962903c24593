// The bookkeeping of the prefix cache (principles §8, vLLM's BlockPool, TGI's radix allocator):
// a keyed chain hash that names a full KV block by its tokens AND everything before them, and a
// fixed-capacity index from those names to block ids.
//
// Why a keyed hash: a block's name is SipHash-2-4(key, parent name || its 16 token ids) with a
// random 128-bit key drawn per pool. Two prompts that share a block's tokens but not everything
// before them get different names, because the parent's name is hashed in. A client cannot craft
// token sequences whose names collide with another client's prompt without knowing the key, so
// the cache cannot be poisoned across requests; the index still compares the stored parent name
// and tokens on every hit, so even a chance 64-bit collision never reuses a wrong block.
//
// PrefixIndex: open addressing with linear probing and backward-shift deletion, sized once for
// at most `max_entries` names (2x slots, a power of two). It never allocates after construction,
// so publishing and evicting blocks inside the engine's step loop stays allocation-free.
//
// Thread rules: owned by the KV block pool (engine thread only).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sg {

// SipHash-2-4 of `bytes` under the 128-bit key (k0, k1), as specified by Aumasson and Bernstein
// ("SipHash: a fast short-input PRF", 2012): 64-bit output, little-endian message words.
uint64_t SipHash24(uint64_t k0, uint64_t k1, std::span<const uint8_t> bytes);

class BlockHasher {
 public:
  // A key from the operating system's random source (std::random_device).
  BlockHasher();
  BlockHasher(uint64_t k0, uint64_t k1) : k0_(k0), k1_(k1) {}

  // The name of a full block: SipHash-2-4 of the parent's name (0 for the first block) followed
  // by the block's token ids, each as 8 and 4 little-endian bytes.
  uint64_t Chain(uint64_t parent, std::span<const int32_t> tokens) const;

 private:
  uint64_t k0_, k1_;
};

class PrefixIndex {
 public:
  explicit PrefixIndex(int64_t max_entries);

  // The block named `name`, or -1.
  int32_t Find(uint64_t name) const;
  // Adds name -> block. The name must be absent and size() < max_entries.
  void Insert(uint64_t name, int32_t block);
  // Removes `name` (present).
  void Erase(uint64_t name);
  int64_t size() const { return size_; }

 private:
  struct Slot {
    uint64_t name = 0;
    int32_t block = -1;  // -1: empty
  };
  size_t Home(uint64_t name) const { return static_cast<size_t>(name) & mask_; }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  int64_t size_ = 0;
};

}  // namespace sg
