// Drives one point of the benchmark: closed loop (N clients, each sending its next request when
// the previous one ends) or open loop (requests sent at seeded Poisson arrival times, whatever
// is still in flight). All requests run on one io_context on the calling thread.
// Thread rules: RunPoint blocks the calling thread until every request it sent has finished.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cli/bench_serve/request_body.h"
#include "cli/bench_serve/stats.h"
#include "cli/bench_serve/target.h"

namespace sg::benchserve {

// Send times (seconds after the start, ascending) of n requests arriving as a Poisson process of
// `rate` requests/s: exponential gaps of mean 1/rate from a seeded mt19937_64, so the same seed
// gives the same schedule on every machine (the exponential is computed here, not by <random>'s
// implementation-defined distributions).
std::vector<double> PoissonArrivals(double rate, size_t n, uint64_t seed);
// The same process cut at `duration_s` instead of at a count.
std::vector<double> PoissonArrivalsUntil(double rate, double duration_s, uint64_t seed);

struct PointSpec {
  int concurrency = 0;      // > 0: closed loop with this many clients
  double request_rate = 0;  // > 0: open loop at this mean rate (then concurrency is unused)
  size_t num_requests = 0;  // requests to send; 0 when duration_s bounds the point instead
  double duration_s = 0;    // > 0: no new request is sent after this time (in-flight ones end)
  uint64_t seed = 0;        // of the arrival schedule
  std::chrono::milliseconds timeout{300000};  // per request
  bool progress_tty = false;  // draw the progress bar in place (stderr is a terminal)
  bool progress = true;       // any progress output at all
};

struct Workload;  // workload.h

// Runs one point. Request k sends prompt k % prompts.size() (bodies built up front, so no JSON is
// serialized while the clock runs).
PointRun RunPoint(const Target& target, Endpoint endpoint, const GenerationParams& params,
                  const Workload& workload, const PointSpec& spec);

}  // namespace sg::benchserve
