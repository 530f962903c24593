// The numbers of one benchmark point, with vLLM's benchmark_serving definitions:
//   TTFT  request sent -> first token event
//   TPOT  (e2e - TTFT) / (output tokens - 1), per request with at least 2 output tokens
//   ITL   every gap between consecutive token events, pooled over all requests
//   E2E   request sent -> end of the stream
// each as mean, p50, p90, p99 over completed requests (milliseconds), and throughputs over the
// point's wall time (first request started -> last one finished).
// Thread rules: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_serve/stream_request.h"

namespace sg::benchserve {

// numpy.percentile's default ("linear"): rank p/100 * (n - 1) of the sorted values, interpolated
// between its two neighbours. `sorted` must be ascending and non-empty; p in [0, 100].
double Percentile(const std::vector<double>& sorted, double p);

struct Summary {
  size_t n = 0;  // values summarized; all fields 0 when n == 0
  double mean = 0, p50 = 0, p90 = 0, p99 = 0;
};
Summary Summarize(std::vector<double> values);

// Everything that was measured at one point of the sweep.
struct PointRun {
  int concurrency = 0;      // closed loop: clients; 0 in open-loop (rate) mode
  double request_rate = 0;  // open loop: mean requests/s (Poisson); 0 in closed-loop mode
  double duration_s = 0;    // wall time of the point
  std::vector<RequestResult> results;
  std::vector<int64_t> prompt_tokens;  // per workload prompt, from calibration; -1 = unknown
};

struct PointStats {
  int concurrency = 0;
  double request_rate = 0;
  double duration_s = 0;
  size_t requests = 0;    // sent
  size_t completed = 0;   // ok
  size_t errors = 0;      // failed, overloaded ones excluded
  size_t overloaded = 0;  // HTTP 429 or in-band "overloaded": not errors of the client
  size_t retry_after_seen = 0;
  std::optional<double> retry_after_max_s;
  int64_t input_tokens = 0;   // completed requests: the server's counts, else the calibration's
  int64_t output_tokens = 0;  // completed requests
  bool input_tokens_known = true;     // false when some completed request's prompt size is unknown
  double request_throughput = 0;      // completed / duration, req/s
  double output_throughput = 0;       // output tokens / duration, tok/s
  double total_token_throughput = 0;  // (input + output tokens) / duration, tok/s
  Summary ttft_ms, tpot_ms, itl_ms, e2e_ms;
  std::vector<std::string> error_samples;  // up to 3 distinct messages, for the report
};

PointStats ComputeStats(const PointRun& run);

// "c=4" or "rate=2.5/s": how a point is named in tables, charts and progress lines.
std::string PointLabel(int concurrency, double request_rate);

}  // namespace sg::benchserve
