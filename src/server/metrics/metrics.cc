#include "server/metrics/metrics.h"

#include <array>
#include <vector>

#include "server/api/number_format.h"
#include "server/metrics/prometheus.h"

namespace sg::server {
namespace {

enum class Labels { kNone, kErr, kMethod };

constexpr std::array<const char*, 6> kErrValues = {"overloaded", "validation", "generation",
                                                   "incomplete", "dropped",    "template"};
constexpr std::array<const char*, 2> kMethodValues = {"prefill", "decode"};

size_t SlotCount(Labels l) {
  return l == Labels::kErr ? kErrValues.size() : l == Labels::kMethod ? kMethodValues.size() : 1;
}

std::string LabelText(Labels l, size_t slot) {
  if (l == Labels::kErr) return std::string("err=\"") + kErrValues[slot] + "\"";
  if (l == Labels::kMethod) return std::string("method=\"") + kMethodValues[slot] + "\"";
  return "";
}

enum class Kind { kCounter, kGauge, kHistogram };
enum class Buckets { kNone, kDuration, kInputLength, kTotalTokens, kBatchSize };

struct Def {
  const char* name;
  Kind kind;
  const char* help;  // "" = TGI never describes it (no HELP line)
  Labels labels;
  Buckets buckets;
};

// Render order. HELP texts are TGI's first descriptions (router/src/server.rs).
enum Id : size_t {
  kRequestCount,
  kRequestSuccess,
  kRequestFailure,
  kBatchInferenceCount,
  kBatchInferenceSuccess,
  kBatchInferenceFailure,
  kResumableStreamsExpired,
  kResumableStreamsResumed,
  kQueueSize,
  kBatchCurrentSize,
  kBatchCurrentMaxTokens,
  kBatchMaxTotalTokens,
  kKvBlocksFree,
  kKvBlocksTotal,
  kRequestsInFlight,
  kEngineStepSeconds,
  kEventHandoffSeconds,
  kEventDeliverySeconds,
  kEventsDelivered,
  kLogMessagesDropped,
  kResumableStreams,
  kResumableStreamsDetached,
  kResumableStreamBytes,
  kKvBlocksCached,
  kPrefixQueriedTokens,
  kPrefixHitTokens,
  kPrefixHitRatio,
  kPrefixEvictions,
  kRequestDrainRate,
  kRequestDuration,
  kRequestValidationDuration,
  kRequestQueueDuration,
  kRequestInferenceDuration,
  kRequestMeanTimePerTokenDuration,
  kRequestGeneratedTokens,
  kRequestInputLength,
  kRequestMaxNewTokens,
  kRequestCachedTokens,
  kBatchNextSize,
  kBatchInferenceDuration,
  kBatchForwardDuration,
  kBatchDecodeDuration,
  kBatchFilterDuration,
  kNumMetrics,
};

constexpr Def kDefs[kNumMetrics] = {
    {"tgi_request_count", Kind::kCounter, "Total number of requests", Labels::kNone,
     Buckets::kNone},
    {"tgi_request_success", Kind::kCounter, "Number of successful requests", Labels::kNone,
     Buckets::kNone},
    {"tgi_request_failure", Kind::kCounter, "", Labels::kErr, Buckets::kNone},
    {"tgi_batch_inference_count", Kind::kCounter, "Inference calls per method (prefill or decode)",
     Labels::kMethod, Buckets::kNone},
    {"tgi_batch_inference_success", Kind::kCounter,
     "Number of successful inference calls per method (prefill or decode)", Labels::kMethod,
     Buckets::kNone},
    {"tgi_batch_inference_failure", Kind::kCounter, "", Labels::kMethod, Buckets::kNone},
    {"streamgen_resumable_streams_expired", Kind::kCounter,
     "Resumable streams cancelled after the window without a client", Labels::kNone,
     Buckets::kNone},
    {"streamgen_resumable_streams_resumed", Kind::kCounter,
     "Reconnects that resumed a stream (Last-Event-ID)", Labels::kNone, Buckets::kNone},
    {"tgi_queue_size", Kind::kGauge, "Current queue size", Labels::kNone, Buckets::kNone},
    {"tgi_batch_current_size", Kind::kGauge, "Current batch size", Labels::kNone, Buckets::kNone},
    {"tgi_batch_current_max_tokens", Kind::kGauge, "Maximum tokens for the current batch",
     Labels::kNone, Buckets::kNone},
    {"tgi_batch_max_total_tokens", Kind::kGauge, "", Labels::kNone, Buckets::kNone},
    {"streamgen_kv_blocks_free", Kind::kGauge, "Free blocks in the KV cache pool", Labels::kNone,
     Buckets::kNone},
    {"streamgen_kv_blocks_total", Kind::kGauge, "Blocks in the KV cache pool", Labels::kNone,
     Buckets::kNone},
    {"streamgen_requests_in_flight", Kind::kGauge, "Requests holding a concurrency permit",
     Labels::kNone, Buckets::kNone},
    {"streamgen_engine_step_seconds", Kind::kGauge,
     "Engine thread time in steps so far (forward pass, sampling, detokenizing)", Labels::kNone,
     Buckets::kNone},
    {"streamgen_event_handoff_seconds", Kind::kGauge,
     "Engine thread time handing events to the dispatcher so far", Labels::kNone, Buckets::kNone},
    {"streamgen_event_delivery_seconds", Kind::kGauge,
     "Dispatcher thread time in event callbacks so far (JSON, SSE, metrics, logs)", Labels::kNone,
     Buckets::kNone},
    {"streamgen_events_delivered", Kind::kGauge, "Events delivered to requests so far",
     Labels::kNone, Buckets::kNone},
    {"streamgen_log_messages_dropped", Kind::kGauge,
     "Log messages dropped because the log queue was full (stdout stalled)", Labels::kNone,
     Buckets::kNone},
    {"streamgen_resumable_streams", Kind::kGauge,
     "Resumable streams held (live, or finished and within the window)", Labels::kNone,
     Buckets::kNone},
    {"streamgen_resumable_streams_detached", Kind::kGauge,
     "Live resumable streams without a client", Labels::kNone, Buckets::kNone},
    {"streamgen_resumable_stream_bytes", Kind::kGauge, "Bytes buffered for resumable streams",
     Labels::kNone, Buckets::kNone},
    {"streamgen_kv_blocks_cached", Kind::kGauge,
     "KV blocks holding a cached prompt prefix (in use or evictable)", Labels::kNone,
     Buckets::kNone},
    {"streamgen_prefix_cache_queried_tokens", Kind::kCounter,
     "Prompt tokens looked up in the prefix cache", Labels::kNone, Buckets::kNone},
    {"streamgen_prefix_cache_hit_tokens", Kind::kCounter,
     "Prompt tokens found in the prefix cache (not recomputed)", Labels::kNone, Buckets::kNone},
    {"streamgen_prefix_cache_hit_ratio", Kind::kGauge,
     "Prompt tokens found in the prefix cache / tokens looked up, since the start", Labels::kNone,
     Buckets::kNone},
    {"streamgen_prefix_cache_evictions", Kind::kCounter, "Cached KV blocks evicted to make room",
     Labels::kNone, Buckets::kNone},
    {"streamgen_request_drain_rate", Kind::kGauge,
     "Requests finishing per second (concurrency permits released; smoothed over about 10 s)",
     Labels::kNone, Buckets::kNone},
    {"tgi_request_duration", Kind::kHistogram, "Request duration", Labels::kNone,
     Buckets::kDuration},
    {"tgi_request_validation_duration", Kind::kHistogram, "Request validation duration",
     Labels::kNone, Buckets::kDuration},
    {"tgi_request_queue_duration", Kind::kHistogram, "Request queue duration", Labels::kNone,
     Buckets::kDuration},
    {"tgi_request_inference_duration", Kind::kHistogram, "Request inference duration",
     Labels::kNone, Buckets::kDuration},
    {"tgi_request_mean_time_per_token_duration", Kind::kHistogram,
     "Mean time per token per request", Labels::kNone, Buckets::kDuration},
    {"tgi_request_generated_tokens", Kind::kHistogram, "Generated tokens per request",
     Labels::kNone, Buckets::kTotalTokens},
    {"tgi_request_input_length", Kind::kHistogram, "Input token length per request", Labels::kNone,
     Buckets::kInputLength},
    {"tgi_request_max_new_tokens", Kind::kHistogram, "Maximum new tokens per request",
     Labels::kNone, Buckets::kTotalTokens},
    {"streamgen_request_cached_tokens", Kind::kHistogram,
     "Prompt tokens per request reused from the prefix cache", Labels::kNone,
     Buckets::kInputLength},
    {"tgi_batch_next_size", Kind::kHistogram, "Batch size of the next batch", Labels::kNone,
     Buckets::kBatchSize},
    {"tgi_batch_inference_duration", Kind::kHistogram, "Batch inference duration", Labels::kMethod,
     Buckets::kDuration},
    {"tgi_batch_forward_duration", Kind::kHistogram,
     "Batch forward duration per method (prefill or decode)", Labels::kMethod, Buckets::kDuration},
    {"tgi_batch_decode_duration", Kind::kHistogram,
     "Time spent decoding a batch per method (prefill or decode)", Labels::kMethod,
     Buckets::kDuration},
    {"tgi_batch_filter_duration", Kind::kHistogram,
     "Time spent filtering batches and sending generated tokens per method (prefill or decode)",
     Labels::kMethod, Buckets::kDuration},
};

size_t MethodSlot(BatchMethod m) { return m == BatchMethod::kPrefill ? 0 : 1; }

}  // namespace

// One cell (counter/gauge) or histogram per metric and label value, created up front so that
// recording never allocates or locks.
struct Metrics::Registry {
  Registry(int64_t max_input_tokens, int64_t max_total_tokens)
      : duration(DurationBuckets()),
        input_length(LinearBuckets(max_input_tokens)),
        total_tokens(LinearBuckets(max_total_tokens)),
        batch_size(CountBuckets(1024)) {
    for (size_t id = 0; id < kNumMetrics; ++id) {
      const Def& d = kDefs[id];
      const size_t slots = SlotCount(d.labels);
      if (d.kind != Kind::kHistogram) {
        cells[id] = std::make_unique<Cell[]>(slots);
        continue;
      }
      const std::vector<double>* bounds = d.buckets == Buckets::kInputLength   ? &input_length
                                          : d.buckets == Buckets::kTotalTokens ? &total_tokens
                                          : d.buckets == Buckets::kBatchSize   ? &batch_size
                                                                               : &duration;
      for (size_t s = 0; s < slots; ++s) histograms[id].emplace_back(new HistogramCell(bounds));
    }
  }

  Cell& cell(Id id, size_t slot = 0) { return cells[id][slot]; }
  HistogramCell& histogram(Id id, size_t slot = 0) { return *histograms[id][slot]; }

  const std::vector<double> duration, input_length, total_tokens, batch_size;
  std::unique_ptr<Cell[]> cells[kNumMetrics];
  std::vector<std::unique_ptr<HistogramCell>> histograms[kNumMetrics];
};

Metrics::Metrics(int64_t max_input_tokens, int64_t max_total_tokens)
    : registry_(std::make_unique<Registry>(max_input_tokens, max_total_tokens)) {}

Metrics::~Metrics() = default;

void Metrics::RequestReceived() { registry_->cell(kRequestCount).Add(1); }

void Metrics::RequestFailed(FailureReason reason) {
  registry_->cell(kRequestFailure, static_cast<size_t>(reason)).Add(1);
}

void Metrics::RequestValidated(int64_t input_length, int64_t max_new_tokens_chunk) {
  registry_->histogram(kRequestInputLength).Observe(static_cast<double>(input_length));
  registry_->histogram(kRequestMaxNewTokens).Observe(static_cast<double>(max_new_tokens_chunk));
}

void Metrics::RequestSucceeded(const RequestTimings& t, int64_t generated_tokens) {
  Registry& r = *registry_;
  r.cell(kRequestSuccess).Add(1);
  r.histogram(kRequestDuration).Observe(t.total_s);
  r.histogram(kRequestValidationDuration).Observe(t.validation_s);
  r.histogram(kRequestQueueDuration).Observe(t.queue_s);
  r.histogram(kRequestInferenceDuration).Observe(t.inference_s);
  r.histogram(kRequestMeanTimePerTokenDuration).Observe(t.time_per_token_s);
  r.histogram(kRequestGeneratedTokens).Observe(static_cast<double>(generated_tokens));
}

void Metrics::SetQueueSize(int64_t n) { registry_->cell(kQueueSize).Set(static_cast<double>(n)); }
void Metrics::SetBatchCurrentSize(int64_t n) {
  registry_->cell(kBatchCurrentSize).Set(static_cast<double>(n));
}
void Metrics::SetBatchCurrentMaxTokens(int64_t n) {
  registry_->cell(kBatchCurrentMaxTokens).Set(static_cast<double>(n));
}
void Metrics::SetBatchMaxTotalTokens(int64_t n) {
  registry_->cell(kBatchMaxTotalTokens).Set(static_cast<double>(n));
}
void Metrics::BatchNextSize(int64_t n) {
  registry_->histogram(kBatchNextSize).Observe(static_cast<double>(n));
}

void Metrics::BatchInference(BatchMethod method, bool success, double duration_s) {
  const size_t slot = MethodSlot(method);
  registry_->cell(kBatchInferenceCount, slot).Add(1);
  registry_->cell(success ? kBatchInferenceSuccess : kBatchInferenceFailure, slot).Add(1);
  registry_->histogram(kBatchInferenceDuration, slot).Observe(duration_s);
}

void Metrics::BatchForwardDuration(BatchMethod method, double s) {
  registry_->histogram(kBatchForwardDuration, MethodSlot(method)).Observe(s);
}
void Metrics::BatchDecodeDuration(BatchMethod method, double s) {
  registry_->histogram(kBatchDecodeDuration, MethodSlot(method)).Observe(s);
}
void Metrics::BatchFilterDuration(BatchMethod method, double s) {
  registry_->histogram(kBatchFilterDuration, MethodSlot(method)).Observe(s);
}

void Metrics::SetBatchInferenceCount(BatchMethod method, int64_t total) {
  registry_->cell(kBatchInferenceCount, MethodSlot(method)).Set(static_cast<double>(total));
}

void Metrics::SetKvBlocks(int64_t free_blocks, int64_t total_blocks) {
  registry_->cell(kKvBlocksFree).Set(static_cast<double>(free_blocks));
  registry_->cell(kKvBlocksTotal).Set(static_cast<double>(total_blocks));
}

void Metrics::SetRequestsInFlight(int64_t n) {
  registry_->cell(kRequestsInFlight).Set(static_cast<double>(n));
}

void Metrics::SetEngineCosts(double step_seconds, double handoff_seconds, double delivery_seconds,
                             int64_t events_delivered) {
  registry_->cell(kEngineStepSeconds).Set(step_seconds);
  registry_->cell(kEventHandoffSeconds).Set(handoff_seconds);
  registry_->cell(kEventDeliverySeconds).Set(delivery_seconds);
  registry_->cell(kEventsDelivered).Set(static_cast<double>(events_delivered));
}

void Metrics::SetLogMessagesDropped(int64_t n) {
  registry_->cell(kLogMessagesDropped).Set(static_cast<double>(n));
}

void Metrics::RequestCachedTokens(int64_t n) {
  registry_->histogram(kRequestCachedTokens).Observe(static_cast<double>(n));
}

void Metrics::SetPrefixCache(int64_t cached_blocks, int64_t queried_tokens, int64_t hit_tokens,
                             int64_t evictions) {
  registry_->cell(kKvBlocksCached).Set(static_cast<double>(cached_blocks));
  registry_->cell(kPrefixQueriedTokens).Set(static_cast<double>(queried_tokens));
  registry_->cell(kPrefixHitTokens).Set(static_cast<double>(hit_tokens));
  registry_->cell(kPrefixHitRatio)
      .Set(queried_tokens > 0 ? static_cast<double>(hit_tokens) / queried_tokens : 0.0);
  registry_->cell(kPrefixEvictions).Set(static_cast<double>(evictions));
}

void Metrics::SetResumableStreams(const ResumableStreamCounts& c) {
  registry_->cell(kResumableStreams).Set(static_cast<double>(c.streams));
  registry_->cell(kResumableStreamsDetached).Set(static_cast<double>(c.detached));
  registry_->cell(kResumableStreamBytes).Set(static_cast<double>(c.bytes));
  registry_->cell(kResumableStreamsExpired).Set(static_cast<double>(c.expired));
  registry_->cell(kResumableStreamsResumed).Set(static_cast<double>(c.resumed));
}

void Metrics::SetDrainRate(double per_second) {
  registry_->cell(kRequestDrainRate).Set(per_second);
}

bool Metrics::IncCounter(std::string_view name, std::string_view labels) {
  for (size_t id = 0; id < kNumMetrics; ++id) {
    const Def& d = kDefs[id];
    if (d.kind != Kind::kCounter || name != d.name) continue;
    for (size_t slot = 0; slot < SlotCount(d.labels); ++slot) {
      if (labels == LabelText(d.labels, slot)) {
        registry_->cell(static_cast<Id>(id), slot).Add(1);
        return true;
      }
    }
    return false;
  }
  return false;
}

bool Metrics::Observe(std::string_view name, double value) {
  for (size_t id = 0; id < kNumMetrics; ++id) {
    const Def& d = kDefs[id];
    if (d.kind == Kind::kHistogram && d.labels == Labels::kNone && name == d.name) {
      registry_->histogram(static_cast<Id>(id)).Observe(value);
      return true;
    }
  }
  return false;
}

std::string Metrics::Render() const {
  std::string out;
  for (size_t id = 0; id < kNumMetrics; ++id) {
    const Def& d = kDefs[id];
    const size_t slots = SlotCount(d.labels);
    std::string block;
    for (size_t slot = 0; slot < slots; ++slot) {
      const std::string labels = LabelText(d.labels, slot);
      if (d.kind == Kind::kHistogram) {
        const HistogramCell& h = *registry_->histograms[id][slot];
        if (h.seen()) h.Render(block, d.name, labels);
        continue;
      }
      const Cell& c = registry_->cells[id][slot];
      if (!c.seen()) continue;
      AppendSample(block, d.name, labels,
                   d.kind == Kind::kCounter ? std::to_string(static_cast<uint64_t>(c.value()))
                                            : api::FormatF64Display(c.value()));
    }
    if (block.empty()) continue;  // not recorded yet
    AppendHeader(out, d.name, d.help,
                 d.kind == Kind::kCounter ? "counter"
                 : d.kind == Kind::kGauge ? "gauge"
                                          : "histogram");
    out += block;
    out += '\n';
  }
  return out;
}

std::string Metrics::Render(const Gauges& g) {
  SetQueueSize(g.queue_size);
  SetBatchCurrentSize(g.batch_current_size);
  SetBatchCurrentMaxTokens(g.batch_current_max_tokens);
  SetBatchMaxTotalTokens(g.batch_max_total_tokens);
  SetKvBlocks(g.kv_blocks_free, g.kv_blocks_total);
  SetRequestsInFlight(g.requests_in_flight);
  SetEngineCosts(g.engine_step_seconds, g.event_handoff_seconds, g.event_delivery_seconds,
                 g.events_delivered);
  SetLogMessagesDropped(g.log_messages_dropped);
  SetPrefixCache(g.kv_blocks_cached, g.prefix_queried_tokens, g.prefix_hit_tokens,
                 g.prefix_evictions);
  SetDrainRate(g.drain_per_second);
  if (g.steps_prefill > 0) SetBatchInferenceCount(BatchMethod::kPrefill, g.steps_prefill);
  if (g.steps_decode > 0) SetBatchInferenceCount(BatchMethod::kDecode, g.steps_decode);
  return Render();
}

}  // namespace sg::server
