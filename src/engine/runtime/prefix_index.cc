#include "engine/runtime/prefix_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <random>

namespace sg {
namespace {

struct SipState {
  uint64_t v0, v1, v2, v3;

  void Round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void Absorb(uint64_t m) {  // two compression rounds per message word
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

uint64_t LoadLe64(const uint8_t* p, size_t n) {  // n <= 8 bytes, little-endian
  uint64_t m = 0;
  for (size_t i = 0; i < n; ++i) m |= static_cast<uint64_t>(p[i]) << (8 * i);
  return m;
}

}  // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::span<const uint8_t> bytes) {
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};
  const size_t n = bytes.size();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) s.Absorb(LoadLe64(bytes.data() + i, 8));
  // The last word: the remaining bytes, and the message length mod 256 in the top byte.
  s.Absorb(LoadLe64(bytes.data() + i, n - i) | (static_cast<uint64_t>(n & 0xff) << 56));
  s.v2 ^= 0xff;
  for (int r = 0; r < 4; ++r) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

BlockHasher::BlockHasher() {
  std::random_device rd;  // /dev/urandom (getrandom) on Linux
  auto draw64 = [&rd] { return (static_cast<uint64_t>(rd()) << 32) ^ rd(); };
  k0_ = draw64();
  k1_ = draw64();
}

uint64_t BlockHasher::Chain(uint64_t parent, std::span<const int32_t> tokens) const {
  // 8 bytes of parent name + 4 per token; a block is 16 tokens (72 bytes), longer spans work too.
  std::array<uint8_t, 8 + 4 * 64> buf;
  assert(tokens.size() <= 64);
  size_t n = 0;
  for (int b = 0; b < 8; ++b) buf[n++] = static_cast<uint8_t>(parent >> (8 * b));
  for (int32_t t : tokens) {
    const auto u = static_cast<uint32_t>(t);
    for (int b = 0; b < 4; ++b) buf[n++] = static_cast<uint8_t>(u >> (8 * b));
  }
  return SipHash24(k0_, k1_, std::span<const uint8_t>(buf.data(), n));
}

PrefixIndex::PrefixIndex(int64_t max_entries) {
  // At most half full: linear probes stay short (expected < 2.5 slots for a miss).
  const size_t want = std::bit_ceil(static_cast<size_t>(std::max<int64_t>(max_entries, 1)) * 2);
  slots_.resize(want);
  mask_ = want - 1;
}

int32_t PrefixIndex::Find(uint64_t name) const {
  for (size_t i = Home(name);; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.block < 0) return -1;
    if (s.name == name) return s.block;
  }
}

void PrefixIndex::Insert(uint64_t name, int32_t block) {
  assert(block >= 0 && size_ * 2 < static_cast<int64_t>(slots_.size()));
  size_t i = Home(name);
  while (slots_[i].block >= 0) i = (i + 1) & mask_;
  slots_[i] = Slot{name, block};
  ++size_;
}

void PrefixIndex::Erase(uint64_t name) {
  size_t i = Home(name);
  while (slots_[i].name != name || slots_[i].block < 0) {
    assert(slots_[i].block >= 0);  // present by contract
    i = (i + 1) & mask_;
  }
  // Backward-shift deletion: move later members of the probe run into the hole when their home
  // does not lie cyclically in (hole, j], so every remaining name stays reachable from its home.
  size_t hole = i;
  for (size_t j = (hole + 1) & mask_; slots_[j].block >= 0; j = (j + 1) & mask_) {
    const size_t home = Home(slots_[j].name);
    const bool reachable = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!reachable) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --size_;
}

}  // namespace sg
