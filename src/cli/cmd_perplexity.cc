// `streamgen perplexity --model M --file F [--ctx N]`: perplexity of a text, as llama.cpp users
// know it. The file is tokenized without special tokens and cut into consecutive non-overlapping
// chunks of ctx tokens; each chunk is predicted from [BOS] + the chunk minus its last token (ctx
// positions), so every token is scored exactly once: -log p(token | BOS + the chunk before it).
// Without a BOS in the tokenizer the chunk itself is the input and its first token is unscored.
// This is exactly evaluate() in tools/train_demo_model.py, so the numbers compare directly.
// Prints the running perplexity per chunk ("[1]12.34,[2]11.98,...") and
// "Final estimate: PPL = X +/- Y" (Y by the delta method: PPL * standard error of the mean NLL).
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
};

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
  const std::vector<int32_t> ids = tokenizer->Encode(text.str(), false).ids;
  if (ids.size() < 2) return InvalidArgumentError("--file has fewer than 2 tokens");
  const std::optional<int32_t> bos = tokenizer->settings().bos_token_id;

  ThreadPool pool(args.threads > 0 ? args.threads : DefaultThreadCount());
  ExecutorOptions opts;
  opts.max_batch_tokens = ctx;
  opts.max_sequences = 1;
  opts.kv_token_budget = ctx;
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  const int64_t vocab = model->config.vocab_size;
  std::vector<float> logits(static_cast<size_t>(ctx * vocab));
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
    SG_RETURN_IF_ERROR(exec->Step(std::span<const StepSequence>(&seq, 1),
                                  std::span<float>(logits.data(), input.size() * vocab)));
    const size_t first_target = bos ? start : start + 1;
    for (size_t t = first_target; t < end; ++t) {
      const float* row = logits.data() + (t - first_target) * vocab;  // predicts ids[t]
      const double v = LogSumExp(std::span<const float>(row, vocab)) - row[ids[t]];
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
  if (args.json) {
    std::cout << "{\"tokens\":" << count << ",\"chunks\":" << chunks << ",\"ctx\":" << ctx
              << ",\"nll_per_token\":" << std::setprecision(9) << mean << ",\"perplexity\":" << ppl
              << ",\"stderr\":" << stderr_ppl << "}\n";
  } else {
    std::cout << "Final estimate: PPL = " << std::fixed << std::setprecision(4) << ppl << " +/- "
              << stderr_ppl << "\n"
              << count << " tokens in " << chunks << " chunks of ctx " << ctx << ", "
              << std::setprecision(1) << count / seconds << " tokens/s\n";
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
  cmd->add_option("--threads,-t", args->threads, "Compute threads (default: all CPUs)");
  cmd->add_flag("--json", args->json, "One JSON object instead of the llama.cpp-style lines");
  cmd->callback([args, exit_code] {
    const Status s = RunPerplexity(*args);
    if (!s.ok()) {
      std::cerr << "streamgen perplexity: " << s.message() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
