// TGI's native response bodies, byte for byte (API contract §0, §1.3, §1.6, §1.10, §1.12, §2.2,
// §2.3, §4, §8): compact JSON, keys in the Rust structs' declaration order, absent vs null as
// TGI's `skip_serializing_if`, f32 as the shortest round-trip of the float (NaN/inf -> null),
// strings escaped as serde_json (json_writer.h). The OpenAI bodies are in openai_json.h.
// Pure; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/serving/generation.h"
#include "engine/text/tokenizer.h"
#include "server/api/api_error.h"
#include "server/api/json_writer.h"
#include "server/api/openai_json.h"
#include "server/api/validation.h"

namespace sg::api {

// ErrorResponse {"error","error_type"}: the body of a JSON error, and (as `data: <this>`) the one
// in-band error event of a native stream (§2.3).
std::string ErrorJson(const ApiError& e);
// The OpenAI streams' error event (§2.4): {"error":{"message":...,"http_status_code":422}},
// always 422 whatever the error.
std::string OpenAiStreamErrorJson(const ApiError& e);

// One native SSE event (StreamResponse, §2.2): {"index","token",["top_tokens"],"generated_text",
// "details"}. `end` is set on the last event only: generated_text (prefixed with the original
// inputs if return_full_text) and, if the request asked for details, StreamDetails
// {"finish_reason","generated_tokens","seed","input_length"}; both are null before. `top_tokens`
// is written when `with_top_tokens` (top_n_tokens > 0) and the list is not empty.
std::string StreamTokenJson(uint32_t index, const TokenInfo& token,
                            const std::vector<TokenInfo>& top_tokens, bool with_top_tokens,
                            const GenerationEnd* end, const ValidRequest& request);

// One finished sequence of a non-streamed request (pointers stay owned by the caller).
struct GeneratedSequence {
  const std::vector<TokenInfo>* tokens;                   // one per generated token, EOS included
  const std::vector<std::vector<TokenInfo>>* top_tokens;  // one list per token, or empty
  const GenerationEnd* end;
};

// TGI's best_of choice: the highest mean token logprob (summed in f32), the first on ties.
size_t BestSequence(const std::vector<GeneratedSequence>& sequences);

// The /generate body (GenerateResponse, §1.3): {"generated_text"[,"details":{"finish_reason",
// "generated_tokens","seed","prefill","tokens"[,"best_of_sequences"][,"top_tokens"]}]}.
// Sequence `best` answers; the others (in order) are best_of_sequences when there are several.
// `details` is absent unless requested; seed is null when the sequence was greedy.
std::string GenerateResponseJson(const std::vector<GeneratedSequence>& sequences, size_t best,
                                 const ValidRequest& request);
// POST / without stream answers the same object inside a one-element array (§1.6).
std::string CompatResponseJson(const std::string& generate_response_json);

// /tokenize (§1.10): [{"id","text","start","stop"}...], byte offsets into `inputs`, text = that
// byte range as lossy UTF-8, added special tokens (0,0) with text "". If the encoding carries no
// offsets (or not one per id), every token gets "" and (0,0), as TGI with a slow tokenizer.
std::string TokenizeJson(const Encoding& encoding, std::string_view inputs,
                         const Tokenizer& tokenizer);

// GET /info (§8). Our choices: `router` is "streamgen" and `version` our STREAMGEN_VERSION (we
// are not TGI's router); model_sha, model_pipeline_tag, sha and docker_label are null (a local
// model, no Hub, not a Docker build).
// What a load balancer needs to route, sampled when /info is asked (streamgen's addition: an
// extra key after TGI's fields, which TGI clients ignore).
struct LoadFields {
  int64_t queue_size = 0;          // requests waiting for the engine (tgi_queue_size)
  int64_t requests_in_flight = 0;  // concurrency permits held (of max_concurrent_requests)
  int64_t kv_blocks_free = 0, kv_blocks_total = 0, kv_blocks_cached = 0;  // 16-token blocks
  bool prefix_caching = false;
  double drain_per_second = 0;  // requests finishing per second, smoothed (drain_rate.h)
  int64_t retry_after_s = 1;    // what a 429 would say now
};

struct InfoFields {
  std::string model_id;
  int64_t max_concurrent_requests, max_best_of, max_stop_sequences, max_input_tokens,
      max_total_tokens, validation_workers, max_client_batch_size;
  std::optional<LoadFields> load = std::nullopt;  // rendered as "load":{...} when present
};
std::string InfoJson(const InfoFields& info);
std::string ModelsJson(std::string_view model_id);  // GET /v1/models (§1.12)
std::string Version();                              // STREAMGEN_VERSION

}  // namespace sg::api
