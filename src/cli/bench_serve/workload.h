// The prompts a benchmark sends: lines of a file (plain text or JSONL with a "prompt" field), or
// synthetic text of an exact token length, optionally all starting with the same shared prefix
// (a "system prompt"; how prefix caching is measured). Lengths are counted without the special
// tokens the tokenizer adds (BOS) and, for the chat endpoint, without the chat template's text.
// Thread rules: BuildWorkload blocks (it may call the server's /tokenize); call it before a run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/bench_serve/token_counter.h"
#include "engine/core/status.h"

namespace sg::benchserve {

struct WorkloadSpec {
  std::string prompt_file;    // non-empty: read prompts from it
  int input_len = 128;        // synthetic: tokens of each prompt AFTER the shared prefix
  int shared_prefix_len = 0;  // tokens of the prefix every prompt starts with (0 = none)
  size_t num_prompts = 32;    // distinct synthetic prompts
  uint64_t seed = 0;
};

struct Workload {
  std::vector<std::string> prompts;
  std::vector<int64_t> prompt_tokens;  // per prompt; -1 when no counter was available
  std::string source;                  // "synthetic" or "file <path>"
  std::string token_counts;            // the counter's source, or "none"
  int shared_prefix_tokens = 0;
  // Prompts whose first shared_prefix_tokens tokens are exactly the prefix's tokens (a prefix
  // cache can reuse all of it). Equals prompts.size() unless a tokenizer merged across the seam.
  size_t prefix_exact = 0;
};

// Deterministic ASCII text (English words, punctuation, line breaks) of at least `min_chars`
// bytes; different seeds give different texts.
std::string SyntheticText(uint64_t seed, size_t min_chars);

// The longest head of `head + tail` whose tokens are exactly `tokens` (`head` itself is kept
// whole); `tail` is lengthened as needed. Cuts at a token's end offset, re-counts, and moves one
// token back or forth while a tokenizer merges differently at the cut.
StatusOr<std::string> FitToTokens(const std::string& head, uint64_t tail_seed, int tokens,
                                  const TokenCounter& counter);

// `counter` may be null: synthetic prompts then use an estimate of 4 bytes per token and
// prompt_tokens stays -1 (the report says so).
StatusOr<Workload> BuildWorkload(const WorkloadSpec& spec, const TokenCounter* counter);

}  // namespace sg::benchserve
