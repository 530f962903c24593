// The engine's request and event types: what the server submits and what comes back, one event
// per generated token. Plain structs; no JSON, no HTTP (the server translates both ways).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "engine/sampling/sampling_params.h"
#include "engine/sampling/stop_criteria.h"

namespace sg {

using SteadyTime = std::chrono::steady_clock::time_point;

struct GenerationRequest {
  std::vector<int32_t> prompt_ids;  // after truncation; non-empty; fits the limits (validated)
  SamplingParams sampling;
  StoppingParams stopping;
  int32_t top_n_tokens = 0;  // 0..max_top_n_tokens; alternatives per generated token
  // The chosen token's logprob is reported (TGI shows it in stream events, `details` and uses it
  // for best_of). False lets a greedy request skip the softmax over the vocabulary: the sampler
  // takes its argmax-only path and TokenInfo::logprob is NaN.
  bool token_logprob = true;
  bool prefill_logprobs =
      false;              // compute a logprob for every prompt token (decoder_input_details)
  SteadyTime received{};  // when the HTTP request arrived (for timing metrics/headers)
};

// One token as TGI reports it (§1.3 Token / PrefillToken).
struct TokenInfo {
  int32_t id = 0;
  std::string text;  // streamed token text: incremental, special tokens included (§3.6)
  // NaN for "no logprob" (the first prompt token; a generated token of a request with
  // token_logprob false); -inf if filtered.
  float logprob = 0.0f;
  bool special = false;
};

// Timing of one request (§6.9): received -> queued -> admitted (first scheduled) -> finished.
struct GenerationTiming {
  SteadyTime received{};
  SteadyTime queued{};
  SteadyTime admitted{};
  SteadyTime finished{};
};

// The end of a generation: attached to the event of the last token.
struct GenerationEnd {
  FinishReason finish_reason = FinishReason::kLength;
  int32_t generated_tokens = 0;  // including EOS
  std::string generated_text;    // Decode(all generated ids, skip_special_tokens=true), §3.6
  uint64_t seed = 0;
  bool sampled = false;            // false: greedy (TGI reports seed: null)
  int32_t input_length = 0;        // prompt tokens
  int32_t cached_tokens = 0;       // of which adopted from the prefix cache (not recomputed)
  std::vector<TokenInfo> prefill;  // one per prompt token if prefill_logprobs, else empty
  GenerationTiming timing;
};

// Why a request failed after submission (the server maps these to TGI error types).
enum class GenerationErrorKind {
  kGeneration,  // the forward step failed: TGI "generation" (424), every request in the batch
  kShutdown,    // the server is stopping and the drain deadline passed
};

struct GenerationError {
  GenerationErrorKind kind = GenerationErrorKind::kGeneration;
  std::string message;  // without TGI's prefix ("Request failed during generation: ...")
};

// One event for the server. Exactly one of: a token (with `end` set on the last one), or an
// error (terminal). After a terminal event (end or error) no more events come for the request.
struct GenerationEvent {
  std::optional<TokenInfo> token;
  std::vector<TokenInfo> top_tokens;  // top_n_tokens alternatives, most likely first
  std::optional<GenerationEnd> end;
  std::optional<GenerationError> error;
};

// Called for every event of a request, in order, on the engine's event dispatcher thread (never on
// the engine thread: event_dispatcher.h). It may call Engine::Cancel; it should not block for
// long, since every request's events wait behind it.
using GenerationCallback = std::function<void(GenerationEvent&&)>;

}  // namespace sg
