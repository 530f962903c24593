#include "server/metrics/metrics.h"

#include <cmath>
#include <cstdio>

namespace sg::server {
namespace {

std::string Num(double v) {
  if (std::isinf(v)) return "+Inf";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

const char* Help(const std::string& name) {
  static const std::map<std::string, const char*> kHelp = {
      {"tgi_request_count", "Total number of requests"},
      {"tgi_request_success", "Number of successful requests"},
      {"tgi_request_failure", "Number of failed requests"},
      {"tgi_request_duration", "Request duration"},
      {"tgi_request_validation_duration", "Request validation duration"},
      {"tgi_request_queue_duration", "Request queue duration"},
      {"tgi_request_inference_duration", "Request inference duration"},
      {"tgi_request_mean_time_per_token_duration", "Mean time per token per request"},
      {"tgi_request_generated_tokens", "Generated tokens per request"},
      {"tgi_request_input_length", "Input token length per request"},
      {"tgi_request_max_new_tokens", "Maximum new tokens per request"},
      {"tgi_queue_size", "Current queue size"},
      {"tgi_batch_current_size", "Current batch size"},
      {"tgi_batch_current_max_tokens", "Maximum tokens for the current batch"},
      {"tgi_batch_max_total_tokens", "Maximum amount of tokens in total."},
      {"tgi_batch_inference_count", "Inference calls per method (prefill or decode)"},
      {"streamgen_kv_blocks_free", "Free KV cache blocks (16 token positions each)"},
      {"streamgen_kv_blocks_total", "KV cache blocks (16 token positions each)"},
      {"streamgen_requests_in_flight", "Requests holding an admission permit"},
  };
  auto it = kHelp.find(name);
  return it == kHelp.end() ? "" : it->second;
}

void Gauge(std::string& out, const char* name, int64_t v) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += Help(name);
  out += "\n# TYPE ";
  out += name;
  out += " gauge\n";
  out += name;
  out += ' ' + std::to_string(v) + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  ++counts_[i];
  sum_ += v;
  ++count_;
}

void Histogram::Render(std::string& out, const std::string& name, const std::string& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    cumulative += counts_[i];
    const std::string le = i < bounds_.size() ? Num(bounds_[i]) : "+Inf";
    out += name + "_bucket{" + labels + (labels.empty() ? "" : ",") + "le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  out += name + "_sum " + Num(sum_) + "\n";
  out += name + "_count " + std::to_string(count_) + "\n";
}

Metrics::Metrics(int64_t max_input_tokens, int64_t max_total_tokens)
    : max_input_tokens_(max_input_tokens), max_total_tokens_(max_total_tokens) {}

std::vector<double> Metrics::BoundsFor(const std::string& name) const {
  std::vector<double> b;
  if (name.size() >= 8 && name.compare(name.size() - 8, 8, "duration") == 0) {
    for (int k = 1; k <= 35; ++k) b.push_back(0.0001 * std::pow(1.5, k));
  } else if (name == "tgi_request_input_length") {
    for (int k = 1; k <= 100; ++k) b.push_back(static_cast<double>(max_input_tokens_) / 100 * k);
  } else if (name == "tgi_batch_next_size") {
    for (int k = 1; k <= 1024; ++k) b.push_back(k);
  } else {  // generated_tokens, max_new_tokens
    for (int k = 1; k <= 100; ++k) b.push_back(static_cast<double>(max_total_tokens_) / 100 * k);
  }
  return b;
}

void Metrics::IncCounter(const std::string& name, const std::string& labels) {
  std::lock_guard lock(mu_);
  ++counters_[name][labels];
}

void Metrics::Observe(const std::string& name, double value) {
  std::lock_guard lock(mu_);
  auto it = histograms_.find(name);
  if (it == histograms_.end()) it = histograms_.emplace(name, Histogram(BoundsFor(name))).first;
  it->second.Observe(value);
}

std::string Metrics::Render(const Gauges& g) const {
  std::string out;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, by_labels] : counters_) {
      out += "# HELP " + name + " " + Help(name) + "\n# TYPE " + name + " counter\n";
      for (const auto& [labels, v] : by_labels) {
        out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
      }
    }
    for (const auto& [name, h] : histograms_) {
      out += "# HELP " + name + " " + Help(name) + "\n# TYPE " + name + " histogram\n";
      h.Render(out, name, "");
    }
  }
  Gauge(out, "tgi_queue_size", g.queue_size);
  Gauge(out, "tgi_batch_current_size", g.batch_current_size);
  Gauge(out, "tgi_batch_current_max_tokens", g.batch_current_max_tokens);
  Gauge(out, "tgi_batch_max_total_tokens", g.batch_max_total_tokens);
  Gauge(out, "streamgen_kv_blocks_free", g.kv_blocks_free);
  Gauge(out, "streamgen_kv_blocks_total", g.kv_blocks_total);
  Gauge(out, "streamgen_requests_in_flight", g.requests_in_flight);
  out +=
      "# HELP tgi_batch_inference_count Inference calls per method (prefill or decode)\n"
      "# TYPE tgi_batch_inference_count counter\n";
  out += "tgi_batch_inference_count{method=\"prefill\"} " + std::to_string(g.steps_prefill) + "\n";
  out += "tgi_batch_inference_count{method=\"decode\"} " + std::to_string(g.steps_decode) + "\n";
  return out;
}

}  // namespace sg::server
