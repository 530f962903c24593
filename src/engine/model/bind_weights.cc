#include "engine/model/bind_weights.h"

#include "engine/quant/traits.h"

namespace sg {
namespace {

const char* GgufLayerSuffix(WeightRole role) {
  switch (role) {
    case WeightRole::kAttnNorm:
      return "attn_norm.weight";
    case WeightRole::kWq:
      return "attn_q.weight";
    case WeightRole::kWk:
      return "attn_k.weight";
    case WeightRole::kWv:
      return "attn_v.weight";
    case WeightRole::kWo:
      return "attn_output.weight";
    case WeightRole::kBq:
      return "attn_q.bias";
    case WeightRole::kBk:
      return "attn_k.bias";
    case WeightRole::kBv:
      return "attn_v.bias";
    case WeightRole::kBo:
      return "attn_output.bias";
    case WeightRole::kQNorm:
      return "attn_q_norm.weight";
    case WeightRole::kKNorm:
      return "attn_k_norm.weight";
    case WeightRole::kFfnNorm:
      return "ffn_norm.weight";
    case WeightRole::kWGate:
      return "ffn_gate.weight";
    case WeightRole::kWUp:
      return "ffn_up.weight";
    case WeightRole::kWDown:
      return "ffn_down.weight";
    case WeightRole::kBGate:
      return "ffn_gate.bias";
    default:
      return "";
  }
}

const char* HfLayerSuffix(WeightRole role) {
  switch (role) {
    case WeightRole::kAttnNorm:
      return "input_layernorm.weight";
    case WeightRole::kWq:
      return "self_attn.q_proj.weight";
    case WeightRole::kWk:
      return "self_attn.k_proj.weight";
    case WeightRole::kWv:
      return "self_attn.v_proj.weight";
    case WeightRole::kWo:
      return "self_attn.o_proj.weight";
    case WeightRole::kBq:
      return "self_attn.q_proj.bias";
    case WeightRole::kBk:
      return "self_attn.k_proj.bias";
    case WeightRole::kBv:
      return "self_attn.v_proj.bias";
    case WeightRole::kBo:
      return "self_attn.o_proj.bias";
    case WeightRole::kQNorm:
      return "self_attn.q_norm.weight";
    case WeightRole::kKNorm:
      return "self_attn.k_norm.weight";
    case WeightRole::kFfnNorm:
      return "post_attention_layernorm.weight";
    case WeightRole::kWGate:
      return "mlp.gate_proj.weight";
    case WeightRole::kWUp:
      return "mlp.up_proj.weight";
    case WeightRole::kWDown:
      return "mlp.down_proj.weight";
    case WeightRole::kBGate:
      return "mlp.gate_proj.bias";
    default:
      return "";
  }
}

std::string SupportedTypeList() {
  std::string out;
  for (DType t : SupportedWeightTypes()) {
    if (!out.empty()) out += ", ";
    out += DTypeName(t);
  }
  return out;
}

// A type with kernels that is meant for weights (q8_K, say, has traits but is for activations).
bool IsWeightType(DType type) {
  if (GetQuantTraits(type) == nullptr) return false;
  for (DType t : SupportedWeightTypes()) {
    if (t == type) return true;
  }
  return false;
}

class Binder {
 public:
  Binder(const TensorStore& tensors, ModelSource source, const std::string& origin)
      : tensors_(tensors), source_(source), origin_(origin) {}

  const TensorView* Find(WeightRole role, int64_t layer) const {
    return tensors_.Find(WeightName(source_, role, layer));
  }

  // A weight matrix (any type with kernels) of exactly `shape`.
  StatusOr<TensorView> Matrix(WeightRole role, int64_t layer, std::vector<int64_t> shape) const {
    SG_ASSIGN_OR_RETURN(TensorView v, Required(role, layer, shape));
    const std::string name = WeightName(source_, role, layer);
    if (!IsWeightType(v.type)) {
      return UnimplementedError(
          origin_ + ": tensor '" + name + "' has weight type " + std::string(DTypeName(v.type)) +
          ", which streamgen does not support; supported: " +
          // A safetensors folder can only hold float weights; GGUF files also the block types.
          (source_ == ModelSource::kHfFolder ? std::string("f32, f16, bf16")
                                             : SupportedTypeList()));
    }
    SG_RETURN_IF_ERROR(CheckBytes(name, v));
    return v;
  }

  // A norm weight or bias: a float vector (f32, f16 or bf16) of exactly `shape`.
  StatusOr<TensorView> Vector(WeightRole role, int64_t layer, std::vector<int64_t> shape) const {
    SG_ASSIGN_OR_RETURN(TensorView v, Required(role, layer, shape));
    const std::string name = WeightName(source_, role, layer);
    if (v.type != DType::kF32 && v.type != DType::kF16 && v.type != DType::kBF16) {
      return UnimplementedError(origin_ + ": tensor '" + name + "' has type " +
                                std::string(DTypeName(v.type)) +
                                "; norm weights and biases must be f32, f16 or bf16");
    }
    SG_RETURN_IF_ERROR(CheckBytes(name, v));
    return v;
  }

 private:
  StatusOr<TensorView> Required(WeightRole role, int64_t layer,
                                const std::vector<int64_t>& shape) const {
    const std::string name = WeightName(source_, role, layer);
    const TensorView* v = tensors_.Find(name);
    if (v == nullptr) return NotFoundError(origin_ + ": missing tensor '" + name + "'");
    if (v->shape != shape) {
      return DataLossError(origin_ + ": tensor '" + name + "' has shape " +
                           ShapeToString(v->shape) + ", expected " + ShapeToString(shape));
    }
    return *v;
  }

  // The reader checked bytes against its own idea of the shape; check again here so that a
  // kernel may index rows x row_bytes without trusting any other layer.
  Status CheckBytes(const std::string& name, const TensorView& v) const {
    std::optional<uint64_t> row = RowBytes(v.type, static_cast<uint64_t>(v.cols()));
    if (!row) {
      return DataLossError(origin_ + ": tensor '" + name + "' rows of " + std::to_string(v.cols()) +
                           " elements are not whole " + std::string(DTypeName(v.type)) + " blocks");
    }
    if (*row * static_cast<uint64_t>(v.rows()) != v.nbytes || v.data == nullptr) {
      return DataLossError(origin_ + ": tensor '" + name + "' holds " + std::to_string(v.nbytes) +
                           " bytes, expected " +
                           std::to_string(*row * static_cast<uint64_t>(v.rows())));
    }
    return OkStatus();
  }

  const TensorStore& tensors_;
  ModelSource source_;
  const std::string& origin_;
};

}  // namespace

std::string WeightName(ModelSource source, WeightRole role, int64_t layer) {
  const bool gguf = source == ModelSource::kGguf;
  switch (role) {
    case WeightRole::kTokenEmbedding:
      return gguf ? "token_embd.weight" : "model.embed_tokens.weight";
    case WeightRole::kOutputNorm:
      return gguf ? "output_norm.weight" : "model.norm.weight";
    case WeightRole::kOutput:
      return gguf ? "output.weight" : "lm_head.weight";
    default:
      break;
  }
  const std::string n = std::to_string(layer);
  return gguf ? "blk." + n + "." + GgufLayerSuffix(role)
              : "model.layers." + n + "." + HfLayerSuffix(role);
}

StatusOr<ModelWeights> BindWeights(const TensorStore& tensors, ModelSource source,
                                   const std::string& origin, ModelConfig* config) {
  ModelConfig& c = *config;
  const Binder b(tensors, source, origin);
  const int64_t H = c.hidden_size, I = c.intermediate_size, V = c.vocab_size;
  const int64_t q_dim = c.num_heads * c.head_dim, kv_dim = c.num_kv_heads * c.head_dim;

  ModelWeights w;
  SG_ASSIGN_OR_RETURN(w.token_embedding, b.Matrix(WeightRole::kTokenEmbedding, 0, {V, H}));
  SG_ASSIGN_OR_RETURN(w.output_norm, b.Vector(WeightRole::kOutputNorm, 0, {H}));
  if (c.tied_embeddings || b.Find(WeightRole::kOutput, 0) == nullptr) {
    c.tied_embeddings = true;
    w.output = w.token_embedding;
  } else {
    SG_ASSIGN_OR_RETURN(w.output, b.Matrix(WeightRole::kOutput, 0, {V, H}));
  }

  c.has_qkv_bias = false;
  for (int64_t l = 0; l < c.num_layers && !c.has_qkv_bias; ++l) {
    for (WeightRole r : {WeightRole::kBq, WeightRole::kBk, WeightRole::kBv}) {
      if (b.Find(r, l) != nullptr) c.has_qkv_bias = true;
    }
  }
  c.has_qk_norm = c.arch == Arch::kQwen3;

  w.layers.resize(static_cast<size_t>(c.num_layers));
  for (int64_t l = 0; l < c.num_layers; ++l) {
    // Biases the forward pass does not model would be silently dropped: refuse them instead.
    for (WeightRole r : {WeightRole::kBo, WeightRole::kBGate}) {
      if (b.Find(r, l) != nullptr) {
        return UnimplementedError(origin + ": tensor '" + WeightName(source, r, l) +
                                  "' is a bias streamgen does not support");
      }
    }
    LayerWeights& L = w.layers[static_cast<size_t>(l)];
    SG_ASSIGN_OR_RETURN(L.attn_norm, b.Vector(WeightRole::kAttnNorm, l, {H}));
    SG_ASSIGN_OR_RETURN(L.wq, b.Matrix(WeightRole::kWq, l, {q_dim, H}));
    SG_ASSIGN_OR_RETURN(L.wk, b.Matrix(WeightRole::kWk, l, {kv_dim, H}));
    SG_ASSIGN_OR_RETURN(L.wv, b.Matrix(WeightRole::kWv, l, {kv_dim, H}));
    SG_ASSIGN_OR_RETURN(L.wo, b.Matrix(WeightRole::kWo, l, {H, q_dim}));
    if (c.has_qkv_bias) {
      SG_ASSIGN_OR_RETURN(L.bq, b.Vector(WeightRole::kBq, l, {q_dim}));
      SG_ASSIGN_OR_RETURN(L.bk, b.Vector(WeightRole::kBk, l, {kv_dim}));
      SG_ASSIGN_OR_RETURN(L.bv, b.Vector(WeightRole::kBv, l, {kv_dim}));
    }
    if (c.has_qk_norm) {
      SG_ASSIGN_OR_RETURN(L.q_norm, b.Vector(WeightRole::kQNorm, l, {c.head_dim}));
      SG_ASSIGN_OR_RETURN(L.k_norm, b.Vector(WeightRole::kKNorm, l, {c.head_dim}));
    }
    SG_ASSIGN_OR_RETURN(L.ffn_norm, b.Vector(WeightRole::kFfnNorm, l, {H}));
    SG_ASSIGN_OR_RETURN(L.w_gate, b.Matrix(WeightRole::kWGate, l, {I, H}));
    SG_ASSIGN_OR_RETURN(L.w_up, b.Matrix(WeightRole::kWUp, l, {I, H}));
    SG_ASSIGN_OR_RETURN(L.w_down, b.Matrix(WeightRole::kWDown, l, {H, I}));
  }
  return w;
}

}  // namespace sg
