// A text tokenizer that matches Hugging Face `tokenizers` exactly: normalizer, pre-tokenizer, model
// (BPE, Unigram, WordPiece), post-processor and decoder as configured by a tokenizer.json, plus
// the added tokens and the tokenizer_config.json settings. A GGUF vocabulary is translated into the
// equivalent tokenizer.json (gguf_vocab.h) and goes through the same code.
// Thread rules: immutable after construction; Encode/Decode may run on any thread concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/status.h"

namespace sg {

struct Encoding {
  std::vector<int32_t> ids;
  // Per token: [begin, end) byte offsets into the ORIGINAL text (what TGI's /tokenize reports as
  // start/stop after converting to characters). Tokens added by the post-processor get {0, 0}.
  std::vector<std::pair<uint32_t, uint32_t>> offsets;
};

// tokenizer_config.json settings that change encode/decode, with transformers' defaults.
struct TokenizerSettings {
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> eos_token_id;
  std::optional<int32_t> pad_token_id;
  std::optional<int32_t> unk_token_id;
  std::optional<bool> add_bos_token;  // set -> overrides the post-processor's BOS handling
  std::optional<bool> add_eos_token;
  bool clean_up_tokenization_spaces = false;
  std::string chat_template;  // empty if none
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // `tokenizer_json`: the parsed tokenizer.json; `config`: parsed tokenizer_config.json or null.
  // Unknown component types -> Unimplemented naming the type; malformed -> InvalidArgument.
  static StatusOr<std::unique_ptr<Tokenizer>> FromJson(const nlohmann::json& tokenizer_json,
                                                       const nlohmann::json& config);
  // PATH is a tokenizer.json file, a folder holding tokenizer.json (+ tokenizer_config.json), or
  // a GGUF file with a tokenizer.ggml.* vocabulary.
  static StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& path);

  // add_special_tokens: apply the post-processor (BOS/EOS templates) as HF does.
  virtual Encoding Encode(std::string_view text, bool add_special_tokens) const = 0;
  // Raw decode as HF `tokenizers` does it (decoder pipeline; skip_special_tokens drops added
  // tokens marked special). Ids out of range are skipped. Invalid UTF-8 produced by byte pieces
  // becomes U+FFFD as in HF (String::from_utf8_lossy).
  virtual std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const = 0;
  // transformers' clean_up_tokenization on top of Decode (" ." -> ".", " n't" -> "n't", ...).
  static std::string CleanUpTokenizationSpaces(std::string_view text);

  virtual int32_t vocab_size() const = 0;        // including added tokens
  virtual bool IsSpecial(int32_t id) const = 0;  // an added token with special: true
  // The token's string as stored in the vocabulary ("Ġhello", "▁the", "<0x0A>"); empty if unknown.
  virtual std::string_view IdToPiece(int32_t id) const = 0;
  virtual std::optional<int32_t> PieceToId(std::string_view piece) const = 0;
  virtual const TokenizerSettings& settings() const = 0;
};

}  // namespace sg
