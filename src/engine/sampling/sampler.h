// Chooses the next token of one sequence from its logits row, as TGI's backend does (§3.4):
// logit processors in the order repetition penalty -> frequency penalty -> grammar mask ->
// temperature -> top-k -> top-p -> typical-p, then argmax (greedy) or a multinomial draw from the
// request's own RNG.
// The reported logprob (and the top-n alternatives) are log-softmax of the PROCESSED scores, so a
// token removed by a filter has logprob -inf. Each processor runs when its parameter is not
// neutral (TGI builds its warpers that way); do_sample only picks argmax vs draw. The server sets
// do_sample whenever a warper is on, so a greedy request runs penalties only.
// Greedy: argmax, lowest id on ties. Draw: one UniformDouble u, then the first id (in id order)
// whose cumulative exp(score - max) exceeds u * sum (inverse CDF), so zero-probability ids are
// never drawn.
//
// Argmax only: a greedy call that asks for no logprob and no top-n needs no probability at all, so
// it runs the processors that are on and then ONE argmax pass over the processed scores -- no
// exponential over the vocabulary (the softmax normalizer is most of a greedy token's sampling
// time on a 150k vocabulary). The id is the same as the full path's (see Sample).
//
// Reproducibility: the RNG is per sequence (seeded from SamplingParams::seed), and every
// computation depends only on this sequence's logits and history, so the same seed gives the same
// tokens whatever else shares the batch.
//
// Parameters are sanitized at construction (validation upstream rejects these, but nothing derived
// from a request may crash): a temperature that is not finite and > 0, a repetition penalty that is
// not finite and > 0, a non-finite frequency penalty, a negative top_k, and a NaN top_p/typical_p
// each turn that processor off.
//
// Degenerate rows: NaN logits count as -inf; a +inf logit makes the row a point mass on the +inf
// ids (see SanitizeScores). A row with no finite score left (all NaN/-inf) gives id 0 with logprob
// -inf and an empty top-n list; a sampling Sampler still consumes its one uniform draw so later
// draws do not shift.
//
// Grammar (SamplingParams::grammar): a GrammarMatcher masks the row after the penalties and before
// temperature and the filters (TGI's processor order), so logprobs and top-n are those of the
// constrained distribution. The mask knows how many tokens are left (max_new_tokens minus the
// tokens accepted so far) and only lets the text take paths that can still be completed in time,
// two tokens early, so that EOS comes before the last token and the sequence ends with eos_token
// (an EOS that is the last allowed token reports `length`). If
// nothing the grammar allows has a finite score, the sampler takes the allowed token that leads
// closest to a complete text (never a token the grammar forbids).
//
// Thread rules: one Sampler per sequence; used by one thread at a time. Sample() does not
// allocate (scratch is sized to the vocabulary at construction; with a grammar, the first visit of
// a state computes and caches its mask once); the caller's `top` vector only
// grows when its capacity is below the list length (ties can make it longer than top_n).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <random>
#include <span>
#include <vector>

#include "engine/constrain/grammar.h"
#include "engine/sampling/sampling_params.h"

namespace sg {

struct SampledToken {
  int32_t id = 0;
  // log-softmax of the processed scores; -inf if the token was filtered; NaN when Sample was told
  // the caller does not need it and took the argmax-only path.
  float logprob = 0.0f;
};

class Sampler {
 public:
  // prompt_ids: the context the penalties count (the prompt after truncation). max_new_tokens: the
  // sequence's budget, which a grammar's mask keeps the text completable within.
  Sampler(const SamplingParams& params, int32_t vocab_size, std::span<const int32_t> prompt_ids,
          int32_t max_new_tokens = std::numeric_limits<int32_t>::max());

  // Picks the next token from `logits` (vocab_size floats; modified in place as scratch).
  // top_n > 0 also fills `top` with the top_n most likely tokens of the processed distribution,
  // most likely first; ties at the n-th value are all included (TGI: may be longer than n).
  // with_logprob false: the caller does not report the chosen token's logprob (TGI shows it only
  // in streams, `details` and best_of); a greedy call with top_n <= 0 then takes the argmax-only
  // path and returns logprob NaN.
  // Does NOT record the token: call Accept() with the id the sequence really continues with.
  SampledToken Sample(std::span<float> logits, int top_n, std::vector<SampledToken>* top,
                      bool with_logprob = true);

  // Adds `id` to the history the penalties count and advances the grammar, if any.
  void Accept(int32_t id);

  // The grammar's state, or null when unconstrained.
  const GrammarMatcher* grammar() const { return matcher_ ? &*matcher_ : nullptr; }

  const SamplingParams& params() const { return params_; }

  // Calls of Sample that computed the softmax normalizer (an exp of every score). A test seam: it
  // proves the argmax-only path is taken without timing anything.
  int64_t normalized_rows() const { return normalized_rows_; }

 private:
  SamplingParams params_;
  int32_t vocab_size_;
  std::vector<int32_t> counts_;  // {vocab} occurrences in prompt + generated; empty if !penalties_
  std::vector<int32_t> seen_;    // ids with counts_ > 0, each once (penalties touch only these)
  std::mt19937_64 rng_;
  std::vector<float> scratch_;  // {vocab} exp(score - max) for the draw; typical-p shifts
  std::vector<int32_t> order_;  // {vocab} ids sorted by score for top-k/p/typical/top-n
  bool penalties_ = false;      // repetition or frequency penalty on: counts_ is sized
  bool filters_ = false;        // top-k, top-p or typical-p on
  int64_t normalized_rows_ = 0;
  std::optional<GrammarMatcher> matcher_;  // set when params_.grammar is
  int32_t remaining_tokens_;               // max_new_tokens minus tokens accepted

  // The allowed token whose next state is nearest to acceptance (EOS when it is allowed): the
  // choice when the masked row has no finite score.
  int32_t NearestAllowedToken() const;

  void Count(int32_t id);  // the penalties' history only
  // The grammar's mask for this step, keeping room in the budget for EOS.
  void ApplyGrammar(std::span<float> scores);

  // Fills `top` from the processed scores: every finite token whose score is >= the n-th largest,
  // most likely first, lower id first on ties. lse: logsumexp of `scores`.
  void FillTop(std::span<const float> scores, double lse, int top_n,
               std::vector<SampledToken>* top);
};

// A uniform double in [0, 1) from the top 53 bits of one engine output. Spelled out (not
// std::uniform_real_distribution, whose algorithm the standard leaves open) so that a seed gives
// the same tokens with every standard library.
double UniformDouble(std::mt19937_64& rng);

// Log-softmax of one row: out[i] = logits[i] - logsumexp(logits). NaN counts as -inf; if any
// logit is +inf, the +inf ids share the whole mass (as SanitizeScores decides for sampling).
void LogSoftmaxRow(std::span<const float> logits, std::span<float> out);

// LogSoftmaxRow(logits, out)[id], bit for bit, without writing a row: one prompt logprob costs a
// pass over the row and no vocabulary-sized scratch. id < logits.size().
float LogSoftmaxAt(std::span<const float> logits, size_t id);

}  // namespace sg
