// ModelConfig from a Hugging Face config.json (transformers' LlamaConfig / MistralConfig /
// Qwen2Config / Qwen3Config keys and defaults).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/status.h"
#include "engine/model/model_config.h"

namespace sg {

// `origin` names config.json in errors. Never throws: wrong JSON types are errors.
// tied_embeddings comes from tie_word_embeddings (transformers' default: false); the weight
// binder also ties when lm_head.weight is absent.
StatusOr<ModelConfig> ConfigFromHfJson(const nlohmann::json& config, const std::string& origin);

}  // namespace sg
