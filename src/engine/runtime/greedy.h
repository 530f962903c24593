// Greedy decoding helpers over one logits row (vocab_size floats): argmax, log-softmax and the
// top-k tokens with their log-probabilities. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace sg {

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0.0f;  // natural log of the softmax probability
};

// Index of the largest value; the lowest index wins ties (NaN never wins). -1 if empty.
int32_t Argmax(std::span<const float> logits);

// log(sum(exp(logits))), computed stably (max subtracted), accumulated in double.
double LogSumExp(std::span<const float> logits);

// out[i] = logits[i] - LogSumExp(logits); out.size() == logits.size().
void LogSoftmax(std::span<const float> logits, std::span<float> out);

// The k most likely tokens, most likely first (lower id first on ties), with log-probabilities.
std::vector<TokenLogprob> TopK(std::span<const float> logits, int k);

}  // namespace sg
