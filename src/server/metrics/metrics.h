// Prometheus metrics with TGI's names, types, HELP texts and bucket layouts (API contract §7):
// counters without `_total`, histograms as _bucket/_sum/_count, a metric appears only once it was
// first recorded. Plus streamgen's own gauges (documented in the README): requests in flight and
// the KV block pool.
// Thread rules: every method may be called from any thread (one mutex; recording is a few adds).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sg::server {

class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);
  void Render(std::string& out, const std::string& name, const std::string& labels) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // one per bound, plus +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

struct Gauges {  // sampled at scrape time
  int64_t queue_size = 0;
  int64_t batch_current_size = 0;
  int64_t batch_current_max_tokens = 0;
  int64_t batch_max_total_tokens = 0;
  int64_t kv_blocks_free = 0;
  int64_t kv_blocks_total = 0;
  int64_t requests_in_flight = 0;
  int64_t steps_prefill = 0;
  int64_t steps_decode = 0;
};

class Metrics {
 public:
  Metrics(int64_t max_input_tokens, int64_t max_total_tokens);

  void IncCounter(const std::string& name, const std::string& labels = "");
  void Observe(const std::string& name, double value);  // a histogram of TGI's list
  std::string Render(const Gauges& gauges) const;

 private:
  struct Desc {
    std::string help;
    std::vector<double> bounds;
  };
  std::vector<double> BoundsFor(const std::string& name) const;
  int64_t max_input_tokens_;
  int64_t max_total_tokens_;
  mutable std::mutex mu_;
  std::map<std::string, std::map<std::string, uint64_t>> counters_;  // name -> labels -> value
  std::map<std::string, Histogram> histograms_;
};

}  // namespace sg::server
