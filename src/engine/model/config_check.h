// Sanity checks of hyperparameters read from an untrusted file, shared by the GGUF and Hugging Face
// config readers: every size positive and small enough that products of sizes cannot overflow.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/core/status.h"
#include "engine/model/model_config.h"

namespace sg {

// "llama" -> kLlama etc.; nullopt for anything else.
std::optional<Arch> ArchFromName(std::string_view name);

// The supported architecture names for error messages: "llama, qwen2, qwen3".
std::string SupportedArchList();

// Checks sizes, GQA divisibility, even head_dim, eps/theta finite and positive, and that
// rope_inv_freq has head_dim/2 finite positive entries. `origin` names the file in errors.
Status CheckModelConfig(const ModelConfig& config, const std::string& origin);

}  // namespace sg
