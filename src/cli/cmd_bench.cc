// `streamgen bench`: engine speed like llama-bench. pp<p>: prefill p tokens of one sequence,
// chunked by the executor's max batch tokens; tg<n>: n single-token decode steps from an empty
// context. Each test runs r times after a warm-up; reported as tokens/s mean ± stddev.
// Beside the results: the machine facts, the decode roof = memory bandwidth / weight bytes read
// per decoded token (every weight byte is read once per step), and the prefill roof = peak f32
// FMA throughput / matmul FLOPs per token.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load_progress.h"
#include "engine/core/machine.h"
#include "engine/core/thread_pool.h"
#include "engine/kernels/peak_flops.h"
#include "engine/kernels/simd_dispatch.h"
#include "engine/model/model.h"
#include "engine/runtime/executor.h"

namespace sg::cli {
namespace {

struct BenchArgs {
  std::string model;
  int threads = 0;
  int64_t prompt = 512;
  int64_t gen = 128;
  int64_t batch = 512;
  int reps = 3;
};

// Weight bytes one decode step reads: every layer tensor, the final norm and the output matrix,
// plus one embedding row (the token's), which is negligible unless the embedding is huge.
uint64_t BytesPerToken(const Model& m) {
  uint64_t bytes = 0;
  for (const LayerWeights& l : m.weights.layers) {
    for (const TensorView* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.bq, &l.bk, &l.bv,
                                &l.q_norm, &l.k_norm, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down}) {
      bytes += t->nbytes;
    }
  }
  bytes += m.weights.output_norm.nbytes + m.weights.output.nbytes;
  bytes += m.weights.token_embedding.row_bytes();
  return bytes;
}

// Float operations of the layer matrix products per prefilled token (2 per weight element; the
// output projection runs for the last position only, attention scores are left out): the
// numerator of the prefill roof.
double MatmulFlopsPerToken(const Model& m) {
  double flops = 0;
  for (const LayerWeights& l : m.weights.layers) {
    for (const TensorView* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) {
      flops += 2.0 * static_cast<double>(t->numel());
    }
  }
  return flops;
}

struct Stats {
  double mean = 0, stddev = 0;
};

Stats MeanStd(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.stddev += (x - s.mean) * (x - s.mean);
  s.stddev = v.size() > 1 ? std::sqrt(s.stddev / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

// Runs `n` tokens of one fresh sequence in steps of `step` tokens; returns seconds.
StatusOr<double> TimeSequence(Executor& exec, const std::vector<int32_t>& tokens, int64_t step,
                              std::vector<float>& logits) {
  KvAllocation kv = exec.NewSequence();
  const auto t0 = std::chrono::steady_clock::now();
  const int64_t n = static_cast<int64_t>(tokens.size());
  for (int64_t start = 0; start < n; start += step) {
    const int64_t len = std::min(step, n - start);
    StepSequence s{std::span<const int32_t>(tokens).subspan(start, len), start, &kv, false};
    SG_RETURN_IF_ERROR(exec.Step({&s, 1}, logits));
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Status RunBench(const BenchArgs& args) {
  if (args.prompt < 0 || args.gen < 0 || args.reps <= 0 || args.batch <= 0 || args.threads < 0) {
    return InvalidArgumentError("-p and -n must be >= 0, -r and -b > 0, --threads >= 0");
  }
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                      LoadModelWithProgress(args.model, StderrLoadDisplay()));
  const int threads = args.threads > 0 ? args.threads : DefaultThreadCount();
  ThreadPool pool(threads);
  ExecutorOptions opts;
  opts.max_batch_tokens = args.batch;
  opts.max_sequences = 1;
  opts.kv_token_budget = std::max<int64_t>({args.prompt, args.gen, 1});
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  std::vector<float> logits(static_cast<size_t>(model->config.vocab_size));

  std::mt19937 rng(42);
  std::uniform_int_distribution<int32_t> dist(0,
                                              static_cast<int32_t>(model->config.vocab_size - 1));
  auto random_tokens = [&](int64_t n) {
    std::vector<int32_t> ids(static_cast<size_t>(n));
    for (int32_t& id : ids) id = dist(rng);
    return ids;
  };

  const uint64_t bytes_per_token = BytesPerToken(*model);
  const double bandwidth = MeasureMemoryBandwidthGBs(pool);
  const double flops_per_token = MatmulFlopsPerToken(*model);
  const double peak_gflops = MeasurePeakGflops(pool);
  std::printf(
      "cpu: %s\nthreads: %d\nsimd: %s\n"
      "weights read per decoded token: %.1f MiB\n"
      "memory bandwidth (measured): %.1f GB/s\ndecode roof (tg): %.1f tokens/s\n"
      "matmul work per prefilled token: %.3f GFLOP\n"
      "peak f32 FMA throughput (measured): %.1f GFLOP/s\nprefill roof (pp): %.1f tokens/s\n\n",
      CpuName().c_str(), threads, SimdTargetName().c_str(),
      static_cast<double>(bytes_per_token) / (1 << 20), bandwidth,
      bandwidth * 1e9 / static_cast<double>(bytes_per_token), flops_per_token / 1e9, peak_gflops,
      peak_gflops * 1e9 / flops_per_token);

  // Warm-up: page the weights in and size the kernels' scratch.
  SG_RETURN_IF_ERROR(
      TimeSequence(*exec, random_tokens(std::min<int64_t>(args.batch, 16)), args.batch, logits)
          .status());

  std::printf("| model | arch | threads | test | t/s |\n");
  std::printf("| --- | --- | ---: | ---: | ---: |\n");
  const std::string name = model->path.substr(model->path.find_last_of('/') + 1);
  auto report = [&](const std::string& test, int64_t tokens, int64_t step) -> Status {
    std::vector<double> rates;
    for (int r = 0; r < args.reps; ++r) {
      SG_ASSIGN_OR_RETURN(double secs, TimeSequence(*exec, random_tokens(tokens), step, logits));
      rates.push_back(static_cast<double>(tokens) / secs);
    }
    const Stats s = MeanStd(rates);
    std::printf("| %s | %s | %d | %s | %.2f ± %.2f |\n", name.c_str(), ArchName(model->config.arch),
                threads, test.c_str(), s.mean, s.stddev);
    std::fflush(stdout);
    return OkStatus();
  };
  if (args.prompt > 0) {
    SG_RETURN_IF_ERROR(report("pp" + std::to_string(args.prompt), args.prompt, args.batch));
  }
  if (args.gen > 0) SG_RETURN_IF_ERROR(report("tg" + std::to_string(args.gen), args.gen, 1));
  return OkStatus();
}

}  // namespace

void RegisterBench(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Prefill and decode speed, like llama-bench");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("--threads", args->threads, "Compute threads (default: all CPUs)");
  cmd->add_option("-p,--n-prompt", args->prompt, "Prompt tokens for pp")->capture_default_str();
  cmd->add_option("-n,--n-gen", args->gen, "Decode steps for tg")->capture_default_str();
  cmd->add_option("-b,--batch", args->batch, "Max tokens per step (prefill chunk)")
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", args->reps, "Repetitions of each test")
      ->capture_default_str();
  cmd->callback([args, exit_code] {
    const Status s = RunBench(*args);
    if (!s.ok()) {
      std::cerr << "streamgen bench: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
