// The markdown table and the JSON document.
#include <cstdio>

#include "cli/bench_serve/report.h"

namespace sg::benchserve {
namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

nlohmann::json SummaryJson(const Summary& s) {
  return {{"n", s.n}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}};
}

}  // namespace

std::string MarkdownTable(const std::vector<PointStats>& points) {
  std::string out =
      "| point | completed | errors | 429 | req/s | out tok/s | total tok/s "
      "| TTFT mean | TTFT p50 | TTFT p99 | TPOT mean | TPOT p99 | ITL mean | ITL p99 "
      "| E2E mean | E2E p99 |\n"
      "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n";
  for (const PointStats& p : points) {
    out += "| " + PointLabel(p.concurrency, p.request_rate);
    out += " | " + std::to_string(p.completed) + " | " + std::to_string(p.errors) + " | " +
           std::to_string(p.overloaded);
    out += " | " + Fmt("%.2f", p.request_throughput) + " | " + Fmt("%.1f", p.output_throughput) +
           " | " + (p.input_tokens_known ? Fmt("%.1f", p.total_token_throughput) : "?");
    out += " | " + Fmt("%.2f", p.ttft_ms.mean) + " | " + Fmt("%.2f", p.ttft_ms.p50) + " | " +
           Fmt("%.2f", p.ttft_ms.p99);
    for (const Summary* s : {&p.tpot_ms, &p.itl_ms, &p.e2e_ms}) {
      out += " | " + Fmt("%.2f", s->mean) + " | " + Fmt("%.2f", s->p99);
    }
    out += " |\n";
  }
  out +=
      "\nLatencies in ms (TTFT: request sent -> first token; TPOT: (e2e - TTFT) / (output "
      "tokens - 1); ITL: gaps between token events; E2E: request sent -> end of stream). "
      "429: requests refused as overloaded (counted apart from errors).\n";
  return out;
}

nlohmann::json PointJson(const PointStats& p) {
  nlohmann::json j = {
      {"label", PointLabel(p.concurrency, p.request_rate)},
      {"concurrency", p.concurrency},
      {"request_rate", p.request_rate},
      {"duration_s", p.duration_s},
      {"requests", p.requests},
      {"completed", p.completed},
      {"errors", p.errors},
      {"overloaded_429", p.overloaded},
      {"retry_after_seen", p.retry_after_seen},
      {"retry_after_max_s", p.retry_after_max_s ? nlohmann::json(*p.retry_after_max_s) : nullptr},
      {"input_tokens", p.input_tokens_known ? nlohmann::json(p.input_tokens) : nullptr},
      {"output_tokens", p.output_tokens},
      {"request_throughput", p.request_throughput},
      {"output_throughput", p.output_throughput},
      {"total_token_throughput",
       p.input_tokens_known ? nlohmann::json(p.total_token_throughput) : nullptr},
      {"ttft_ms", SummaryJson(p.ttft_ms)},
      {"tpot_ms", SummaryJson(p.tpot_ms)},
      {"itl_ms", SummaryJson(p.itl_ms)},
      {"e2e_ms", SummaryJson(p.e2e_ms)},
      {"error_samples", p.error_samples},
  };
  return j;
}

nlohmann::json ReportJson(const nlohmann::json& config, const Workload& workload,
                          const std::vector<PointStats>& points) {
  nlohmann::json w = {
      {"source", workload.source},
      {"prompts", workload.prompts.size()},
      {"token_counts", workload.token_counts},
      {"prompt_tokens", workload.prompt_tokens},
      {"shared_prefix_tokens", workload.shared_prefix_tokens},
  };
  if (workload.shared_prefix_tokens > 0 && workload.token_counts != "none") {
    w["prefix_exact"] = workload.prefix_exact;
  }
  nlohmann::json pts = nlohmann::json::array();
  for (const PointStats& p : points) pts.push_back(PointJson(p));
  return {{"config", config}, {"workload", std::move(w)}, {"points", std::move(pts)}};
}

}  // namespace sg::benchserve
