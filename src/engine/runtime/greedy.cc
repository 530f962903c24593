#include "engine/runtime/greedy.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace sg {

int32_t Argmax(std::span<const float> logits) {
  int32_t best = -1;
  float best_value = -std::numeric_limits<float>::infinity();
  for (size_t i = 0; i < logits.size(); ++i) {
    if (best < 0 ? !std::isnan(logits[i]) : logits[i] > best_value) {
      best = static_cast<int32_t>(i);
      best_value = logits[i];
    }
  }
  if (best < 0 && !logits.empty()) best = 0;  // all NaN: any answer is as good
  return best;
}

double LogSumExp(std::span<const float> logits) {
  if (logits.empty()) return -std::numeric_limits<double>::infinity();
  double max_value = -std::numeric_limits<double>::infinity();
  for (float v : logits) max_value = std::max<double>(max_value, v);
  if (std::isinf(max_value)) return max_value;
  double sum = 0;
  for (float v : logits) sum += std::exp(static_cast<double>(v) - max_value);
  return max_value + std::log(sum);
}

void LogSoftmax(std::span<const float> logits, std::span<float> out) {
  const double lse = LogSumExp(logits);
  const size_t n = std::min(logits.size(), out.size());
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(logits[i] - lse);
}

std::vector<TokenLogprob> TopK(std::span<const float> logits, int k) {
  const size_t n = logits.size();
  const size_t kk = std::min(n, static_cast<size_t>(std::max(0, k)));
  std::vector<int32_t> ids(n);
  std::iota(ids.begin(), ids.end(), 0);
  auto before = [&](int32_t a, int32_t b) {
    const float va = logits[a], vb = logits[b];
    if (std::isnan(va) != std::isnan(vb)) return std::isnan(vb);  // NaN last
    if (va != vb) return va > vb;
    return a < b;
  };
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(kk), ids.end(), before);
  const double lse = LogSumExp(logits);
  std::vector<TokenLogprob> out;
  out.reserve(kk);
  for (size_t i = 0; i < kk; ++i) {
    out.push_back({ids[i], static_cast<float>(logits[ids[i]] - lse)});
  }
  return out;
}

}  // namespace sg
