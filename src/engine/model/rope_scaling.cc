#include "engine/model/rope_scaling.h"

#include <cmath>
#include <numbers>

namespace sg {

Status ValidateLlama3RopeScaling(const Llama3RopeScaling& s) {
  auto bad = [](double v) { return !std::isfinite(v) || v <= 0; };
  if (bad(s.factor) || bad(s.low_freq_factor) || bad(s.high_freq_factor) ||
      bad(s.original_max_position_embeddings)) {
    return InvalidArgumentError(
        "llama3 rope_scaling needs positive factor, low_freq_factor, high_freq_factor and "
        "original_max_position_embeddings");
  }
  if (s.high_freq_factor == s.low_freq_factor) {
    return InvalidArgumentError("llama3 rope_scaling has high_freq_factor == low_freq_factor");
  }
  return OkStatus();
}

std::vector<float> Llama3RopeFactors(const std::vector<float>& inv_freq,
                                     const Llama3RopeScaling& s) {
  const double low_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const double high_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
  std::vector<float> factors;
  factors.reserve(inv_freq.size());
  for (float f : inv_freq) {
    const double wavelen = 2 * std::numbers::pi / static_cast<double>(f);
    if (wavelen < high_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      factors.push_back(static_cast<float>(s.factor));
    } else {
      const double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      factors.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth)));
    }
  }
  return factors;
}

std::vector<float> Llama3ScaledInvFreq(const std::vector<float>& inv_freq,
                                       const Llama3RopeScaling& s) {
  const double low_wavelen = s.original_max_position_embeddings / s.low_freq_factor;
  const double high_wavelen = s.original_max_position_embeddings / s.high_freq_factor;
  std::vector<float> out;
  out.reserve(inv_freq.size());
  for (float f32 : inv_freq) {
    const double f = f32;
    const double wavelen = 2 * std::numbers::pi / f;
    double scaled = wavelen > low_wavelen ? f / s.factor : f;
    const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    if (medium) {
      const double smooth = (s.original_max_position_embeddings / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      scaled = (1 - smooth) * scaled / s.factor + smooth * scaled;
    }
    out.push_back(static_cast<float>(scaled));
  }
  return out;
}

}  // namespace sg
