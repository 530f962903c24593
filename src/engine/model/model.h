// A loaded model: hyperparameters plus named weight views over the mapped files (no copies).
// Thread rules: immutable after LoadModel returns; any thread may read.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/core/huge_buffer.h"
#include "engine/core/status.h"
#include "engine/core/tensor_view.h"
#include "engine/io/tensor_store.h"
#include "engine/model/model_config.h"

namespace sg {

// Shapes use streamgen's order (outermost first): a Linear weight is {out, in}.
// H = hidden_size, I = intermediate_size, Nh = num_heads, Nkv = num_kv_heads, D = head_dim.
struct LayerWeights {
  TensorView attn_norm;  // {H}
  TensorView wq;         // {Nh*D, H}
  TensorView wk;         // {Nkv*D, H}
  TensorView wv;         // {Nkv*D, H}
  TensorView wo;         // {H, Nh*D}
  TensorView bq;         // {Nh*D}   qwen2 only, else empty
  TensorView bk;         // {Nkv*D}  qwen2 only
  TensorView bv;         // {Nkv*D}  qwen2 only
  TensorView q_norm;     // {D}      qwen3 only (RMSNorm per head)
  TensorView k_norm;     // {D}      qwen3 only
  TensorView ffn_norm;   // {H}
  TensorView w_gate;     // {I, H}
  TensorView w_up;       // {I, H}
  TensorView w_down;     // {H, I}
};

struct ModelWeights {
  TensorView token_embedding;  // {V, H}
  std::vector<LayerWeights> layers;
  TensorView output_norm;  // {H}
  TensorView output;       // {V, H}; the same view as token_embedding when tied
};

enum class ModelSource { kGguf, kHfFolder };

struct Model {
  std::string path;  // what the user passed
  ModelSource source = ModelSource::kGguf;
  ModelConfig config;
  ModelWeights weights;
  TensorStore tensors;  // every tensor in the file(s), by its file name; keeps mappings alive
  // Owner of the packed copy the weight views point into after PackWeights (pack_weights.h);
  // null while the views point into the file mappings.
  std::shared_ptr<const HugeBuffer> packed_weights;
};

// Loads a GGUF file or a Hugging Face folder (config.json + safetensors). Errors name the file and
// what was wrong: a missing or mis-shaped tensor, an unsupported architecture or weight type.
StatusOr<std::unique_ptr<Model>> LoadModel(const std::string& path);

}  // namespace sg
