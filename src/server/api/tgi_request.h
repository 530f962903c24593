// TGI request bodies as typed structs (API contract §1.4, §1.6, §1.10, §1.13, §1.15, §3.1), read
// exactly as TGI's axum `Json<T>` extractor reads them (serde_reader.h): strict types (explicit
// null rejected for bool fields and `stop`; integers must be non-negative integers in range;
// floats accept integers; `stop` an array of strings), unknown fields ignored, duplicate known
// fields rejected, the struct-as-array form accepted, `parameters` absent vs present remembered
// (absent => do_sample defaults to true, §10.1). The first problem in document order decides:
// JSON syntax -> 400 "Failed to parse the request body as JSON: <serde message> at line L column
// C", wrong shape -> 422 "Failed to deserialize the JSON body into the target type: <path>:
// <serde message> at line L column C" (plain text, §4.4). No size limit here (the HTTP layer caps
// bodies); no nesting pre-scan either: nesting is handled as serde does (see serde_reader.h), so a
// 100 000-deep "[[[..." body is a 422 ("[0]: invalid type: sequence, expected a string"), a deep
// unknown field is accepted, a deep `grammar` value is a 400 ("recursion limit exceeded").
// Pure; any thread; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "server/api/utf8.h"

namespace sg::api {

// A body the framework refuses (plain text): 400 syntax or 422 shape.
struct BodyError {
  int status = 400;
  std::string message;
};

// TGI's GenerateParameters (§3.1). Field types follow TGI's Rust types: usize/u32/u64 fields are
// non-negative here, top_k (i32) may be negative (validation refuses it).
struct GenerateParameters {
  std::optional<uint64_t> best_of;  // usize
  std::optional<float> temperature;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<int64_t> top_k;  // i32
  std::optional<float> top_p;
  std::optional<float> typical_p;
  bool do_sample = false;
  std::optional<int64_t> max_new_tokens;  // u32
  std::optional<bool> return_full_text;
  std::vector<std::string> stop;
  std::optional<uint64_t> truncate;  // usize
  bool watermark = false;
  bool details = false;
  bool decoder_input_details = false;
  std::optional<uint64_t> seed;
  std::optional<int64_t> top_n_tokens;    // u32
  bool has_grammar = false;               // a well-formed non-null `grammar`
  std::string grammar_type;               // "json", "json_object", "regex" or "json_schema"
  std::string grammar_value;              // `value` as sent (JSON text; serde checked its syntax)
  std::optional<std::string> adapter_id;  // ignored: the base model serves (as TGI, §3.9)
};

struct GenerateRequest {
  std::string inputs;
  GenerateParameters parameters;
  bool has_parameters = false;  // the `parameters` key was present (else do_sample = true)
  bool stream = false;          // POST / only (CompatGenerateRequest)
};

// Which Rust struct the route deserializes: /generate, /generate_stream and /tokenize take
// GenerateRequest (a `stream` key is an unknown field there, ignored even if null); POST / and
// /invocations take CompatGenerateRequest (`stream` must be a bool).
enum class GenerateShape { kGenerate, kCompat };

std::variant<GenerateRequest, BodyError> ParseGenerateRequest(std::string_view body,
                                                              GenerateShape shape);

// /v1/completions (§1.13).
struct CompletionRequest {
  std::optional<std::string> model;   // would be the LoRA adapter id; ignored
  std::vector<std::string> prompts;   // 1..n (an empty array is a 422 body error)
  std::optional<int64_t> max_tokens;  // u32
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;  // null and absent both give []
  bool stream = false;
  bool has_suffix = false;  // a non-null `suffix` (refused with a JSON 422, CompletionToGenerate)
};

std::variant<CompletionRequest, BodyError> ParseCompletionRequest(std::string_view body);

// POST /invocations (§1.15): the body is tried as CompatGenerateRequest, then as a ChatRequest
// (chat_request.h), then as CompletionRequest.
enum class InvocationShape { kCompat, kChat, kCompletion };
std::variant<InvocationShape, BodyError> ClassifyInvocation(std::string_view body);

// The same as a word: "inputs", "messages", "prompt", or "" when no shape matches or the body is
// not JSON (the route then answers ClassifyInvocation's BodyError).
std::string InvocationKind(std::string_view body);

}  // namespace sg::api
