// Aggregation of per-request timings into a point's report.
#include "cli/bench_serve/stats.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <numeric>

namespace sg::benchserve {

double Percentile(const std::vector<double>& sorted, double p) {
  assert(!sorted.empty());
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(rank));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = rank - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

Summary Summarize(std::vector<double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  s.p50 = Percentile(values, 50);
  s.p90 = Percentile(values, 90);
  s.p99 = Percentile(values, 99);
  return s;
}

std::string PointLabel(int concurrency, double request_rate) {
  char buf[64];
  if (request_rate > 0) {
    std::snprintf(buf, sizeof buf, "rate=%g/s", request_rate);
  } else {
    std::snprintf(buf, sizeof buf, "c=%d", concurrency);
  }
  return buf;
}

PointStats ComputeStats(const PointRun& run) {
  PointStats st;
  st.concurrency = run.concurrency;
  st.request_rate = run.request_rate;
  st.duration_s = run.duration_s;
  st.requests = run.results.size();
  std::vector<double> ttft, tpot, itl, e2e;
  for (const RequestResult& r : run.results) {
    if (r.retry_after_s) {
      ++st.retry_after_seen;
      st.retry_after_max_s = std::max(st.retry_after_max_s.value_or(0.0), *r.retry_after_s);
    }
    if (!r.ok) {
      if (r.overloaded) {
        ++st.overloaded;
      } else {
        ++st.errors;
      }
      if (st.error_samples.size() < 3 && std::find(st.error_samples.begin(), st.error_samples.end(),
                                                   r.error) == st.error_samples.end()) {
        st.error_samples.push_back(r.error);
      }
      continue;
    }
    ++st.completed;
    st.output_tokens += r.output_tokens;
    int64_t in = r.prompt_tokens.value_or(-1);
    if (in < 0 && r.prompt_index < run.prompt_tokens.size()) in = run.prompt_tokens[r.prompt_index];
    if (in < 0) {
      st.input_tokens_known = false;
    } else {
      st.input_tokens += in;
    }
    ttft.push_back(r.ttft_s * 1e3);
    e2e.push_back(r.e2e_s * 1e3);
    if (r.output_tokens > 1) {
      tpot.push_back((r.e2e_s - r.ttft_s) * 1e3 / static_cast<double>(r.output_tokens - 1));
    }
    for (double g : r.itl_s) itl.push_back(g * 1e3);
  }
  if (run.duration_s > 0) {
    st.request_throughput = static_cast<double>(st.completed) / run.duration_s;
    st.output_throughput = static_cast<double>(st.output_tokens) / run.duration_s;
    st.total_token_throughput =
        static_cast<double>(st.input_tokens + st.output_tokens) / run.duration_s;
  }
  st.ttft_ms = Summarize(std::move(ttft));
  st.tpot_ms = Summarize(std::move(tpot));
  st.itl_ms = Summarize(std::move(itl));
  st.e2e_ms = Summarize(std::move(e2e));
  return st;
}

}  // namespace sg::benchserve
