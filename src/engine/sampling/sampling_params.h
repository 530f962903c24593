// What a request asks of token selection and stopping, in engine terms (no JSON, no HTTP): the
// server's validation fills these from TGI's GenerateParameters (§3.1 of the API contract).
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sg {

class Grammar;  // engine/constrain/grammar.h

// Token selection. Defaults are the neutral values: greedy, no penalties, no filters.
struct SamplingParams {
  // Multinomial draw instead of argmax. The server sets it as TGI's backend does: do_sample, or
  // temperature != 1, top_k != 0, top_p < 1 or typical_p < 1 (§3.4).
  bool do_sample = false;
  float temperature = 1.0f;         // > 0; logits are divided by it
  int32_t top_k = 0;                // 0 = off
  float top_p = 1.0f;               // (0, 1]; 1 = off
  float typical_p = 1.0f;           // (0, 1]; 1 = off
  float repetition_penalty = 1.0f;  // > 0; CTRL penalty over prompt + generated ids; 1 = off
  float frequency_penalty = 0.0f;   // [-2, 2]; logit -= count * penalty; 0 = off
  uint64_t seed = 0;                // the request's RNG seed (used only when do_sample)
  // Structured output (TGI's `grammar`): every token is drawn from those that keep the text a
  // prefix of the grammar's language, EOS only once it is complete. Null = unconstrained. Shared
  // and immutable; compiled by the server (GrammarCache) before the request is submitted.
  std::shared_ptr<const Grammar> grammar;
};

struct StoppingParams {
  int32_t max_new_tokens = 1;               // >= 1; reaching it finishes with kLength
  std::vector<std::string> stop_sequences;  // matched on decoded text (§3.5)
  bool ignore_eos = false;                  // tests and benchmarks: never finish on EOS
};

}  // namespace sg
