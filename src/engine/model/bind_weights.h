// Name mapping and checks that turn a TensorStore into ModelWeights: each weight is found under
// its GGUF or Hugging Face name, its shape checked against the config and its type against the
// types streamgen has kernels for.
#pragma once

#include <string>

#include "engine/core/status.h"
#include "engine/io/tensor_store.h"
#include "engine/model/model.h"
#include "engine/model/model_config.h"

namespace sg {

// File name of a weight. `layer` is ignored for the non-layer weights. Roles not stored by a
// format have no name (never happens for the roles below).
enum class WeightRole {
  kTokenEmbedding,
  kOutputNorm,
  kOutput,
  kAttnNorm,
  kWq,
  kWk,
  kWv,
  kWo,
  kBq,
  kBk,
  kBv,
  kBo,
  kQNorm,
  kKNorm,
  kFfnNorm,
  kWGate,
  kWUp,
  kWDown,
  kBGate,
};
std::string WeightName(ModelSource source, WeightRole role, int64_t layer);

// Binds every weight of the architecture in `config`. Sets config->tied_embeddings (output absent
// or tie_word_embeddings), has_qkv_bias (q/k/v biases present) and has_qk_norm (qwen3).
// `origin` (the GGUF file or HF folder) names the culprit in errors:
//   NotFound: a required tensor is missing; DataLoss: wrong shape or byte size;
//   Unimplemented: a weight type without kernels, or a bias streamgen does not model.
StatusOr<ModelWeights> BindWeights(const TensorStore& tensors, ModelSource source,
                                   const std::string& origin, ModelConfig* config);

}  // namespace sg
