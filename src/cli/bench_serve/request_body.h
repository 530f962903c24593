// What the benchmark sends: the three streaming endpoints of a TGI-compatible server and the JSON
// body of one request to each.
// Thread rules: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/core/status.h"

namespace sg::benchserve {

enum class Endpoint {
  kGenerateStream,  // TGI native: POST /generate_stream, one `data:` event per token
  kCompletions,     // OpenAI legacy: POST /v1/completions with stream:true, ends in [DONE]
  kChat,            // OpenAI Messages: POST /v1/chat/completions with stream:true, ends in [DONE]
};

// "generate_stream", "completions" or "chat" (the names of --endpoint).
StatusOr<Endpoint> ParseEndpoint(std::string_view name);
const char* EndpointName(Endpoint endpoint);
// The route, e.g. "/v1/chat/completions" (appended to the URL's own path, if any).
const char* EndpointPath(Endpoint endpoint);

struct GenerationParams {
  int max_new_tokens = 64;
  // 0 = greedy: the native body leaves sampling off (TGI's default), the OpenAI bodies send
  // temperature 0.0, which TGI maps to greedy. > 0 samples with `seed`.
  double temperature = 0.0;
  uint64_t seed = 0;          // sent only when sampling
  std::string model = "tgi";  // `model` of the OpenAI bodies (TGI: "tgi" = no LoRA adapter)
};

// The compact JSON body for one prompt. Native asks for `details` (the final event then carries
// generated_tokens and input_length); the OpenAI bodies ask for the usage chunk
// (stream_options.include_usage). Chat sends the prompt as one user message.
std::string BuildRequestBody(Endpoint endpoint, const std::string& prompt,
                             const GenerationParams& params);

}  // namespace sg::benchserve
