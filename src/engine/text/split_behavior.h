// HF's SplitDelimiterBehavior: how the matches of a pattern and the text between them become
// pieces (shared by Split, Metaspace, Digits, Punctuation and the whitespace pre-tokenizers).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/text/normalized_text.h"

namespace sg {

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

std::optional<SplitBehavior> ParseSplitBehavior(std::string_view name);

// Splits PIECE at MATCHES (sorted, non-overlapping byte ranges; with INVERT the text between
// them is the "match") and appends the non-empty results to OUT.
void SplitPiece(const NormalizedText& piece, const std::vector<std::pair<size_t, size_t>>& matches,
                bool invert, SplitBehavior behavior, std::vector<NormalizedText>& out);

}  // namespace sg
