// HF `tokenizers` normalizers: NFC/NFD/NFKC/NFKD, Lowercase, Replace, Prepend, Strip,
// StripAccents and Sequence, each keeping the byte alignment to the original text.
// Thread rules: immutable after construction; Normalize may run concurrently.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>

#include "engine/core/status.h"
#include "engine/text/normalized_text.h"

namespace sg {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void Normalize(NormalizedText& text) const = 0;
};

// The "normalizer" object of a tokenizer.json (not null). Unknown type -> Unimplemented.
StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& j);

}  // namespace sg
