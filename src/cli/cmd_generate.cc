// `streamgen generate`: greedy decoding from token ids (text arrives with the tokenizer issue).
// Plain output: the generated ids, space-separated, on one line. --json: one line per generated
// token, {"id":..,"logprob":..,"top":[[id,logprob],...5]}. Stops at the model's eos if it has one
// (the eos id is printed as the last token).
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/core/thread_pool.h"
#include "engine/model/model.h"
#include "engine/runtime/executor.h"
#include "engine/runtime/greedy.h"
#include "engine/runtime/id_list.h"

namespace sg::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt_ids;
  int64_t max_new_tokens = 16;
  bool json = false;
  int threads = 0;
};

constexpr int64_t kMaxBatchTokens = 512;

Status RunGenerate(const GenerateArgs& args) {
  SG_ASSIGN_OR_RETURN(std::vector<int32_t> prompt, ParseIdList(args.prompt_ids));
  if (args.max_new_tokens < 0) return InvalidArgumentError("--max-new-tokens must be >= 0");
  if (args.threads < 0) return InvalidArgumentError("--threads must be >= 0");
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(args.model));
  ThreadPool pool(args.threads > 0 ? args.threads : DefaultThreadCount());
  ExecutorOptions opts;
  opts.max_batch_tokens = kMaxBatchTokens;
  opts.max_sequences = 1;
  opts.kv_token_budget =
      static_cast<int64_t>(prompt.size()) + std::max<int64_t>(1, args.max_new_tokens);
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  const int64_t vocab = model->config.vocab_size;
  const int32_t eos = model->config.eos_token_id;
  std::vector<float> logits(static_cast<size_t>(vocab));
  KvAllocation kv = exec->NewSequence();

  // Prefill in chunks of the executor's batch size; only the last chunk's last row matters.
  const int64_t n = static_cast<int64_t>(prompt.size());
  for (int64_t start = 0; start < n; start += kMaxBatchTokens) {
    const int64_t len = std::min(kMaxBatchTokens, n - start);
    StepSequence s{std::span<const int32_t>(prompt).subspan(start, len), start, &kv, false};
    SG_RETURN_IF_ERROR(exec->Step({&s, 1}, logits));
  }
  std::vector<int32_t> generated;
  for (int64_t i = 0; i < args.max_new_tokens; ++i) {
    const int32_t id = Argmax(logits);
    generated.push_back(id);
    if (args.json) {
      nlohmann::json line;
      line["id"] = id;
      line["logprob"] = static_cast<float>(logits[id] - LogSumExp(logits));  // as in "top"
      nlohmann::json top = nlohmann::json::array();
      for (const TokenLogprob& t : TopK(logits, 5)) top.push_back({t.id, t.logprob});
      line["top"] = std::move(top);
      std::cout << line.dump() << "\n" << std::flush;
    }
    if ((eos >= 0 && id == eos) || i + 1 == args.max_new_tokens) break;
    StepSequence s{std::span<const int32_t>(&generated.back(), 1), n + i, &kv, false};
    SG_RETURN_IF_ERROR(exec->Step({&s, 1}, logits));
  }
  if (!args.json) {
    for (size_t i = 0; i < generated.size(); ++i) std::cout << (i ? " " : "") << generated[i];
    std::cout << "\n";
  }
  return OkStatus();
}

}  // namespace

void RegisterGenerate(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Greedy decoding from token ids");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("--prompt-ids", args->prompt_ids, "Prompt token ids, e.g. 1,2,3")->required();
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Tokens to generate")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON line per token with logprob and top-5");
  cmd->add_option("--threads", args->threads, "Compute threads (default: all CPUs)");
  cmd->callback([args, exit_code] {
    const Status s = RunGenerate(*args);
    if (!s.ok()) {
      std::cerr << "streamgen generate: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
