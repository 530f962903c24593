// Everything `streamgen serve` is configured with: TGI launcher flags where they apply (each also
// from TGI's environment variable, e.g. MAX_CONCURRENT_REQUESTS) plus streamgen's own. Zero means
// "automatic" for the token limits; ResolveLimits fills them from the model (API contract §5.1).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sg::server {

struct ServeConfig {
  // Model and identity.
  std::string model_id;  // a .gguf file or a Hugging Face folder; empty = the bundled demo model
  // Listener.
  std::string hostname = "0.0.0.0";
  uint16_t port = 3000;
  // Admission and validation limits (TGI names and defaults).
  int64_t max_concurrent_requests = 128;
  int64_t max_best_of = 2;
  int64_t max_stop_sequences = 4;
  int64_t max_top_n_tokens = 5;
  int64_t max_input_tokens = 0;  // 0: max_total_tokens - 1
  int64_t max_total_tokens = 0;  // 0: min(model context, KV budget)
  int64_t max_client_batch_size = 4;
  int64_t validation_workers = 2;
  // Batching.
  int64_t max_batch_prefill_tokens = 0;  // 0: min(256, max_input_tokens rounded up to 16)
  int64_t max_batch_total_tokens = 0;    // 0: KV positions fitting the memory budget
  int64_t max_batch_size = 0;            // 0: max_concurrent_requests (capped at 512)
  std::string kv_cache_dtype = "f16";    // f32 | f16 | q8_0
  bool enable_prefill_logprobs = false;
  bool prefix_caching = true;  // reuse the KV blocks of prompt prefixes (TGI's PREFIX_CACHING)
  bool disable_grammar_support = false;  // refuse grammar, response_format and tools (422)
  // HTTP.
  std::string api_key;
  std::vector<std::string> cors_allow_origin;
  int64_t payload_limit = 2000000;
  // Slow-client timeouts in seconds (0 = none); see http::ServerOptions.
  double http_idle_timeout_s = 60;
  double http_header_timeout_s = 30;
  double http_body_timeout_s = 60;
  double http_send_timeout_s = 60;
  // Logging and shutdown.
  bool json_output = false;
  int64_t graceful_termination_timeout_s = 90;
  // streamgen's own.
  int threads = 0;            // compute threads; 0 = physical cores
  bool no_repack = false;     // keep weights on the file mapping (no packed copy on huge pages)
  int io_threads = 2;         // HTTP I/O threads
  std::string chat_template;  // --chat-template FILE: overrides the model's chat template
  // Resumable streams (server/http/resumable_streams.h): 0 = off (TGI's framing, a disconnect
  // cancels). Otherwise the seconds a stream without a client, or a finished one, is kept for a
  // reconnect with Last-Event-ID; and the buffer caps, in bytes, per stream and for all streams.
  double resumable_streams_s = 0;
  int64_t resumable_stream_buffer_bytes = 4 << 20;
  int64_t resumable_total_buffer_bytes = 256 << 20;
};

}  // namespace sg::server
