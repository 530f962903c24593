// The one Tokenizer implementation: HF's pipeline of added tokens, normalizer, pre-tokenizer,
// model, post-processor and decoder, assembled by Tokenizer::FromJson (tokenizer_load.cc).
// Thread rules: immutable after construction (the BPE cache is synchronized); Encode / Decode may
// run on any thread concurrently.
#pragma once

#include <memory>

#include "engine/text/added_vocabulary.h"
#include "engine/text/decoders.h"
#include "engine/text/model.h"
#include "engine/text/normalizers.h"
#include "engine/text/post_processors.h"
#include "engine/text/pre_tokenizers.h"
#include "engine/text/tokenizer.h"

namespace sg {

struct TokenizerParts {
  std::unique_ptr<Normalizer> normalizer;         // may be null
  std::unique_ptr<PreTokenizer> pre_tokenizer;    // may be null
  std::unique_ptr<TokenizerModel> model;          // never null
  std::unique_ptr<PostProcessor> post_processor;  // may be null
  std::unique_ptr<Decoder> decoder;               // may be null
  AddedVocabulary added;
  TokenizerSettings settings;
};

class HfTokenizer : public Tokenizer {
 public:
  explicit HfTokenizer(TokenizerParts parts);

  Encoding Encode(std::string_view text, bool add_special_tokens) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special_tokens) const override;
  int32_t vocab_size() const override { return vocab_size_; }
  bool IsSpecial(int32_t id) const override;
  std::string_view IdToPiece(int32_t id) const override;
  std::optional<int32_t> PieceToId(std::string_view piece) const override;
  const TokenizerSettings& settings() const override { return p_.settings; }

 private:
  // Normalizes, pre-tokenizes and encodes one stretch of text between added tokens.
  void EncodeSegment(std::string_view original, uint32_t base, Encoding& enc) const;
  void EncodeNormalized(NormalizedText piece, Encoding& enc) const;

  TokenizerParts p_;
  int32_t vocab_size_ = 0;
};

}  // namespace sg
