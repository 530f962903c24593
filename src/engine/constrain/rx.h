// Regular expressions over BYTES as a tree: what every constraint (a user's regex, a JSON Schema)
// is compiled to before it becomes a ByteDfa. The tree is immutable and shared (shared_ptr to
// const nodes), so a sub-expression can appear in several places without copying; repeats are
// expanded only when the DFA is built.
//
// Code points: RxCodepoints turns a set of Unicode scalar values into the alternation of UTF-8
// byte sequences that encode exactly those values (surrogates D800-DFFF are never included), so a
// byte automaton matches only valid UTF-8 where a code-point class was asked for.
//
// Thread rules: plain values; any thread. Building a tree does not validate sizes: ByteDfa::Compile
// enforces the limits (an expanded size over them is a ResourceExhausted error, never a hang).
#pragma once

#include <bitset>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sg {

enum class RxKind {
  kEmpty,    // matches the empty string only
  kNothing,  // matches no string at all (an empty alternation; an empty byte set)
  kByteSet,  // one byte from `bytes`
  kConcat,   // children in order
  kAlt,      // any one child
  kRepeat,   // children[0] repeated min..max times (max == kRxUnbounded: no upper bound)
};

inline constexpr int32_t kRxUnbounded = -1;

struct RxNode;
using Rx = std::shared_ptr<const RxNode>;

struct RxNode {
  RxNode() = default;
  RxNode(const RxNode&) = default;
  RxNode& operator=(const RxNode&) = default;
  // Iterative: a tree nested thousands of levels deep (a hostile pattern or schema) would
  // otherwise recurse once per level while it is released, and overflow the stack.
  ~RxNode();

  RxKind kind = RxKind::kEmpty;
  std::bitset<256> bytes;    // kByteSet
  std::vector<Rx> children;  // kConcat, kAlt: >= 1; kRepeat: exactly 1
  int32_t min = 0;           // kRepeat: >= 0
  int32_t max = 0;           // kRepeat: >= min, or kRxUnbounded
};

// Unicode scalar values lo..hi inclusive (hi <= 0x10FFFF).
struct CodepointRange {
  uint32_t lo = 0;
  uint32_t hi = 0;
};

Rx RxEmpty();
Rx RxNothing();
Rx RxByte(uint8_t byte);
Rx RxByteSet(const std::bitset<256>& bytes);  // empty set -> RxNothing()
Rx RxByteRange(uint8_t lo, uint8_t hi);       // lo..hi inclusive
Rx RxLiteral(std::string_view bytes);         // "" -> RxEmpty()
// Concat/Alt simplify: Empty children of a concat are dropped, a Nothing child makes the concat
// Nothing; Nothing children of an alternation are dropped; one child is returned as is.
Rx RxConcat(std::vector<Rx> parts);
Rx RxAlt(std::vector<Rx> options);
Rx RxRepeat(Rx rx, int32_t min, int32_t max);  // max == kRxUnbounded for "or more"
inline Rx RxOptional(Rx rx) { return RxRepeat(std::move(rx), 0, 1); }
inline Rx RxStar(Rx rx) { return RxRepeat(std::move(rx), 0, kRxUnbounded); }
inline Rx RxPlus(Rx rx) { return RxRepeat(std::move(rx), 1, kRxUnbounded); }

// The UTF-8 encodings of every scalar value in `ranges` (any order, may overlap; surrogates are
// removed). An empty set -> RxNothing().
Rx RxCodepoints(std::span<const CodepointRange> ranges);
// Any scalar value except those in `excluded` (a negated class, JSON string characters).
Rx RxCodepointsExcept(std::span<const CodepointRange> excluded);

// The number of NFA states the tree expands to (repeats unrolled), saturating at `cap` + 1: the
// DFA compiler refuses trees above its limit before building anything.
int64_t RxExpandedSize(const Rx& rx, int64_t cap);

// A debugging rendering (regex-like syntax, bytes as \xHH where not printable).
std::string RxToString(const Rx& rx);

}  // namespace sg
