// TGI's response bodies, written byte for byte (API contract §0, §1.3, §2.2-2.4, §1.10, §1.12,
// §1.13, §8): compact JSON, keys in TGI's declaration order, absent vs null as TGI, floats as the
// shortest round-trip form of the f32 value (NaN/inf -> null), strings escaped as serde_json.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"
#include "server/api/validation.h"

namespace sg::api {

std::string FormatF32(float v);              // "-1.5351562", "0.0", "null"
std::string JsonString(std::string_view s);  // quoted and escaped

std::string ErrorJson(const ApiError& e);  // {"error":"...","error_type":"..."}
// OpenAI streams' error event: {"error":{"message":"...","http_status_code":422}}
std::string OpenAiStreamErrorJson(const ApiError& e);

// One native SSE event (§2.2); `end` non-null on the last.
std::string StreamTokenJson(uint32_t index, const TokenInfo& token,
                            const std::vector<TokenInfo>& top_tokens, bool with_top_tokens,
                            const GenerationEnd* end, const ValidRequest& request);

struct GeneratedSequence {
  const std::vector<TokenInfo>* tokens;
  const std::vector<std::vector<TokenInfo>>* top_tokens;
  const GenerationEnd* end;
};

// The /generate body (§1.3): sequence `best` is the answer, the others best_of_sequences.
std::string GenerateResponseJson(const std::vector<GeneratedSequence>& sequences, size_t best,
                                 const ValidRequest& request);

// /tokenize (§1.10).
std::string TokenizeJson(const Encoding& encoding, std::string_view inputs,
                         const Tokenizer& tokenizer);

struct InfoFields {
  std::string model_id;
  int64_t max_concurrent_requests, max_best_of, max_stop_sequences, max_input_tokens,
      max_total_tokens, validation_workers, max_client_batch_size;
};
std::string InfoJson(const InfoFields& info);       // /info (§8)
std::string ModelsJson(std::string_view model_id);  // /v1/models (§1.12)
std::string Version();                              // STREAMGEN_VERSION
std::string SystemFingerprint();                    // "<version>-native"

// /v1/completions (§1.13).
std::string CompletionChunkJson(int64_t created, std::string_view model, int index,
                                std::string_view text, const GenerationEnd* end);
struct CompletionChoice {
  int index;
  std::string text;
  FinishReason reason;
  int32_t prompt_tokens, completion_tokens;
};
std::string CompletionResponseJson(int64_t created, std::string_view model,
                                   const std::vector<CompletionChoice>& choices);

}  // namespace sg::api
