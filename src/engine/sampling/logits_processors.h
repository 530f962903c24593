// The logit processors and warpers of TGI's Python backend (transformers' LogitsWarper family and
// TGI's Heterogeneous* versions), one function each, on ONE row of scores (vocab floats, modified
// in place). Sampler runs them in TGI's order (§3.4 of the API contract):
//   repetition penalty -> frequency penalty -> temperature -> sanitize -> top-k -> top-p ->
//   typical-p.
// A filtered token is set to -inf, exactly as transformers' filter_value.
//
// Inputs the filters rely on: after SanitizeScores no score is NaN or +inf, so softmax is defined
// whenever at least one score is finite. The filters never remove every finite token (each keeps
// at least one, min_tokens_to_keep = 1), and do nothing on a row with no finite score.
//
// Scratch: `order` spans are caller-owned (>= scores.size() ids) so that nothing here allocates.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <span>

namespace sg {

// CTRL repetition penalty (transformers RepetitionPenaltyLogitsProcessor): for each id in `seen`
// (each id at most once, all < scores.size()): score < 0 -> score * penalty, else score / penalty.
void ApplyRepetitionPenalty(std::span<float> scores, std::span<const int32_t> seen, float penalty);

// Frequency penalty as the contract states it (§3.1): score[id] -= counts[id] * penalty for each
// id in `seen`. counts: {vocab} occurrences of each id in prompt + generated ids.
void ApplyFrequencyPenalty(std::span<float> scores, std::span<const int32_t> seen,
                           std::span<const int32_t> counts, float penalty);

// score /= temperature (TemperatureLogitsWarper divides; so do we, for the same rounding).
void ApplyTemperature(std::span<float> scores, float temperature);

// Makes a row safe for softmax: NaN -> -inf. If any score is +inf, the distribution is the limit
// point mass on those ids: each +inf becomes 0 and every other score -inf (a uniform draw among the
// +inf ids). Returns the number of finite scores left (0 means "no information": every token has
// probability 0; Sampler then answers id 0 with logprob -inf).
int64_t SanitizeScores(std::span<float> scores);

// Top-k (TopKLogitsWarper): keeps every score >= the k-th largest (so ties at the k-th value are
// all kept, as transformers' `scores < topk(...)[-1]` removal does), others -inf. k <= 0 or k >=
// the number of finite scores is a no-op (TGI clamps k to the vocabulary). O(vocab): nth_element.
void ApplyTopK(std::span<float> scores, int32_t k, std::span<int32_t> order);

// Top-p / nucleus (TopPLogitsWarper): transformers sorts ascending, takes the cumulative softmax
// and removes tokens whose cumulative probability is <= 1 - top_p, always keeping the most likely
// token. Equivalently (what we compute, sorting only the nucleus): walking down from the most
// likely token, keep tokens until the kept mass reaches top_p. Ties in score are ordered by id,
// the LOWER id counting as more likely (kept first). Only finite scores take part (a -inf token
// has probability 0 and is removed anyway). top_p >= 1 or NaN: no-op.
void ApplyTopP(std::span<float> scores, float top_p, std::span<int32_t> order);

// Typical decoding (TypicalLogitsWarper, mass = typical_p): with p = softmax(scores) and entropy
// H = -sum p log p, sorts tokens by |(-log p) - H| ascending, finds the first position where the
// cumulative p reaches `mass` (clamped to the last finite token), and removes every token whose
// shift is strictly greater than the shift there (ties kept). Ties in shift are ordered by id.
// Sorts only as far as that position.
// `shift` is scratch of >= scores.size() floats. mass >= 1 or NaN: no-op.
void ApplyTypicalP(std::span<float> scores, float mass, std::span<int32_t> order,
                   std::span<float> shift);

}  // namespace sg
