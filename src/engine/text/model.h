// The model stage of a tokenizer (BPE, Unigram, WordPiece, WordLevel): turns one pre-tokenized word
// into token ids with byte ranges inside that word, and maps ids <-> token strings. Thread rules:
// immutable after construction except internal caches, which are synchronized; Tokenize may run
// concurrently.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/core/status.h"

namespace sg {

struct ModelToken {
  int32_t id;
  uint32_t begin;  // byte range in the word
  uint32_t end;
};

// Hash that lets an unordered_map<std::string, ...> be searched with a string_view.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

// Vocabulary ids may leave holes, but an id far past the number of entries would only make the
// id -> token table huge: it is rejected as malformed.
inline bool IdInRange(int64_t id, size_t entries) {
  return id >= 0 && id < static_cast<int64_t>(entries) + (int64_t{1} << 20);
}

// token -> id and id -> token; ids may leave holes (IdToToken of a hole is empty).
class Vocab {
 public:
  void Add(std::string token, int32_t id) {
    if (id < 0) return;
    if (static_cast<size_t>(id) >= by_id_.size()) by_id_.resize(static_cast<size_t>(id) + 1);
    by_id_[static_cast<size_t>(id)] = token;
    by_token_.emplace(std::move(token), id);
  }
  std::optional<int32_t> Find(std::string_view token) const {
    auto it = by_token_.find(token);
    if (it == by_token_.end()) return std::nullopt;
    return it->second;
  }
  std::string_view Token(int32_t id) const {
    if (id < 0 || static_cast<size_t>(id) >= by_id_.size()) return {};
    return by_id_[static_cast<size_t>(id)];
  }
  int32_t size() const { return static_cast<int32_t>(by_id_.size()); }      // max id + 1
  int32_t count() const { return static_cast<int32_t>(by_token_.size()); }  // HF get_vocab_size
  void Reserve(size_t n) { by_token_.reserve(n); }

 private:
  TokenMap by_token_;
  std::vector<std::string> by_id_;
};

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;
  // Appends the tokens of WORD (non-empty, valid UTF-8) to OUT.
  virtual void Tokenize(std::string_view word, std::vector<ModelToken>& out) const = 0;
  virtual const Vocab& vocab() const = 0;
};

// The "model" object of a tokenizer.json. Unknown type -> Unimplemented.
StatusOr<std::unique_ptr<TokenizerModel>> ModelFromJson(const nlohmann::json& j);

// Per-model constructors (model_factory.cc dispatches on "type").
StatusOr<std::unique_ptr<TokenizerModel>> BpeModelFromJson(const nlohmann::json& j);
StatusOr<std::unique_ptr<TokenizerModel>> UnigramModelFromJson(const nlohmann::json& j);
StatusOr<std::unique_ptr<TokenizerModel>> WordPieceModelFromJson(const nlohmann::json& j);
StatusOr<std::unique_ptr<TokenizerModel>> WordLevelModelFromJson(const nlohmann::json& j);

}  // namespace sg
