#include "engine/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/sampling/logits_processors.h"

namespace sg {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Turns every out-of-domain parameter into its neutral value (see the header).
SamplingParams Sanitized(SamplingParams p) {
  if (!(p.temperature > 0.0f) || !std::isfinite(p.temperature)) p.temperature = 1.0f;
  if (!(p.repetition_penalty > 0.0f) || !std::isfinite(p.repetition_penalty)) {
    p.repetition_penalty = 1.0f;
  }
  if (!std::isfinite(p.frequency_penalty)) p.frequency_penalty = 0.0f;
  if (p.top_k < 0) p.top_k = 0;
  if (std::isnan(p.top_p)) p.top_p = 1.0f;
  if (std::isnan(p.typical_p)) p.typical_p = 1.0f;
  return p;
}

// What log-softmax needs of a row, computed once: LogSoftmaxRow and LogSoftmaxAt share it so that
// a prompt logprob taken alone equals the same entry of the whole row.
struct RowNormalizer {
  size_t positive_inf = 0;  // +inf logits: each gets 1 / positive_inf of the mass
  double lse = kNegInf;     // logsumexp of the row (NaN counted as -inf); -inf if nothing finite

  float LogProb(float logit) const {
    if (positive_inf > 0) {
      return logit == -kNegInf ? -std::log(static_cast<float>(positive_inf)) : kNegInf;
    }
    if (lse == kNegInf || std::isnan(logit)) return kNegInf;
    return static_cast<float>(logit - lse);
  }
};

RowNormalizer Normalize(std::span<const float> logits) {
  RowNormalizer norm;
  float max_score = kNegInf;
  for (float v : logits) {
    if (v == -kNegInf) ++norm.positive_inf;
    if (v > max_score) max_score = v;
  }
  if (norm.positive_inf > 0 || max_score == kNegInf) return norm;
  double sum = 0;
  for (float v : logits) {
    if (!std::isnan(v)) sum += std::exp(static_cast<double>(v) - max_score);
  }
  norm.lse = max_score + std::log(sum);
  return norm;
}

}  // namespace

double UniformDouble(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

Sampler::Sampler(const SamplingParams& params, int32_t vocab_size,
                 std::span<const int32_t> prompt_ids, int32_t max_new_tokens)
    : params_(Sanitized(params)),
      vocab_size_(std::max<int32_t>(0, vocab_size)),
      rng_(params.seed),
      remaining_tokens_(std::max<int32_t>(1, max_new_tokens)) {
  penalties_ = params_.repetition_penalty != 1.0f || params_.frequency_penalty != 0.0f;
  filters_ = params_.top_k > 0 || params_.top_p < 1.0f || params_.typical_p < 1.0f;
  if (penalties_) {
    counts_.assign(vocab_size_, 0);
    seen_.reserve(std::min<size_t>(vocab_size_, prompt_ids.size() + 256));
    for (int32_t id : prompt_ids) Count(id);
  }
  // A grammar built for another vocabulary cannot mask this one: the server never submits that
  // (one GrammarCache per model), and a mismatch leaves the sequence unconstrained rather than
  // indexing out of bounds.
  if (params_.grammar != nullptr && params_.grammar->index().vocab_size() <= vocab_size_) {
    matcher_.emplace(params_.grammar);
  }
  scratch_.resize(vocab_size_);
  order_.resize(vocab_size_);
}

void Sampler::Count(int32_t id) {
  if (!penalties_ || id < 0 || id >= vocab_size_) return;
  if (counts_[id]++ == 0) seen_.push_back(id);
}

void Sampler::Accept(int32_t id) {
  Count(id);
  if (matcher_) matcher_->Accept(id);
  if (remaining_tokens_ > 1) --remaining_tokens_;
}

void Sampler::ApplyGrammar(std::span<float> scores) {
  const std::span<const int32_t> eos = matcher_->grammar().index().eos_ids();
  if (eos.empty()) {
    matcher_->ApplyMask(scores, remaining_tokens_);
    return;
  }
  // The text must be complete two tokens before the budget ends, so that EOS fits before the
  // last token: an EOS that is the max_new_tokens-th token reports `length` (the length check
  // runs first, §3.5), and a complete text should end with eos_token. With two tokens or fewer
  // left, a complete text gets EOS alone.
  if (remaining_tokens_ <= 2 && matcher_->CanEnd()) {
    for (size_t id = 0; id < scores.size(); ++id) {
      if (std::find(eos.begin(), eos.end(), static_cast<int32_t>(id)) == eos.end()) {
        scores[id] = kNegInf;
      }
    }
    return;
  }
  matcher_->ApplyMask(scores, std::max(1, remaining_tokens_ - 2));
}

int32_t Sampler::NearestAllowedToken() const {
  const Grammar& grammar = matcher_->grammar();
  const int32_t state = matcher_->state();
  if (matcher_->CanEnd() && !grammar.index().eos_ids().empty()) {
    return grammar.index().eos_ids().front();
  }
  const TokenMask& mask = grammar.MaskFor(state);
  int32_t best = -1;
  int32_t best_distance = std::numeric_limits<int32_t>::max();
  for (int32_t id = 0; id < grammar.index().vocab_size(); ++id) {
    if (!mask.Test(id)) continue;
    const int32_t next = grammar.NextState(state, id);
    if (next == ByteDfa::kDead) continue;
    const int32_t distance = grammar.dfa().MinBytesToAccept(next);
    if (distance < best_distance) {
      best_distance = distance;
      best = id;
    }
  }
  return best < 0 ? 0 : best;
}

SampledToken Sampler::Sample(std::span<float> logits, int top_n, std::vector<SampledToken>* top,
                             bool with_logprob) {
  if (top != nullptr) top->clear();
  std::span<float> scores = logits.first(std::min(logits.size(), static_cast<size_t>(vocab_size_)));
  const bool argmax_only = !params_.do_sample && !with_logprob && (top == nullptr || top_n <= 0);

  // Processors, in TGI's order (§3.4).
  if (params_.repetition_penalty != 1.0f) {
    ApplyRepetitionPenalty(scores, seen_, params_.repetition_penalty);
  }
  if (params_.frequency_penalty != 0.0f) {
    ApplyFrequencyPenalty(scores, seen_, counts_, params_.frequency_penalty);
  }
  // The grammar mask sits between the penalties and the warpers, as in TGI (§3.4).
  if (matcher_) ApplyGrammar(scores);
  if (params_.temperature != 1.0f) ApplyTemperature(scores, params_.temperature);
  // After the elementwise steps, so that an overflow to +-inf or a NaN they produce is caught too.
  // Argmax only with no filter on skips this pass: the strict `>` argmax below never picks a NaN
  // and picks the lowest +inf id, the same id as on the sanitized row (+inf -> 0, the rest -inf).
  if ((!argmax_only || filters_) && SanitizeScores(scores) > 0) {
    ApplyTopK(scores, params_.top_k, order_);
    ApplyTopP(scores, params_.top_p, order_);
    ApplyTypicalP(scores, params_.typical_p, order_, scratch_);
  }

  // Max and argmax (lowest id wins ties; typical-p may have removed the previous maximum).
  float max_score = kNegInf;
  int32_t argmax = -1;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] > max_score) {
      max_score = scores[i];
      argmax = static_cast<int32_t>(i);
    }
  }
  // Drawn before the early return so that every call consumes exactly one draw.
  const double u = params_.do_sample ? UniformDouble(rng_) : 0.0;
  if (argmax < 0) return {matcher_ ? NearestAllowedToken() : 0, kNegInf};  // see the header
  if (argmax_only) return {argmax, std::numeric_limits<float>::quiet_NaN()};

  // sum = sum_i exp(score_i - max) >= 1, accumulated in double from the same floats the draw
  // walks, so the inverse CDF below always lands inside the row.
  ++normalized_rows_;
  double sum = 0;
  if (params_.do_sample) {
    for (size_t i = 0; i < scores.size(); ++i) {
      scratch_[i] = std::exp(scores[i] - max_score);
      sum += scratch_[i];
    }
  } else {
    for (float s : scores) sum += std::exp(s - max_score);
  }
  const double lse = max_score + std::log(sum);

  int32_t id = argmax;
  if (params_.do_sample) {
    const double target = u * sum;
    double cumulative = 0;
    int32_t last_positive = argmax;
    id = -1;
    for (size_t i = 0; i < scores.size(); ++i) {
      if (scratch_[i] <= 0.0f) continue;
      cumulative += scratch_[i];
      last_positive = static_cast<int32_t>(i);
      if (cumulative > target) {
        id = last_positive;
        break;
      }
    }
    if (id < 0) id = last_positive;  // rounding left the target at the very end
  }
  FillTop(scores, lse, top_n, top);
  return {id, static_cast<float>(scores[id] - lse)};
}

void Sampler::FillTop(std::span<const float> scores, double lse, int top_n,
                      std::vector<SampledToken>* top) {
  if (top == nullptr || top_n <= 0) return;
  auto more_likely = [&](int32_t a, int32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
  // Pass 1: the top_n best in a heap on order_[0..size) whose front is the least likely kept, so
  // most tokens cost one comparison. O(vocab log top_n), no sort of the row.
  const auto heap = order_.begin();
  const size_t n = std::min(static_cast<size_t>(top_n), scores.size());
  size_t size = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] == kNegInf) continue;  // TGI leaves -inf tokens out of top_tokens
    const int32_t id = static_cast<int32_t>(i);
    if (size < n) {
      order_[size++] = id;
      std::push_heap(heap, heap + size, more_likely);
    } else if (more_likely(id, order_[0])) {
      std::pop_heap(heap, heap + size, more_likely);
      order_[size - 1] = id;
      std::push_heap(heap, heap + size, more_likely);
    }
  }
  if (size == 0) return;
  // Pass 2: every token at least as likely as the n-th (ties with it included), then sorted.
  const float nth = scores[order_[0]];
  size_t count = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] >= nth) order_[count++] = static_cast<int32_t>(i);
  }
  std::sort(heap, heap + count, more_likely);
  for (size_t j = 0; j < count; ++j) {
    top->push_back({order_[j], static_cast<float>(scores[order_[j]] - lse)});
  }
}

void LogSoftmaxRow(std::span<const float> logits, std::span<float> out) {
  const size_t n = std::min(logits.size(), out.size());
  const RowNormalizer norm = Normalize(logits.first(n));
  for (size_t i = 0; i < n; ++i) out[i] = norm.LogProb(logits[i]);
}

float LogSoftmaxAt(std::span<const float> logits, size_t id) {
  return Normalize(logits).LogProb(logits[id]);
}

}  // namespace sg
