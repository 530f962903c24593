// TGI's request validation (API contract §1.5, §3.2-§3.4) in TGI's order with its exact messages
// ("Input validation error: ...", error_type "validation", 422), producing the engine request plus
// what the response needs.
//
// Order, as TGI: stream-only checks (streams), then best_of's own checks (non-stream, best_of > 1),
// then the per-sequence checks of §3.2 (1..13), tokenization, the total budget (15), the input
// length (16), grammar (17), and our watermark refusal last. TGI runs the stream-only and best_of
// checks BEFORE taking a concurrency permit and the rest after: a route that wants the same
// precedence against `overloaded` calls CheckStreamOnly / CheckBestOf before taking its permit
// (ValidateGenerate repeats them; they are cheap and pure).
//
// Where we cannot copy TGI:
// - `watermark: true` is refused ("`watermark` is not supported"): TGI's green lists come from
//   torch's RNG seeded per token, which we cannot reproduce bit for bit.
// - `grammar` (item 17) is checked and compiled by grammar_request.h (its header lists where that
//   differs from TGI); a malformed one is already a 422 body error from the parser, as in TGI.
// - `adapter_id` is ignored: the base model serves (TGI's behaviour for an unknown adapter).
// - TGI serves a large max_new_tokens in 1024-token chunks and re-queues; we generate in one go.
//   An explicit value above max_total_tokens - input_length is accepted (when input + min(value,
//   1024) fits, as TGI v3.1.1+) and clamped to max_total_tokens - input_length: the generation
//   ends with `length` at the budget, where TGI would silently stop too.
// - An input that tokenizes to no ids (possible with tokenizers that add no BOS) is refused with
//   "tokenizer error the input encodes to no tokens": the engine needs one prompt token.
// Any thread (the tokenizer and the grammar cache are thread-safe; the random source is the
// caller's). A grammar's first use compiles it (milliseconds): call on a validation worker.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "engine/constrain/grammar.h"
#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"
#include "server/api/api_error.h"
#include "server/api/tgi_request.h"

namespace sg::api {

// Server limits that validation applies (the launcher's values after automatic resolution).
struct ValidationLimits {
  int64_t max_best_of = 2;
  int64_t max_stop_sequences = 4;
  int64_t max_top_n_tokens = 5;
  int64_t max_input_tokens = 1023;  // < max_total_tokens
  int64_t max_total_tokens = 1024;
  bool enable_prefill_logprobs = false;  // --enable-prefill-logprobs
  int64_t max_client_batch_size = 4;     // /v1/completions prompts
  // Compiles `grammar` values (one cache per loaded model). Null: every grammar is refused with
  // "grammar is not supported" (--disable-grammar-support).
  GrammarCache* grammars = nullptr;
};

// A validated request: what the engine runs plus what the route's response needs.
struct ValidRequest {
  GenerationRequest engine;  // prompt ids after truncation, sampling (do_sample resolved as the
                             // backend does, seed drawn if sampling without one), stopping
  std::string inputs;        // the original string (return_full_text prefixes it, untruncated)
  int32_t input_length = 0;  // prompt tokens after truncation (details.input_length, usage)
  bool details = false;      // details || decoder_input_details (streams: details)
  bool decoder_input_details = false;
  bool return_full_text = false;  // resolved per route (§1.6)
  int best_of = 1;                // sequences to run (>= 1; best_of 0 on /generate runs one)
  int32_t top_n_tokens = 0;
  int32_t max_new_tokens_chunk = 0;  // min(max_new_tokens or the automatic value, 1024): what
                                     // TGI records in tgi_request_max_new_tokens
};

struct ValidateOptions {
  bool streaming = false;                 // /generate_stream, POST / with stream: §1.5 checks
  bool default_return_full_text = false;  // true on POST / for a local model (§1.6)
  bool add_special_tokens = true;         // false for chat: the template holds BOS (§3.3)
};

// Draws a seed when sampling without one (tests inject a fixed source).
using SeedSource = std::function<uint64_t()>;

// §1.5: best_of != 1, then decoder_input_details, on streams.
std::optional<ApiError> CheckStreamOnly(const GenerateRequest& request);
// §3.2's separate best_of checks (/generate with best_of > 1).
std::optional<ApiError> CheckBestOf(const GenerateRequest& request, const ValidationLimits& limits);

std::variant<ValidRequest, ApiError> ValidateGenerate(const GenerateRequest& request,
                                                      const Tokenizer& tokenizer,
                                                      const ValidationLimits& limits,
                                                      const ValidateOptions& options,
                                                      const SeedSource& seeds);

// The OpenAI routes' temperature: exactly 0 means greedy; anything else (or none) samples at it.
void SetOpenAiTemperature(std::optional<float> temperature, GenerateParameters* p);

// /v1/completions (§1.13): the suffix check, then the batch-size check (JSON 422 errors), then
// one native request per prompt as TGI builds it (temperature 0.0 -> greedy, else sampling;
// details on; decoder_input_details unless streaming; stop null -> []).
std::variant<std::vector<GenerateRequest>, ApiError> CompletionToGenerate(
    const CompletionRequest& request, const ValidationLimits& limits);

}  // namespace sg::api
