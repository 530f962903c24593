// Rx constructors with their simplifications, the UTF-8 range splitting behind RxCodepoints, the
// saturating expanded size, and the debug rendering.
#include "engine/constrain/rx.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <unordered_map>
#include <utility>

namespace sg {

RxNode::~RxNode() {
  // Children this node alone owns are moved to a worklist and emptied there, so every node dies
  // with no children left and no destructor recurses. A child someone else also holds
  // (use_count > 1: a shared subtree, a cached building block) is simply released; whoever
  // releases it last runs this same loop. No weak_ptr to a node exists, so a count of 1 cannot
  // grow behind our back.
  std::vector<Rx> pending;
  for (Rx& child : children) {
    if (child.use_count() == 1) pending.push_back(std::move(child));
  }
  children.clear();
  while (!pending.empty()) {
    Rx node = std::move(pending.back());
    pending.pop_back();
    auto& kids = const_cast<RxNode&>(*node).children;  // sole owner: nobody else can see it
    for (Rx& child : kids) {
      if (child.use_count() == 1) pending.push_back(std::move(child));
    }
    kids.clear();
  }
}
namespace {

constexpr uint32_t kMaxScalar = 0x10FFFF;
constexpr uint32_t kSurrogateLo = 0xD800;
constexpr uint32_t kSurrogateHi = 0xDFFF;

Rx MakeNode(RxNode node) { return std::make_shared<const RxNode>(std::move(node)); }

// Writes the UTF-8 encoding of scalar value `cp` (not a surrogate, <= 0x10FFFF); returns its
// length.
int EncodeUtf8(uint32_t cp, std::array<uint8_t, 4>* out) {
  if (cp < 0x80) {
    (*out)[0] = static_cast<uint8_t>(cp);
    return 1;
  }
  if (cp < 0x800) {
    (*out)[0] = static_cast<uint8_t>(0xC0 | (cp >> 6));
    (*out)[1] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    (*out)[0] = static_cast<uint8_t>(0xE0 | (cp >> 12));
    (*out)[1] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
    (*out)[2] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
    return 3;
  }
  (*out)[0] = static_cast<uint8_t>(0xF0 | (cp >> 18));
  (*out)[1] = static_cast<uint8_t>(0x80 | ((cp >> 12) & 0x3F));
  (*out)[2] = static_cast<uint8_t>(0x80 | ((cp >> 6) & 0x3F));
  (*out)[3] = static_cast<uint8_t>(0x80 | (cp & 0x3F));
  return 4;
}

int EncodedLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// One UTF-8 encoding pattern: a byte range per position.
using ByteSeq = std::vector<std::pair<uint8_t, uint8_t>>;

// Sorted, merged, clipped to 0..0x10FFFF, surrogates removed.
std::vector<CodepointRange> NormalizeRanges(std::span<const CodepointRange> ranges) {
  std::vector<CodepointRange> in;
  for (const CodepointRange& r : ranges) {
    if (r.lo > r.hi || r.lo > kMaxScalar) continue;
    in.push_back({r.lo, std::min(r.hi, kMaxScalar)});
  }
  std::sort(in.begin(), in.end(),
            [](const CodepointRange& a, const CodepointRange& b) { return a.lo < b.lo; });
  std::vector<CodepointRange> merged;
  for (const CodepointRange& r : in) {
    if (!merged.empty() && r.lo <= merged.back().hi + 1) {
      merged.back().hi = std::max(merged.back().hi, r.hi);
    } else {
      merged.push_back(r);
    }
  }
  std::vector<CodepointRange> out;
  for (const CodepointRange& r : merged) {
    if (r.hi < kSurrogateLo || r.lo > kSurrogateHi) {
      out.push_back(r);
      continue;
    }
    if (r.lo < kSurrogateLo) out.push_back({r.lo, kSurrogateLo - 1});
    if (r.hi > kSurrogateHi) out.push_back({kSurrogateHi + 1, r.hi});
  }
  return out;
}

// Appends to `out` one byte-range sequence per piece of [lo, hi] such that every byte position
// ranges independently: the set of encodings of the piece is exactly the product of the byte
// ranges. Split first by encoded length, then wherever a range crosses a continuation-byte
// boundary (a multiple of 64^i) without covering whole blocks of 64^i.
void SplitUtf8(uint32_t lo, uint32_t hi, std::vector<ByteSeq>* out) {
  std::vector<CodepointRange> work = {{lo, hi}};
  while (!work.empty()) {
    CodepointRange r = work.back();
    work.pop_back();
    // Split by encoded length.
    bool split = false;
    for (uint32_t boundary : {0x7Fu, 0x7FFu, 0xFFFFu}) {
      if (r.lo <= boundary && r.hi > boundary) {
        work.push_back({boundary + 1, r.hi});
        work.push_back({r.lo, boundary});
        split = true;
        break;
      }
    }
    if (split) continue;
    const int len = EncodedLength(r.lo);
    for (int i = 1; i < len && !split; ++i) {
      const uint32_t m = (1u << (6 * i)) - 1;  // the low i continuation bytes
      if ((r.lo & ~m) == (r.hi & ~m)) continue;
      if ((r.lo & m) != 0) {
        work.push_back({(r.lo | m) + 1, r.hi});
        work.push_back({r.lo, r.lo | m});
        split = true;
      } else if ((r.hi & m) != m) {
        work.push_back({r.hi & ~m, r.hi});
        work.push_back({r.lo, (r.hi & ~m) - 1});
        split = true;
      }
    }
    if (split) continue;
    std::array<uint8_t, 4> a{}, b{};
    EncodeUtf8(r.lo, &a);
    EncodeUtf8(r.hi, &b);
    ByteSeq seq;
    for (int i = 0; i < len; ++i) seq.emplace_back(a[i], b[i]);
    out->push_back(std::move(seq));
  }
}

// The alternation of `seqs` with common suffixes factored out: sequences ending in the same byte
// range share that last position, recursively, e.g. any scalar value is
//   [00-7F] | ([C2-DF] | E0 [A0-BF] | ED [80-9F] | (... ) [80-BF]) [80-BF]
// so the continuation bytes are one NFA path, not one per leading byte. Subset construction then
// yields close to the minimal automaton directly, which keeps large repeats of a class (a JSON
// string of up to 1000 characters) under the DFA state limit. Recursion depth <= 4.
Rx FactorSuffixes(std::vector<ByteSeq> seqs) {
  std::map<std::pair<uint8_t, uint8_t>, std::vector<ByteSeq>> by_last;  // ordered: deterministic
  bool has_empty = false;
  for (ByteSeq& seq : seqs) {
    if (seq.empty()) {
      has_empty = true;
      continue;
    }
    const auto last = seq.back();
    seq.pop_back();
    by_last[last].push_back(std::move(seq));
  }
  std::vector<Rx> options;
  if (has_empty) options.push_back(RxEmpty());
  for (auto& [last, prefixes] : by_last) {
    options.push_back(
        RxConcat({FactorSuffixes(std::move(prefixes)), RxByteRange(last.first, last.second)}));
  }
  return RxAlt(std::move(options));
}

}  // namespace

Rx RxEmpty() {
  static const Rx* empty = new Rx(MakeNode(RxNode{}));  // RxNode's default kind is kEmpty
  return *empty;
}

Rx RxNothing() {
  static const Rx* nothing = [] {
    RxNode node;
    node.kind = RxKind::kNothing;
    return new Rx(MakeNode(std::move(node)));
  }();
  return *nothing;
}

Rx RxByteSet(const std::bitset<256>& bytes) {
  if (bytes.none()) return RxNothing();
  RxNode node;
  node.kind = RxKind::kByteSet;
  node.bytes = bytes;
  return MakeNode(std::move(node));
}

Rx RxByte(uint8_t byte) {
  std::bitset<256> set;
  set.set(byte);
  return RxByteSet(set);
}

Rx RxByteRange(uint8_t lo, uint8_t hi) {
  std::bitset<256> set;
  for (int b = lo; b <= hi; ++b) set.set(b);
  return RxByteSet(set);
}

Rx RxLiteral(std::string_view bytes) {
  std::vector<Rx> parts;
  parts.reserve(bytes.size());
  for (char c : bytes) parts.push_back(RxByte(static_cast<uint8_t>(c)));
  return RxConcat(std::move(parts));
}

// Nested concatenations are flattened (keeps the tree shallow when callers build a sequence by
// appending one part at a time).
Rx RxConcat(std::vector<Rx> parts) {
  std::vector<Rx> flat;
  flat.reserve(parts.size());
  for (Rx& part : parts) {
    if (part == nullptr || part->kind == RxKind::kEmpty) continue;
    if (part->kind == RxKind::kNothing) return RxNothing();
    if (part->kind == RxKind::kConcat) {
      flat.insert(flat.end(), part->children.begin(), part->children.end());
    } else {
      flat.push_back(std::move(part));
    }
  }
  if (flat.empty()) return RxEmpty();
  if (flat.size() == 1) return flat[0];
  RxNode node;
  node.kind = RxKind::kConcat;
  node.children = std::move(flat);
  return MakeNode(std::move(node));
}

// Nested alternations are flattened and every single-byte option is merged into one byte set
// (the language does not depend on the order of options; one set is one NFA state, not many).
Rx RxAlt(std::vector<Rx> options) {
  std::vector<Rx> flat;
  flat.reserve(options.size());
  std::bitset<256> bytes;
  size_t bytes_at = SIZE_MAX;  // where the merged byte set goes: the first byte-set option
  auto add = [&](const Rx& option) {
    if (option->kind == RxKind::kByteSet) {
      if (bytes_at == SIZE_MAX) {
        bytes_at = flat.size();
        flat.push_back(nullptr);
      }
      bytes |= option->bytes;
    } else {
      flat.push_back(option);
    }
  };
  for (const Rx& option : options) {
    if (option == nullptr || option->kind == RxKind::kNothing) continue;
    if (option->kind == RxKind::kAlt) {
      for (const Rx& child : option->children) add(child);
    } else {
      add(option);
    }
  }
  if (bytes_at != SIZE_MAX) flat[bytes_at] = RxByteSet(bytes);
  if (flat.empty()) return RxNothing();
  if (flat.size() == 1) return flat[0];
  RxNode node;
  node.kind = RxKind::kAlt;
  node.children = std::move(flat);
  return MakeNode(std::move(node));
}

// min < 0 is treated as 0; a bounded max below min is the empty language (no count satisfies it).
Rx RxRepeat(Rx rx, int32_t min, int32_t max) {
  if (min < 0) min = 0;
  if (max != kRxUnbounded && max < min) return RxNothing();
  if (rx == nullptr || rx->kind == RxKind::kEmpty || max == 0) return RxEmpty();
  if (rx->kind == RxKind::kNothing) return min == 0 ? RxEmpty() : RxNothing();
  if (min == 1 && max == 1) return rx;
  RxNode node;
  node.kind = RxKind::kRepeat;
  node.children = {std::move(rx)};
  node.min = min;
  node.max = max;
  return MakeNode(std::move(node));
}

Rx RxCodepoints(std::span<const CodepointRange> ranges) {
  const std::vector<CodepointRange> normalized = NormalizeRanges(ranges);
  std::vector<ByteSeq> seqs;
  for (const CodepointRange& r : normalized) SplitUtf8(r.lo, r.hi, &seqs);
  return FactorSuffixes(std::move(seqs));
}

Rx RxCodepointsExcept(std::span<const CodepointRange> excluded) {
  const std::vector<CodepointRange> ex = NormalizeRanges(excluded);
  std::vector<CodepointRange> keep;
  uint32_t next = 0;  // first value not yet decided
  for (const CodepointRange& r : ex) {
    if (r.lo > next) keep.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= kMaxScalar) keep.push_back({next, kMaxScalar});
  return RxCodepoints(keep);
}

// Iterative post-order over the DAG with a memo per node, so shared sub-trees are counted without
// re-walking them (a chain of n doublings is n steps, not 2^n) and depth cannot overflow the stack.
// States per node: byte set 1; concat the sum; alternation the sum + one split per extra option;
// repeat min copies + (max - min) optional copies of (child + 1 split), or for no upper bound
// max(min, 1) copies + 1 loop split; + 1 for the final accepting state at the root.
int64_t RxExpandedSize(const Rx& rx, int64_t cap) {
  if (rx == nullptr) return 1;
  const int64_t sat = cap < 0 ? 0 : cap + 1;
  auto add = [sat](int64_t a, int64_t b) { return a > sat - b ? sat : a + b; };  // a, b <= sat
  auto mul = [sat](int64_t a, int64_t b) {
    if (a == 0 || b == 0) return int64_t{0};
    return a > sat / b ? sat : std::min(sat, a * b);
  };
  std::unordered_map<const RxNode*, int64_t> memo;
  std::vector<std::pair<const RxNode*, bool>> stack = {{rx.get(), false}};
  while (!stack.empty()) {
    auto [node, expanded] = stack.back();
    stack.pop_back();
    if (memo.count(node) != 0) continue;
    if (!expanded) {
      stack.push_back({node, true});
      for (const Rx& child : node->children) {
        if (memo.count(child.get()) == 0) stack.push_back({child.get(), false});
      }
      continue;
    }
    int64_t size = 0;
    switch (node->kind) {
      case RxKind::kEmpty:
      case RxKind::kNothing:
        size = 0;
        break;
      case RxKind::kByteSet:
        size = 1;
        break;
      case RxKind::kConcat:
        for (const Rx& child : node->children) size = add(size, memo[child.get()]);
        break;
      case RxKind::kAlt:
        for (const Rx& child : node->children) size = add(size, memo[child.get()]);
        size = add(size, static_cast<int64_t>(node->children.size()) - 1);
        break;
      case RxKind::kRepeat: {
        const int64_t child = memo[node->children[0].get()];
        if (node->max == kRxUnbounded) {
          size = add(mul(std::max<int64_t>(node->min, 1), child), 1);
        } else {
          size = add(mul(node->min, child), mul(node->max - node->min, add(child, 1)));
        }
        break;
      }
    }
    memo[node] = size;
  }
  return add(memo[rx.get()], 1);
}

namespace {

void AppendByte(uint8_t b, bool in_class, std::string* out) {
  const bool special = in_class ? (b == ']' || b == '\\' || b == '^' || b == '-')
                                : std::string_view("\\^$.|?*+()[]{}").find(static_cast<char>(b)) !=
                                      std::string_view::npos;
  if (b >= 0x20 && b < 0x7F) {
    if (special) out->push_back('\\');
    out->push_back(static_cast<char>(b));
    return;
  }
  char buf[8];
  std::snprintf(buf, sizeof(buf), "\\x%02X", b);
  out->append(buf);
}

constexpr int kMaxRenderDepth = 200;

void Render(const Rx& rx, int depth, std::string* out) {
  if (depth > kMaxRenderDepth) {
    out->append("...");
    return;
  }
  auto atom = [&](const Rx& child) {
    const bool group = child->kind == RxKind::kConcat || child->kind == RxKind::kAlt ||
                       child->kind == RxKind::kRepeat || child->kind == RxKind::kEmpty;
    if (group) out->append("(?:");
    Render(child, depth + 1, out);
    if (group) out->push_back(')');
  };
  switch (rx->kind) {
    case RxKind::kEmpty:
      break;
    case RxKind::kNothing:
      out->append("[]");
      break;
    case RxKind::kByteSet: {
      if (rx->bytes.count() == 1) {
        for (int b = 0; b < 256; ++b) {
          if (rx->bytes.test(b)) AppendByte(static_cast<uint8_t>(b), false, out);
        }
        break;
      }
      out->push_back('[');
      for (int b = 0; b < 256;) {
        if (!rx->bytes.test(b)) {
          ++b;
          continue;
        }
        int e = b;
        while (e + 1 < 256 && rx->bytes.test(e + 1)) ++e;
        AppendByte(static_cast<uint8_t>(b), true, out);
        if (e > b) {
          if (e > b + 1) out->push_back('-');
          AppendByte(static_cast<uint8_t>(e), true, out);
        }
        b = e + 1;
      }
      out->push_back(']');
      break;
    }
    case RxKind::kConcat:
      for (const Rx& child : rx->children) {
        if (child->kind == RxKind::kAlt) {
          atom(child);
        } else {
          Render(child, depth + 1, out);
        }
      }
      break;
    case RxKind::kAlt:
      for (size_t i = 0; i < rx->children.size(); ++i) {
        if (i > 0) out->push_back('|');
        Render(rx->children[i], depth + 1, out);
      }
      break;
    case RxKind::kRepeat: {
      atom(rx->children[0]);
      const int32_t lo = rx->min, hi = rx->max;
      if (lo == 0 && hi == kRxUnbounded) {
        out->push_back('*');
      } else if (lo == 1 && hi == kRxUnbounded) {
        out->push_back('+');
      } else if (lo == 0 && hi == 1) {
        out->push_back('?');
      } else {
        // snprintf, not string concatenation: GCC 12 warns spuriously on operator+ here.
        char buf[32];
        if (hi == kRxUnbounded) {
          std::snprintf(buf, sizeof(buf), "{%d,}", lo);
        } else if (lo == hi) {
          std::snprintf(buf, sizeof(buf), "{%d}", lo);
        } else {
          std::snprintf(buf, sizeof(buf), "{%d,%d}", lo, hi);
        }
        out->append(buf);
      }
      break;
    }
  }
}

}  // namespace

std::string RxToString(const Rx& rx) {
  std::string out;
  if (rx != nullptr) Render(rx, 0, &out);
  return out;
}

}  // namespace sg
