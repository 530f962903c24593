// What one SSE `data:` payload means to the benchmark, per endpoint: a generated token (the clock
// of TTFT and ITL), the end of the stream, an in-band error, and token counts the server reports.
// Thread rules: pure function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/bench_serve/request_body.h"

namespace sg::benchserve {

struct StreamEvent {
  // The event carries one generated token: a native token event; an OpenAI chunk whose choice has
  // text (delta.content / text / tool_calls) or a finish_reason. An OpenAI chunk with only the
  // assistant role (vLLM's first chunk) or only usage is not a token.
  bool token = false;
  bool done = false;   // the stream is complete: native final event (generated_text set), [DONE]
  bool error = false;  // `{"error": ...}` in-band, or a payload that is not JSON
  // The error means "server full": error_type "overloaded" (TGI native), or an OpenAI-shaped
  // error whose message or type says overloaded (TGI sends http_status_code 422 even for it).
  bool overloaded = false;
  std::string error_message;
  // Counts reported by the server: native details.input_length / generated_tokens, OpenAI usage.
  std::optional<int64_t> prompt_tokens;
  std::optional<int64_t> completion_tokens;
};

StreamEvent InterpretEvent(Endpoint endpoint, std::string_view data);

}  // namespace sg::benchserve
