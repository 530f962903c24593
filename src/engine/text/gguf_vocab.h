// Translates the tokenizer.ggml.* vocabulary of a GGUF file into the equivalent Hugging Face
// tokenizer.json (+ tokenizer_config.json) so it runs through the one Tokenizer implementation:
// "llama" (SentencePiece-style: tokens + scores + token types -> BPE with byte fallback and
// merges derived from the scores, as transformers' LlamaConverter does) and "gpt2" (byte-level BPE
// with merges; the pre-tokenizer regex chosen by tokenizer.ggml.pre as llama.cpp does).
#pragma once

#include <nlohmann/json.hpp>

#include "engine/core/status.h"
#include "engine/io/gguf.h"

namespace sg {

struct TokenizerJsonPair {
  nlohmann::json tokenizer;  // tokenizer.json equivalent
  nlohmann::json config;     // tokenizer_config.json equivalent (bos/eos, add_bos_token, template)
};

StatusOr<TokenizerJsonPair> TokenizerJsonFromGguf(const GgufFile& gguf);

}  // namespace sg
