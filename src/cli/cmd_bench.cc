// `streamgen bench`: engine speed like llama-bench. pp<p>: prefill p tokens of one sequence,
// chunked by the executor's max batch tokens; tg<n>: n single-token decode steps from an empty
// context. Each test runs r times after a warm-up; reported as tokens/s mean ± stddev.
// Beside the results: the machine facts, the decode roof = memory bandwidth / weight bytes read
// per decoded token (every weight byte is read once per step), and the prefill roof = peak
// compute throughput / matmul operations per token: the int8 peak (AMX tiles, VNNI or maddubs,
// as the integer kernels run) for quantized weights, a third (F16) or half (BF16) of the AMX
// bfloat16 peak where those weights run on the tile unit (products per weight, amx_half.h), the
// f32 FMA peak for other float weights. The last column is each test's share of its roof.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/load_progress.h"
#include "engine/core/machine.h"
#include "engine/core/thread_pool.h"
#include "engine/kernels/matmul.h"
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
  int64_t parallel = 0;  // > 0: N sequences together (prompt phase, then decode steps of N tokens)
  bool no_repack = false;
  std::string kv_cache_dtype = "f16";
  std::string output = "md";  // "md": the llama-bench table; "json": one JSON array on stdout
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

// --parallel: N fresh sequences of `prompt` tokens each, prefilled in steps of at most `batch`
// tokens (whole prompts packed together, a prompt split across steps when it does not fit), then
// `gen` decode steps of N tokens (one per sequence), like llama-batched-bench's S_PP and S_TG.
struct ParallelTimes {
  double prompt_s = 0, decode_s = 0;
};

StatusOr<ParallelTimes> TimeParallel(Executor& exec, int64_t n_seq, int64_t prompt, int64_t gen,
                                     int64_t batch, const std::vector<int32_t>& tokens,
                                     std::vector<float>& logits) {
  std::vector<KvAllocation> kv;
  for (int64_t s = 0; s < n_seq; ++s) kv.push_back(exec.NewSequence());
  std::vector<StepSequence> step;
  ParallelTimes times;
  auto t0 = std::chrono::steady_clock::now();
  // Prompt phase: sequence s, offset done[s]; fill each step up to `batch` tokens.
  std::vector<int64_t> done(static_cast<size_t>(n_seq), 0);
  for (int64_t s = 0; s < n_seq;) {
    step.clear();
    int64_t budget = batch;
    for (int64_t j = s; j < n_seq && budget > 0; ++j) {
      const int64_t len = std::min(budget, prompt - done[j]);
      const auto ids = std::span<const int32_t>(tokens).subspan(
          static_cast<size_t>(j * (prompt + gen) + done[j]), static_cast<size_t>(len));
      step.push_back(StepSequence{ids, done[j], &kv[j], false});
      budget -= len;
    }
    SG_RETURN_IF_ERROR(exec.Step(step, logits));
    for (const StepSequence& st : step) {
      const int64_t j = st.kv - kv.data();
      done[j] += static_cast<int64_t>(st.tokens.size());
      if (done[j] == prompt) ++s;
    }
  }
  auto t1 = std::chrono::steady_clock::now();
  times.prompt_s = std::chrono::duration<double>(t1 - t0).count();
  for (int64_t g = 0; g < gen; ++g) {
    step.clear();
    for (int64_t j = 0; j < n_seq; ++j) {
      const auto ids = std::span<const int32_t>(tokens).subspan(
          static_cast<size_t>(j * (prompt + gen) + prompt + g), 1);
      step.push_back(StepSequence{ids, prompt + g, &kv[j], false});
    }
    SG_RETURN_IF_ERROR(exec.Step(step, logits));
  }
  times.decode_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return times;
}

Status RunBench(const BenchArgs& args) {
  if (args.prompt < 0 || args.gen < 0 || args.reps <= 0 || args.batch <= 0 || args.threads < 0) {
    return InvalidArgumentError("-p and -n must be >= 0, -r and -b > 0, --threads >= 0");
  }
  if (args.parallel < 0 || (args.parallel > 0 && (args.prompt <= 0 || args.gen <= 0))) {
    return InvalidArgumentError("--parallel must be >= 0 and needs -p > 0 and -n > 0");
  }
  if (args.output != "md" && args.output != "json") {
    return InvalidArgumentError("-o must be md or json");
  }
  const bool json = args.output == "json";
  // In JSON mode the machine facts go to stderr, so stdout is one JSON document.
  FILE* facts = json ? stderr : stdout;
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                      LoadModelWithProgress(args.model, StderrLoadDisplay(), !args.no_repack));
  const int threads = args.threads > 0 ? args.threads : DefaultThreadCount();
  ThreadPool pool(threads);
  ExecutorOptions opts;
  opts.max_batch_tokens = args.batch;
  SG_ASSIGN_OR_RETURN(opts.kv_dtype, ParseKvCacheDType(args.kv_cache_dtype));
  const int64_t n_seq = std::max<int64_t>(args.parallel, 1);
  opts.max_sequences = n_seq;
  opts.kv_token_budget = args.parallel > 0 ? n_seq * (args.prompt + args.gen)
                                           : std::max<int64_t>({args.prompt, args.gen, 1});
  opts.max_tokens_per_sequence = args.parallel > 0 ? args.prompt + args.gen : 0;
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  std::vector<float> logits(static_cast<size_t>(model->config.vocab_size * n_seq));

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
  std::string int8_how;
  const double peak_int8 = MeasurePeakInt8Gops(pool, &int8_how);
  // Quantized layer weights run integer products: their roof is the int8 peak.
  const bool int8_weights =
      ActivationTypeFor(model->weights.layers.front().w_gate.type) != DType::kF32 &&
      GetMatMulKernels() == MatMulKernels::kFast && peak_int8 > 0;
  // F16 / BF16 layer weights on the AMX tile unit: three / two bfloat16 products per weight
  // (amx_half.h).
  const DType layer_type = model->weights.layers.front().w_gate.type;
  const bool half_on_tiles = (layer_type == DType::kF16 || layer_type == DType::kBF16) &&
                             GetMatMulKernels() == MatMulKernels::kFast &&
                             GetSimdKernels().quant.half_amx;
  const int products_per_weight = layer_type == DType::kBF16 ? 2 : 3;
  const double peak_bf16 = half_on_tiles ? MeasurePeakBf16Gflops(pool) : 0.0;
  const double decode_roof = bandwidth * 1e9 / static_cast<double>(bytes_per_token);
  const double prefill_peak = int8_weights    ? peak_int8
                              : half_on_tiles ? peak_bf16 / products_per_weight
                                              : peak_gflops;
  const double prefill_roof = prefill_peak * 1e9 / flops_per_token;
  char bf16_line[128] = "";
  char roof_name[16] = "f32";
  if (int8_weights) {
    std::snprintf(roof_name, sizeof roof_name, "int8");
  } else if (half_on_tiles) {
    std::snprintf(roof_name, sizeof roof_name, "bf16 / %d", products_per_weight);
  }
  if (half_on_tiles) {
    std::snprintf(bf16_line, sizeof bf16_line,
                  "peak bf16 throughput (measured, AMX tdpbf16ps): %.1f GFLOP/s\n", peak_bf16);
  }
  std::fprintf(
      facts,
      "cpu: %s\nthreads: %d\nsimd: %s\nkernels: %s\nweights: %s\nkv cache: %s\n"
      "weights read per decoded token: %.1f MiB\n"
      "memory bandwidth (measured): %.1f GB/s\ndecode roof (tg): %.1f tokens/s\n"
      "matmul work per prefilled token: %.3f GFLOP\n"
      "peak f32 FMA throughput (measured): %.1f GFLOP/s\n"
      "peak int8 throughput (measured, %s): %.1f GOP/s\n"
      "%s"
      "prefill roof (pp, %s peak): %.1f tokens/s\n\n",
      CpuName().c_str(), threads, SimdTargetName().c_str(),
      GetMatMulKernels() == MatMulKernels::kFast ? "fast (integer dots)" : "reference (f32)",
      model->packed_weights ? "packed on 2 MiB pages" : "file mapping",
      std::string(KvCacheDTypeName(opts.kv_dtype)).c_str(),
      static_cast<double>(bytes_per_token) / (1 << 20), bandwidth, decode_roof,
      flops_per_token / 1e9, peak_gflops, int8_how.empty() ? "none" : int8_how.c_str(), peak_int8,
      bf16_line, roof_name, prefill_roof);

  // Warm-up: page the weights in and size the kernels' scratch.
  SG_RETURN_IF_ERROR(
      TimeSequence(*exec, random_tokens(std::min<int64_t>(args.batch, 16)), args.batch, logits)
          .status());

  if (!json && args.parallel > 0) {
    std::printf("| model | arch | threads | sequences | test | t/s (all sequences) |\n");
    std::printf("| --- | --- | ---: | ---: | ---: | ---: |\n");
  } else if (!json) {
    std::printf("| model | arch | threads | test | t/s | outside matmuls | of roof |\n");
    std::printf("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
  }
  const std::string name = model->path.substr(model->path.find_last_of('/') + 1);
  nlohmann::json records = nlohmann::json::array();
  SetMatMulTiming(true);
  auto report = [&](const std::string& test, int64_t tokens, int64_t step) -> Status {
    std::vector<double> rates;
    double total_s = 0;
    const uint64_t matmul_ns0 = MatMulNanos();
    for (int r = 0; r < args.reps; ++r) {
      SG_ASSIGN_OR_RETURN(double secs, TimeSequence(*exec, random_tokens(tokens), step, logits));
      rates.push_back(static_cast<double>(tokens) / secs);
      total_s += secs;
    }
    // The share of the step spent outside the matrix products: attention, norms, RoPE, the
    // embedding lookup, sampling-free logits handling and the executor's own bookkeeping.
    const double outside =
        std::max(0.0, 1.0 - static_cast<double>(MatMulNanos() - matmul_ns0) / 1e9 / total_s);
    const Stats s = MeanStd(rates);
    if (json) {
      const bool is_pp = test.rfind("pp", 0) == 0;
      records.push_back({{"model", name},
                         {"arch", ArchName(model->config.arch)},
                         {"cpu", CpuName()},
                         {"simd", SimdTargetName()},
                         {"threads", threads},
                         {"test", test},
                         {"n_prompt", is_pp ? tokens : 0},
                         {"n_gen", is_pp ? 0 : tokens},
                         {"avg_ts", s.mean},
                         {"stddev_ts", s.stddev},
                         {"samples_ts", rates},
                         {"outside_matmul_share", outside},
                         {"weight_bytes_per_token", bytes_per_token},
                         {"memory_bandwidth_gbs", bandwidth},
                         {"decode_roof_ts", bandwidth * 1e9 / static_cast<double>(bytes_per_token)},
                         {"peak_gflops", peak_gflops},
                         {"peak_int8_gops", peak_int8},
                         {"peak_bf16_gflops", peak_bf16},
                         {"roof_ts", is_pp ? prefill_roof : decode_roof}});
    } else {
      // The share of the roof of the test: the compute roof for pp, the DRAM roof for tg.
      const double roof = test.rfind("pp", 0) == 0 ? prefill_roof : decode_roof;
      std::printf("| %s | %s | %d | %s | %.2f ± %.2f | %.1f%% | %.0f%% |\n", name.c_str(),
                  ArchName(model->config.arch), threads, test.c_str(), s.mean, s.stddev,
                  100.0 * outside, 100.0 * s.mean / roof);
      std::fflush(stdout);
    }
    return OkStatus();
  };
  if (args.parallel > 0) {
    SetMatMulTiming(false);
    std::vector<double> pp, tg;
    for (int r = 0; r < args.reps; ++r) {
      SG_ASSIGN_OR_RETURN(ParallelTimes t,
                          TimeParallel(*exec, n_seq, args.prompt, args.gen, args.batch,
                                       random_tokens(n_seq * (args.prompt + args.gen)), logits));
      pp.push_back(static_cast<double>(n_seq * args.prompt) / t.prompt_s);
      tg.push_back(static_cast<double>(n_seq * args.gen) / t.decode_s);
    }
    for (const auto& [test, rates] : {std::pair{"pp" + std::to_string(args.prompt), pp},
                                      std::pair{"tg" + std::to_string(args.gen), tg}}) {
      const Stats s = MeanStd(rates);
      if (json) {
        records.push_back({{"model", name},
                           {"arch", ArchName(model->config.arch)},
                           {"cpu", CpuName()},
                           {"simd", SimdTargetName()},
                           {"threads", threads},
                           {"sequences", n_seq},
                           {"test", test},
                           {"avg_ts", s.mean},
                           {"stddev_ts", s.stddev},
                           {"samples_ts", rates}});
      } else {
        std::printf("| %s | %s | %d | %lld | %s | %.2f ± %.2f |\n", name.c_str(),
                    ArchName(model->config.arch), threads, static_cast<long long>(n_seq),
                    test.c_str(), s.mean, s.stddev);
      }
    }
    if (json) std::printf("%s\n", records.dump(1).c_str());
    return OkStatus();
  }
  if (args.prompt > 0) {
    SG_RETURN_IF_ERROR(report("pp" + std::to_string(args.prompt), args.prompt, args.batch));
  }
  if (args.gen > 0) SG_RETURN_IF_ERROR(report("tg" + std::to_string(args.gen), args.gen, 1));
  if (json) std::printf("%s\n", records.dump(1).c_str());
  return OkStatus();
}

}  // namespace

void AddKvCacheDTypeOption(CLI::App* cmd, std::string* value) {
  cmd->add_option("--kv-cache-dtype", *value, "KV cache element type: f16, f32 or q8_0")
      ->capture_default_str();
}

void RegisterBench(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "Prefill and decode speed, like llama-bench");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("--threads", args->threads, "Compute threads (default: physical cores)");
  cmd->add_flag("--no-repack", args->no_repack, "Run on the file mapping (no packed copy)");
  AddKvCacheDTypeOption(cmd, &args->kv_cache_dtype);
  cmd->add_option("-o,--output", args->output, "Output format: md (table) or json")
      ->capture_default_str();
  cmd->add_option("-p,--n-prompt", args->prompt, "Prompt tokens for pp")->capture_default_str();
  cmd->add_option("-n,--n-gen", args->gen, "Decode steps for tg")->capture_default_str();
  cmd->add_option("-b,--batch", args->batch, "Max tokens per step (prefill chunk)")
      ->capture_default_str();
  cmd->add_option("-r,--repetitions", args->reps, "Repetitions of each test")
      ->capture_default_str();
  cmd->add_option("--parallel", args->parallel,
                  "N sequences together: -p prompt tokens each, then -n decode steps of N tokens "
                  "(rows: aggregate t/s, like llama-batched-bench's S_PP and S_TG)");
  cmd->callback([args, exit_code] {
    const Status s = RunBench(*args);
    if (!s.ok()) {
      std::cerr << "streamgen bench: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
