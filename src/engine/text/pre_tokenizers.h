// HF `tokenizers` pre-tokenizers: ByteLevel, Split, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Punctuation, BertPreTokenizer, CharDelimiterSplit and Sequence. Each turns the
// pieces left between added tokens into smaller pieces (words) the model encodes one by one.
// Thread rules: immutable after construction; PreTokenize may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/status.h"
#include "engine/text/normalized_text.h"

namespace sg {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces PIECES by their splits, in order; empty pieces are dropped.
  virtual void PreTokenize(std::vector<NormalizedText>& pieces) const = 0;
};

// The "pre_tokenizer" object of a tokenizer.json (not null). Unknown type -> Unimplemented.
StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& j);

}  // namespace sg
