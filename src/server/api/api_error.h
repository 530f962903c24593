// TGI's JSON errors (API contract §4): ErrorResponse {"error","error_type"} with the HTTP status
// of §4.2, one constructor per error TGI produces on the routes we serve. The JSON bodies and
// the in-stream forms are in tgi_json.h. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sg::api {

struct ApiError {
  int status = 422;        // the HTTP status when not streaming
  std::string error;       // the human message
  std::string error_type;  // "validation", "overloaded", ...
};

// §4.2's table: the status of each error_type (500 for types TGI does not list).
int StatusForErrorType(std::string_view error_type);

ApiError ValidationError(std::string_view detail);  // 422 "Input validation error: <detail>"
ApiError OverloadedError();                         // 429 "Model is overloaded"
// 424 "Request failed during generation: Server error: <message>" (TGI's shard-error wording).
ApiError GenerationFailedError(const std::string& message);
// 500 "Incomplete generation" / in-stream "Incomplete generation stream".
ApiError IncompleteGenerationError(bool streamed);
// 422 tool_error "Tool error: <detail>" (§4.2).
ApiError ToolError(std::string_view detail);
ApiError UnhealthyError();           // 503 {"error":"unhealthy",...} (/health)
ApiError SuffixNotSupportedError();  // 422, /v1/completions with `suffix`
ApiError BatchSizeExceededError(int64_t max_client_batch_size);  // 422, /v1/completions

}  // namespace sg::api
