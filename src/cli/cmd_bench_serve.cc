// `streamgen bench-serve`: a serving benchmark against any TGI-compatible URL (streamgen, TGI,
// vLLM, llama.cpp's server). Streams requests to /generate_stream, /v1/completions or
// /v1/chat/completions under a concurrency sweep (closed loop) or a Poisson request rate (open
// loop) and reports vLLM's TTFT / TPOT / ITL / E2E and throughputs per point. The work is done by
// src/cli/bench_serve/; this file parses flags, prepares, runs the points and writes the reports.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/bench_serve/load_runner.h"
#include "cli/bench_serve/report.h"
#include "cli/bench_serve/request_body.h"
#include "cli/bench_serve/target.h"
#include "cli/bench_serve/token_counter.h"
#include "cli/bench_serve/workload.h"
#include "cli/commands.h"

namespace sg::cli {
namespace {

struct BenchServeArgs {
  std::string url = "http://127.0.0.1:3000";
  std::string endpoint = "generate_stream";
  std::string model = "tgi";
  std::vector<int> concurrency;      // empty + no rate -> {1}
  std::vector<double> request_rate;  // req/s; non-empty -> open loop
  size_t num_prompts = 32;
  double duration_s = 0;
  int max_new_tokens = 64;
  double temperature = 0;
  uint64_t seed = 0;
  std::string prompt_file;
  int input_len = 128;
  int shared_prefix_len = 0;
  std::string tokenizer;
  double timeout_s = 300;
  std::string json_out, svg_out;
  bool no_probe = false;
};

constexpr std::chrono::milliseconds kConnectCheckTimeout{5000};

std::string NowIso8601() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return IoError("cannot write " + path);
  return OkStatus();
}

// The token counter for the workload: --tokenizer, else the server's /tokenize; null (lengths
// estimated) when the server has no TGI /tokenize and no --tokenizer was given.
StatusOr<std::unique_ptr<benchserve::TokenCounter>> MakeCounter(const BenchServeArgs& a,
                                                                const benchserve::Target& t) {
  if (!a.tokenizer.empty()) {
    SG_ASSIGN_OR_RETURN(benchserve::TokenCounter c, benchserve::LocalTokenCounter(a.tokenizer));
    return std::make_unique<benchserve::TokenCounter>(std::move(c));
  }
  StatusOr<benchserve::TokenCounter> server = benchserve::ServerTokenCounter(t);
  if (server.ok()) return std::make_unique<benchserve::TokenCounter>(std::move(*server));
  std::fprintf(stderr,
               "bench-serve: warning: %s; prompt lengths are estimated (4 bytes per token) "
               "-- pass --tokenizer for exact ones\n",
               server.status().message().c_str());
  return std::unique_ptr<benchserve::TokenCounter>();
}

nlohmann::json ConfigJson(const BenchServeArgs& a) {
  return {{"url", a.url},
          {"endpoint", a.endpoint},
          {"model", a.model},
          {"mode", a.request_rate.empty() ? "concurrency" : "request_rate"},
          {"concurrency", a.concurrency},
          {"request_rate", a.request_rate},
          {"num_prompts", a.num_prompts},
          {"duration_s", a.duration_s},
          {"max_new_tokens", a.max_new_tokens},
          {"temperature", a.temperature},
          {"seed", a.seed},
          {"prompt_file", a.prompt_file},
          {"input_len", a.prompt_file.empty() ? nlohmann::json(a.input_len) : nullptr},
          {"shared_prefix_len", a.shared_prefix_len},
          {"timeout_s", a.timeout_s},
          {"started_at", NowIso8601()},
          {"client", std::string("streamgen ") + STREAMGEN_VERSION}};
}

Status RunBenchServe(BenchServeArgs a) {
  SG_ASSIGN_OR_RETURN(benchserve::Endpoint endpoint, benchserve::ParseEndpoint(a.endpoint));
  SG_ASSIGN_OR_RETURN(benchserve::Url url, benchserve::ParseUrl(a.url));
  if (!a.concurrency.empty() && !a.request_rate.empty()) {
    return InvalidArgumentError("give either --concurrency or --request-rate, not both");
  }
  if (a.concurrency.empty() && a.request_rate.empty()) a.concurrency = {1};
  for (int c : a.concurrency) {
    if (c < 1) return InvalidArgumentError("--concurrency values must be at least 1");
  }
  for (double r : a.request_rate) {
    if (!(r > 0)) return InvalidArgumentError("--request-rate values must be above 0");
  }
  if (a.num_prompts < 1) return InvalidArgumentError("--num-prompts must be at least 1");
  if (a.max_new_tokens < 1) return InvalidArgumentError("--max-new-tokens must be at least 1");
  if (!(a.timeout_s > 0)) return InvalidArgumentError("--timeout must be above 0");

  SG_ASSIGN_OR_RETURN(benchserve::Target target, benchserve::ResolveTarget(url));
  SG_RETURN_IF_ERROR(benchserve::CheckReachable(target, kConnectCheckTimeout));
  SG_ASSIGN_OR_RETURN(std::unique_ptr<benchserve::TokenCounter> counter, MakeCounter(a, target));
  // Synthetic prompts are drawn afresh for every point (point i sends prompts [i N, (i+1) N)):
  // a server with a prefix cache would otherwise find a later point's prompts already computed
  // by an earlier point and report a TTFT that no new client sees. A prompt file is what it is:
  // every point sends it.
  const size_t n_points = a.request_rate.empty() ? a.concurrency.size() : a.request_rate.size();
  const bool fresh_per_point = a.prompt_file.empty() && n_points > 1;
  const benchserve::WorkloadSpec wspec{a.prompt_file, a.input_len, a.shared_prefix_len,
                                       fresh_per_point ? a.num_prompts * n_points : a.num_prompts,
                                       a.seed};
  SG_ASSIGN_OR_RETURN(benchserve::Workload workload,
                      benchserve::BuildWorkload(wspec, counter.get()));
  std::fprintf(stderr, "bench-serve: %zu %s prompts", workload.prompts.size(),
               workload.source.c_str());
  if (a.prompt_file.empty()) {
    std::fprintf(stderr, ", %d tokens each after a shared prefix of %d", a.input_len,
                 a.shared_prefix_len);
  }
  if (counter && a.shared_prefix_len > 0) {
    std::fprintf(stderr, " (prefix token-exact in %zu/%zu)", workload.prefix_exact,
                 workload.prompts.size());
  }
  std::fprintf(stderr, "; token counts: %s; %s %s%s\n", workload.token_counts.c_str(),
               benchserve::EndpointName(endpoint), a.url.c_str(),
               benchserve::EndpointPath(endpoint));

  benchserve::GenerationParams params;
  params.max_new_tokens = a.max_new_tokens;
  params.temperature = a.temperature;
  params.seed = a.seed;
  params.model = a.model;
  benchserve::PointSpec base;
  base.num_requests = a.duration_s > 0 ? 0 : a.num_prompts;
  base.duration_s = a.duration_s;
  base.seed = a.seed;
  base.timeout = std::chrono::milliseconds(static_cast<int64_t>(a.timeout_s * 1000));
  base.progress_tty = isatty(fileno(stderr)) == 1;

  if (!a.no_probe) {  // one request alone first: a wrong route or body fails here, clearly
    benchserve::PointSpec probe = base;
    probe.concurrency = 1;
    probe.num_requests = 1;
    probe.duration_s = 0;
    probe.progress = false;
    const benchserve::PointRun r = benchserve::RunPoint(target, endpoint, params, workload, probe);
    if (!r.results.empty() && !r.results[0].ok && !r.results[0].overloaded) {
      return IoError("the test request failed: " + r.results[0].error);
    }
  }

  std::vector<benchserve::PointStats> points;
  size_t completed = 0;
  for (size_t i = 0; i < n_points; ++i) {
    benchserve::PointSpec spec = base;
    if (a.request_rate.empty()) {
      spec.concurrency = a.concurrency[i];
    } else {
      spec.request_rate = a.request_rate[i];
    }
    benchserve::Workload point_workload = workload;
    if (fresh_per_point) {
      const auto slice = [&](const auto& v) {
        return std::vector(v.begin() + static_cast<ptrdiff_t>(i * a.num_prompts),
                           v.begin() + static_cast<ptrdiff_t>((i + 1) * a.num_prompts));
      };
      point_workload.prompts = slice(workload.prompts);
      point_workload.prompt_tokens = slice(workload.prompt_tokens);
    }
    points.push_back(benchserve::ComputeStats(
        benchserve::RunPoint(target, endpoint, params, point_workload, spec)));
    completed += points.back().completed;
  }
  std::cout << benchserve::MarkdownTable(points) << std::flush;
  if (!a.json_out.empty()) {
    SG_RETURN_IF_ERROR(
        WriteFile(a.json_out, benchserve::ReportJson(ConfigJson(a), workload, points).dump(2)));
  }
  if (!a.svg_out.empty()) {
    const std::string title =
        std::string("bench-serve: ") + benchserve::EndpointName(endpoint) + " " + a.url;
    SG_RETURN_IF_ERROR(WriteFile(a.svg_out, benchserve::SvgChart(points, title)));
  }
  if (completed == 0) {
    const std::string first = points.empty() || points[0].error_samples.empty()
                                  ? std::string("no error recorded")
                                  : points[0].error_samples[0];
    return InternalError("no request completed (first error: " + first + ")");
  }
  return OkStatus();
}

}  // namespace

void RegisterBenchServe(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BenchServeArgs>();
  auto* cmd = app.add_subcommand(
      "bench-serve",
      "Serving benchmark (TTFT, TPOT, ITL, throughput) against a TGI-compatible URL");
  cmd->add_option("--url", args->url, "Server base URL (http://host:port[/path])")
      ->capture_default_str();
  cmd->add_option("--endpoint", args->endpoint, "generate_stream | completions | chat")
      ->capture_default_str();
  cmd->add_option("--model", args->model, "`model` of the OpenAI request bodies")
      ->capture_default_str();
  cmd->add_option("--concurrency", args->concurrency,
                  "Closed loop: clients per point, comma-separated sweep (default 1)")
      ->delimiter(',');
  cmd->add_option("--request-rate", args->request_rate,
                  "Open loop: Poisson arrivals at R requests/s, comma-separated sweep")
      ->delimiter(',');
  cmd->add_option("--num-prompts", args->num_prompts,
                  "Requests per point (and distinct synthetic prompts)")
      ->capture_default_str();
  cmd->add_option("--duration", args->duration_s,
                  "Seconds per point instead of a request count (in-flight requests finish)");
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Tokens to generate per request")
      ->capture_default_str();
  cmd->add_option("--temperature", args->temperature, "0 = greedy; > 0 samples (seeded)")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the prompts, arrivals and sampling")
      ->capture_default_str();
  cmd->add_option("--prompt-file", args->prompt_file,
                  "Prompts, one per line, or JSONL with a \"prompt\" field");
  cmd->add_option("--input-len", args->input_len,
                  "Synthetic prompts: tokens after the shared prefix")
      ->capture_default_str();
  cmd->add_option("--shared-prefix-len", args->shared_prefix_len,
                  "Tokens of a prefix every prompt starts with (prefix-cache benchmark)")
      ->capture_default_str();
  cmd->add_option("--tokenizer", args->tokenizer,
                  "Count tokens locally (tokenizer.json, folder or GGUF) instead of the "
                  "server's POST /tokenize");
  cmd->add_option("--timeout", args->timeout_s, "Seconds per request, connect to last byte")
      ->capture_default_str();
  cmd->add_option("--json-out", args->json_out, "Write every number as JSON to this file");
  cmd->add_option("--svg-out", args->svg_out, "Write a throughput/latency chart (SVG)");
  cmd->add_flag("--no-probe", args->no_probe,
                "Skip the single test request sent before the first point");
  cmd->callback([args, exit_code] {
    const Status s = RunBenchServe(*args);
    if (!s.ok()) {
      std::cerr << "streamgen bench-serve: " << s.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
