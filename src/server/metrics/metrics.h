// /metrics with TGI's metric names, types, HELP texts, labels and bucket layouts (API contract
// §7): counters without `_total`, histograms as _bucket/_sum/_count, and a metric (or one label
// set of it) appears only once it was first recorded. TGI's exporter orders blocks by a hash map;
// we use a fixed order: counters, gauges, histograms, each in the order of the tables in
// metrics.cc. Metrics TGI never describes (tgi_request_failure, tgi_batch_inference_failure,
// tgi_batch_max_total_tokens) have no HELP line, as in TGI.
//
// Our additions: `tgi_batch_max_total_tokens` is exported (TGI loses it, §7.3), and gauges of our
// own: streamgen_kv_blocks_free / streamgen_kv_blocks_total (the KV block pool),
// streamgen_requests_in_flight (requests holding a concurrency permit), and the cost split of
// serving: streamgen_engine_step_seconds (engine thread time in steps),
// streamgen_event_handoff_seconds (engine thread time handing events over),
// streamgen_event_delivery_seconds (the dispatcher thread's time in callbacks: JSON, SSE,
// metrics, logs) and streamgen_events_delivered. handoff / step is what serving costs the step;
// delivery / events is the server's cost per generated token. streamgen_log_messages_dropped
// counts log lines the asynchronous log queue dropped (server/app/async_log.h). With
// --resumable-streams: streamgen_resumable_streams (held), streamgen_resumable_streams_detached,
// streamgen_resumable_stream_bytes (buffered), and the counters streamgen_resumable_streams_expired
// (cancelled after the window without a client) and streamgen_resumable_streams_resumed.
//
// Thread rules: every method may be called from any thread at any time. Recording is lock-free
// (a few relaxed atomic operations; a histogram sample adds a binary search over its bounds).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace sg::server {

// tgi_request_failure{err=...}.
enum class FailureReason {
  kOverloaded,
  kValidation,
  kGeneration,
  kIncomplete,
  kDropped,
  kTemplate
};
// The `method` label of the tgi_batch_* metrics.
enum class BatchMethod { kPrefill, kDecode };

// Values the engine and admission gate hold, sampled at scrape time.
struct Gauges {
  int64_t queue_size = 0;
  int64_t batch_current_size = 0;
  int64_t batch_current_max_tokens = 0;
  int64_t batch_max_total_tokens = 0;
  int64_t kv_blocks_free = 0;
  int64_t kv_blocks_total = 0;
  int64_t requests_in_flight = 0;
  double engine_step_seconds = 0;
  double event_handoff_seconds = 0;
  double event_delivery_seconds = 0;
  int64_t events_delivered = 0;
  int64_t log_messages_dropped = 0;
  int64_t steps_prefill = 0;  // forward steps so far: tgi_batch_inference_count (when > 0)
  int64_t steps_decode = 0;
  // Prefix cache (EngineStats): published blocks, prompt positions looked up and adopted, and
  // published blocks evicted, since the start.
  int64_t kv_blocks_cached = 0;
  int64_t prefix_queried_tokens = 0;
  int64_t prefix_hit_tokens = 0;
  int64_t prefix_evictions = 0;
  double drain_per_second = 0;  // concurrency permits released per second, smoothed
};

// Resumable SSE streams (server/http/resumable_streams.h), pushed whenever they change.
struct ResumableStreamCounts {
  int64_t streams = 0;
  int64_t detached = 0;
  int64_t bytes = 0;
  int64_t expired = 0;  // cumulative
  int64_t resumed = 0;  // cumulative
};

// Times of one successful request (§6.9), in seconds.
struct RequestTimings {
  double total_s = 0;
  double validation_s = 0;
  double queue_s = 0;
  double inference_s = 0;
  double time_per_token_s = 0;  // inference / generated tokens
};

class Metrics {
 public:
  // The limits fix the bucket layouts of the token-count histograms.
  Metrics(int64_t max_input_tokens, int64_t max_total_tokens);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // --- Requests (router).
  void RequestReceived();                    // tgi_request_count
  void RequestFailed(FailureReason reason);  // tgi_request_failure{err}
  void RequestValidated(int64_t input_length, int64_t max_new_tokens_chunk);  // input_length,
                                                                              // max_new_tokens
  // tgi_request_success, the five duration histograms and tgi_request_generated_tokens.
  void RequestSucceeded(const RequestTimings& t, int64_t generated_tokens);
  // streamgen_request_cached_tokens: prompt tokens a successful request took from the prefix
  // cache.
  void RequestCachedTokens(int64_t n);

  // --- Queue and batches (engine side).
  void SetQueueSize(int64_t n);              // tgi_queue_size
  void SetBatchCurrentSize(int64_t n);       // tgi_batch_current_size
  void SetBatchCurrentMaxTokens(int64_t n);  // tgi_batch_current_max_tokens
  void SetBatchMaxTotalTokens(int64_t n);    // tgi_batch_max_total_tokens
  void BatchNextSize(int64_t n);             // tgi_batch_next_size
  // tgi_batch_inference_count, _success or _failure, and _duration (the step, seconds).
  void BatchInference(BatchMethod method, bool success, double duration_s);
  void BatchForwardDuration(BatchMethod method, double s);  // tgi_batch_forward_duration
  void BatchDecodeDuration(BatchMethod method, double s);   // tgi_batch_decode_duration
  void BatchFilterDuration(BatchMethod method, double s);   // tgi_batch_filter_duration
  // Sets tgi_batch_inference_count to a total counted elsewhere (the engine's step counters).
  void SetBatchInferenceCount(BatchMethod method, int64_t total);

  // --- Ours.
  void SetKvBlocks(int64_t free_blocks, int64_t total_blocks);
  void SetRequestsInFlight(int64_t n);
  void SetEngineCosts(double step_seconds, double handoff_seconds, double delivery_seconds,
                      int64_t events_delivered);
  void SetLogMessagesDropped(int64_t n);
  void SetResumableStreams(const ResumableStreamCounts& c);
  void SetPrefixCache(int64_t cached_blocks, int64_t queried_tokens, int64_t hit_tokens,
                      int64_t evictions);
  void SetDrainRate(double per_second);  // streamgen_request_drain_rate

  // --- By name, for callers that hold TGI's names: `labels` is "" or one `key="value"` pair
  // of the metric's label (err=..., method=...). Unknown names or labels are ignored (false).
  bool IncCounter(std::string_view name, std::string_view labels = "");
  bool Observe(std::string_view name, double value);  // unlabelled histograms

  std::string Render() const;
  // Stores the sampled values (every gauge then appears), then renders.
  std::string Render(const Gauges& sampled);

 private:
  struct Registry;
  std::unique_ptr<Registry> registry_;
};

}  // namespace sg::server
