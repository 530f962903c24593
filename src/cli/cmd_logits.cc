// `streamgen logits`: the driver of the reference tests. All prompts are sequences of ONE batch;
// each step every unfinished prompt contributes its next chunk and every finished one that still
// has tokens to generate contributes its last token, so prefill and decode mix in the same step.
// FILE gets float32 little-endian logits, per sequence in order: the last prompt row (or, with
// --all-positions, one row per prompt position), vocab_size floats each. stdout gets
// {"vocab_size":V,"generated":[[ids of seq0],...]}, the greedy tokens of each sequence (the
// first is the argmax of its last prompt row; exactly --generate of them).
#include <algorithm>
#include <bit>
#include <cstdio>
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

static_assert(std::endian::native == std::endian::little, "logits files are little-endian");

struct LogitsArgs {
  std::string model;
  std::string prompts;
  int64_t chunk = 0;
  bool all_positions = false;
  int64_t generate = 0;
  int threads = 0;
  std::string out;
  // f32 by default: this command exists to diff the forward pass against a float64 reference.
  std::string kv_cache_dtype = "f32";
};

struct SeqState {
  std::vector<int32_t> prompt;
  std::vector<int32_t> generated;
  std::vector<float> prompt_logits;  // rows written to FILE
  KvAllocation kv;
  int64_t prompt_done = 0;
};

int64_t RoundUpToBlock(int64_t n) {
  return (n + kKvBlockTokens - 1) / kKvBlockTokens * kKvBlockTokens;
}

Status RunLogits(const LogitsArgs& args) {
  SG_ASSIGN_OR_RETURN(std::vector<std::vector<int32_t>> prompts, ParseIdLists(args.prompts));
  if (args.chunk < 0) return InvalidArgumentError("--chunk must be >= 0");
  if (args.generate < 0) return InvalidArgumentError("--generate must be >= 0");
  if (args.threads < 0) return InvalidArgumentError("--threads must be >= 0");
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, LoadModel(args.model));
  const int64_t vocab = model->config.vocab_size;

  // Size the executor for the largest possible step and every sequence's full length.
  ExecutorOptions opts;
  opts.max_sequences = static_cast<int64_t>(prompts.size());
  SG_ASSIGN_OR_RETURN(opts.kv_dtype, ParseKvCacheDType(args.kv_cache_dtype));
  opts.max_batch_tokens = 0;
  opts.kv_token_budget = 0;
  for (const auto& p : prompts) {
    const int64_t len = static_cast<int64_t>(p.size());
    opts.max_batch_tokens += args.chunk > 0 ? std::min(args.chunk, len) : len;
    opts.kv_token_budget += RoundUpToBlock(len + args.generate);
  }
  ThreadPool pool(args.threads > 0 ? args.threads : DefaultThreadCount());
  SG_ASSIGN_OR_RETURN(std::unique_ptr<Executor> exec, Executor::Create(*model, pool, opts));

  std::vector<SeqState> seqs(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    seqs[i].prompt = std::move(prompts[i]);
    seqs[i].kv = exec->NewSequence();
  }
  std::vector<float> logits(static_cast<size_t>(opts.max_batch_tokens * vocab));
  std::vector<StepSequence> batch;
  std::vector<SeqState*> members;
  for (;;) {
    batch.clear();
    members.clear();
    for (SeqState& s : seqs) {
      const int64_t len = static_cast<int64_t>(s.prompt.size());
      if (s.prompt_done < len) {
        const int64_t remaining = len - s.prompt_done;
        const int64_t n = args.chunk > 0 ? std::min(args.chunk, remaining) : remaining;
        batch.push_back({std::span<const int32_t>(s.prompt).subspan(s.prompt_done, n),
                         s.prompt_done, &s.kv, args.all_positions});
      } else if (static_cast<int64_t>(s.generated.size()) < args.generate) {
        const int64_t pos = len + static_cast<int64_t>(s.generated.size()) - 1;
        batch.push_back({std::span<const int32_t>(&s.generated.back(), 1), pos, &s.kv, false});
      } else {
        continue;
      }
      members.push_back(&s);
    }
    if (batch.empty()) break;
    SG_RETURN_IF_ERROR(exec->Step(batch, logits));
    const float* row = logits.data();
    for (size_t b = 0; b < batch.size(); ++b) {
      SeqState& s = *members[b];
      const int64_t len = static_cast<int64_t>(s.prompt.size());
      const int64_t n = static_cast<int64_t>(batch[b].tokens.size());
      const int64_t rows = batch[b].all_logits ? n : 1;
      const bool in_prompt = s.prompt_done < len;
      if (in_prompt) {
        s.prompt_done += n;
        const bool last_chunk = s.prompt_done == len;
        // --all-positions: every row of the chunk; else the chunk's single (last) row, kept only
        // for the final chunk.
        if (args.all_positions || last_chunk) {
          s.prompt_logits.insert(s.prompt_logits.end(), row, row + rows * vocab);
        }
        if (last_chunk && args.generate > 0) {
          s.generated.push_back(Argmax({row + (rows - 1) * vocab, static_cast<size_t>(vocab)}));
        }
      } else {
        s.generated.push_back(Argmax({row, static_cast<size_t>(vocab)}));
      }
      row += rows * vocab;
    }
  }

  std::FILE* f = std::fopen(args.out.c_str(), "wb");
  if (f == nullptr) return IoError("cannot open " + args.out + " for writing");
  bool ok = true;
  for (const SeqState& s : seqs) {
    const size_t count = s.prompt_logits.size();
    ok = ok && std::fwrite(s.prompt_logits.data(), sizeof(float), count, f) == count;
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return IoError("cannot write " + args.out);

  nlohmann::json result;
  result["vocab_size"] = vocab;
  nlohmann::json generated = nlohmann::json::array();
  for (const SeqState& s : seqs) generated.push_back(s.generated);
  result["generated"] = std::move(generated);
  std::cout << result.dump() << "\n";
  return OkStatus();
}

}  // namespace

void RegisterLogits(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<LogitsArgs>();
  auto* cmd =
      app.add_subcommand("logits", "Dump logits of prompts run as one batch (reference tests)");
  cmd->add_option("--model", args->model, "GGUF file or Hugging Face folder")->required();
  cmd->add_option("--prompts", args->prompts, "Prompts as token ids: \"1,2,3;4,5\"")->required();
  cmd->add_option("--chunk", args->chunk, "Prompt tokens per sequence per step (0: all)")
      ->capture_default_str();
  cmd->add_flag("--all-positions", args->all_positions, "Write a row per prompt position");
  cmd->add_option("--generate", args->generate, "Greedy tokens to generate per sequence")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Compute threads (default: all CPUs)");
  AddKvCacheDTypeOption(cmd, &args->kv_cache_dtype);
  cmd->add_option("--out", args->out, "Output file of float32 little-endian logits")->required();
  cmd->callback([args, exit_code] {
    const Status s = RunLogits(*args);
    if (!s.ok()) {
      std::cerr << "streamgen logits: " << s.ToString() << "\n";
      *exit_code = 1;
    }
  });
}

}  // namespace sg::cli
