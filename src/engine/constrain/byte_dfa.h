// A deterministic automaton over bytes, compiled from an Rx: the form in which a constraint is
// run, one generated token's bytes at a time. Built by Thompson construction and subset
// construction over byte classes (bytes that no transition distinguishes share one column).
//
// Every state kept can still reach an accepting state: states from which no accepting state is
// reachable are removed and their transitions lead to kDead. So "Next(s, b) != kDead" means the
// bytes so far are a prefix of some string of the language -- the property token masks rely on.
//
// Limits: the expanded NFA size and the number of DFA states are capped (DfaLimits); over either,
// Compile returns ResourceExhausted naming which limit, after bounded work -- it never hangs and
// never allocates past the limits.
//
// Thread rules: immutable after Compile; any thread may read it concurrently.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/constrain/rx.h"
#include "engine/core/status.h"

namespace sg {

struct DfaLimits {
  int64_t max_nfa_states = 200000;  // RxExpandedSize bound
  int32_t max_dfa_states = 20000;   // after subset construction, before pruning
};

class ByteDfa {
 public:
  static constexpr int32_t kDead = -1;

  static StatusOr<ByteDfa> Compile(const Rx& rx, const DfaLimits& limits = {});

  // The start state; kDead if the language is empty.
  int32_t start() const { return start_; }
  int32_t num_states() const { return static_cast<int32_t>(accepting_.size()); }

  // The state after `byte`, or kDead. `state` must be a live state (0 <= state < num_states()).
  int32_t Next(int32_t state, uint8_t byte) const {
    return table_[static_cast<size_t>(state) * num_classes_ + byte_class_[byte]];
  }
  // Runs `bytes` from `state` (kDead stays kDead).
  int32_t Walk(int32_t state, std::string_view bytes) const;
  bool Matches(std::string_view bytes) const;  // whole-string match from start()

  bool IsAccepting(int32_t state) const { return accepting_[state] != 0; }
  // Some byte leads to a live state (an accepting state without one is a final state).
  bool HasContinuation(int32_t state) const { return has_next_[state] != 0; }
  // Fewest bytes that lead from `state` to an accepting state (0 when accepting).
  int32_t MinBytesToAccept(int32_t state) const { return min_to_accept_[state]; }
  // One byte of a shortest path to acceptance (for diagnostics and tests); -1 when accepting.
  int32_t ShortestPathByte(int32_t state) const { return shortest_byte_[state]; }

  int32_t num_byte_classes() const { return num_classes_; }

 private:
  std::array<uint8_t, 256> byte_class_{};
  int32_t num_classes_ = 1;
  int32_t start_ = kDead;
  std::vector<int32_t> table_;  // {num_states, num_classes} next state or kDead
  std::vector<uint8_t> accepting_;
  std::vector<uint8_t> has_next_;
  std::vector<int32_t> min_to_accept_;
  std::vector<int32_t> shortest_byte_;
};

}  // namespace sg
