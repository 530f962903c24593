// `streamgen generate`: greedy decoding from a text prompt or from token ids.
// --prompt TEXT: tokenized with the model's tokenizer (the folder's tokenizer.json or the GGUF's
// vocabulary, special tokens added); the generated text streams to stdout piece by piece (flushed
// after each token, special tokens skipped), then a newline.
// --prompt-ids: plain output is the generated ids, space-separated, on one line.
// --json (either prompt): one line per generated token, {"id":..,"logprob":..,"top":[[id,
// logprob],...]}, plus "text" and "special" (the streamed piece) with --prompt. "top" lists the
// --top N (default 5; 0: an empty list; capped at the vocabulary) most likely tokens, most likely
// first, lower id first on ties, exactly N of them, so that an outside reference with a longer
// top list can be compared. Stops at the model's eos if it has one (the eos id is the last token).
// Without --json nothing needs a probability: each token is an argmax, no softmax.
#include <algorithm>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/default_model.h"
#include "cli/load_progress.h"
#include "engine/core/thread_pool.h"
#include "engine/model/model.h"
#include "engine/runtime/executor.h"
#include "engine/runtime/greedy.h"
#include "engine/runtime/id_list.h"
#include "engine/text/detokenizer.h"
#include "engine/text/tokenizer.h"

namespace sg::cli {
namespace {

struct GenerateArgs {
  std::string model;
  std::string prompt_ids;
  std::string prompt;  // text; exclusive with prompt_ids
  int64_t max_new_tokens = 16;
  bool json = false;
  int top = 5;  // alternatives per token in --json
  int threads = 0;
  std::string kv_cache_dtype = "f16";
};

constexpr int64_t kMaxBatchTokens = 512;

Status RunGenerate(GenerateArgs args) {
  if (args.model.empty()) {
    SG_ASSIGN_OR_RETURN(args.model, FindDefaultModel());
    std::cerr << "no --model given: using the bundled demo model " << args.model << "\n";
  }
  const bool text_mode = !args.prompt.empty();
  if (text_mode == !args.prompt_ids.empty()) {
    return InvalidArgumentError("give exactly one of --prompt and --prompt-ids");
  }
  if (args.max_new_tokens < 0) return InvalidArgumentError("--max-new-tokens must be >= 0");
  if (args.threads < 0) return InvalidArgumentError("--threads must be >= 0");
  if (args.top < 0) return InvalidArgumentError("--top must be >= 0");
  // The model first: its errors (wrong path, unsupported architecture) say more than the
  // tokenizer's would for the same path.
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model,
                      LoadModelWithProgress(args.model, StderrLoadDisplay()));
  std::unique_ptr<Tokenizer> tokenizer;
  std::vector<int32_t> prompt;
  if (text_mode) {
    // Tokenizer::Load takes the model folder (its tokenizer.json) or the GGUF file alike.
    StatusOr<std::unique_ptr<Tokenizer>> tok = Tokenizer::Load(args.model);
    if (!tok.ok()) {
      return Status(tok.status().code(),
                    "cannot load the tokenizer of " + args.model + ": " + tok.status().message());
    }
    tokenizer = std::move(*tok);
    prompt = tokenizer->Encode(args.prompt, /*add_special_tokens=*/true).ids;
    if (prompt.empty()) return InvalidArgumentError("--prompt tokenizes to no tokens");
  } else {
    SG_ASSIGN_OR_RETURN(prompt, ParseIdList(args.prompt_ids));
  }
  ThreadPool pool(args.threads > 0 ? args.threads : DefaultThreadCount());
  ExecutorOptions opts;
  opts.max_batch_tokens = kMaxBatchTokens;
  opts.max_sequences = 1;
  SG_ASSIGN_OR_RETURN(opts.kv_dtype, ParseKvCacheDType(args.kv_cache_dtype));
  opts.kv_token_budget =
      static_cast<int64_t>(prompt.size()) + std::max<int64_t>(1, args.max_new_tokens);
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));
  const int64_t vocab = model->config.vocab_size;
  const int32_t eos = model->config.eos_token_id;
  std::vector<float> logits(static_cast<size_t>(vocab));
  for (int32_t id : prompt) {
    if (id < 0 || id >= vocab) {
      return InvalidArgumentError("prompt token id " + std::to_string(id) +
                                  " is outside the model's vocabulary of " + std::to_string(vocab));
    }
  }
  KvAllocation kv = exec->NewSequence();
  // Skip special tokens in the streamed text (eos would print as "</s>"); the prompt gives the
  // first piece its leading space as TGI streams it.
  std::unique_ptr<IncrementalDetokenizer> detok;
  if (tokenizer) {
    detok = std::make_unique<IncrementalDetokenizer>(*tokenizer, /*skip_special_tokens=*/true);
    detok->SetPrompt(prompt);
  }

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
    TextPiece piece;
    if (detok) piece = detok->Push(id);
    if (detok && !args.json) std::cout << piece.text << std::flush;
    if (args.json) {
      nlohmann::json line;
      line["id"] = id;
      line["logprob"] = static_cast<float>(logits[id] - LogSumExp(logits));  // as in "top"
      nlohmann::json top = nlohmann::json::array();
      for (const TokenLogprob& t : TopK(logits, args.top)) top.push_back({t.id, t.logprob});
      line["top"] = std::move(top);
      if (detok) {
        line["text"] = piece.text;
        line["special"] = piece.special;
      }
      std::cout << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n"
                << std::flush;
    }
    if ((eos >= 0 && id == eos) || i + 1 == args.max_new_tokens) break;
    StepSequence s{std::span<const int32_t>(&generated.back(), 1), n + i, &kv, false};
    SG_RETURN_IF_ERROR(exec->Step({&s, 1}, logits));
  }
  if (detok && !args.json) {
    std::cout << detok->Flush() << "\n" << std::flush;
  } else if (detok) {
    // Bytes held back at the end (an incomplete UTF-8 tail) get a line of their own.
    const std::string rest = detok->Flush();
    if (!rest.empty()) {
      std::cout << nlohmann::json{{"text", rest}}.dump(-1, ' ', false,
                                                       nlohmann::json::error_handler_t::replace)
                << "\n"
                << std::flush;
    }
  } else if (!args.json) {
    for (size_t i = 0; i < generated.size(); ++i) std::cout << (i ? " " : "") << generated[i];
    std::cout << "\n";
  }
  return OkStatus();
}

}  // namespace

void RegisterGenerate(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<GenerateArgs>();
  auto* cmd = app.add_subcommand("generate", "Greedy decoding from a text prompt or token ids");
  cmd->add_option("--model,-m", args->model,
                  "GGUF file or Hugging Face folder (default: the bundled demo model)");
  // Exactly one of the two prompts; checked in RunGenerate so the error exits 1 like the others.
  cmd->add_option("--prompt", args->prompt, "Prompt text (streams the output text)");
  cmd->add_option("--prompt-ids", args->prompt_ids, "Prompt token ids, e.g. 1,2,3");
  cmd->add_option("--max-new-tokens", args->max_new_tokens, "Tokens to generate")
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "One JSON line per token with its logprob and the top N");
  cmd->add_option("--top", args->top, "Alternatives listed per token with --json")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Compute threads (default: all CPUs)");
  AddKvCacheDTypeOption(cmd, &args->kv_cache_dtype);
  cmd->callback([args, exit_code] {
    const Status s = RunGenerate(*args);
    if (!s.ok()) {
      std::cerr << "streamgen generate: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
