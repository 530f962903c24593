#include "engine/constrain/grammar.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/constrain/json_schema.h"
#include "engine/constrain/regex_parser.h"

namespace sg {
namespace {

constexpr int32_t kNoDistanceLimit = std::numeric_limits<int32_t>::max();

size_t MaskWords(int32_t vocab_size) { return (static_cast<size_t>(vocab_size) + 63) / 64; }

void SetBit(TokenMask* m, int32_t id) {
  m->words[static_cast<size_t>(id) >> 6] |= uint64_t{1} << (id & 63);
}

bool IsEos(const TokenIndex& index, int32_t id) {
  const auto eos = index.eos_ids();
  return std::find(eos.begin(), eos.end(), id) != eos.end();
}

// The prefix-sharing walk (llguidance's token-trie walk, on the sorted list instead of a trie):
// tokens come in byte order, so token i shares shared_prefix[i] bytes with token i - 1 and its
// walk resumes from the state reached after those bytes (depth_state[d] = the state after the
// first d bytes of the current token). When a byte kills the walk at depth d, every following
// token whose shared prefix exceeds d starts with the same dead bytes and is skipped by looking at
// its shared-prefix length alone. Cost: one DFA step per distinct live prefix, plus one uint16
// compare per skipped token.
//
// Sets the bit of every token whose bytes keep the DFA alive from `state` and whose end state is
// at most `max_distance` bytes from acceptance; EOS bits when `state` accepts. `out` is reset.
void ComputeMask(const ByteDfa& dfa, const TokenIndex& index, int32_t state, int32_t max_distance,
                 TokenMask* out) {
  out->words.assign(MaskWords(index.vocab_size()), 0);
  out->allowed = 0;
  out->max_next_distance = 0;
  // One stack per thread, grown to the longest token once: no allocation per call afterwards.
  thread_local std::vector<int32_t> depth_state;
  if (depth_state.size() < index.max_token_bytes() + 1) {
    depth_state.resize(index.max_token_bytes() + 1);
  }
  int32_t* const stack = depth_state.data();
  stack[0] = state;
  const std::span<const int32_t> ids = index.sorted_ids();
  const std::span<const uint16_t> shared = index.shared_prefix();
  // Bytes of the previous token that were walked alive: stack[0..live] are valid for it.
  size_t live = 0;
  int32_t allowed = 0, max_next = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    size_t depth = shared[i];
    // depth > live: the previous token died at byte `live`, which this one shares.
    if (depth > live) continue;
    const std::string_view suffix = index.sorted_suffix(i);
    const size_t len = depth + suffix.size();
    int32_t s = stack[depth];
    for (const char c : suffix) {
      s = dfa.Next(s, static_cast<uint8_t>(c));
      if (s == ByteDfa::kDead) break;
      stack[++depth] = s;
    }
    live = depth;
    if (depth < len) continue;
    const int32_t id = ids[i];
    const int32_t distance = dfa.MinBytesToAccept(s);
    if (distance > max_distance) continue;
    SetBit(out, id);
    ++allowed;
    max_next = std::max(max_next, distance);
  }
  if (dfa.IsAccepting(state)) {
    for (int32_t id : index.eos_ids()) {
      if (!out->Test(id)) {
        SetBit(out, id);
        ++allowed;
      }
    }
  }
  out->allowed = allowed;
  out->max_next_distance = max_next;
}

// For each byte of a mask word, the keep mask of its 8 logits: all ones where the bit is set.
struct KeepLanes {
  std::array<std::array<uint32_t, 8>, 256> lanes{};
};
constexpr KeepLanes MakeKeepLanes() {
  KeepLanes t;
  for (uint32_t b = 0; b < 256; ++b) {
    for (uint32_t j = 0; j < 8; ++j) t.lanes[b][j] = (b >> j) & 1 ? 0xFFFFFFFFu : 0u;
  }
  return t;
}
constexpr KeepLanes kKeepLanes = MakeKeepLanes();  // 8 KiB
constexpr uint32_t kNegInfBits = 0xFF800000u;      // IEEE-754 binary32 -inf
// Four 32-bit lanes (GCC/Clang vector extension; one SSE2/NEON register).
typedef uint32_t U32x4 __attribute__((vector_size(16)));

}  // namespace

Grammar::Grammar(ByteDfa dfa, std::shared_ptr<const TokenIndex> index,
                 std::shared_ptr<MaskBudget> budget)
    : dfa_(std::move(dfa)), index_(std::move(index)), budget_(std::move(budget)) {
  // One slot per live state plus one for kDead (or any invalid state): the all-zero mask.
  num_slots_ = static_cast<size_t>(dfa_.num_states()) + 1;
  masks_ = std::make_unique<std::atomic<const TokenMask*>[]>(num_slots_);
  for (size_t i = 0; i < num_slots_; ++i) masks_[i].store(nullptr, std::memory_order_relaxed);
}

Grammar::~Grammar() {
  if (budget_) budget_->bytes_left.fetch_add(reserved_bytes_, std::memory_order_relaxed);
}

const TokenMask& Grammar::MaskFor(int32_t state) const {
  const bool valid = state >= 0 && state < dfa_.num_states();
  const size_t slot = valid ? static_cast<size_t>(state) : num_slots_ - 1;
  if (const TokenMask* cached = masks_[slot].load(std::memory_order_acquire)) return *cached;
  // Computed outside the lock, so sequences in different states of one grammar compute their
  // first masks in parallel; two threads racing for the same state both compute, one result is
  // kept (the masks are equal).
  auto mask = std::make_unique<TokenMask>();
  if (valid) {
    ComputeMask(dfa_, *index_, state, kNoDistanceLimit, mask.get());
  } else {
    mask->words.assign(MaskWords(index_->vocab_size()), 0);
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (const TokenMask* cached = masks_[slot].load(std::memory_order_relaxed)) return *cached;
  const int64_t bytes = static_cast<int64_t>(mask->words.size() * sizeof(uint64_t));
  if (budget_ && budget_->bytes_left.fetch_sub(bytes, std::memory_order_relaxed) < bytes) {
    // Spent: give the bytes back and hand out this thread's buffer (see the header).
    budget_->bytes_left.fetch_add(bytes, std::memory_order_relaxed);
    thread_local TokenMask uncached;
    uncached = std::move(*mask);
    return uncached;
  }
  reserved_bytes_ += budget_ ? bytes : 0;
  const TokenMask* published = mask.get();
  owned_masks_.push_back(std::move(mask));
  masks_[slot].store(published, std::memory_order_release);
  return *published;
}

void Grammar::MaskWithin(int32_t state, int32_t max_distance, TokenMask* out) const {
  if (state < 0 || state >= dfa_.num_states()) {
    out->words.assign(MaskWords(index_->vocab_size()), 0);
    out->allowed = 0;
    out->max_next_distance = 0;
    return;
  }
  max_distance = std::max(max_distance, 0);
  const TokenMask& full = MaskFor(state);
  if (max_distance >= full.max_next_distance) {  // the filter removes nothing
    *out = full;
    return;
  }
  const int64_t key = (int64_t{state} << 32) | max_distance;
  std::shared_ptr<const TokenMask> cached;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = within_.find(key); it != within_.end()) cached = it->second;
  }
  if (cached) {
    *out = *cached;  // copy-assignment reuses out's words: no allocation once sized
    return;
  }
  ComputeMask(dfa_, *index_, state, max_distance, out);
  auto copy = std::make_shared<const TokenMask>(*out);
  std::lock_guard<std::mutex> lock(mu_);
  if (within_.size() >= kMaxWithinMasks) within_.erase(within_.begin());
  within_.emplace(key, std::move(copy));
}

int32_t Grammar::NextState(int32_t state, int32_t id) const {
  if (state < 0 || state >= dfa_.num_states() || id < 0 || id >= index_->vocab_size()) {
    return ByteDfa::kDead;
  }
  if (IsEos(*index_, id)) return dfa_.IsAccepting(state) ? state : ByteDfa::kDead;
  const std::string_view bytes = index_->TokenBytes(id);
  if (bytes.empty()) return ByteDfa::kDead;
  return dfa_.Walk(state, bytes);
}

int64_t Grammar::masks_computed() const {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t n = 0;
  for (size_t s = 0; s + 1 < num_slots_; ++s) {
    n += masks_[s].load(std::memory_order_relaxed) != nullptr;
  }
  return n;
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar)
    : grammar_(std::move(grammar)), state_(grammar_->dfa().start()) {}

void GrammarMatcher::ApplyMask(std::span<float> logits, int32_t remaining_tokens) {
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const TokenMask* mask = &grammar_->MaskFor(state_);
  // The cached mask lets a token lead max_next_distance bytes from acceptance; with fewer tokens
  // left than that, keep only tokens that can still finish in time (one byte per later token at
  // worst). If none can (a budget smaller than the grammar's shortest text), the cached mask
  // stands: the sequence ends by length rather than with no token to sample.
  const int32_t later = std::max(remaining_tokens, 1) - 1;
  if (later < mask->max_next_distance) {
    grammar_->MaskWithin(state_, later, &scratch_);
    if (scratch_.allowed > 0) mask = &scratch_;
  }
  // Allowed tokens are usually a small or a very large share of the vocabulary: whole words of
  // ones are skipped, whole words of zeros filled, mixed words visited bit by bit.
  float* const out = logits.data();
  const size_t n = logits.size();
  const size_t words = std::min(mask->words.size(), (n + 63) / 64);
  for (size_t w = 0; w < words; ++w) {
    const uint64_t word = mask->words[w];
    if (word == ~uint64_t{0}) continue;
    const size_t base = w * 64;
    if (word == 0) {  // a run of disallowed words: one fill
      size_t end = w + 1;
      while (end < words && mask->words[end] == 0) ++end;
      std::fill(out + base, out + std::min(end * 64, n), kNegInf);
      w = end - 1;
      continue;
    }
    if (base + 64 > n) {  // the row's last, partial word
      for (uint64_t zeros = ~word; zeros != 0; zeros &= zeros - 1) {
        const size_t id = base + static_cast<size_t>(std::countr_zero(zeros));
        if (id < n) out[id] = kNegInf;
      }
      continue;
    }
    // A mixed word, 8 logits per byte of it: a branch-free select of 4 lanes at a time (SSE2
    // and/andnot/or; no dispatch needed) instead of a store per zero bit, which is slow when the
    // allowed tokens are scattered (a string state that admits a third of the vocabulary).
    for (size_t k = 0; k < 8; ++k) {
      const uint32_t bits = static_cast<uint32_t>(word >> (8 * k)) & 0xFF;
      if (bits == 0xFF) continue;
      float* const p = out + base + 8 * k;
      for (size_t half = 0; half < 2; ++half) {
        U32x4 v, keep;
        std::memcpy(&v, p + 4 * half, sizeof(v));
        std::memcpy(&keep, kKeepLanes.lanes[bits].data() + 4 * half, sizeof(keep));
        v = (v & keep) | (kNegInfBits & ~keep);
        std::memcpy(p + 4 * half, &v, sizeof(v));
      }
    }
  }
  // Logits past the tokenizer's vocabulary (a model's padded embedding rows) are never allowed.
  if (words * 64 < n) std::fill(out + words * 64, out + n, kNegInf);
}

bool GrammarMatcher::Accept(int32_t id) {
  const int32_t next = grammar_->NextState(state_, id);
  if (next == ByteDfa::kDead) return false;
  state_ = next;
  return true;
}

bool GrammarMatcher::CanEnd() const {
  return state_ != ByteDfa::kDead && grammar_->dfa().IsAccepting(state_);
}

bool GrammarMatcher::MustEnd() const {
  return CanEnd() && !grammar_->dfa().HasContinuation(state_);
}

struct GrammarCache::Entry {
  GrammarKind kind;
  std::string source;
  std::shared_ptr<const Grammar> grammar;
};

GrammarCache::GrammarCache(std::shared_ptr<const TokenIndex> index, size_t capacity,
                           int64_t mask_budget_bytes)
    : index_(std::move(index)),
      capacity_(std::max<size_t>(capacity, 1)),
      budget_(std::make_shared<MaskBudget>(mask_budget_bytes)) {}

GrammarCache::~GrammarCache() = default;

namespace {

StatusOr<Rx> ParseSource(GrammarKind kind, const std::string& source) {
  if (kind == GrammarKind::kRegex) return ParseRegex(source);
  // No exceptions: a malformed schema text is a discarded value.
  // ordered_json: properties are generated in the order the schema lists them.
  const nlohmann::ordered_json schema =
      nlohmann::ordered_json::parse(source, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return InvalidArgumentError("the JSON Schema is not valid JSON");
  return JsonSchemaToRx(schema);
}

}  // namespace

StatusOr<std::shared_ptr<const Grammar>> GrammarCache::Get(GrammarKind kind,
                                                           const std::string& source) {
  auto find = [&]() -> std::shared_ptr<const Grammar> {
    for (size_t i = entries_.size(); i-- > 0;) {
      Entry& e = *entries_[i];
      if (e.kind != kind || e.source != source) continue;
      // Most recently used last.
      std::rotate(entries_.begin() + static_cast<std::ptrdiff_t>(i),
                  entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries_.end());
      return entries_.back()->grammar;
    }
    return nullptr;
  };
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto hit = find()) {
      ++hits_;
      return hit;
    }
    ++misses_;
  }
  // Compiled without the lock: a slow schema must not hold up requests for other grammars.
  SG_ASSIGN_OR_RETURN(Rx rx, ParseSource(kind, source));
  SG_ASSIGN_OR_RETURN(ByteDfa dfa, ByteDfa::Compile(rx));
  if (dfa.start() == ByteDfa::kDead) {
    return InvalidArgumentError(kind == GrammarKind::kRegex ? "the regex matches no text"
                                                            : "the JSON Schema matches no value");
  }
  auto grammar = std::make_shared<const Grammar>(std::move(dfa), index_, budget_);
  std::lock_guard<std::mutex> lock(mu_);
  // Another thread may have compiled the same key meanwhile: keep one copy, share it.
  if (auto raced = find()) return raced;
  entries_.push_back(std::make_unique<Entry>(Entry{kind, source, grammar}));
  if (entries_.size() > capacity_) entries_.erase(entries_.begin());
  return std::shared_ptr<const Grammar>(std::move(grammar));
}

int64_t GrammarCache::hits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return hits_;
}

int64_t GrammarCache::misses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return misses_;
}

}  // namespace sg
