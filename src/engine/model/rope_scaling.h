// RoPE frequency scaling schemes, shared by the GGUF and Hugging Face config readers and by the
// test-model writer (which must produce the same numbers llama.cpp's converter would).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/status.h"

namespace sg {

// Llama-3.1 ("rope_type": "llama3") parameters, as in a Hugging Face config's rope_scaling.
struct Llama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192;  // tokens
};

// Checks the parameters are usable (positive, finite, high_freq_factor != low_freq_factor).
Status ValidateLlama3RopeScaling(const Llama3RopeScaling& s);

// Per-pair divisors, head_dim/2 entries: what llama.cpp's converter stores in rope_freqs.weight
// (1 for high frequencies, `factor` for low ones, smoothed in between), so that the scaled
// inverse frequency is inv_freq[i] / factors[i]. `inv_freq` are the unscaled frequencies.
std::vector<float> Llama3RopeFactors(const std::vector<float>& inv_freq,
                                     const Llama3RopeScaling& s);

// The scaled inverse frequencies exactly as transformers' _compute_llama3_parameters defines them:
// wavelen = 2*pi/f; wavelen > old/low: f/factor; wavelen < old/high: f; otherwise
// (1 - smooth) * f/factor + smooth * f with smooth = (old/wavelen - low) / (high - low).
std::vector<float> Llama3ScaledInvFreq(const std::vector<float>& inv_freq,
                                       const Llama3RopeScaling& s);

}  // namespace sg
