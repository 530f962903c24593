#include "engine/sampling/logits_processors.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sg {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Writes the ids of the finite scores into `order` (in id order); returns how many. After
// SanitizeScores "finite" is the same as "not -inf".
size_t CollectFinite(std::span<const float> scores, std::span<int32_t> order) {
  size_t n = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (scores[i] != kNegInf) order[n++] = static_cast<int32_t>(i);
  }
  return n;
}

// Descending by score, lower id first on ties: the order in which TGI's warpers rank tokens.
auto MoreLikely(std::span<const float> scores) {
  return [scores](int32_t a, int32_t b) {
    return scores[a] != scores[b] ? scores[a] > scores[b] : a < b;
  };
}

// Calls visit(id) for order[0..n) in `before` order until it returns true, and returns the
// position where it stopped (n if it never did). The order is sorted lazily: chunks of growing size
// (64, 256, 1024, ...) are selected with nth_element and sorted, so a walk that stops after m
// tokens costs O(n log(m)) instead of a full O(n log n) sort; the nucleus is usually small. On
// return, order[0..stop] is sorted and order[stop+1..n) holds the other ids in no order.
template <typename Before, typename Visit>
size_t VisitInOrder(std::span<int32_t> order, size_t n, Before before, Visit visit) {
  const auto first = order.begin();
  size_t done = 0;
  size_t chunk = 64;
  while (done < n) {
    const size_t end = std::min(n, done + chunk);
    if (end < n) std::nth_element(first + done, first + (end - 1), first + n, before);
    std::sort(first + done, first + end, before);
    for (size_t j = done; j < end; ++j) {
      if (visit(order[j])) return j;
    }
    done = end;
    chunk *= 4;
  }
  return n;
}

}  // namespace

void ApplyRepetitionPenalty(std::span<float> scores, std::span<const int32_t> seen, float penalty) {
  for (int32_t id : seen) {
    if (id < 0 || static_cast<size_t>(id) >= scores.size()) continue;
    const float s = scores[id];
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

void ApplyFrequencyPenalty(std::span<float> scores, std::span<const int32_t> seen,
                           std::span<const int32_t> counts, float penalty) {
  for (int32_t id : seen) {
    if (id < 0 || static_cast<size_t>(id) >= scores.size() ||
        static_cast<size_t>(id) >= counts.size()) {
      continue;
    }
    scores[id] -= static_cast<float>(counts[id]) * penalty;
  }
}

void ApplyTemperature(std::span<float> scores, float temperature) {
  for (float& s : scores) s /= temperature;
}

int64_t SanitizeScores(std::span<float> scores) {
  int64_t finite = 0;
  int64_t positive_inf = 0;
  for (float& s : scores) {
    if (std::isnan(s)) {
      s = kNegInf;
    } else if (s == std::numeric_limits<float>::infinity()) {
      ++positive_inf;
    } else if (s != kNegInf) {
      ++finite;
    }
  }
  if (positive_inf == 0) return finite;
  for (float& s : scores) s = s == std::numeric_limits<float>::infinity() ? 0.0f : kNegInf;
  return positive_inf;
}

void ApplyTopK(std::span<float> scores, int32_t k, std::span<int32_t> order) {
  if (k <= 0) return;
  const size_t n = CollectFinite(scores, order);
  if (static_cast<size_t>(k) >= n) return;
  // Position k-1 gets the k-th largest value.
  std::nth_element(order.begin(), order.begin() + (k - 1), order.begin() + n, MoreLikely(scores));
  const float kth = scores[order[k - 1]];
  for (float& s : scores) {
    if (s < kth) s = kNegInf;
  }
}

void ApplyTopP(std::span<float> scores, float top_p, std::span<int32_t> order) {
  if (!(top_p < 1.0f)) return;
  const size_t n = CollectFinite(scores, order);
  if (n <= 1) return;
  double max_score = kNegInf;
  for (size_t j = 0; j < n; ++j) max_score = std::max<double>(max_score, scores[order[j]]);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += std::exp(scores[order[j]] - max_score);
  // transformers removes a token when its ascending cumulative probability is <= 1 - top_p, i.e.
  // when the mass strictly above it (descending order) is >= top_p. So walk down from the most
  // likely token until the mass reaches top_p: that token is the last one kept. The first token is
  // always kept (min_tokens_to_keep = 1), even for top_p <= 0.
  const double keep_mass = static_cast<double>(top_p) * sum;
  double mass = 0;
  const size_t last = VisitInOrder(order, n, MoreLikely(scores), [&](int32_t id) {
    mass += std::exp(scores[id] - max_score);
    return mass >= keep_mass;
  });
  for (size_t j = last + 1; j < n; ++j) scores[order[j]] = kNegInf;
}

void ApplyTypicalP(std::span<float> scores, float mass, std::span<int32_t> order,
                   std::span<float> shift) {
  if (!(mass < 1.0f)) return;
  const size_t n = CollectFinite(scores, order);
  if (n <= 1) return;
  double max_score = kNegInf;
  for (size_t j = 0; j < n; ++j) max_score = std::max<double>(max_score, scores[order[j]]);
  double sum = 0;
  for (size_t j = 0; j < n; ++j) sum += std::exp(scores[order[j]] - max_score);
  const double lse = max_score + std::log(sum);
  // Entropy over the finite tokens (transformers' nansum skips the 0 * -inf terms).
  double entropy = 0;
  for (size_t j = 0; j < n; ++j) {
    const double logp = scores[order[j]] - lse;
    entropy -= std::exp(logp) * logp;
  }
  for (size_t j = 0; j < n; ++j) {
    const int32_t id = order[j];
    shift[id] = static_cast<float>(std::fabs(-(scores[id] - lse) - entropy));
  }
  // transformers: last = number of sorted tokens whose cumulative probability is still below
  // `mass`, i.e. the first position reaching it (clamped to the last token: if rounding keeps the
  // total below `mass`, nothing is removed).
  double cumulative = 0;
  const size_t last = VisitInOrder(
      order, n,
      [&](int32_t a, int32_t b) { return shift[a] != shift[b] ? shift[a] < shift[b] : a < b; },
      [&](int32_t id) {
        cumulative += std::exp(scores[id] - lse);
        return !(cumulative < mass);
      });
  if (last >= n) return;
  const float limit = shift[order[last]];
  for (size_t j = last + 1; j < n; ++j) {
    if (shift[order[j]] > limit) scores[order[j]] = kNegInf;  // ties with the limit are kept
  }
}

}  // namespace sg
