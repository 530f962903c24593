#include "server/api/validation.h"

#include <algorithm>

namespace sg::api {
namespace {

constexpr int64_t kMaxChunk = 1024;  // TGI's DEFAULT_GENERATION_LENGTH

ApiError Invalid(const std::string& detail) {
  return ApiError{422, "Input validation error: " + detail, "validation"};
}

}  // namespace

ApiError OverloadedError() { return ApiError{429, "Model is overloaded", "overloaded"}; }

ApiError GenerationFailedError(const std::string& message) {
  return ApiError{424, "Request failed during generation: Server error: " + message, "generation"};
}

ApiError IncompleteGenerationError(bool streamed) {
  return streamed ? ApiError{500, "Incomplete generation stream", "incomplete_generation_stream"}
                  : ApiError{500, "Incomplete generation", "incomplete_generation"};
}

std::variant<ValidRequest, ApiError> ValidateGenerate(const GenerateRequest& request,
                                                      const Tokenizer& tokenizer,
                                                      const ValidationLimits& limits,
                                                      bool streaming, bool compat_route,
                                                      std::mt19937_64& rng) {
  const GenerateParameters& p = request.parameters;
  const int64_t best_of = p.best_of.value_or(1);
  if (streaming) {
    if (best_of != 1) return Invalid("`best_of` != 1 is not supported when streaming tokens");
    if (p.decoder_input_details) {
      return Invalid("`decoder_input_details` == true is not supported when streaming tokens");
    }
  } else if (best_of > 1) {
    if (limits.max_best_of == 1) return Invalid("`best_of` != 1 is not allowed for this endpoint");
    if (best_of > limits.max_best_of) {
      return Invalid("`best_of` must be > 0 and <= " + std::to_string(limits.max_best_of) +
                     ". Given: " + std::to_string(best_of));
    }
  }
  const bool sampling_asked = p.do_sample || p.temperature || p.top_k || p.top_p || p.typical_p;
  if (best_of > 1 && !sampling_asked) {
    return Invalid("you must use sampling when `best_of` is > 1");
  }
  if (p.temperature && !(*p.temperature > 0.0f)) {
    return Invalid("`temperature` must be strictly positive");
  }
  if (p.repetition_penalty && !(*p.repetition_penalty > 0.0f)) {
    return Invalid("`repetition_penalty` must be strictly positive");
  }
  if (p.frequency_penalty && !(*p.frequency_penalty >= -2.0f && *p.frequency_penalty <= 2.0f)) {
    return Invalid("`frequency_penalty` must be >= -2.0 and <= 2.0");
  }
  if (p.top_p && !(*p.top_p > 0.0f && *p.top_p < 1.0f)) {
    return Invalid("`top_p` must be > 0.0 and < 1.0");
  }
  if (p.typical_p && !(*p.typical_p > 0.0f && *p.typical_p < 1.0f)) {
    return Invalid("`typical_p` must be > 0.0 and < 1.0");
  }
  if (p.top_k && *p.top_k <= 0) return Invalid("`top_k` must be strictly positive");
  if (p.max_new_tokens && *p.max_new_tokens == 0) {
    return Invalid("`max_new_tokens` must be strictly positive");
  }
  if (static_cast<int64_t>(p.stop.size()) > limits.max_stop_sequences) {
    return Invalid("`stop` supports up to " + std::to_string(limits.max_stop_sequences) +
                   " stop sequences. Given: " + std::to_string(p.stop.size()));
  }
  if (best_of > 1 && p.seed) return Invalid("`seed` must not be set when `best_of` > 1");
  const int64_t top_n = p.top_n_tokens.value_or(0);
  if (top_n > limits.max_top_n_tokens) {
    return Invalid("`top_n_tokens` must be >= 0 and <= " + std::to_string(limits.max_top_n_tokens) +
                   ". Given: " + std::to_string(top_n));
  }
  if (request.inputs.empty()) return Invalid("`inputs` cannot be empty");
  if (p.truncate && (*p.truncate == 0 || *p.truncate > limits.max_input_tokens)) {
    return Invalid("`truncate` must be strictly positive and less than " +
                   std::to_string(limits.max_input_tokens) +
                   ". Given: " + std::to_string(*p.truncate));
  }
  std::vector<int32_t> ids = tokenizer.Encode(request.inputs, /*add_special_tokens=*/true).ids;
  if (ids.empty()) return Invalid("tokenizer error the input encodes to no tokens");
  if (p.truncate && static_cast<int64_t>(ids.size()) > *p.truncate) {
    ids.erase(ids.begin(), ids.end() - *p.truncate);  // keep the last `truncate` tokens
  }
  const int64_t input_length = static_cast<int64_t>(ids.size());
  const int64_t max_new = p.max_new_tokens.value_or(limits.max_total_tokens - input_length);
  const int64_t effective = std::min(max_new, kMaxChunk);
  if (input_length + effective > limits.max_total_tokens) {
    return Invalid(
        "`inputs` tokens + `max_new_tokens` must be <= " + std::to_string(limits.max_total_tokens) +
        ". Given: " + std::to_string(input_length) + " `inputs` tokens and " +
        std::to_string(effective) + " `max_new_tokens`");
  }
  if (input_length > limits.max_input_tokens) {
    return Invalid("`inputs` must have less than " + std::to_string(limits.max_input_tokens) +
                   " tokens. Given: " + std::to_string(input_length));
  }
  if (p.has_grammar) return Invalid("grammar is not supported");
  if (p.watermark) return Invalid("`watermark` is not supported");

  ValidRequest v;
  v.inputs = request.inputs;
  v.input_length = static_cast<int32_t>(input_length);
  v.details = p.details || p.decoder_input_details;
  v.decoder_input_details = p.decoder_input_details;
  v.return_full_text = p.return_full_text.value_or(compat_route);
  v.best_of = static_cast<int>(std::max<int64_t>(1, best_of));
  v.top_n_tokens = static_cast<int32_t>(top_n);
  GenerationRequest& g = v.engine;
  g.prompt_ids = std::move(ids);
  SamplingParams& s = g.sampling;
  s.temperature = p.temperature.value_or(1.0f);
  s.top_k = static_cast<int32_t>(p.top_k.value_or(0));
  s.top_p = p.top_p.value_or(1.0f);
  s.typical_p = p.typical_p.value_or(1.0f);
  s.repetition_penalty = p.repetition_penalty.value_or(1.0f);
  s.frequency_penalty = p.frequency_penalty.value_or(0.0f);
  // The backend samples if asked to or if any warper is active (§3.4).
  s.do_sample =
      p.do_sample || s.temperature != 1.0f || s.top_k != 0 || s.top_p < 1.0f || s.typical_p < 1.0f;
  s.seed = p.seed ? *p.seed : rng();
  g.stopping.max_new_tokens = static_cast<int32_t>(
      std::max<int64_t>(1, std::min(max_new, limits.max_total_tokens - input_length)));
  g.stopping.stop_sequences = p.stop;
  g.top_n_tokens = v.top_n_tokens;
  g.prefill_logprobs = p.decoder_input_details && limits.enable_prefill_logprobs;
  return v;
}

}  // namespace sg::api
