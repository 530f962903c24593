#include "server/metrics/prometheus.h"

#include <algorithm>
#include <cmath>

#include "server/api/number_format.h"

namespace sg::server {

std::vector<double> DurationBuckets() {
  std::vector<double> b;
  double value = 0.0001;  // as TGI: a running product, not pow()
  for (int k = 0; k < 35; ++k) {
    value *= 1.5;
    b.push_back(value);
  }
  return b;
}

std::vector<double> LinearBuckets(int64_t max_value) {
  std::vector<double> b;
  for (int x = 0; x < 100; ++x) {
    b.push_back((static_cast<double>(max_value) / 100.0) * static_cast<double>(x + 1));
  }
  return b;
}

std::vector<double> CountBuckets(int64_t n) {
  std::vector<double> b;
  for (int64_t x = 0; x < n; ++x) b.push_back(static_cast<double>(x + 1));
  return b;
}

void Cell::Add(double v) {
  value_.fetch_add(v, std::memory_order_relaxed);
  seen_.store(true, std::memory_order_release);
}

void Cell::Set(double v) {
  value_.store(v, std::memory_order_relaxed);
  seen_.store(true, std::memory_order_release);
}

HistogramCell::HistogramCell(const std::vector<double>* bounds)
    : bounds_(bounds), counts_(new std::atomic<uint64_t>[bounds->size()]) {
  for (size_t i = 0; i < bounds_->size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void HistogramCell::Observe(double v) {
  if (!std::isnan(v)) {
    const size_t i = std::lower_bound(bounds_->begin(), bounds_->end(), v) - bounds_->begin();
    if (i < bounds_->size()) counts_[i].fetch_add(1, std::memory_order_relaxed);
  }
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  seen_.store(true, std::memory_order_release);
}

void HistogramCell::Render(std::string& out, std::string_view name, std::string_view labels) const {
  const std::string bucket = std::string(name) + "_bucket";
  const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_->size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    AppendSample(out, bucket, prefix + "le=\"" + api::FormatF64Display((*bounds_)[i]) + "\"",
                 std::to_string(cumulative));
  }
  const uint64_t count = count_.load(std::memory_order_relaxed);
  AppendSample(out, bucket, prefix + "le=\"+Inf\"", std::to_string(count));
  AppendSample(out, std::string(name) + "_sum", labels,
               api::FormatF64Display(sum_.load(std::memory_order_relaxed)));
  AppendSample(out, std::string(name) + "_count", labels, std::to_string(count));
}

void AppendHeader(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type) {
  if (!help.empty()) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += '\n';
  }
  out += "# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  const std::string& value) {
  out += name;
  if (!labels.empty()) {
    out += '{';
    out += labels;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

}  // namespace sg::server
