// The OpenAI-compatible bodies of /v1/completions (API contract §1.13, §2.4), byte for byte:
// {"object":"text_completion",...} in the key order of TGI's Rust structs, `id` always "",
// system_fingerprint "<STREAMGEN_VERSION>-native". Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/serving/generation.h"

namespace sg::api {

std::string SystemFingerprint();  // "<version>-native" (no Docker label)

// One streamed chunk for prompt `index`. `end` null: an intermediate Chunk {"object","id",
// "created","choices":[{..,"finish_reason":""}],"model","system_fingerprint"} (no usage key);
// `end` set: the prompt's final CompletionFinal {"object","id","created","model",
// "system_fingerprint","choices":[{..,"finish_reason":<native name, eos_token unmapped>}],
// "usage":{...this prompt...}}. `text` is the token's text (special tokens included).
std::string CompletionChunkJson(int64_t created, std::string_view model, int index,
                                std::string_view text, const GenerationEnd* end);

struct CompletionChoice {
  int index;
  std::string text;  // generated_text (special tokens skipped; the prompt is not echoed)
  FinishReason reason;
  int32_t prompt_tokens, completion_tokens;
};
// The non-streamed body: choices in the given (completion) order, finish_reason eos_token ->
// "stop", usage summed over the choices.
std::string CompletionResponseJson(int64_t created, std::string_view model,
                                   const std::vector<CompletionChoice>& choices);

}  // namespace sg::api
