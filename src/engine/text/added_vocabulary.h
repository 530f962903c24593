// The added tokens of a tokenizer.json ("added_tokens"): found in the input before the model
// runs, non-normalized ones in the raw text and normalized ones in the normalized text, with
// HF's leftmost-longest matching and single_word / lstrip / rstrip rules.
// Thread rules: immutable after Init; any thread may call the const methods.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/status.h"
#include "engine/text/model.h"
#include "engine/text/normalizers.h"

namespace sg {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

class AddedVocabulary {
 public:
  struct Match {
    size_t begin, end;  // byte range in the searched text, widened by lstrip / rstrip
    int32_t id;
  };

  // ADDED: the "added_tokens" array (may be null). NORMALIZER (may be null) normalizes the
  // content of normalized tokens, as HF matches them in normalized text. Ids are assigned as HF
  // does when it loads a tokenizer.json (the "id" fields are only checked there): the model's id
  // of the content if it has one, else the next id after the model vocabulary / added tokens.
  Status Init(const nlohmann::json& added, const Normalizer* normalizer, const Vocab& model);

  // Appends the matches in TEXT of the non-normalized (NORMALIZED false) or normalized tokens.
  void FindMatches(std::string_view text, bool normalized, std::vector<Match>& out) const;

  bool empty() const { return tokens_.empty(); }
  bool HasNormalized() const { return !sets_[1].tokens.empty(); }
  const AddedToken* ById(int32_t id) const;
  std::optional<int32_t> FindContent(std::string_view content) const;
  int32_t max_id() const { return max_id_; }

 private:
  // Patterns bucketed by first byte, longest first, so the first hit is the longest match.
  struct PatternSet {
    std::vector<std::pair<std::string, size_t>> tokens;  // (pattern, index into tokens_)
    std::array<std::vector<uint32_t>, 256> by_first_byte;
  };
  void BuildSet(PatternSet& set);

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  TokenMap by_content_;
  PatternSet sets_[2];  // [0]: non-normalized, [1]: normalized
  int32_t max_id_ = -1;
};

}  // namespace sg
