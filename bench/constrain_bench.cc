// constrain_bench: the cost of structured output on a real vocabulary (default: Qwen3's 151k
// tokens). For each grammar (a JSON Schema file or a regex): the cold compile time (first use:
// JSON parse + schema -> Rx -> DFA), the first-time mask of each new DFA state a run visits
// (mean and max), and the cost of GrammarMatcher::ApplyMask + Accept along random valid token
// paths, for 1 stream (microseconds per token) and for 16 streams stepped together as continuous
// batching does (microseconds per step, all 16 on one thread). "steady": steps where no stream
// ran the budget filter (cached masks only); "all": every step, including those where a stream in
// its last tokens before max_new_tokens ran the filter (an uncached walk of the vocabulary).
// First-time masks are timed apart and counted in neither.
// The limit printed beside the result: writing -inf over a whole logits row (what a mask that
// allows almost nothing must do at least).
//
// Usage: constrain_bench [--tokenizer PATH] [--schema FILE]... [--regex PATTERN]...
//                        [--paths N] [--max-tokens N] [--seed N]
// Without --schema/--regex: every schema (*.json holding an object) under tests/constrain/schemas/.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "bench_files.h"
#include "engine/constrain/grammar.h"
#include "engine/constrain/token_index.h"
#include "engine/core/machine.h"
#include "engine/text/token_bytes.h"
#include "engine/text/tokenizer.h"

namespace sg {
namespace {

using Clock = std::chrono::steady_clock;

double MicrosSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

struct GrammarSpec {
  std::string label;
  GrammarKind kind;
  std::string source;
};

struct Options {
  std::string tokenizer = STREAMGEN_SHARED_DIR "/refdata/tokenizers/qwen3";
  std::vector<GrammarSpec> grammars;
  int paths = 32;        // random paths per stream count
  int max_tokens = 256;  // max_new_tokens of each path (the budget of the budget filter)
  uint32_t seed = 1;
};

using sg::bench::ReadFile;

// `text` cut to `max_chars` bytes with "|" escaped, for a markdown table cell.
std::string MarkdownCell(std::string_view text, size_t max_chars) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < max_chars; ++i) {
    if (text[i] == '|') out += '\\';
    out += text[i];
  }
  if (text.size() > max_chars) out += "...";
  return out;
}

bool ParseOptions(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h" || i + 1 >= argc) return false;
    const std::string v = argv[++i];
    if (arg == "--tokenizer") {
      o->tokenizer = v;
    } else if (arg == "--schema") {
      std::string text;
      if (!ReadFile(v, &text)) {
        std::fprintf(stderr, "constrain_bench: cannot read %s\n", v.c_str());
        return false;
      }
      o->grammars.push_back({std::filesystem::path(v).filename().string(), GrammarKind::kJsonSchema,
                             std::move(text)});
    } else if (arg == "--regex") {
      o->grammars.push_back({"regex " + MarkdownCell(v, 40), GrammarKind::kRegex, v});
    } else if (arg == "--paths") {
      o->paths = std::atoi(v.c_str());
    } else if (arg == "--max-tokens") {
      o->max_tokens = std::atoi(v.c_str());
    } else if (arg == "--seed") {
      o->seed = static_cast<uint32_t>(std::strtoul(v.c_str(), nullptr, 10));
    } else {
      return false;
    }
  }
  return o->paths > 0 && o->max_tokens > 0;
}

// Every *.json of the test schemas, in name order.
void DefaultSchemas(Options* o) {
  const std::filesystem::path dir = STREAMGEN_SOURCE_DIR "/tests/constrain/schemas";
  std::error_code ec;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string text;
    if (!ReadFile(f.string(), &text)) continue;
    // A list of cases (unsupported.json: schemas that must be refused) is not a schema.
    if (nlohmann::json::parse(text, nullptr, false).is_array()) continue;
    o->grammars.push_back({f.filename().string(), GrammarKind::kJsonSchema, std::move(text)});
  }
}

struct Stats {
  double sum = 0, max = 0;
  int64_t n = 0;
  void Add(double v) {
    sum += v;
    max = std::max(max, v);
    ++n;
  }
  double Mean() const { return n > 0 ? sum / static_cast<double>(n) : 0.0; }
};

struct RunResult {
  Stats first_mask_us;  // MaskFor of a state seen for the first time
  Stats steady_us;      // per step: no stream ran the budget filter
  Stats all_us;         // per step: every step, budget-filter steps included
  int64_t tokens = 0;
  int64_t filter_steps = 0;  // steps where some stream ran the budget filter
};

// One sequence: a matcher and its budget.
struct Stream {
  std::unique_ptr<GrammarMatcher> matcher;
  int32_t remaining = 0;
};

// `streams` sequences stepped together, as continuous batching does: each step every stream gets
// its logits row masked (ApplyMask) and takes a uniformly random allowed token (Accept); a stream
// that ends (EOS or budget) is replaced by a new sequence. Budgets are uniform in
// [max_tokens / 2, max_tokens], so the streams' last tokens (where the budget filter runs) are
// spread over the steps. Stops after `paths` sequences have ended and max_tokens steps. Only
// ApplyMask + Accept are timed; a first-time mask is timed alone, outside the step.
void RunPaths(const std::shared_ptr<const Grammar>& grammar, int streams, const Options& opt,
              std::mt19937& rng, RunResult* out) {
  const TokenIndex& index = grammar->index();
  const size_t vocab = static_cast<size_t>(index.vocab_size());
  std::vector<std::vector<float>> logits(static_cast<size_t>(streams),
                                         std::vector<float>(vocab, 0.0f));
  std::vector<int32_t> allowed;
  allowed.reserve(vocab);
  const int32_t eos = index.eos_ids().empty() ? -1 : index.eos_ids()[0];
  auto restart = [&](Stream& st) {
    st.matcher = std::make_unique<GrammarMatcher>(grammar);
    st.remaining = opt.max_tokens / 2 + static_cast<int32_t>(rng() % (opt.max_tokens / 2 + 1));
  };
  std::vector<Stream> batch(static_cast<size_t>(streams));
  for (Stream& st : batch) restart(st);
  int ended = 0;
  // At least max_tokens steps too, so that a 16-stream run sees long sequences end, not only the
  // first `paths` short ones.
  for (int64_t step = 0; ended < opt.paths || step < opt.max_tokens; ++step) {
    double step_us = 0;
    bool filtered = false;
    for (int s = 0; s < streams; ++s) {
      Stream& st = batch[s];
      GrammarMatcher& m = *st.matcher;
      const int64_t before = grammar->masks_computed();
      const auto t_first = Clock::now();
      const TokenMask& cached = grammar->MaskFor(m.state());
      if (grammar->masks_computed() != before) out->first_mask_us.Add(MicrosSince(t_first));
      filtered |= st.remaining - 1 < cached.max_next_distance;
      std::fill(logits[s].begin(), logits[s].end(), 0.0f);  // a fresh row, as from the model
      const auto t0 = Clock::now();
      m.ApplyMask(logits[s], st.remaining);
      step_us += MicrosSince(t0);
      allowed.clear();
      for (size_t id = 0; id < vocab; ++id) {
        if (logits[s][id] == 0.0f) allowed.push_back(static_cast<int32_t>(id));
      }
      int32_t id = -1;
      if (!allowed.empty()) {
        id = allowed[rng() % allowed.size()];
        const auto t1 = Clock::now();
        const bool ok = m.Accept(id);
        step_us += MicrosSince(t1);
        if (!ok) {
          std::fprintf(stderr, "constrain_bench: Accept refused an allowed token %d\n", id);
          std::exit(1);
        }
        ++out->tokens;
      }
      // Ended: EOS, the budget, or a final state without EOS in the vocabulary.
      if (allowed.empty() || id == eos || --st.remaining == 0) {
        if (!m.CanEnd()) {
          std::fprintf(stderr, "constrain_bench: a sequence ended outside the language\n");
          std::exit(1);
        }
        ++ended;
        restart(st);
      }
    }
    out->all_us.Add(step_us);
    if (filtered) {
      ++out->filter_steps;
    } else {
      out->steady_us.Add(step_us);
    }
  }
}

// The floor of ApplyMask: one -inf store per token of a row (a mask allowing almost nothing).
double FillFloorMicros(size_t vocab) {
  std::vector<float> row(vocab, 0.0f);
  double best = 1e30;
  for (int i = 0; i < 200; ++i) {
    const auto t0 = Clock::now();
    std::fill(row.begin(), row.end(), -std::numeric_limits<float>::infinity());
    best = std::min(best, MicrosSince(t0));
    row[i % vocab] = 0.0f;
  }
  return best;
}

int Main(int argc, char** argv) {
  Options opt;
  if (!ParseOptions(argc, argv, &opt)) {
    std::fprintf(stderr,
                 "usage: constrain_bench [--tokenizer PATH] [--schema FILE]... "
                 "[--regex PATTERN]... [--paths N] [--max-tokens N] [--seed N]\n");
    return 2;
  }
  if (opt.grammars.empty()) DefaultSchemas(&opt);
  if (opt.grammars.empty()) {
    std::fprintf(stderr, "constrain_bench: no grammars (tests/constrain/schemas/ is empty)\n");
    return 1;
  }
  auto tok = Tokenizer::Load(opt.tokenizer);
  if (!tok.ok()) {
    std::fprintf(stderr, "constrain_bench: %s: %s\n", opt.tokenizer.c_str(),
                 tok.status().ToString().c_str());
    return 1;
  }
  auto t0 = Clock::now();
  std::vector<std::string> bytes = TokenByteStrings(**tok);
  const double bytes_ms = MicrosSince(t0) / 1e3;
  if (bytes.empty()) {
    std::fprintf(stderr, "constrain_bench: this tokenizer has no per-token bytes\n");
    return 1;
  }
  std::vector<int32_t> eos;
  if ((*tok)->settings().eos_token_id) eos.push_back(*(*tok)->settings().eos_token_id);
  t0 = Clock::now();
  auto index = std::make_shared<const TokenIndex>(std::move(bytes), std::move(eos));
  const double index_ms = MicrosSince(t0) / 1e3;

  std::printf("CPU: %s; one thread\n", CpuName().c_str());
  std::printf("tokenizer: %s; vocabulary %d tokens (%zu with bytes, longest %zu bytes)\n",
              opt.tokenizer.c_str(), index->vocab_size(), index->sorted_ids().size(),
              index->max_token_bytes());
  std::printf("per model, once: token bytes %.1f ms, token index %.1f ms\n", bytes_ms, index_ms);
  std::printf("limit: -inf over a whole %d-float logits row: %.1f us\n", index->vocab_size(),
              FillFloorMicros(static_cast<size_t>(index->vocab_size())));
  std::printf("random valid paths: %d per stream count, max_new_tokens %d, seed %u\n\n", opt.paths,
              opt.max_tokens, opt.seed);
  std::printf(
      "| grammar | DFA states | compile ms | states visited | first mask us (mean / max) | "
      "1 stream us/token (steady / all) | 16 streams us/step (steady / all) | filter steps "
      "(1 / 16) | tokens |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const GrammarSpec& spec : opt.grammars) {
    GrammarCache cache(index);  // fresh: the first Get is a cold compile
    t0 = Clock::now();
    auto grammar = cache.Get(spec.kind, spec.source);
    const double compile_ms = MicrosSince(t0) / 1e3;
    if (!grammar.ok()) {
      std::printf("| %s | - | refused: %s | | | | | | |\n", spec.label.c_str(),
                  grammar.status().ToString().c_str());
      continue;
    }
    std::mt19937 rng(opt.seed);
    RunResult one, sixteen;
    RunPaths(*grammar, 1, opt, rng, &one);
    RunPaths(*grammar, 16, opt, rng, &sixteen);
    Stats first = one.first_mask_us;
    first.sum += sixteen.first_mask_us.sum;
    first.n += sixteen.first_mask_us.n;
    first.max = std::max(first.max, sixteen.first_mask_us.max);
    std::printf(
        "| %s | %d | %.2f | %lld | %.0f / %.0f | %.1f / %.1f | %.0f / %.0f | %.0f%% / %.0f%% | "
        "%lld |\n",
        spec.label.c_str(), (*grammar)->dfa().num_states(), compile_ms,
        static_cast<long long>((*grammar)->masks_computed()), first.Mean(), first.max,
        one.steady_us.Mean(), one.all_us.Mean(), sixteen.steady_us.Mean(), sixteen.all_us.Mean(),
        100.0 * static_cast<double>(one.filter_steps) / static_cast<double>(one.all_us.n),
        100.0 * static_cast<double>(sixteen.filter_steps) / static_cast<double>(sixteen.all_us.n),
        static_cast<long long>(one.tokens + sixteen.tokens));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace sg

int main(int argc, char** argv) { return sg::Main(argc, argv); }
