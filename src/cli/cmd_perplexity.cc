// `streamgen perplexity --model M --file F [--ctx N]`: perplexity of a text, as llama.cpp users
// know it. The file is tokenized without special tokens and cut into consecutive non-overlapping
// chunks of ctx tokens; each chunk is predicted from [BOS] + the chunk minus its last token (ctx
// positions), so every token is scored exactly once: -log p(token | BOS + the chunk before it).
// Without a BOS in the tokenizer the chunk itself is the input and its first token is unscored.
// This is exactly evaluate() in tools/train_demo_model.py, so the numbers compare directly.
// Prints the running perplexity per chunk ("[1]12.34,[2]11.98,...") and
// "Final estimate: PPL = X +/- Y" (Y by the delta method: PPL * standard error of the mean NLL).
// --kl-divergence also runs every chunk on the reference (float) kernels and reports, per scored
// position, KL(p_reference || p_fast) of the next-token distributions and whether their top-1
// tokens agree: the accuracy of the default integer kernels (quantized activations) on the very
// same weights, like llama-perplexity --kl-divergence. The perplexity printed is the fast one's.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/load_progress.h"
#include "engine/core/thread_pool.h"
#include "engine/kernels/matmul.h"
#include "engine/model/model.h"
#include "engine/runtime/executor.h"
#include "engine/runtime/greedy.h"
#include "engine/text/tokenizer.h"

namespace sg::cli {
namespace {

struct PerplexityArgs {
  std::string model;
  std::string file;
  int64_t ctx = 0;
  int threads = 0;
  bool json = false;
  bool kl = false;
  int64_t max_tokens = 0;  // 0: the whole file
  std::string kv_cache_dtype = "f16";
};

// KL(p || q) in nats of the softmax distributions of two logit rows, and whether argmaxes agree.
struct KlRow {
  double kl = 0;
  bool same_top = false;
};

KlRow CompareRows(const float* p_logits, const float* q_logits, int64_t n) {
  const double lp = LogSumExp(std::span<const float>(p_logits, n));
  const double lq = LogSumExp(std::span<const float>(q_logits, n));
  KlRow r;
  int64_t top_p = 0, top_q = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double log_p = p_logits[i] - lp, log_q = q_logits[i] - lq;
    r.kl += std::exp(log_p) * (log_p - log_q);
    if (p_logits[i] > p_logits[top_p]) top_p = i;
    if (q_logits[i] > q_logits[top_q]) top_q = i;
  }
  r.same_top = top_p == top_q;
  return r;
}

Status RunPerplexity(PerplexityArgs args) {
  if (args.model.empty()) {
    SG_ASSIGN_OR_RETURN(args.model, FindDefaultModel());
  }
  std::ifstream in(args.file, std::ios::binary);
  if (!in) return NotFoundError("cannot read --file " + args.file);
  std::stringstream text;
  text << in.rdbuf();
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                      LoadModelWithProgress(args.model, StderrLoadDisplay()));
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, Tokenizer::Load(args.model));
  const int64_t context = model->config.max_context > 0 ? model->config.max_context : 512;
  const int64_t ctx = args.ctx > 0 ? args.ctx : std::min<int64_t>(context, 512);
  if (ctx < 2) return InvalidArgumentError("--ctx must be >= 2");
  std::vector<int32_t> ids = tokenizer->Encode(text.str(), false).ids;
  if (args.max_tokens > 0 && static_cast<int64_t>(ids.size()) > args.max_tokens) {
    ids.resize(static_cast<size_t>(args.max_tokens));
  }
  if (ids.size() < 2) return InvalidArgumentError("--file has fewer than 2 tokens");
  const std::optional<int32_t> bos = tokenizer->settings().bos_token_id;

  ThreadPool pool(args.threads > 0 ? args.threads : DefaultThreadCount());
  ExecutorOptions opts;
  opts.max_batch_tokens = ctx;
  opts.max_sequences = 1;
  SG_ASSIGN_OR_RETURN(opts.kv_dtype, ParseKvCacheDType(args.kv_cache_dtype));
  opts.kv_token_budget = ctx;
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  const int64_t vocab = model->config.vocab_size;
  std::vector<float> logits(static_cast<size_t>(ctx * vocab));
  std::vector<float> ref_logits(args.kl ? logits.size() : 0);
  std::vector<double> kls;
  int64_t same_top = 0;
  const MatMulKernels kernels = GetMatMulKernels();
  double nll = 0, nll2 = 0;
  int64_t count = 0, chunks = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (size_t start = 0; start < ids.size(); start += static_cast<size_t>(ctx)) {
    const size_t end = std::min(ids.size(), start + static_cast<size_t>(ctx));
    // The chunk ids[start, end) is predicted from [BOS] + ids[start, end - 1); without a BOS the
    // chunk is the input and its first token goes unscored.
    std::vector<int32_t> input;
    if (bos) input.push_back(*bos);
    input.insert(input.end(), ids.begin() + start, ids.begin() + end - (bos ? 1 : 0));
    if (input.size() < 2 && !bos) break;
    KvAllocation kv = exec->NewSequence();
    StepSequence seq{input, 0, &kv, /*all_logits=*/true};
    if (args.kl) {
      SetMatMulKernels(MatMulKernels::kReference);
      const Status s = exec->Step(std::span<const StepSequence>(&seq, 1),
                                  std::span<float>(ref_logits.data(), input.size() * vocab));
      SetMatMulKernels(kernels);
      SG_RETURN_IF_ERROR(s);
    }
    SG_RETURN_IF_ERROR(exec->Step(std::span<const StepSequence>(&seq, 1),
                                  std::span<float>(logits.data(), input.size() * vocab)));
    const size_t first_target = bos ? start : start + 1;
    for (size_t t = first_target; t < end; ++t) {
      const float* row = logits.data() + (t - first_target) * vocab;  // predicts ids[t]
      const double v = LogSumExp(std::span<const float>(row, vocab)) - row[ids[t]];
      if (args.kl) {
        const KlRow k = CompareRows(ref_logits.data() + (t - first_target) * vocab, row, vocab);
        kls.push_back(k.kl);
        same_top += k.same_top ? 1 : 0;
      }
      nll += v;
      nll2 += v * v;
      ++count;
    }
    ++chunks;
    if (!args.json) {
      std::cout << "[" << chunks << "]" << std::fixed << std::setprecision(4)
                << std::exp(nll / count) << (end < ids.size() ? "," : "\n") << std::flush;
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double mean = nll / count;
  const double var = std::max(0.0, nll2 / count - mean * mean);
  const double ppl = std::exp(mean);
  const double stderr_ppl = ppl * std::sqrt(var / std::max<int64_t>(1, count - 1));
  double kl_mean = 0, kl_max = 0, kl_p99 = 0;
  if (!kls.empty()) {
    for (double k : kls) kl_mean += k;
    kl_mean /= static_cast<double>(kls.size());
    std::sort(kls.begin(), kls.end());
    kl_max = kls.back();
    kl_p99 = kls[static_cast<size_t>(0.99 * static_cast<double>(kls.size() - 1))];
  }
  const double top1 = kls.empty() ? 0.0 : static_cast<double>(same_top) / kls.size();
  if (args.json) {
    std::cout << "{\"tokens\":" << count << ",\"chunks\":" << chunks << ",\"ctx\":" << ctx
              << ",\"nll_per_token\":" << std::setprecision(9) << mean << ",\"perplexity\":" << ppl
              << ",\"stderr\":" << stderr_ppl;
    if (args.kl) {
      std::cout << ",\"kl_divergence\":{\"mean\":" << kl_mean << ",\"p99\":" << kl_p99
                << ",\"max\":" << kl_max << ",\"top1_agreement\":" << top1 << "}";
    }
    std::cout << "}\n";
  } else {
    std::cout << "Final estimate: PPL = " << std::fixed << std::setprecision(4) << ppl << " +/- "
              << stderr_ppl << "\n"
              << count << " tokens in " << chunks << " chunks of ctx " << ctx << ", "
              << std::setprecision(1) << count / seconds << " tokens/s\n";
    if (args.kl) {
      std::cout << std::setprecision(6) << "KL divergence vs the reference kernels: mean "
                << kl_mean << ", p99 " << kl_p99 << ", max " << kl_max << " nats; same top-1 "
                << std::setprecision(2) << 100.0 * top1 << "% of " << kls.size() << " positions\n";
    }
  }
  return OkStatus();
}

}  // namespace

void RegisterPerplexity(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<PerplexityArgs>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a text file (llama.cpp style)");
  cmd->add_option("--model,-m", args->model,
                  "GGUF file or Hugging Face folder (default: the bundled demo model)");
  cmd->add_option("--file,-f", args->file, "Text file")->required();
  cmd->add_option("--ctx,-c", args->ctx, "Chunk length in tokens incl. BOS (default min(ctx,512))");
  AddKvCacheDTypeOption(cmd, &args->kv_cache_dtype);
  cmd->add_option("--threads,-t", args->threads, "Compute threads (default: all CPUs)");
  cmd->add_flag("--json", args->json, "One JSON object instead of the llama.cpp-style lines");
  cmd->add_flag("--kl-divergence", args->kl,
                "Also run the float reference kernels and report KL divergence and top-1 "
                "agreement of the default kernels against them");
  cmd->add_option("--max-tokens", args->max_tokens, "Score at most this many tokens of the file");
  cmd->callback([args, exit_code] {
    const Status s = RunPerplexity(*args);
    if (!s.ok()) {
      std::cerr << "streamgen perplexity: " << s.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
