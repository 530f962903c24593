#include "server/api/api_error.h"

namespace sg::api {

int StatusForErrorType(std::string_view t) {
  if (t == "overloaded") return 429;
  if (t == "generation") return 424;
  if (t == "healthcheck") return 503;
  if (t == "validation" || t == "template_error" || t == "tool_error" ||
      t == "missing_template_variable" || t == "suffix not supported" ||
      t == "batch size exceeded" || t == "Input validation error") {
    return 422;
  }
  return 500;  // incomplete_generation(_stream), stream_serialization_error, headers, no details
}

ApiError ValidationError(std::string_view detail) {
  std::string error = "Input validation error: ";
  error += detail;
  return ApiError{422, std::move(error), "validation"};
}

ApiError ToolError(std::string_view detail) {
  return ApiError{422, "Tool error: " + std::string(detail), "tool_error"};
}

ApiError OverloadedError() { return ApiError{429, "Model is overloaded", "overloaded"}; }

ApiError GenerationFailedError(const std::string& message) {
  std::string error = "Request failed during generation: Server error: ";
  error += message;
  return ApiError{424, std::move(error), "generation"};
}

ApiError IncompleteGenerationError(bool streamed) {
  return streamed ? ApiError{500, "Incomplete generation stream", "incomplete_generation_stream"}
                  : ApiError{500, "Incomplete generation", "incomplete_generation"};
}

ApiError UnhealthyError() { return ApiError{503, "unhealthy", "healthcheck"}; }

ApiError SuffixNotSupportedError() {
  return ApiError{422, "Suffix is not supported and can be achieved by preprocessing the prompt.",
                  "suffix not supported"};
}

ApiError BatchSizeExceededError(int64_t max_client_batch_size) {
  return ApiError{422,
                  "Number of prompts exceeds the maximum allowed batch size of " +
                      std::to_string(max_client_batch_size),
                  "batch size exceeded"};
}

}  // namespace sg::api
