// The pieces of a Prometheus text exposition as TGI's exporter (metrics-exporter-prometheus 0.15)
// writes it: lock-free metric cells, bucket layouts, and the text of one metric block.
//
// Text: "# HELP name text" (only for described metrics), "# TYPE name counter|gauge|histogram",
// one line per label set ("name{k=\"v\"} value"), histograms as cumulative name_bucket{le=...},
// name_sum and name_count, and a blank line after every block. Counters and counts print as
// integers, gauges, sums and bucket bounds as Rust's f64 Display ("3", "0.00015", "1.5").
// Thread rules: cells may be updated from any thread concurrently (relaxed atomics, no locks);
// rendering reads them without stopping writers, so one scrape may see a histogram's count a few
// samples ahead of its buckets (Prometheus tolerates this).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sg::server {

// TGI's bucket layouts (§7.2), computed with TGI's own f64 arithmetic.
std::vector<double> DurationBuckets();                 // 0.0001 * 1.5^k, k = 1..35
std::vector<double> LinearBuckets(int64_t max_value);  // max/100 * (1..100)
std::vector<double> CountBuckets(int64_t n);           // 1, 2, ..., n

// A counter or gauge value that exists only once recorded.
class Cell {
 public:
  void Add(double v);  // counters (integers) and gauge increments
  void Set(double v);
  bool seen() const { return seen_.load(std::memory_order_acquire); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
  std::atomic<bool> seen_{false};
};

class HistogramCell {
 public:
  explicit HistogramCell(const std::vector<double>* bounds);  // bounds outlive the cell
  void Observe(double v);  // le-buckets: v <= bound; NaN only in +Inf, _sum and _count
  bool seen() const { return seen_.load(std::memory_order_acquire); }
  // Appends name_bucket/_sum/_count lines; `labels` like `method="decode"` or "".
  void Render(std::string& out, std::string_view name, std::string_view labels) const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
  std::atomic<bool> seen_{false};
};

// "# HELP" (if `help` is not empty) and "# TYPE" lines.
void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type);
// One sample line: name{labels} value.
void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  const std::string& value);

}  // namespace sg::server
