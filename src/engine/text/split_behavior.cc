#include "engine/text/split_behavior.h"

#include <algorithm>

namespace sg {

std::optional<SplitBehavior> ParseSplitBehavior(std::string_view name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return std::nullopt;
}

void SplitPiece(const NormalizedText& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                bool invert, SplitBehavior behavior, std::vector<NormalizedText>& out) {
  struct Part {
    size_t b, e;
    bool match;
  };
  // The whole piece as alternating (range, is_match) parts, as HF's find_matches returns it.
  std::vector<Part> parts;
  parts.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (auto [b, e] : matches) {
    if (b > prev) parts.push_back({prev, b, invert});
    parts.push_back({b, e, !invert});
    prev = e;
  }
  if (prev < piece.text.size() || parts.empty()) parts.push_back({prev, piece.text.size(), invert});

  std::vector<std::pair<size_t, size_t>> kept;
  kept.reserve(parts.size());
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (const Part& p : parts) {
        if (!p.match) kept.emplace_back(p.b, p.e);
      }
      break;
    case SplitBehavior::kIsolated:
      for (const Part& p : parts) kept.emplace_back(p.b, p.e);
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (const Part& p : parts) {
        if (p.match && !prev_match && !kept.empty()) {
          kept.back().second = p.e;
        } else {
          kept.emplace_back(p.b, p.e);
        }
        prev_match = p.match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_match = false;
      for (size_t i = parts.size(); i-- > 0;) {
        const Part& p = parts[i];
        if (p.match && !prev_match && !kept.empty()) {
          kept.back().first = p.b;
        } else {
          kept.emplace_back(p.b, p.e);
        }
        prev_match = p.match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool prev_match = false;
      for (const Part& p : parts) {
        if (p.match == prev_match && !kept.empty()) {
          kept.back().second = p.e;
        } else {
          kept.emplace_back(p.b, p.e);
        }
        prev_match = p.match;
      }
      break;
    }
  }
  for (auto [b, e] : kept) {
    if (e > b) out.push_back(piece.Slice(b, e));
  }
}

}  // namespace sg
