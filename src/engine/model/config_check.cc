#include "engine/model/config_check.h"

#include <cmath>

namespace sg {
namespace {

// Generous upper bounds (the largest real models are far below) that keep every product of two
// sizes well inside int64 and every single size inside int32 for kernels.
constexpr int64_t kMaxDim = int64_t{1} << 20;    // hidden, intermediate, head_dim
constexpr int64_t kMaxVocab = int64_t{1} << 24;  // tokens
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = 4096;
constexpr int64_t kMaxContext = int64_t{1} << 24;  // tokens

Status CheckRange(const std::string& origin, const char* what, int64_t v, int64_t max) {
  if (v <= 0 || v > max) {
    return InvalidArgumentError(origin + ": " + what + " is " + std::to_string(v) +
                                ", expected 1.." + std::to_string(max));
  }
  return OkStatus();
}

}  // namespace

std::optional<Arch> ArchFromName(std::string_view name) {
  if (name == "llama") return Arch::kLlama;
  if (name == "qwen2") return Arch::kQwen2;
  if (name == "qwen3") return Arch::kQwen3;
  return std::nullopt;
}

std::string SupportedArchList() { return "llama, qwen2, qwen3"; }

Status CheckModelConfig(const ModelConfig& c, const std::string& origin) {
  SG_RETURN_IF_ERROR(CheckRange(origin, "vocab_size", c.vocab_size, kMaxVocab));
  SG_RETURN_IF_ERROR(CheckRange(origin, "hidden_size", c.hidden_size, kMaxDim));
  SG_RETURN_IF_ERROR(CheckRange(origin, "intermediate_size", c.intermediate_size, kMaxDim));
  SG_RETURN_IF_ERROR(CheckRange(origin, "number of layers", c.num_layers, kMaxLayers));
  SG_RETURN_IF_ERROR(CheckRange(origin, "number of attention heads", c.num_heads, kMaxHeads));
  SG_RETURN_IF_ERROR(CheckRange(origin, "number of key/value heads", c.num_kv_heads, kMaxHeads));
  SG_RETURN_IF_ERROR(CheckRange(origin, "head_dim", c.head_dim, kMaxDim));
  SG_RETURN_IF_ERROR(CheckRange(origin, "context length", c.max_context, kMaxContext));
  if (c.num_heads % c.num_kv_heads != 0) {
    return InvalidArgumentError(origin + ": " + std::to_string(c.num_heads) +
                                " attention heads are not a multiple of " +
                                std::to_string(c.num_kv_heads) + " key/value heads");
  }
  if (c.head_dim % 2 != 0) {
    return InvalidArgumentError(origin + ": head_dim " + std::to_string(c.head_dim) +
                                " is odd; RoPE needs pairs");
  }
  if (c.num_heads * c.head_dim > kMaxDim) {
    return InvalidArgumentError(origin + ": attention width " +
                                std::to_string(c.num_heads * c.head_dim) + " is too large");
  }
  if (!std::isfinite(c.rms_norm_eps) || c.rms_norm_eps <= 0 || c.rms_norm_eps > 1) {
    return InvalidArgumentError(origin + ": rms_norm_eps " + std::to_string(c.rms_norm_eps) +
                                " is not in (0, 1]");
  }
  if (!std::isfinite(c.rope_theta) || c.rope_theta <= 1) {
    return InvalidArgumentError(origin + ": rope theta " + std::to_string(c.rope_theta) +
                                " must be a finite number > 1");
  }
  if (static_cast<int64_t>(c.rope_inv_freq.size()) != c.head_dim / 2) {
    return InvalidArgumentError(
        origin + ": " + std::to_string(c.rope_inv_freq.size()) +
        " rope frequencies, expected head_dim/2 = " + std::to_string(c.head_dim / 2));
  }
  for (float f : c.rope_inv_freq) {
    if (!std::isfinite(f) || f <= 0) {
      return InvalidArgumentError(origin + ": a rope frequency is not a finite positive number");
    }
  }
  return OkStatus();
}

}  // namespace sg
