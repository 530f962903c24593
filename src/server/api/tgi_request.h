// TGI request bodies as typed structs (API contract §1.4, §1.6, §1.13, §3.1), parsed with serde's
// strictness: explicit null rejected for bool fields and `stop`, integers must be non-negative
// integers in range, `stop` an array of strings, unknown fields ignored, `parameters` absent vs
// present remembered (absent => do_sample defaults to true, §10.1).
// Errors are the framework's plain-text answers (§4.4): 400 for JSON syntax, 422 for shape.
// Pure; any thread; never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace sg::api {

struct BodyError {
  int status = 400;  // 400 syntax, 422 shape
  std::string message;
};

struct GenerateParameters {
  std::optional<int64_t> best_of;
  std::optional<float> temperature;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<int64_t> top_k;  // TGI: i32; negative values reach validation
  std::optional<float> top_p;
  std::optional<float> typical_p;
  bool do_sample = false;
  std::optional<int64_t> max_new_tokens;
  std::optional<bool> return_full_text;
  std::vector<std::string> stop;
  std::optional<int64_t> truncate;
  bool watermark = false;
  bool details = false;
  bool decoder_input_details = false;
  std::optional<uint64_t> seed;
  std::optional<int64_t> top_n_tokens;
  bool has_grammar = false;  // a non-null `grammar`
};

struct GenerateRequest {
  std::string inputs;
  GenerateParameters parameters;
  bool stream = false;  // POST / only
};

std::variant<GenerateRequest, BodyError> ParseGenerateRequest(std::string_view body);

// /v1/completions (§1.13).
struct CompletionRequest {
  std::vector<std::string> prompts;
  std::optional<int64_t> max_tokens;
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<float> repetition_penalty;
  std::optional<float> frequency_penalty;
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  bool stream = false;
  bool has_suffix = false;
};

std::variant<CompletionRequest, BodyError> ParseCompletionRequest(std::string_view body);

// Which shape a SageMaker /invocations body has (§1.15): "inputs", "messages", "prompt", or "".
std::string InvocationKind(std::string_view body);

// Unicode scalar values in valid UTF-8 text (x-compute-characters).
int64_t CountChars(std::string_view utf8);

}  // namespace sg::api
