#include "engine/model/model_config.h"

#include <cmath>

namespace sg {

const char* ArchName(Arch arch) {
  switch (arch) {
    case Arch::kLlama:
      return "llama";
    case Arch::kQwen2:
      return "qwen2";
    case Arch::kQwen3:
      return "qwen3";
  }
  return "unknown";
}

std::vector<float> DefaultRopeInvFreq(int64_t head_dim, float theta) {
  std::vector<float> inv_freq;
  if (head_dim <= 0) return inv_freq;
  inv_freq.reserve(static_cast<size_t>(head_dim / 2));
  // Computed in double and rounded once, so the value is the correctly rounded
  // theta^(-2i/d) (PyTorch computes it in float32; they agree to about 1 ulp).
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double exponent = static_cast<double>(2 * i) / static_cast<double>(head_dim);
    inv_freq.push_back(static_cast<float>(1.0 / std::pow(static_cast<double>(theta), exponent)));
  }
  return inv_freq;
}

}  // namespace sg
