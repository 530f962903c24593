// Request bodies for the three streaming endpoints (shapes: ../shared/spec/tgi-api.md 1.4, 1.13,
// 9.1; OpenAI's stream_options for the usage chunk).
#include "cli/bench_serve/request_body.h"

#include <nlohmann/json.hpp>

namespace sg::benchserve {

StatusOr<Endpoint> ParseEndpoint(std::string_view name) {
  if (name == "generate_stream") return Endpoint::kGenerateStream;
  if (name == "completions") return Endpoint::kCompletions;
  if (name == "chat") return Endpoint::kChat;
  return InvalidArgumentError("unknown endpoint \"" + std::string(name) +
                              "\" (expected generate_stream, completions or chat)");
}

const char* EndpointName(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kGenerateStream:
      return "generate_stream";
    case Endpoint::kCompletions:
      return "completions";
    case Endpoint::kChat:
      return "chat";
  }
  return "?";
}

const char* EndpointPath(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kGenerateStream:
      return "/generate_stream";
    case Endpoint::kCompletions:
      return "/v1/completions";
    case Endpoint::kChat:
      return "/v1/chat/completions";
  }
  return "/";
}

std::string BuildRequestBody(Endpoint endpoint, const std::string& prompt,
                             const GenerationParams& params) {
  using nlohmann::json;
  const bool sample = params.temperature > 0;
  if (endpoint == Endpoint::kGenerateStream) {
    json p = {{"max_new_tokens", params.max_new_tokens}, {"details", true}};
    if (sample) {
      p["do_sample"] = true;
      p["temperature"] = params.temperature;
      p["seed"] = params.seed;
    }
    return json{{"inputs", prompt}, {"parameters", std::move(p)}}.dump();
  }
  json body = {{"model", params.model}};
  if (endpoint == Endpoint::kChat) {
    body["messages"] = json::array({{{"role", "user"}, {"content", prompt}}});
  } else {
    body["prompt"] = prompt;
  }
  body["max_tokens"] = params.max_new_tokens;
  body["temperature"] = params.temperature;
  if (sample) body["seed"] = params.seed;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  return body.dump();
}

}  // namespace sg::benchserve
