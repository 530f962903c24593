// A compiled constraint for one vocabulary, and the per-sequence matcher the sampler uses.
//
// Grammar = a ByteDfa + the TokenIndex it runs over + a cache of token masks, one per DFA state
// reached so far (computed on first use by a prefix-sharing walk over the sorted tokens, then
// shared by every sequence that uses the grammar). A mask bit is set when the token's bytes keep
// the DFA alive from that state; EOS bits are set when the state is accepting; tokens with empty
// bytes are never set.
//
// Budget-aware ending: a sequence with R tokens left (this one included) may only take a token
// whose resulting state can reach acceptance in at most R - 1 more bytes, so a sampled run always
// finishes a text that parses within max_new_tokens when the vocabulary can spell every byte
// (byte-fallback and byte-level vocabularies can). The filter runs only when R is small enough to
// matter for the state (each cached mask records the largest distance any allowed token leads to).
//
// Thread rules: Grammar is shared (shared_ptr<const Grammar>) across sequences and threads; its
// mask cache is internally synchronized (a cached mask is read lock-free; a mutex guards its
// first publication; masks are never moved once built). GrammarMatcher is one per sequence, used by
// one thread at a time.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/constrain/byte_dfa.h"
#include "engine/constrain/token_index.h"
#include "engine/core/status.h"

namespace sg {

// One bit per token id: words[id / 64] >> (id % 64) & 1.
struct TokenMask {
  std::vector<uint64_t> words;
  int32_t allowed = 0;            // number of set bits
  int32_t max_next_distance = 0;  // max MinBytesToAccept over the states allowed tokens lead to
  bool Test(int32_t id) const { return (words[static_cast<size_t>(id) >> 6] >> (id & 63)) & 1; }
};

// Bytes of cached masks that the grammars of one cache may hold together (each mask is
// vocabulary/8 bytes: 19 KB on a 151k vocabulary, so a grammar visiting thousands of states would
// otherwise keep tens of megabytes, and a cache of 64 such grammars gigabytes). Shared by the
// grammars of a GrammarCache; a grammar gives its bytes back when it is destroyed.
struct MaskBudget {
  explicit MaskBudget(int64_t bytes) : bytes_left(bytes) {}
  std::atomic<int64_t> bytes_left;
};

class Grammar {
 public:
  // budget: where cached masks draw their bytes from; null = unbounded (tests, benchmarks).
  Grammar(ByteDfa dfa, std::shared_ptr<const TokenIndex> index,
          std::shared_ptr<MaskBudget> budget = nullptr);
  ~Grammar();
  Grammar(const Grammar&) = delete;
  Grammar& operator=(const Grammar&) = delete;

  const ByteDfa& dfa() const { return dfa_; }
  const TokenIndex& index() const { return *index_; }

  // The mask of `state` (a live DFA state), computed on first use and cached while the budget
  // lasts; the reference stays valid for the Grammar's lifetime. Once the budget is spent, masks
  // not cached yet are computed on every call into a per-thread buffer: that reference stays valid
  // only until this thread's next MaskFor call (of any grammar).
  const TokenMask& MaskFor(int32_t state) const;
  // The tokens allowed from `state` whose resulting state is at most `max_distance` bytes from
  // acceptance (EOS included when `state` accepts). Writes `out` (resized to the vocabulary's
  // words). Results are kept for up to kMaxWithinMasks (state, distance) pairs, since every
  // sequence nearing max_new_tokens asks for them: an uncached one walks the whole vocabulary.
  void MaskWithin(int32_t state, int32_t max_distance, TokenMask* out) const;
  // The state after token `id` from `state`: kDead when not allowed. EOS ids return `state`.
  int32_t NextState(int32_t state, int32_t id) const;

  int64_t masks_computed() const;  // cache entries built so far (a test and metrics seam)

 private:
  ByteDfa dfa_;
  std::shared_ptr<const TokenIndex> index_;
  mutable std::mutex mu_;
  // {num_states + 1}: a state's cached mask, published once (release) and read without the lock
  // (acquire) -- every sampled token of every constrained sequence reads one, on pool threads.
  // The masks are owned by owned_masks_ (guarded by mu_) and never move or die before *this.
  std::unique_ptr<std::atomic<const TokenMask*>[]> masks_;
  size_t num_slots_ = 0;
  mutable std::vector<std::unique_ptr<TokenMask>> owned_masks_;  // guarded by mu_
  std::shared_ptr<MaskBudget> budget_;
  mutable int64_t reserved_bytes_ = 0;  // taken from budget_; guarded by mu_
  // Budget-filtered masks by (state << 32 | distance); an arbitrary one is dropped when full
  // (each is vocab/8 bytes: 256 of them are 5 MB on a 151k vocabulary). Guarded by mu_.
  static constexpr size_t kMaxWithinMasks = 256;
  mutable std::unordered_map<int64_t, std::shared_ptr<const TokenMask>> within_;
};

// Per-sequence state of a constraint.
class GrammarMatcher {
 public:
  explicit GrammarMatcher(std::shared_ptr<const Grammar> grammar);

  // Sets the logits of every token not allowed now to -inf. remaining_tokens: how many tokens the
  // sequence may still generate, this one included (>= 1). Does not allocate after the first call.
  void ApplyMask(std::span<float> logits, int32_t remaining_tokens);
  // Advances by the token the sequence continues with. Returns false (and stays put) when the
  // token is not allowed: the caller's bug, or a token forced around the sampler.
  bool Accept(int32_t id);

  bool CanEnd() const;   // the text so far is a complete match (EOS allowed)
  bool MustEnd() const;  // complete and nothing may follow (only EOS allowed)
  int32_t state() const { return state_; }
  const Grammar& grammar() const { return *grammar_; }

 private:
  std::shared_ptr<const Grammar> grammar_;
  int32_t state_;
  TokenMask scratch_;  // MaskWithin output when the budget filter runs
};

// Compiles and caches grammars. Keyed by (kind, source text); `index` is fixed per cache (one
// cache per loaded model). Least recently used entries beyond `capacity` are dropped (sequences
// holding them keep theirs alive). Thread rules: any thread; Get blocks only while compiling.
enum class GrammarKind { kJsonSchema, kRegex };

class GrammarCache {
 public:
  // mask_budget_bytes: cached masks of all this cache's grammars together (MaskBudget).
  GrammarCache(std::shared_ptr<const TokenIndex> index, size_t capacity = 64,
               int64_t mask_budget_bytes = int64_t{256} << 20);
  ~GrammarCache();  // defined where Entry is complete

  // kJsonSchema: `source` is the schema's JSON text; kRegex: the pattern. Errors are
  // InvalidArgument (the request's 422) or ResourceExhausted (too large; also a 422).
  StatusOr<std::shared_ptr<const Grammar>> Get(GrammarKind kind, const std::string& source);

  const TokenIndex& index() const { return *index_; }
  int64_t hits() const;
  int64_t misses() const;

 private:
  struct Entry;
  std::shared_ptr<const TokenIndex> index_;
  size_t capacity_;
  std::shared_ptr<MaskBudget> budget_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;  // most recently used last; guarded by mu_
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

}  // namespace sg
