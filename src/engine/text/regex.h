// A compiled PCRE2 regex (UTF + Unicode properties, JIT when available) standing in for the
// Oniguruma regexes of HF tokenizers' Split pre-tokenizer / Replace normalizer and decoder.
// Thread rules: immutable after Compile; FindAll may run concurrently (per-thread match data).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/status.h"

namespace sg {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // InvalidArgument with PCRE2's message if PATTERN does not compile.
  static StatusOr<std::shared_ptr<const Regex>> Compile(const std::string& pattern);

  // Appends the [begin, end) byte ranges of all non-overlapping matches in TEXT (valid UTF-8),
  // left to right; an empty match advances the search by one character.
  void FindAll(std::string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  explicit Regex(void* code) : code_(code) {}
  void* code_;  // pcre2_code_8*
};

}  // namespace sg
