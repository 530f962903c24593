// TGI's request validation (API contract §3.2) in its order with its exact messages, producing the
// engine request plus the flags the response needs. Also the other error bodies of §4.2.
//
// Choices where TGI cannot be copied: `watermark: true` is refused ("`watermark` is not
// supported") because TGI's green lists come from torch's RNG, which we cannot reproduce; a
// non-null `grammar` is refused as TGI does with --disable-grammar-support. An explicit
// max_new_tokens above max_total_tokens - input_length is accepted (as TGI v3.1.1+) and the
// generation stops with `length` at the budget, without TGI's internal 1024-token re-queueing.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <variant>

#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"
#include "server/api/tgi_request.h"

namespace sg::api {

struct ApiError {
  int status = 422;
  std::string error;       // the human message
  std::string error_type;  // "validation", "overloaded", ...
};

ApiError OverloadedError();                                  // 429
ApiError GenerationFailedError(const std::string& message);  // 424
ApiError IncompleteGenerationError(bool streamed);           // 500 / in-band

struct ValidationLimits {
  int64_t max_best_of = 2;
  int64_t max_stop_sequences = 4;
  int64_t max_top_n_tokens = 5;
  int64_t max_input_tokens = 1023;
  int64_t max_total_tokens = 1024;
  bool enable_prefill_logprobs = false;
};

struct ValidRequest {
  GenerationRequest engine;  // prompt ids after truncation, sampling, stopping
  std::string inputs;        // the original string (return_full_text prefixes it)
  int32_t input_length = 0;
  bool details = false;
  bool decoder_input_details = false;
  bool return_full_text = false;
  int best_of = 1;
  int32_t top_n_tokens = 0;
};

// `streaming`: the stream-only checks (§1.5). `compat_route`: POST / (return_full_text defaults
// to true for a local model, §1.6). `rng` draws the seed when sampling without one.
std::variant<ValidRequest, ApiError> ValidateGenerate(const GenerateRequest& request,
                                                      const Tokenizer& tokenizer,
                                                      const ValidationLimits& limits,
                                                      bool streaming, bool compat_route,
                                                      std::mt19937_64& rng);

}  // namespace sg::api
